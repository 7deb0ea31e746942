/**
 * Redaction from the real kernel: `record --redact` replaces a MySQL-style
 * password before anything is written (the file, its `.incomplete`, the
 * header's command, snapshots of processes already running, exports and
 * reports made from it), the marker carries the HMAC, two runs with the same
 * secret diff as equal, and `procrec redact` writes a recording that
 * verifies and names its source.
 */
import { RecordingReader } from "../cli/log/mod.ts";
import { parseRedactionKey, redactionHmac } from "../cli/redact/mod.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  PROCREC,
  procrec,
  waitForPath,
  withTempDir,
} from "./_record_helpers.ts";
import { createHash } from "node:crypto";

const why = await captureUnavailable();
const SECRET = "S3cretXYZ";
const RULES = JSON.stringify({
  rules: [{ name: "mysql-password", flag: "-p", separate: false }],
});

/** Whether the bytes of `path` hold `needle` anywhere. */
async function holds(path: string, needle: string): Promise<boolean> {
  const bytes = await Deno.readFile(path);
  // latin1 keeps one char per byte: a byte search
  return new TextDecoder("latin1").decode(bytes).includes(needle);
}

async function setUp(dir: string): Promise<{ rules: string; key: string }> {
  const rules = `${dir}/rules.json`;
  const key = `${dir}/redact.key`;
  await Deno.writeTextFile(rules, RULES);
  const k = await procrec(["keygen", "--redact", "-o", key]);
  assertEquals(k.code, 0, k.stderr);
  assertEquals((await Deno.stat(key)).mode! & 0o777, 0o600, "key mode");
  return { rules, key };
}

async function markerOf(key: string, secret: string): Promise<string> {
  const k = parseRedactionKey(await Deno.readTextFile(key), key);
  return `[redacted:mysql-password:${redactionHmac(k, secret)}]`;
}

function recordRedacted(
  dir: string,
  name: string,
  secret: string,
  s: { rules: string; key: string },
) {
  return procrec([
    "record",
    "--only-command",
    "--redact",
    s.rules,
    "--redact-key",
    s.key,
    "-o",
    `${dir}/${name}.cbor`,
    "--",
    "sh",
    "-c",
    `/bin/echo -p${secret} >/dev/null; /bin/true -p${secret}`,
  ]);
}

captureTest(
  "record --redact: the password's bytes are nowhere in the recording, exports or report; the marker and HMAC are",
  async () => {
    await withTempDir(async (dir) => {
      const s = await setUp(dir);
      const run = await recordRedacted(dir, "a", SECRET, s);
      assertEquals(run.code, 0, run.stderr);
      const rec = `${dir}/a.cbor`;
      assert(!(await holds(rec, SECRET)), "the secret is in the recording");
      const marker = await markerOf(s.key, SECRET);
      assert(await holds(rec, `-p${marker}`), "no marker with the HMAC");
      assert(
        !(await holds(rec, (await Deno.readTextFile(s.key)).split("\n")[1])),
        "the key is in the recording",
      );
      // the live summary (stderr) names the commands, redacted
      assert(
        !(run.stdout + run.stderr).includes(SECRET),
        "the summary shows the secret",
      );
      assert(run.stderr.includes(`-p${marker}`), run.stderr);
      const reader = await RecordingReader.open(rec);
      const events = await Array.fromAsync(reader.events());
      assert(reader.report.complete);
      const red = reader.header.redaction;
      assertEquals(red?.rules, [
        { name: "mysql-password", flag: ["-p"], separate: false },
      ]);
      assertEquals(red?.hmac, "HMAC-SHA-256");
      assert(
        reader.header.command?.argv[2].includes(marker),
        "the header's command is not redacted",
      );
      const execs = events.filter((e) =>
        e.kind === "exec" && e.info.argv?.includes(`-p${marker}`)
      );
      assertEquals(execs.length, 2, "the two execs carry the marker");
      // what is made from it
      for (const format of ["jsonl", "ecs", "ocsf"]) {
        const out = `${dir}/a.${format}`;
        const e = await procrec(["export", rec, "--format", format, "-o", out]);
        assertEquals(e.code, 0, e.stderr);
        assert(!(await holds(out, SECRET)), `the secret is in ${format}`);
        assert(await holds(out, marker), `no marker in ${format}`);
      }
      const html = `${dir}/a.html`;
      const r = await procrec(["report", rec, "-o", html]);
      assertEquals(r.code, 0, r.stderr);
      assert(!(await holds(html, SECRET)), "the secret is in the report");
      // the control: without --redact the secret is there, in those bytes
      const plain = await procrec([
        "record",
        "--only-command",
        "-o",
        `${dir}/plain.cbor`,
        "--",
        "sh",
        "-c",
        `/bin/true -p${SECRET}`,
      ]);
      assertEquals(plain.code, 0, plain.stderr);
      assert(await holds(`${dir}/plain.cbor`, SECRET), "the control lacks it");
    });
  },
  why,
);

captureTest(
  "record --redact: the .incomplete of a running recording and the snapshots of processes already running hold no secret",
  async () => {
    await withTempDir(async (dir) => {
      const s = await setUp(dir);
      // a process that runs before the recording starts: a snapshot (it
      // lives until the test ends it, however slow the recorder's start; it
      // waits in the shell's own `read`, so no child of it outlives the test)
      const before = new Deno.Command("sh", {
        args: ["-c", "read x", `-p${SECRET}`],
        stdin: "piped",
      }).spawn();
      const out = `${dir}/host.cbor`;
      const go = `${dir}/go`;
      const child = new Deno.Command(PROCREC, {
        args: [
          "record",
          "--redact",
          s.rules,
          "--redact-key",
          s.key,
          "-o",
          out,
          "--",
          "sh",
          "-c",
          `/bin/echo -p${SECRET} >/dev/null; while [ ! -e ${go} ]; do sleep 0.05; done`,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        const marker = await markerOf(s.key, SECRET);
        assert(await waitForPath(`${out}.incomplete`, { child }));
        // wait for a flushed chunk with the echo's marker
        let seen = false;
        for (let i = 0; i < 200 && !seen; i++) {
          await new Promise((r) => setTimeout(r, 50));
          seen = await holds(`${out}.incomplete`, `/bin/echo`);
        }
        assert(seen, "no chunk with the echo was flushed");
        assert(
          !(await holds(`${out}.incomplete`, SECRET)),
          "the secret is in the .incomplete",
        );
        assert(await holds(`${out}.incomplete`, marker), "no marker yet");
      } finally {
        await Deno.writeTextFile(go, "");
        const st = await child.output();
        assertEquals(st.code, 0, new TextDecoder().decode(st.stderr));
        await before.stdin.close();
        await before.status;
      }
      assert(!(await holds(out, SECRET)), "the secret is in the recording");
      const reader = await RecordingReader.open(out);
      const events = await Array.fromAsync(reader.events());
      const snap = events.find((e) =>
        e.kind === "process_snapshot" && e.pid === before.pid
      );
      assert(
        snap,
        `no snapshot of the process that ran before (${before.pid})`,
      );
      assert(
        JSON.stringify(snap).includes("[redacted:mysql-password:"),
        `the snapshot is not redacted: ${JSON.stringify(snap)}`,
      );
    });
  },
  why,
);

captureTest(
  "record --redact: two runs with the same secret diff as equal; another secret differs",
  async () => {
    await withTempDir(async (dir) => {
      const s = await setUp(dir);
      for (
        const [name, secret] of [["a", SECRET], ["b", SECRET], ["c", "0ther"]]
      ) {
        const r = await recordRedacted(dir, name, secret, s);
        assertEquals(r.code, 0, r.stderr);
      }
      const same = await procrec([
        "replay",
        "--diff",
        `${dir}/a.cbor`,
        `${dir}/b.cbor`,
      ]);
      assertEquals(same.code, 0, same.stdout + same.stderr);
      const other = await procrec([
        "replay",
        "--diff",
        `${dir}/a.cbor`,
        `${dir}/c.cbor`,
      ]);
      assertEquals(other.code, 1, other.stdout + other.stderr);
      assert(!other.stdout.includes(SECRET) && !other.stdout.includes("0ther"));
      assert(!same.stderr.includes("note:"), same.stderr);
      // another key: the same secret is another marker, and a note says why
      const k2 = `${dir}/other.key`;
      assertEquals((await procrec(["keygen", "--redact", "-o", k2])).code, 0);
      const d = await recordRedacted(dir, "d", SECRET, { ...s, key: k2 });
      assertEquals(d.code, 0, d.stderr);
      const keys = await procrec(["diff", `${dir}/a.cbor`, `${dir}/d.cbor`]);
      assertEquals(keys.code, 1, keys.stdout + keys.stderr);
      assert(
        keys.stderr.includes("redacted with different keys"),
        keys.stderr,
      );
    });
  },
  why,
);

captureTest(
  "procrec redact: the redacted copy verifies, names its source and hash, and a guess can be tested with the key",
  async () => {
    await withTempDir(async (dir) => {
      const s = await setUp(dir);
      const src = `${dir}/plain.cbor`;
      const rec = await procrec([
        "record",
        "--only-command",
        "-o",
        src,
        "--",
        "sh",
        "-c",
        `/bin/true -p${SECRET}`,
      ]);
      assertEquals(rec.code, 0, rec.stderr);
      assert(await holds(src, SECRET));
      const out = `${dir}/red.cbor`;
      const r = await procrec([
        "redact",
        src,
        "-o",
        out,
        "--rules",
        s.rules,
        "--redact-key",
        s.key,
      ]);
      assertEquals(r.code, 0, r.stderr);
      assert(!(await holds(out, SECRET)), "the secret is in the copy");
      assert(await holds(out, await markerOf(s.key, SECRET)), "no marker");
      const v = await procrec(["verify", out]);
      assertEquals(v.code, 0, v.stdout + v.stderr);
      // verify says what it is a copy of (a note, not a fault)
      assert(
        v.stdout.includes(`note: redacted: rules mysql-password`) &&
          v.stdout.includes(`a redacted copy of ${src} (keyed SHA-256 `),
        v.stdout,
      );
      const srcReader = await RecordingReader.open(src);
      const srcEvents = await Array.fromAsync(srcReader.events());
      const reader = await RecordingReader.open(out);
      const events = await Array.fromAsync(reader.events());
      assertEquals(events.length, srcEvents.length, "events lost or added");
      const source = reader.header.redaction?.source;
      const sha = createHash("sha256").update(await Deno.readFile(src)).digest(
        "hex",
      );
      assertEquals(source?.path, src);
      const key = parseRedactionKey(await Deno.readTextFile(s.key), s.key);
      const keyed = (hex: string) =>
        redactionHmac(key, `procrec source sha256:${hex}`);
      assertEquals(source?.sha256Hmac, keyed(sha));
      // what redact prints names the source by the keyed hash too (found
      // by review: the plain one, beside the copy, lets guesses be tested)
      assert(!r.stdout.includes(sha), r.stdout);
      assert(r.stdout.includes(`its SHA-256 keyed: ${keyed(sha)}`), r.stdout);
      assertEquals(source?.complete, true);
      assertEquals(
        source?.finalHashHmac,
        keyed(
          [...srcReader.report.trailer!.finalHash].map((b) =>
            b.toString(16).padStart(2, "0")
          ).join(""),
        ),
      );
      // export and report redact on the fly
      for (const format of ["jsonl", "ecs", "ocsf"]) {
        const x = `${dir}/x.${format}`;
        const e = await procrec([
          "export",
          src,
          "--format",
          format,
          "-o",
          x,
          "--redact",
          s.rules,
          "--redact-key",
          s.key,
        ]);
        assertEquals(e.code, 0, e.stderr);
        assert(!(await holds(x, SECRET)), `export ${format} holds the secret`);
        assert(await holds(x, "[redacted:mysql-password:"), format);
      }
      const html = `${dir}/x.html`;
      const rep = await procrec([
        "report",
        src,
        "-o",
        html,
        "--redact",
        s.rules,
        "--redact-key",
        s.key,
      ]);
      assertEquals(rep.code, 0, rep.stderr);
      assert(!(await holds(html, SECRET)), "the report holds the secret");
      assert(await holds(html, "redacted: rules mysql-password"), "report");
      assert(await holds(html, "[redacted:mysql-password:"), "report marker");
      // the key tests a guess; a wrong guess gives 1
      const guess = async (text: string, rec = out, key = s.key) => {
        const c = new Deno.Command(PROCREC, {
          args: ["redact", rec, "--check-guess", "--redact-key", key],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const w = c.stdin.getWriter();
        await w.write(new TextEncoder().encode(text));
        await w.close();
        const o = await c.output();
        return { code: o.code, out: new TextDecoder().decode(o.stdout) };
      };
      const right = await guess(`hunter2\n${SECRET}\n`);
      assertEquals(right.code, 0, right.out);
      assert(right.out.includes("guess 2: MATCHES"), right.out);
      const wrong = await guess("hunter2\n");
      assertEquals(wrong.code, 1, wrong.out);
      // another key is refused: it cannot say anything
      const other = `${dir}/other.key`;
      await procrec(["keygen", "--redact", "-o", other]);
      const c = await procrec([
        "redact",
        out,
        "--check-guess",
        "--redact-key",
        other,
      ]);
      assertEquals(c.code, 2);
      assert(c.stderr.includes("was redacted with key"), c.stderr);
      // a copy redacted again with the other key keeps the first key's
      // markers: that key still checks guesses against them (found by
      // review: refused, as the copy's header names the second key)
      const again = `${dir}/again.cbor`;
      const r2 = await procrec([
        "redact",
        out,
        "-o",
        again,
        "--rules",
        s.rules,
        "--redact-key",
        other,
      ]);
      assertEquals(r2.code, 0, r2.stderr);
      const old = await guess(`${SECRET}\n`, again, s.key);
      assertEquals(old.code, 0, old.out);
      assert(old.out.includes("guess 1: MATCHES"), old.out);
      assertEquals((await guess(`${SECRET}\n`, again, other)).code, 1);
    });
  },
  why,
);

captureTest(
  "record --rules --dry-run --redact prints what a rule matched with its secrets redacted (found by review: it printed them)",
  async () => {
    await withTempDir(async (dir) => {
      const s = await setUp(dir);
      await Deno.writeTextFile(
        `${dir}/exec.yaml`,
        `rules:\n  - id: shells\n    action: audit\n    argv: {contains: "-p${SECRET}"}\n`,
      );
      // a running process whose arguments hold the secret (it waits in the
      // shell's own read and ends when its stdin closes)
      const p = new Deno.Command("sh", {
        args: ["-c", "read x", "x", `-p${SECRET}`],
        stdin: "piped",
      }).spawn();
      try {
        const plain = await procrec([
          "record",
          "--rules",
          `${dir}/exec.yaml`,
          "--dry-run",
        ]);
        assertEquals(plain.code, 0, plain.stderr);
        assert(plain.stdout.includes(`  ${p.pid}  `), plain.stdout);
        assert(plain.stdout.includes(SECRET), "the control lacks it");
        const r = await procrec([
          "record",
          "--rules",
          `${dir}/exec.yaml`,
          "--dry-run",
          "--redact",
          s.rules,
          "--redact-key",
          s.key,
        ]);
        assertEquals(r.code, 0, r.stderr);
        const line = r.stdout.split("\n").find((l) =>
          l.includes(`  ${p.pid}  `)
        );
        assert(line !== undefined, `the rule matched: ${r.stdout}`);
        assert(!r.stdout.includes(SECRET), r.stdout);
        assert(line.includes(await markerOf(s.key, SECRET)), line);
      } finally {
        await p.stdin.close();
        await p.status;
      }
    });
  },
  why,
);
