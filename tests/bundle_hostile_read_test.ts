/**
 * Bundles altered to mislead their readers (found by a hostile review), each
 * made by procrec's own `bundle create` and then altered: what `verify`
 * calls tampered, `replay`, `report`, `hunt` and `search` refuse too, naming
 * the member (a symbolic link member and a second member of one name were
 * read, the latter another host's recording shown under "signed"); a
 * manifest field of the wrong type is refused naming the field (`"case":
 * null` crashed `report`); a manifest describing more recordings than the
 * zip holds is refused at once (its work grew with the square of its size:
 * minutes), and a message lists a few recordings and counts the rest; the
 * members are stored 0600 (0640 with `--group`), so that unzip extracts
 * them as private as the bundle (they were 0644).
 */
import "../cli/bundle/_zip.ts"; // zip.js without web workers
import {
  Uint8ArrayReader,
  Uint8ArrayWriter,
  ZipReader,
  ZipWriter,
} from "@zip.js/zip.js";
import { generateKeyPair, type Manifest } from "../cli/bundle/mod.ts";
import { pickRecording, recordingUnits } from "../cli/bundle/open_bundle.ts";
import {
  bundleCreate,
  incidentEvents,
  inTempDir,
  procrec,
  writeIncident,
} from "./_bundle_helpers.ts";
import { assert, assertEquals, exists, ROOT } from "./_record_helpers.ts";

const RULE =
  `${ROOT}fixtures/sigma/rules/linux/process_creation/proc_creation_lnx_base64_decode.yml`;
const CENTRAL = 0x02014b50;
const EOCD = 0x06054b50;

/**
 * `a.cbor` and `b.cbor` (two incidents, the same name length) bundled as
 * `case.zip`, signed with `k.key` (public key `k.key.pub`); its bytes.
 */
async function signedCase(dir: string): Promise<Uint8Array> {
  await writeIncident(`${dir}/a.cbor`);
  await writeIncident(`${dir}/b.cbor`, incidentEvents(1));
  const k = await generateKeyPair();
  await Deno.writeTextFile(`${dir}/k.key`, k.privateKeyPem, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/k.key.pub`, k.publicKeyPem);
  const r = await bundleCreate(
    "case.zip",
    ["a.cbor", "b.cbor", "--sign", "k.key", "--case", "IR-7"],
    dir,
  );
  assertEquals(r.code, 0, r.stderr);
  return await Deno.readFile(`${dir}/case.zip`);
}

/** Each central directory entry of a zip: where it is, its name. */
function centralEntries(b: Uint8Array): { at: number; name: string }[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = b.length - 22;
  while (eocd >= 0 && v.getUint32(eocd, true) !== EOCD) eocd--;
  assert(eocd >= 0, "no end record");
  const out: { at: number; name: string }[] = [];
  for (
    let p = v.getUint32(eocd + 16, true);
    v.getUint32(p, true) === CENTRAL;
  ) {
    const n = v.getUint16(p + 28, true);
    out.push({
      at: p,
      name: new TextDecoder().decode(b.subarray(p + 46, p + 46 + n)),
    });
    p += 46 + n + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
  }
  return out;
}

/**
 * `case.zip` rewritten member by member with zip.js as procrec writes a
 * bundle (one time, modes of plain files), its manifest changed by `edit`
 * and unsigned (the manifest.sig left out), as `out`.
 */
async function rezip(
  dir: string,
  out: string,
  edit: (m: Record<string, unknown>) => void,
): Promise<void> {
  const r = new ZipReader(
    new Uint8ArrayReader(await Deno.readFile(`${dir}/case.zip`)),
  );
  const file = await Deno.open(`${dir}/${out}`, {
    write: true,
    create: true,
    truncate: true,
  });
  const w = new ZipWriter(file.writable, {
    level: 1,
    lastModDate: new Date(2026, 11, 2, 10, 0, 0),
    unixMode: 0o100600,
  });
  for (const e of await r.getEntries()) {
    if (e.directory || e.filename === "manifest.sig") continue;
    let data = await e.getData(new Uint8ArrayWriter());
    if (e.filename === "manifest.json") {
      const m = JSON.parse(new TextDecoder().decode(data));
      edit(m);
      data = new TextEncoder().encode(JSON.stringify(m, null, 2) + "\n");
    }
    await w.add(e.filename, new Uint8ArrayReader(data));
  }
  await r.close();
  await w.close();
}

/** The readers of a bundle that `openBundle` serves, on `zip`. */
const readers = (zip: string) => [
  ["replay", `${zip}#a.cbor`],
  ["report", zip, "-o", "report.html"],
  ["hunt", "--rules", RULE, zip],
  ["search", zip, "--image", "curl"],
];

/** Every reader exits 2 saying `said`; none wrote a report. */
async function allRefuse(dir: string, zip: string, said: string[]) {
  for (const args of readers(zip)) {
    const r = await procrec(args, { cwd: dir });
    const what = `${args.join(" ")}: ${r.stdout}${r.stderr}`;
    assertEquals(r.code, 2, what);
    assert(r.stderr.includes(`Cannot read bundle "${zip}"`), what);
    for (const s of said) assert(r.stderr.includes(s), `${s}: ${what}`);
    assert(!r.stdout.includes("curl"), `read anyway: ${what}`);
  }
  assert(!(await exists(`${dir}/report.html`)), `report.html written`);
}

Deno.test("a symbolic link member, or a header field no writer gives, which verify calls tampered, is refused by every reader, naming the member (replay read it)", async () => {
  await inTempDir(async (dir) => {
    const b = await signedCase(dir);
    const sum = centralEntries(b).find((e) => e.name === "summary.txt")!;
    const cases: [string, number, string][] = [
      ["link.zip", 0o120777, "symbolic link"],
      ["setuid.zip", 0o104600, "mode is 0104600: not a plain file"],
    ];
    for (const [zip, mode, said] of cases) {
      const bytes = b.slice();
      const v = new DataView(bytes.buffer);
      v.setUint16(sum.at + 4, (3 << 8) | 63, true);
      v.setUint32(sum.at + 38, (mode << 16) >>> 0, true);
      await Deno.writeFile(`${dir}/${zip}`, bytes);
      const ver = await procrec(["verify", zip, "--key", "k.key.pub"], {
        cwd: dir,
      });
      assertEquals(ver.code, 1, ver.stdout + ver.stderr);
      assert(
        ver.stdout.includes("TAMPERED [summary.txt]") &&
          ver.stdout.includes(said),
        ver.stdout,
      );
      await allRefuse(dir, zip, [
        "member summary.txt",
        said,
        "procrec verify",
      ]);
    }
  });
});

Deno.test("two members of one name (a second recording under the first's name) are refused by every reader, naming it (the last was replayed, and shown as signed)", async () => {
  await inTempDir(async (dir) => {
    const b = await signedCase(dir);
    // recordings/b.cbor renamed recordings/a.cbor, in its local header and
    // the directory alike: two members of that name, the second b's bytes
    const rec = centralEntries(b).find((e) => e.name === "recordings/b.cbor")!;
    const v = new DataView(b.buffer);
    const name = new TextEncoder().encode("recordings/a.cbor");
    b.set(name, rec.at + 46);
    b.set(name, v.getUint32(rec.at + 42, true) + 30);
    await Deno.writeFile(`${dir}/dup.zip`, b);
    assertEquals(
      centralEntries(b).filter((e) => e.name === "recordings/a.cbor").length,
      2,
    );
    const ver = await procrec(["verify", "dup.zip", "--key", "k.key.pub"], {
      cwd: dir,
    });
    assertEquals(ver.code, 1, ver.stdout + ver.stderr);
    assert(
      ver.stdout.includes("more than one member named recordings/a.cbor"),
      ver.stdout,
    );
    await allRefuse(dir, "dup.zip", [
      "member recordings/a.cbor",
      "more than one member of that name",
      "procrec verify",
    ]);
  });
});

Deno.test("a manifest field of the wrong type (case null, case.id an object, created missing) is refused naming the field and what was expected, exit 2 (report crashed with a TypeError)", async () => {
  await inTempDir(async (dir) => {
    await signedCase(dir);
    const cases: [string, (m: Record<string, unknown>) => void, string][] = [
      [
        "null.zip",
        (m) => m.case = null,
        "manifest.json: case is null, expected an object",
      ],
      [
        "list.zip",
        (m) => m.case = ["IR-7"],
        `manifest.json: case is ["IR-7"], expected an object`,
      ],
      [
        "id.zip",
        (m) => (m.case as Record<string, unknown>).id = { x: "<b>" },
        `manifest.json: case.id is {"x":"<b>"}, expected text`,
      ],
      [
        "created.zip",
        (m) => delete m.created,
        "manifest.json: created is missing, expected a time as text",
      ],
      [
        "created2.zip",
        (m) => m.created = 1767225600,
        "manifest.json: created is 1767225600, expected a time as text",
      ],
    ];
    for (const [zip, edit, said] of cases) {
      await rezip(dir, zip, edit);
      for (
        const args of [["report", zip, "-o", "report.html"], [
          "replay",
          `${zip}#a.cbor`,
        ]]
      ) {
        const r = await procrec(args, { cwd: dir });
        const what = `${args.join(" ")}: ${r.stderr}`;
        assertEquals(r.code, 2, what);
        assert(
          r.stderr.includes(`Cannot read bundle "${zip}": ${said}`),
          what,
        );
        assert(!r.stderr.includes("Cannot read properties"), what);
      }
      assert(!(await exists(`${dir}/report.html`)), `${zip}: report written`);
      const ver = await procrec(["verify", zip], { cwd: dir });
      assertEquals(ver.code, 1, `${zip}: ${ver.stdout}${ver.stderr}`);
      assert(ver.stdout.includes(said), `${zip}: ${ver.stdout}`);
    }
    // the same bundle rewritten with its manifest as it was still reads
    await rezip(dir, "same.zip", () => {});
    const ok = await procrec(["report", "same.zip", "-o", "report.html"], {
      cwd: dir,
    });
    assertEquals(ok.code, 0, ok.stderr);
  });
});

Deno.test("a manifest describing more recordings than the zip holds is refused at once by readers and verify, in a short message (minutes, and a 4 MB message, for 500,000)", async () => {
  await inTempDir(async (dir) => {
    await signedCase(dir);
    // 20,000 recordings more, each described and pinned, none in the zip
    const n = 20_000;
    await rezip(dir, "many.zip", (m) => {
      const man = m as unknown as Manifest;
      for (let i = 0; i < n; i++) {
        const member = `recordings/x${i}.cbor`;
        man.members.push({
          name: member,
          size: 0,
          sha256: "0".repeat(64),
          role: "recording",
        });
        man.recordings.push({ member } as Manifest["recordings"][number]);
      }
    });
    const said = `its manifest.json describes ${
      n + 2
    } recordings, and the zip holds 4 members besides manifest.json`;
    for (const args of [["replay", "many.zip"], ["report", "many.zip"]]) {
      const t0 = performance.now();
      const r = await procrec(args, { cwd: dir });
      const ms = Math.round(performance.now() - t0);
      console.log(`${args[0]} of ${n + 2} descriptions: ${ms} ms`);
      assertEquals(r.code, 2, r.stderr.slice(0, 2000));
      assert(r.stderr.includes(said), r.stderr.slice(0, 2000));
      assert(r.stderr.length < 1000, `${r.stderr.length} bytes of message`);
    }
    const t0 = performance.now();
    const v = await procrec(["verify", "many.zip"], { cwd: dir });
    const ms = Math.round(performance.now() - t0);
    console.log(`verify of ${n + 2} descriptions: ${ms} ms`);
    assertEquals(v.code, 1, v.stdout.slice(0, 2000) + v.stderr);
    assert(
      v.stdout.includes(
        `TAMPERED [manifest.json]: the manifest describes ${
          n + 2
        } recordings, and the zip holds 4 members`,
      ) && v.stdout.includes("not in it: recordings/x0.cbor"),
      v.stdout.slice(0, 2000),
    );
    // said once, not once per description
    assert(v.stdout.split("\n").length < 20, v.stdout.slice(0, 2000));
  });
});

Deno.test("a bundle of many recordings is listed by its first few and a count, and read unit by unit as before", async () => {
  await inTempDir(async (dir) => {
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      names.push(`r${i}.cbor`);
      await writeIncident(`${dir}/r${i}.cbor`, incidentEvents(i % 2));
    }
    const c = await bundleCreate("twelve.zip", names, dir);
    assertEquals(c.code, 0, c.stderr);
    const r = await procrec(["replay", "twelve.zip"], { cwd: dir });
    assertEquals(r.code, 2, r.stderr);
    assert(
      r.stderr.includes(
        "it holds 12 (r0.cbor, r1.cbor, r2.cbor, r3.cbor, r4.cbor and 7 more)",
      ),
      r.stderr,
    );
    const none = await procrec(["replay", "twelve.zip#x.cbor"], { cwd: dir });
    assertEquals(none.code, 2, none.stderr);
    assert(
      none.stderr.includes(
        `it holds no recording "x.cbor" (it holds r0.cbor, r1.cbor, r2.cbor, r3.cbor, r4.cbor and 7 more)`,
      ),
      none.stderr,
    );
    const one = await procrec(["replay", "twelve.zip#r11.cbor"], { cwd: dir });
    const loose = await procrec(["replay", "r11.cbor"], { cwd: dir });
    assertEquals(one.code, 0, one.stderr);
    assertEquals(one.stdout, loose.stdout);
    const rep = await procrec(["report", "twelve.zip", "-o", "r.html"], {
      cwd: dir,
    });
    assertEquals(rep.code, 0, rep.stderr);
    assert(rep.stdout.includes("12 recording(s)"), rep.stdout);
  });
});

Deno.test("recordingUnits() and pickRecording() of 50,000 names: the units in order, a name picked (the time is printed, not asserted: 9 s before, a Set since)", () => {
  const names = Array.from(
    { length: 50_000 },
    (_, i) => i % 2 ? `recordings/r${i}.cbor` : `recordings/d${i % 10}/${i}`,
  );
  const t0 = performance.now();
  const units = recordingUnits(names);
  const ms = performance.now() - t0;
  console.log(`recordingUnits of ${names.length} names: ${ms.toFixed(1)} ms`);
  assertEquals(units.length, 25_000 + 5);
  assertEquals(units.slice(0, 3), [
    "recordings/d0/",
    "recordings/r1.cbor",
    "recordings/d2/",
  ]);
  assertEquals(
    pickRecording("c.zip", names, "r49999.cbor"),
    "recordings/r49999.cbor",
  );
});

Deno.test("bundle members are stored 0600 (0640 with --group), unzip extracts them so, and verify's audit agrees (they were 0644)", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/a.cbor`);
    for (
      const [zip, args, mode] of [
        ["own.zip", [], 0o600],
        ["group.zip", ["--group", String(Deno.gid() ?? 0)], 0o640],
      ] as const
    ) {
      const c = await bundleCreate(zip, ["a.cbor", ...args], dir);
      assertEquals(c.code, 0, c.stderr);
      assertEquals((await Deno.stat(`${dir}/${zip}`)).mode! & 0o777, mode);
      const r = new ZipReader(
        new Uint8ArrayReader(await Deno.readFile(`${dir}/${zip}`)),
      );
      const entries = await r.getEntries();
      await r.close();
      assertEquals(entries.length, 4);
      for (const e of entries) {
        assertEquals(
          (e.externalFileAttributes >>> 16).toString(8),
          (0o100000 | mode).toString(8),
          `${zip}: ${e.filename}`,
        );
      }
      const out = `${dir}/${zip}.d`;
      await Deno.mkdir(out);
      const u = await new Deno.Command("sh", {
        args: ["-c", `umask 022 && unzip -q ../${zip}`],
        cwd: out,
      }).output();
      assertEquals(u.code, 0, new TextDecoder().decode(u.stderr));
      for (
        const f of [
          "manifest.json",
          "recordings/a.cbor",
          "summary.txt",
          "report.html",
        ]
      ) {
        const m = (await Deno.stat(`${out}/${f}`)).mode! & 0o777;
        assertEquals(m.toString(8), mode.toString(8), `${zip}: ${f}`);
      }
      const v = await procrec(["verify", zip], { cwd: dir });
      assertEquals(v.code, 0, v.stdout + v.stderr);
      assert(v.stdout.includes("INTACT"), v.stdout);
    }
  });
});
