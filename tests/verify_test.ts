/**
 * `procrec verify`: every member, chunk and signature is checked, failures
 * are named, and nothing in a bundle that the signature does not cover is
 * trusted. Through the real command line.
 */
import "../cli/bundle/_zip.ts"; // zip.js without web workers
import {
  Uint8ArrayReader,
  Uint8ArrayWriter,
  ZipReader,
  ZipWriter,
} from "@zip.js/zip.js";
import {
  generateKeyPair,
  importPublicKey,
  verifyBundle,
} from "../cli/bundle/mod.ts";
import { streamEntry } from "../cli/bundle/_zip.ts";
import {
  bundleCreate,
  incidentEvents,
  inTempDir,
  procrec,
  writeIncident,
} from "./_bundle_helpers.ts";
import { assert, assertEquals, exists } from "./_record_helpers.ts";
import { scanItem } from "../cli/log/_cbor_scan.ts";

const MEMBERS = [
  "manifest.json",
  "manifest.sig",
  "recordings/incident.cbor",
  "summary.txt",
  "report.html",
];

/** A signed bundle of one recording, the signer's keys, and an attacker's. */
async function setup(dir: string): Promise<void> {
  await writeIncident(`${dir}/incident.cbor`);
  for (const who of ["team", "attacker"]) {
    const k = await generateKeyPair();
    await Deno.writeTextFile(`${dir}/${who}.key`, k.privateKeyPem, {
      mode: 0o600,
    });
    await Deno.writeTextFile(`${dir}/${who}.key.pub`, k.publicKeyPem);
  }
  const r = await bundleCreate("case.zip", [
    "incident.cbor",
    "--case",
    "IR-7",
    "--sign",
    "team.key",
  ], dir);
  assertEquals(r.code, 0, r.stderr);
}

async function readZip(path: string): Promise<[string, Uint8Array][]> {
  const r = new ZipReader(new Uint8ArrayReader(await Deno.readFile(path)));
  const out: [string, Uint8Array][] = [];
  for (const e of await r.getEntries()) {
    if (!e.directory) {
      out.push([e.filename, await e.getData(new Uint8ArrayWriter())]);
    }
  }
  await r.close();
  return out;
}

/** Rewrites a zip, member by member, as a careful attacker would (valid zip, right CRCs). */
/** The time of every member of a zip the tests write. */
const ZIP_TIME = new Date(2026, 11, 2, 10, 0, 0);

async function writeZip(
  path: string,
  members: [string, Uint8Array][],
): Promise<void> {
  // (one time for every member, as a bundle has: a rebuild that crossed a
  // two-second step gave them two, which verify calls tampered)
  const w = new ZipWriter(new Uint8ArrayWriter(), { lastModDate: ZIP_TIME });
  for (const [name, data] of members) {
    await w.add(name, new Uint8ArrayReader(data));
  }
  await Deno.writeFile(path, await w.close());
}

/** Names of members reported TAMPERED in verify's text output. */
function tamperedMembers(stdout: string): Set<string> {
  const out = new Set<string>();
  for (
    const m of stdout.matchAll(
      /^ {2}(?:TAMPERED|UNSIGNED|INCOMPLETE) \[([^,\]]+)/gm,
    )
  ) out.add(m[1]);
  return out;
}

Deno.test("verify: an intact signed bundle with its key is intact (exit 0)", async () => {
  await inTempDir(async (dir) => {
    await setup(dir);
    const r = await procrec(["verify", "case.zip", "--key", "team.key.pub"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assert(r.stdout.startsWith(`Bundle "case.zip": INTACT`), r.stdout);
    assert(r.stdout.includes("signature: valid"), r.stdout);
    for (const m of MEMBERS.slice(2)) {
      assert(r.stdout.includes(`member ${m}: ok`), r.stdout);
    }
    assert(r.stdout.includes("chain intact, trailer matches"), r.stdout);
    const j = JSON.parse(
      (await procrec(
        ["verify", "case.zip", "--key", "team.key.pub", "--json"],
        { cwd: dir },
      )).stdout,
    );
    assertEquals(
      [j.verdict, j.exitCode, j.signature.state, j.findings.length],
      ["intact", 0, "valid", 0],
    );
  });
});

Deno.test("verify: one byte changed in any member (zip rebuilt with valid CRCs) exits 1 and names that member", async () => {
  await inTempDir(async (dir) => {
    await setup(dir);
    const members = await readZip(`${dir}/case.zip`);
    assertEquals(members.map(([n]) => n).sort(), [...MEMBERS].sort());
    for (const [name, data] of members) {
      for (const at of [0, Math.floor(data.length / 2), data.length - 2]) {
        const flipped = data.slice();
        flipped[at] ^= 0x01;
        await writeZip(
          `${dir}/t.zip`,
          members.map(([n, d]) => [n, n === name ? flipped : d]),
        );
        const r = await procrec(["verify", "t.zip", "--key", "team.key.pub"], {
          cwd: dir,
        });
        const what = `${name} byte ${at}:\n${r.stdout}${r.stderr}`;
        assertEquals(r.code, 1, what);
        assert(r.stdout.startsWith(`Bundle "t.zip": TAMPERED`), what);
        const named = tamperedMembers(r.stdout);
        assert(named.has(name), what);
        if (name !== "manifest.json") assertEquals([...named], [name], what);
        if (
          name === "recordings/incident.cbor" && at > 0 && at < data.length - 2
        ) {
          assert(
            /TAMPERED \[recordings\/incident\.cbor, chunk \d+, offset \d+\]/
              .test(r.stdout),
            what,
          );
        }
      }
    }
  });
});

Deno.test("verify: one byte changed in the zip file inside any member's stored data exits 1 and names that member", async () => {
  await inTempDir(async (dir) => {
    await setup(dir);
    const bytes = await Deno.readFile(`${dir}/case.zip`);
    const r0 = new ZipReader(new Uint8ArrayReader(bytes));
    const entries = await r0.getEntries();
    await r0.close();
    const view = new DataView(bytes.buffer);
    for (const e of entries) {
      // local header: 30 bytes, then name and extra field, then the data
      const start = e.offset + 30 + view.getUint16(e.offset + 26, true) +
        view.getUint16(e.offset + 28, true);
      const flipped = bytes.slice();
      flipped[start + Math.floor(e.compressedSize / 2)] ^= 0x10;
      await Deno.writeFile(`${dir}/t.zip`, flipped);
      const r = await procrec(["verify", "t.zip", "--key", "team.key.pub"], {
        cwd: dir,
      });
      const what = `${e.filename}:\n${r.stdout}${r.stderr}`;
      assertEquals(r.code, 1, what);
      assert(tamperedMembers(r.stdout).has(e.filename), what);
    }
  });
});

Deno.test("verify: the wrong key, a missing signature and an unsigned bundle fail with --key", async () => {
  await inTempDir(async (dir) => {
    await setup(dir);
    let r = await procrec(["verify", "case.zip", "--key", "attacker.key.pub"], {
      cwd: dir,
    });
    assertEquals(r.code, 1, r.stdout);
    assert(
      r.stdout.includes(
        "TAMPERED [manifest.sig]: the signature does not verify with the given key",
      ),
      r.stdout,
    );
    assert(r.stdout.includes("signature: INVALID"), r.stdout);
    // the signature removed: with --key, that is a failure
    const members = await readZip(`${dir}/case.zip`);
    await writeZip(
      `${dir}/nosig.zip`,
      members.filter(([n]) => n !== "manifest.sig"),
    );
    r = await procrec(["verify", "nosig.zip", "--key", "team.key.pub"], {
      cwd: dir,
    });
    assertEquals(r.code, 1, r.stdout);
    assert(r.stdout.includes("UNSIGNED [manifest.sig]"), r.stdout);
    // without --key: consistent, and said to be unsigned / not checked
    r = await procrec(["verify", "nosig.zip"], { cwd: dir });
    assertEquals(r.code, 0, r.stdout);
    assert(
      r.stdout.includes("signature: none: the bundle is unsigned"),
      r.stdout,
    );
    r = await procrec(["verify", "case.zip"], { cwd: dir });
    assertEquals(r.code, 0, r.stdout);
    assert(r.stdout.includes("NOT CHECKED: no --key given"), r.stdout);
    // a private key is not a public key
    r = await procrec(["verify", "case.zip", "--key", "team.key"], {
      cwd: dir,
    });
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes("it is a private key"), r.stderr);
  });
});

Deno.test("verify: a re-signed bundle carrying its own key is not trusted; added members are flagged", async () => {
  await inTempDir(async (dir) => {
    await setup(dir);
    // the attacker edits the evidence and rebuilds a fully consistent bundle, signed with their key,
    // and ships their public key inside it
    await Deno.mkdir(`${dir}/evil`);
    await writeIncident(
      `${dir}/evil/incident.cbor`,
      incidentEvents().filter((e) => e.pid !== 108),
    );
    let r = await bundleCreate("evil.zip", [
      "evil/incident.cbor",
      "--case",
      "IR-7",
      "--sign",
      "attacker.key",
    ], dir);
    assertEquals(r.code, 0, r.stderr);
    const evil = await readZip(`${dir}/evil.zip`);
    evil.push(["team.key.pub", await Deno.readFile(`${dir}/attacker.key.pub`)]);
    await writeZip(`${dir}/evil2.zip`, evil);
    r = await procrec(["verify", "evil2.zip", "--key", "team.key.pub"], {
      cwd: dir,
    });
    assertEquals(r.code, 1, r.stdout);
    assert(r.stdout.includes("TAMPERED [manifest.sig]"), r.stdout);
    assert(
      r.stdout.includes(
        "TAMPERED [team.key.pub]: team.key.pub is not listed in the manifest",
      ),
      r.stdout,
    );
    // a member added to the real bundle is flagged too
    const real = await readZip(`${dir}/case.zip`);
    real.push([
      "recordings/extra.cbor",
      await Deno.readFile(`${dir}/evil/incident.cbor`),
    ]);
    await writeZip(`${dir}/added.zip`, real);
    r = await procrec(["verify", "added.zip", "--key", "team.key.pub"], {
      cwd: dir,
    });
    assertEquals(r.code, 1, r.stdout);
    assertEquals(
      [...tamperedMembers(r.stdout)],
      ["recordings/extra.cbor"],
      r.stdout,
    );
    assert(r.stdout.includes("signature: valid"), r.stdout);
  });
});

Deno.test("verify: a truncated zip is a clear error (exit 2)", async () => {
  await inTempDir(async (dir) => {
    await setup(dir);
    const bytes = await Deno.readFile(`${dir}/case.zip`);
    for (const keep of [bytes.length - 10, Math.floor(bytes.length / 2), 100]) {
      await Deno.writeFile(`${dir}/cut.zip`, bytes.subarray(0, keep));
      const r = await procrec(["verify", "cut.zip", "--key", "team.key.pub"], {
        cwd: dir,
      });
      assertEquals(r.code, 2, `${keep}: ${r.stdout}${r.stderr}`);
      assert(
        r.stderr.includes(
          `Cannot read bundle "cut.zip": it is not a whole zip file`,
        ),
        r.stderr,
      );
      assert(
        r.stderr.includes(`${keep} bytes`) && r.stderr.includes("truncated"),
        r.stderr,
      );
      const rr = await procrec(["replay", "cut.zip"], { cwd: dir });
      assertEquals(rr.code, 2, rr.stderr);
      assert(rr.stderr.includes("not a whole zip file"), rr.stderr);
    }
    const missing = await procrec(["verify", "nothing.zip"], { cwd: dir });
    assertEquals(missing.code, 2, missing.stderr);
    await Deno.mkdir(`${dir}/adir`);
    for (
      const args of [["verify", "adir"], ["replay", "adir"], [
        "report",
        "adir",
        "-o",
        "r.html",
      ]]
    ) {
      const r = await procrec(args, { cwd: dir });
      assertEquals(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert(
        r.stderr.includes(`"adir": it is a directory`),
        `${args[0]}: ${r.stderr}`,
      );
    }
    assert(!(await exists(`${dir}/r.html`)), "report left r.html behind");
  });
});

Deno.test("verify: a loose recording is intact, damaged (chunk named), or incomplete", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/a.cbor`);
    let r = await procrec(["verify", "a.cbor"], { cwd: dir });
    assertEquals(r.code, 0, r.stdout);
    assert(r.stdout.startsWith(`Recording "a.cbor": INTACT`), r.stdout);
    const bytes = await Deno.readFile(`${dir}/a.cbor`);
    const damaged = bytes.slice();
    damaged[Math.floor(bytes.length / 2)] ^= 0x01;
    await Deno.writeFile(`${dir}/d.cbor`, damaged);
    r = await procrec(["verify", "d.cbor"], { cwd: dir });
    assertEquals(r.code, 1, r.stdout);
    assert(/TAMPERED \[chunk \d+, offset \d+\]/.test(r.stdout), r.stdout);
    await Deno.writeFile(`${dir}/t.cbor`, bytes.subarray(0, bytes.length - 20));
    r = await procrec(["verify", "t.cbor"], { cwd: dir });
    assertEquals(r.code, 1, r.stdout);
    assert(r.stdout.startsWith(`Recording "t.cbor": INCOMPLETE`), r.stdout);
    await Deno.writeTextFile(`${dir}/x.cbor`, "not a recording");
    r = await procrec(["verify", "x.cbor"], { cwd: dir });
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes("not a procrec recording"), r.stderr);
  });
});

Deno.test("verify: what a recorder killed in its first moments leaves is incomplete, said as such (an empty NAME.incomplete, a header alone)", async () => {
  await inTempDir(async (dir) => {
    // killed after making its output, before the header: an empty file
    await Deno.writeFile(`${dir}/e.cbor.incomplete`, new Uint8Array(0));
    let r = await procrec(["verify", "e.cbor.incomplete"], { cwd: dir });
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assert(
      r.stdout.startsWith(`Recording "e.cbor.incomplete": INCOMPLETE`) &&
        r.stdout.includes("before writing its header; nothing was recorded"),
      r.stdout,
    );
    r = await procrec(["replay", "e.cbor.incomplete"], { cwd: dir });
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes("before writing its header"), r.stderr);
    // asked for by the name it would have had closed: the unclosed one named
    for (const cmd of ["verify", "replay"]) {
      r = await procrec([cmd, "e.cbor"], { cwd: dir });
      assertEquals(r.code, 2, r.stderr);
      assert(
        r.stderr.includes(`"e.cbor.incomplete" exists: a recording not closed`),
        r.stderr,
      );
    }
    // (an empty file of another name is no recording: an error, as before)
    await Deno.writeFile(`${dir}/z.cbor`, new Uint8Array(0));
    r = await procrec(["verify", "z.cbor"], { cwd: dir });
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes("the file is empty"), r.stderr);
    // killed after the header, before any chunk
    await writeIncident(`${dir}/a.cbor`);
    const bytes = await Deno.readFile(`${dir}/a.cbor`);
    const header = scanItem(bytes, 0, bytes.length);
    await Deno.writeFile(`${dir}/h.cbor.incomplete`, bytes.subarray(0, header));
    r = await procrec(["verify", "h.cbor.incomplete"], { cwd: dir });
    assertEquals(r.code, 1, r.stdout);
    assert(
      r.stdout.includes("no trailer after the header (no chunk either)") &&
        !r.stdout.includes("chunk -1"),
      r.stdout,
    );
  });
});

Deno.test("verify: a manifest that misdescribes a recording it pins is named, even unsigned", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/incident.cbor`);
    const r = await bundleCreate("u.zip", ["incident.cbor"], dir);
    assertEquals(r.code, 0, r.stderr);
    const members = await readZip(`${dir}/u.zip`);
    for (
      const [field, value] of [["host", "elsewhere"], ["events", 27]] as const
    ) {
      const edited = members.map(([n, d]): [string, Uint8Array] => {
        if (n !== "manifest.json") return [n, d];
        const m = JSON.parse(new TextDecoder().decode(d));
        m.recordings[0][field] = value;
        return [n, new TextEncoder().encode(JSON.stringify(m, null, 2) + "\n")];
      });
      await writeZip(`${dir}/e.zip`, edited);
      const v = await procrec(["verify", "e.zip"], { cwd: dir });
      assertEquals(v.code, 1, v.stdout);
      assertEquals([...tamperedMembers(v.stdout)], ["manifest.json"], v.stdout);
      assert(
        v.stdout.includes(`the manifest says ${JSON.stringify(value)}`),
        v.stdout,
      );
    }
  });
});

Deno.test("verify: a bundle's recording member is read once, for its hash and its chain together", async () => {
  await inTempDir(async (dir) => {
    await setup(dir);
    const members = await readZip(`${dir}/case.zip`);
    const flipped = new Map(members);
    const rec = flipped.get("recordings/incident.cbor")!.slice();
    rec[Math.floor(rec.length / 2)] ^= 0x01;
    flipped.set("recordings/incident.cbor", rec);
    await writeZip(`${dir}/t.zip`, [...flipped]);
    for (const [zip, verdict] of [["case.zip", 0], ["t.zip", 1]] as const) {
      // every read of a member's bytes goes through the real zip reader,
      // counted here
      const reads = new Map<string, number>();
      const bytes = new Map<string, number>();
      const r = await verifyBundle(`${dir}/${zip}`, {
        key: await importPublicKey(
          await Deno.readTextFile(`${dir}/team.key.pub`),
          "team.key.pub",
        ),
        streamMember: async function* (entry, options) {
          const n = entry.filename;
          reads.set(n, (reads.get(n) ?? 0) + 1);
          for await (const b of streamEntry(entry, options)) {
            bytes.set(n, (bytes.get(n) ?? 0) + b.length);
            yield b;
          }
        },
      });
      assertEquals(r.exitCode, verdict, JSON.stringify(r.findings));
      const sizes = new Map(members.map(([n, d]) => [n, d.length]));
      for (const name of MEMBERS.slice(2)) {
        assertEquals([name, reads.get(name)], [name, 1]);
        assertEquals(bytes.get(name), sizes.get(name), name);
      }
      // and the one pass checked both the hash and the chain
      assertEquals(r.recordings.length, 1);
      if (verdict === 1) {
        const about = r.findings.filter((f) =>
          f.member === "recordings/incident.cbor"
        );
        assert(about.some((f) => f.chunk !== undefined), JSON.stringify(about));
        assert(
          about.some((f) => /SHA-256 is/.test(f.message)),
          JSON.stringify(about),
        );
      }
    }
  });
});
