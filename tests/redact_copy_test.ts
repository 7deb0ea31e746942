/**
 * `procrec redact` keeps the chain of custody visible: a bundle member's
 * copy names the bundle and its hash, and a damaged source is redacted as
 * far as it reads, its copy saying (in the header and in verify) that the
 * source was not complete.
 */
import { createHash } from "node:crypto";
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import { parseRedactionKey, redactionHmac } from "../cli/redact/mod.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";
import { processCreate, writeRecording } from "./_recording_helpers.ts";

const SECRET = "hunter2hunter2";

function events(n: number): ProcEvent[] {
  const out: ProcEvent[] = [];
  for (let i = 0; i < n; i++) {
    const pid = 100 + i;
    out.push(processCreate(i * 10, pid, 1));
    out.push({
      kind: "exec",
      t: i * 10 + 1,
      pid,
      tid: pid,
      info: {
        image: "/usr/bin/mysql",
        argv: ["mysql", `-p${SECRET}`, `db${i}`],
        from: { argv: "kernel" },
      },
    });
    out.push({ kind: "process_exit", t: i * 10 + 2, pid, tid: pid, status: 0 });
  }
  return out;
}

async function holds(path: string, needle: string): Promise<boolean> {
  return new TextDecoder("latin1").decode(await Deno.readFile(path)).includes(
    needle,
  );
}

async function setUp(dir: string): Promise<string[]> {
  await Deno.writeTextFile(
    `${dir}/rules.json`,
    '{"rules":[{"name":"pw","flag":"-p","separate":false}]}',
  );
  const k = await procrec(["keygen", "--redact", "-o", `${dir}/k`]);
  assertEquals(k.code, 0, k.stderr);
  return ["--rules", `${dir}/rules.json`, "--redact-key", `${dir}/k`];
}

Deno.test("procrec redact of a bundle member names the bundle by its keyed SHA-256, which --check-source tests with the key", async () => {
  await withTempDir(async (dir) => {
    const opts = await setUp(dir);
    await writeRecording(`${dir}/a.cbor`, events(20));
    const b = await procrec([
      "bundle",
      "create",
      "-o",
      `${dir}/case.zip`,
      `${dir}/a.cbor`,
    ]);
    assertEquals(b.code, 0, b.stderr);
    const src = `${dir}/case.zip#a.cbor`;
    const r = await procrec(["redact", src, "-o", `${dir}/r.cbor`, ...opts]);
    assertEquals(r.code, 0, r.stderr);
    assert(
      !(await holds(`${dir}/r.cbor`, SECRET)),
      "the secret is in the copy",
    );
    const reader = await RecordingReader.open(`${dir}/r.cbor`);
    const got = await Array.fromAsync(reader.events());
    assertEquals(got.length, 60);
    const s = reader.header.redaction?.source;
    assertEquals(s?.path, src);
    const key = parseRedactionKey(await Deno.readTextFile(`${dir}/k`), "k");
    const plain = createHash("sha256").update(
      await Deno.readFile(`${dir}/case.zip`),
    ).digest("hex");
    // (found by review) keyed: the plain SHA-256 and size of the source let
    // anyone test a guess at a secret by rebuilding the source from the copy
    // (the plain fields empty: readers before the keyed hashes require them)
    assertEquals(s?.sha256, "");
    assertEquals(s?.bytes, 0);
    assertEquals(s?.finalHash, undefined);
    assertEquals(
      s?.sha256Hmac,
      redactionHmac(key, `procrec source sha256:${plain}`),
    );
    assert(!(await holds(`${dir}/r.cbor`, plain)), "the plain hash is there");
    assertEquals(s?.complete, true);
    // a key holder tells the source from another file
    const keyOpt = ["--redact-key", `${dir}/k`];
    const yes = await procrec([
      "redact",
      `${dir}/r.cbor`,
      "--check-source",
      src,
      ...keyOpt,
    ]);
    assertEquals(yes.code, 0, yes.stdout + yes.stderr);
    assert(yes.stdout.includes("is the source of"), yes.stdout);
    const no = await procrec([
      "redact",
      `${dir}/r.cbor`,
      "--check-source",
      `${dir}/a.cbor`,
      ...keyOpt,
    ]);
    assertEquals(no.code, 1, no.stdout + no.stderr);
    assert(no.stdout.includes("is NOT the source"), no.stdout);
    // the member by its full name in the bundle, as report takes it
    const full = `${dir}/case.zip#recordings/a.cbor`;
    const f = await procrec(["redact", full, "-o", `${dir}/f.cbor`, ...opts]);
    assertEquals(f.code, 0, f.stderr);
    const again = await procrec([
      "redact",
      `${dir}/f.cbor`,
      "--check-source",
      full,
      ...keyOpt,
    ]);
    assertEquals(again.code, 0, again.stdout + again.stderr);
    assert(again.stdout.includes("is the source of"), again.stdout);
  });
});

Deno.test("procrec redact of a truncated recording copies what reads and says the source was not complete", async () => {
  await withTempDir(async (dir) => {
    const opts = await setUp(dir);
    const bytes = await writeRecording(`${dir}/a.cbor`, events(40), 16);
    // a crash: the trailer and part of the last chunk are gone
    await Deno.writeFile(
      `${dir}/cut.cbor`,
      bytes.subarray(0, bytes.length - 300),
    );
    const r = await procrec([
      "redact",
      `${dir}/cut.cbor`,
      "-o",
      `${dir}/r.cbor`,
      ...opts,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes("is not complete and intact"), r.stderr);
    assert(
      !(await holds(`${dir}/r.cbor`, SECRET)),
      "the secret is in the copy",
    );
    const reader = await RecordingReader.open(`${dir}/r.cbor`);
    const got = await Array.fromAsync(reader.events());
    assert(got.length > 0 && got.length < 120, `${got.length} events`);
    assertEquals(reader.header.redaction?.source?.complete, false);
    assertEquals(reader.header.redaction?.source?.finalHash, undefined);
    const v = await procrec(["verify", `${dir}/r.cbor`]);
    // the copy is whole; what it was copied from was not, and it says so
    assertEquals(v.code, 0, v.stdout);
    assert(v.stdout.includes("which was NOT complete and intact"), v.stdout);
    // the source itself is refused as output
    const self = await procrec([
      "redact",
      `${dir}/cut.cbor`,
      "-o",
      `${dir}/cut.cbor`,
      "--force",
      ...opts,
    ]);
    assertEquals(self.code, 2);
    assert(self.stderr.includes("it is the source itself"), self.stderr);
  });
});

Deno.test("a rules file is read with a limit (/dev/zero stops at once) and must be UTF-8 JSON", async () => {
  await withTempDir(async (dir) => {
    const opts = await setUp(dir);
    const key = opts[opts.indexOf("--redact-key") + 1];
    await writeRecording(`${dir}/a.cbor`, events(2));
    const zero = await procrec([
      "redact",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/r.cbor`,
      "--rules",
      "/dev/zero",
      "--redact-key",
      key,
    ]);
    assertEquals(zero.code, 2);
    assert(
      zero.stderr.includes(`Cannot read redaction rules file "/dev/zero"`) &&
        zero.stderr.includes("larger than 1048576 bytes"),
      zero.stderr,
    );
    await Deno.writeFile(`${dir}/bad.json`, new Uint8Array([0xff, 0xfe]));
    const bad = await procrec([
      "redact",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/r.cbor`,
      "--rules",
      `${dir}/bad.json`,
      "--redact-key",
      key,
    ]);
    assertEquals(bad.code, 2);
    assert(bad.stderr.includes("it is not UTF-8 text"), bad.stderr);
    assert(!(await Deno.stat(`${dir}/r.cbor`).then(() => true, () => false)));
  });
});

Deno.test("procrec redact refuses a directory (says to redact each file in it) and a device", async () => {
  await withTempDir(async (dir) => {
    const opts = await setUp(dir);
    const r = await procrec(["redact", dir, "-o", `${dir}/x.cbor`, ...opts]);
    assertEquals(r.code, 2);
    assert(r.stderr.includes("it is a directory; redact each"), r.stderr);
    // a device or pipe cannot be read twice (hash, then copy)
    const dev = await procrec([
      "redact",
      "/dev/zero",
      "-o",
      `${dir}/x.cbor`,
      ...opts,
    ]);
    assertEquals(dev.code, 2);
    assert(dev.stderr.includes("reads it twice"), dev.stderr);
  });
});

Deno.test("procrec redact: the copy ends where its source ended, not when it was made (found by review)", async () => {
  await withTempDir(async (dir) => {
    const opts = await setUp(dir);
    await writeRecording(`${dir}/a.cbor`, events(5));
    await new Promise((r) => setTimeout(r, 50));
    const r = await procrec([
      "redact",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/r.cbor`,
      ...opts,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const ends: bigint[] = [];
    for (const f of ["a.cbor", "r.cbor"]) {
      const reader = await RecordingReader.open(`${dir}/${f}`);
      await Array.fromAsync(reader.chunks());
      ends.push(reader.report.trailer!.endUtcNs);
    }
    assertEquals(ends[1], ends[0]);
  });
});

Deno.test("a redaction rule whose pattern is the literal secret is warned of: the rules are kept in the header (found by review)", async () => {
  await withTempDir(async (dir) => {
    const opts = await setUp(dir);
    await writeRecording(`${dir}/a.cbor`, events(2));
    await Deno.writeTextFile(
      `${dir}/lit.json`,
      '{"rules":[{"name":"db-pw","match":"Tr0ub4dor3"},{"name":"ctx","match":"--pw=(\\\\S+)"}]}',
    );
    const r = await procrec([
      "redact",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/r.cbor`,
      "--rules",
      `${dir}/lit.json`,
      ...opts.slice(2),
    ]);
    assertEquals(r.code, 0, r.stderr);
    assert(
      r.stderr.includes(`warning: redaction rule "db-pw" matches the literal`),
      r.stderr,
    );
    assert(!r.stderr.includes(`"ctx"`), r.stderr);
    // the usual rules draw no warning
    const plain = await procrec([
      "redact",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/p.cbor`,
      ...opts,
    ]);
    assertEquals(plain.stderr, "");
  });
});
