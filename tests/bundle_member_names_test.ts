/**
 * A bundle whose manifest names a recording member procrec never writes
 * (outside `recordings/`, zip-slip, a backslash, an empty or `.` part) was
 * altered: every reader refuses it alike, naming the bundle and the member
 * and pointing to `procrec verify`, and verify calls it tampered. (Readers
 * cut the first 11 characters of any name, as if it began `recordings/`:
 * `../../../tmp/fuzz/evil` was listed as `p/`, `/etc/passwd` as an empty
 * name, and report, hunt and search read it.)
 */
import "../cli/bundle/_zip.ts"; // zip.js without web workers
import {
  Uint8ArrayReader,
  Uint8ArrayWriter,
  ZipReader,
  ZipWriter,
} from "@zip.js/zip.js";
import {
  pickRecording,
  recordingMemberProblem,
  recordingUnits,
} from "../cli/bundle/open_bundle.ts";
import type { Manifest } from "../cli/bundle/mod.ts";
import { parseManifest } from "../cli/bundle/manifest.ts";
import {
  bundleCreate,
  incidentEvents,
  inTempDir,
  procrec,
  writeIncident,
} from "./_bundle_helpers.ts";
import { assert, assertEquals, ROOT } from "./_record_helpers.ts";

const RULE =
  `${ROOT}fixtures/sigma/rules/linux/process_creation/proc_creation_lnx_base64_decode.yml`;

/** `a.cbor` and `b.cbor` (two incidents) bundled, unsigned, as `case.zip`. */
async function caseBundle(dir: string): Promise<void> {
  await writeIncident(`${dir}/a.cbor`);
  await writeIncident(`${dir}/b.cbor`, incidentEvents(1));
  const r = await bundleCreate("case.zip", ["a.cbor", "b.cbor"], dir);
  assertEquals(r.code, 0, r.stderr);
}

/**
 * `case.zip` with its member `recordings/a.cbor` renamed `name`, in the zip
 * and in the manifest alike (so nothing but the name is wrong), as `out`.
 */
async function renamed(dir: string, name: string, out: string) {
  const r = new ZipReader(
    new Uint8ArrayReader(await Deno.readFile(`${dir}/case.zip`)),
  );
  const file = await Deno.open(`${dir}/${out}`, {
    write: true,
    create: true,
    truncate: true,
  });
  // (one time for every member, as a bundle has)
  const w = new ZipWriter(file.writable, {
    level: 1,
    lastModDate: new Date(2026, 11, 2, 10, 0, 0),
  });
  for (const e of await r.getEntries()) {
    if (e.directory || e.filename === "manifest.sig") continue;
    let data = await e.getData(new Uint8ArrayWriter());
    if (e.filename === "manifest.json") {
      const m = JSON.parse(new TextDecoder().decode(data)) as Manifest;
      for (const x of m.members) {
        if (x.name === "recordings/a.cbor") x.name = name;
      }
      for (const x of m.recordings) {
        if (x.member === "recordings/a.cbor") x.member = name;
      }
      data = new TextEncoder().encode(JSON.stringify(m, null, 2) + "\n");
    }
    const to = e.filename === "recordings/a.cbor" ? name : e.filename;
    await w.add(to, new Uint8ArrayReader(data));
  }
  await r.close();
  await w.close();
}

/** Every reader of a bundle, on `zip` (diff twice the same recording). */
const readers = (zip: string) => [
  ["replay", zip],
  ["replay", `${zip}#b.cbor`],
  ["report", zip, "-o", "report.html"],
  ["report", zip, "--member", "b.cbor", "-o", "report.html"],
  ["export", `${zip}#b.cbor`, "--format", "ecs"],
  ["hunt", "--rules", RULE, zip],
  ["search", zip, "--image", "curl"],
  ["diff", `${zip}#b.cbor`, `${zip}#b.cbor`],
];

const HOSTILE: [string, string][] = [
  ["../../../tmp/evil.cbor", "zip-slip"],
  ["/etc/passwd", "zip-slip"],
  ["C:/a.cbor", "zip-slip"],
  ["recordings/../a.cbor", "zip-slip"],
  ["evidence/a.cbor", "not under recordings/"],
  ["summary.cbor", "not under recordings/"],
  ["recordings/x\\a.cbor", "backslash"],
  ["recordings/./a.cbor", `"." part`],
  ["recordings//a.cbor", `"." part`],
];

Deno.test("every reader refuses a bundle whose manifest names a recording outside recordings/, naming the bundle and the member", async () => {
  await inTempDir(async (dir) => {
    await caseBundle(dir);
    for (const [i, [name, why]] of HOSTILE.entries()) {
      const zip = `bad${i}.zip`;
      await renamed(dir, name, zip);
      // the whole list of readers for the two names of the report, the
      // first reader for the rest
      const runs = i < 2 ? readers(zip) : readers(zip).slice(0, 1);
      for (const args of runs) {
        const r = await procrec(args, { cwd: dir });
        const what = `${args.join(" ")}: ${r.stdout}${r.stderr}`;
        assertEquals(r.code, 2, what);
        assert(
          r.stderr.includes(`Cannot read bundle "${zip}"`) &&
            r.stderr.includes(`recording member "${name}"`) &&
            r.stderr.includes(why) && r.stderr.includes("procrec verify"),
          what,
        );
      }
      // nothing was read: no report written, no hit, no tree
      assert(
        !(await Deno.stat(`${dir}/report.html`).then(() => true, () => false)),
        `report.html written for ${name}`,
      );
      const v = await procrec(["verify", zip], { cwd: dir });
      assertEquals(v.code, 1, `verify ${name}: ${v.stdout}${v.stderr}`);
      assert(v.stdout.includes(`TAMPERED [${name}]`), v.stdout);
    }
  });
});

Deno.test("verify calls tampered a recording member outside recordings/ that is otherwise whole (it said INTACT)", async () => {
  await inTempDir(async (dir) => {
    await caseBundle(dir);
    await renamed(dir, "evidence/a.cbor", "moved.zip");
    const v = await procrec(["verify", "--json", "moved.zip"], { cwd: dir });
    assertEquals(v.code, 1, v.stdout + v.stderr);
    const j = JSON.parse(v.stdout) as {
      findings: { level: string; member: string; message: string }[];
    };
    assert(
      j.findings.some((f) =>
        f.level === "tampered" && f.member === "evidence/a.cbor" &&
        f.message.includes("not under recordings/")
      ),
      v.stdout,
    );
  });
});

Deno.test("a bundle of well-named recordings still reads: a name with '..' inside a part is no escape", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/a..b.cbor`);
    await writeIncident(`${dir}/b.cbor`, incidentEvents(1));
    const c = await bundleCreate("ok.zip", ["a..b.cbor", "b.cbor"], dir);
    assertEquals(c.code, 0, c.stderr);
    const loose = await procrec(["replay", "a..b.cbor"], { cwd: dir });
    const r = await procrec(["replay", "ok.zip#a..b.cbor"], { cwd: dir });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, loose.stdout);
    const rep = await procrec(["report", "ok.zip", "-o", "r.html"], {
      cwd: dir,
    });
    assertEquals(rep.code, 0, rep.stderr);
    const v = await procrec(["verify", "ok.zip"], { cwd: dir });
    assertEquals(v.code, 0, v.stdout + v.stderr);
  });
});

Deno.test("recordingMemberProblem() accepts what procrec writes and names what is wrong with anything else", () => {
  for (
    const ok of [
      "recordings/a.cbor",
      "recordings/d/1.cbor",
      "recordings/a..b.cbor",
    ]
  ) {
    assertEquals(recordingMemberProblem(ok), undefined, ok);
  }
  for (
    const [bad, why] of [
      ["../../../tmp/fuzz/evil", "zip-slip"],
      ["/etc/passwd", "zip-slip"],
      ["\\x.cbor", "zip-slip"],
      ["c:x.cbor", "zip-slip"],
      ["recordings/a.cbor\0", "zip-slip"],
      ["recordings", "not under recordings/"],
      ["Recordings/a.cbor", "not under recordings/"],
      ["manifest.json", "not under recordings/"],
      ["recordings/d\\1.cbor", "backslash"],
      ["recordings/", "empty"],
      ["recordings/d/", "empty"],
      ["recordings/./a.cbor", "empty"],
    ]
  ) {
    const p = recordingMemberProblem(bad);
    assert(p?.includes(why), `${JSON.stringify(bad)}: ${p}`);
  }
});

Deno.test("recordingUnits() and pickRecording() never cut a name that is not under recordings/", () => {
  // (they cut 11 characters of any name: "p/" and "" below)
  assertEquals(
    recordingUnits(["../../../tmp/fuzz/evil", "/etc/passwd", "recordings/d/1"]),
    ["../../../tmp/fuzz/evil", "/etc/passwd", "recordings/d/"],
  );
  let message = "";
  try {
    pickRecording("c.zip", ["/etc/passwd", "recordings/b.cbor"]);
  } catch (e) {
    message = (e as Error).message;
  }
  assert(message.includes("(/etc/passwd, b.cbor)"), message);
});

Deno.test("a manifest whose member size is not a whole number of bytes, 0 or more, is refused naming the member", () => {
  const manifest = (size: unknown) =>
    new TextEncoder().encode(JSON.stringify({
      format: "procrec-bundle",
      version: 1,
      created: "2026-01-01T00:00:00.000Z",
      tool: { name: "procrec", version: "0" },
      recordingFormat: 1,
      case: {},
      members: [{ name: "recordings/a.cbor", size, sha256: "0".repeat(64) }],
      recordings: [{ member: "recordings/a.cbor" }],
    }));
  for (const size of [0, 100, 2 ** 40]) {
    parseManifest(manifest(size), "m.json");
  }
  for (const size of [-1, 1.5, 2 ** 60, Number.MAX_VALUE]) {
    let message = "";
    try {
      parseManifest(manifest(size), "m.json");
    } catch (e) {
      message = (e as Error).message;
    }
    assert(
      message.includes(`members[0].size is ${JSON.stringify(size)}`) &&
        message.includes("expected a whole number of bytes"),
      `${size}: ${message}`,
    );
  }
});

Deno.test("BUNDLE#MEMBER where the member's name or the bundle's holds a # too", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/a#1.cbor`);
    await writeIncident(`${dir}/b.cbor`, incidentEvents(1));
    const c = await bundleCreate("case#2.zip", ["a#1.cbor", "b.cbor"], dir);
    assertEquals(c.code, 0, c.stderr);
    for (
      const [input, loose] of [
        ["case#2.zip#a#1.cbor", "a#1.cbor"],
        ["case#2.zip#recordings/a#1.cbor", "a#1.cbor"],
        ["case#2.zip#b.cbor", "b.cbor"],
      ]
    ) {
      const want = await procrec(["replay", loose], { cwd: dir });
      assertEquals(want.code, 0, want.stderr);
      const r = await procrec(["replay", input], { cwd: dir });
      assertEquals(r.code, 0, `${input}: ${r.stderr}`);
      assertEquals(r.stdout, want.stdout, input);
    }
    // a name that is no member still says so
    const none = await procrec(["replay", "case#2.zip#c.cbor"], { cwd: dir });
    assertEquals(none.code, 2, none.stdout);
    assert(none.stderr.includes("c.cbor"), none.stderr);
    // the report's default name splits as the input does
    for (
      const [input, name] of [
        ["case#2.zip#a#1.cbor", "case#2-a#1.html"],
        ["a#1.cbor", "a#1.html"],
      ]
    ) {
      const rep = await procrec(["report", input], { cwd: dir });
      assertEquals(rep.code, 0, rep.stderr);
      assert((await Deno.stat(`${dir}/${name}`)).isFile, name);
    }
    // a directory before an earlier # is no bundle: a typo of the bundle's
    // name is no such file, as before
    await Deno.mkdir(`${dir}/case`);
    const typo = await procrec(["replay", "case#3.zip#a.cbor"], { cwd: dir });
    assertEquals(typo.code, 2, typo.stdout);
    assert(typo.stderr.includes("no such file"), typo.stderr);
  });
});
