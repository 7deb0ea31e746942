/**
 * `export --redact` and `report --redact` of a recording already redacted
 * keep its redaction (the chain of custody): the events hold the markers of
 * both keys, and the header line, its import and the report name both.
 */
import { createHash } from "node:crypto";
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import type { RedactionInfo } from "../cli/log/mod.ts";
import {
  parseRedactionKey,
  redactedOnTheFly,
  redactionKeyId,
  Redactor,
} from "../cli/redact/mod.ts";
import {
  assert,
  assertEquals,
  PROCREC,
  procrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";
import { processCreate, writeRecording } from "./_recording_helpers.ts";

const PASSWORD = "hunter2hunter2";
const TOKEN = "t0ken-of-the-day";

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
        argv: ["mysql", `-p${PASSWORD}`, "--token", TOKEN, `db${i}`],
        from: { argv: "kernel" },
      },
    });
    out.push({ kind: "process_exit", t: i * 10 + 2, pid, tid: pid, status: 0 });
  }
  return out;
}

/** Two keys and two rules files: the first redacts -p, the second --token. */
interface Keys {
  first: string[];
  second: string[];
  firstId: string;
  secondId: string;
}

async function setUp(dir: string): Promise<Keys> {
  await Deno.writeTextFile(
    `${dir}/pw.json`,
    '{"rules":[{"name":"pw","flag":"-p","separate":false}]}',
  );
  await Deno.writeTextFile(
    `${dir}/tok.json`,
    '{"rules":[{"name":"tok","flag":"--token"}]}',
  );
  const ids: string[] = [];
  for (const k of ["k1", "k2"]) {
    const r = await procrec(["keygen", "--redact", "-o", `${dir}/${k}`]);
    assertEquals(r.code, 0, r.stderr);
    ids.push(
      redactionKeyId(
        parseRedactionKey(await Deno.readTextFile(`${dir}/${k}`), k),
      ),
    );
  }
  return {
    first: ["--rules", `${dir}/pw.json`, "--redact-key", `${dir}/k1`],
    second: ["--redact", `${dir}/tok.json`, "--redact-key", `${dir}/k2`],
    firstId: ids[0],
    secondId: ids[1],
  };
}

/** The header of a JSON lines export (its first line). */
async function headerLine(path: string): Promise<Record<string, unknown>> {
  const first = (await Deno.readTextFile(path)).split("\n")[0];
  return JSON.parse(first).header;
}

/** The end line of a JSON lines export. */
async function endLine(path: string): Promise<Record<string, unknown>> {
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  return JSON.parse(lines.at(-1)!);
}

async function holds(path: string, needle: string): Promise<boolean> {
  return new TextDecoder("latin1").decode(await Deno.readFile(path)).includes(
    needle,
  );
}

async function sha256Of(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

/** `procrec redact REC --check-guess --redact-key KEY` with `guess` on stdin. */
async function checkGuess(rec: string, key: string, guess: string) {
  const p = new Deno.Command(PROCREC, {
    args: ["redact", rec, "--check-guess", "--redact-key", key],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(guess + "\n"));
  await w.close();
  const out = await p.output();
  const d = new TextDecoder();
  return {
    code: out.code,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
  };
}

Deno.test("export --redact of a redacted copy keeps the copy's redaction as its source's, and an import of the export keeps the chain (--check-guess takes either key)", async () => {
  await withTempDir(async (dir) => {
    const keys = await setUp(dir);
    await writeRecording(`${dir}/a.cbor`, events(20));
    const b = await procrec([
      "redact",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/b.cbor`,
      ...keys.first,
    ]);
    assertEquals(b.code, 0, b.stderr);
    const x = await procrec([
      "export",
      `${dir}/b.cbor`,
      "-o",
      `${dir}/b.jsonl`,
      ...keys.second,
    ]);
    assertEquals(x.code, 0, x.stderr);
    for (const secret of [PASSWORD, TOKEN]) {
      assert(!(await holds(`${dir}/b.jsonl`, secret)), `${secret} is there`);
    }
    // the markers of the first key are in the events: the header names it
    assert(await holds(`${dir}/b.jsonl`, "[redacted:pw:"), "no pw marker");
    const red = (await headerLine(`${dir}/b.jsonl`)).redaction as {
      keyId: string;
      rules: { name: string }[];
      source?: Record<string, unknown> & { redaction?: RedactionInfo };
    };
    assertEquals(red.keyId, keys.secondId);
    assertEquals(red.rules.map((r) => r.name), ["tok"]);
    const s = red.source;
    assertEquals(s?.path, `${dir}/b.cbor`);
    // (read to its end before the header line was written)
    assertEquals(s?.complete, true);
    // redacted as it was read: not hashed, and no plain hash of it
    assertEquals(s?.sha256, "");
    assertEquals(s?.bytes, 0);
    assertEquals(s?.sha256Hmac, undefined);
    assertEquals(s?.redaction?.keyId, keys.firstId);
    assertEquals(s?.redaction?.rules.map((r) => r.name), ["pw"]);
    assertEquals(s?.redaction?.source?.path, `${dir}/a.cbor`);
    for (const f of ["a.cbor", "b.cbor"]) {
      const plain = await sha256Of(`${dir}/${f}`);
      assert(!(await holds(`${dir}/b.jsonl`, plain)), `plain hash of ${f}`);
    }
    // the import keeps the chain: the holder of either key tests guesses
    const i = await procrec([
      "import",
      "jsonl",
      `${dir}/b.jsonl`,
      "-o",
      `${dir}/c.cbor`,
    ]);
    assertEquals(i.code, 0, i.stderr);
    const reader = await RecordingReader.open(`${dir}/c.cbor`);
    await Array.fromAsync(reader.chunks());
    assertEquals(reader.header.redaction?.keyId, keys.secondId);
    assertEquals(
      reader.header.redaction?.source?.redaction?.keyId,
      keys.firstId,
    );
    const one = await checkGuess(`${dir}/c.cbor`, `${dir}/k1`, PASSWORD);
    assertEquals(one.code, 0, one.stdout + one.stderr);
    assert(one.stdout.includes("MATCHES 20 marker(s) of rule pw"), one.stdout);
    const two = await checkGuess(`${dir}/c.cbor`, `${dir}/k2`, TOKEN);
    assertEquals(two.code, 0, two.stdout + two.stderr);
    assert(two.stdout.includes("of rule tok"), two.stdout);
    // export --redact of a recording never redacted names no source, as before
    const plain = await procrec([
      "export",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/a.jsonl`,
      ...keys.second,
    ]);
    assertEquals(plain.code, 0, plain.stderr);
    const pr = (await headerLine(`${dir}/a.jsonl`)).redaction as {
      keyId: string;
      source?: unknown;
    };
    assertEquals(pr.keyId, keys.secondId);
    assertEquals(pr.source, undefined);
  });
});

Deno.test("report --redact of a redacted copy shows both redactions, and a bundle's summary.txt shows the chain", async () => {
  await withTempDir(async (dir) => {
    const keys = await setUp(dir);
    await writeRecording(`${dir}/a.cbor`, events(5));
    const b = await procrec([
      "redact",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/b.cbor`,
      ...keys.first,
    ]);
    assertEquals(b.code, 0, b.stderr);
    const r = await procrec([
      "report",
      `${dir}/b.cbor`,
      "-o",
      `${dir}/b.html`,
      ...keys.second,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const html = await Deno.readTextFile(`${dir}/b.html`);
    assert(!html.includes(PASSWORD) && !html.includes(TOKEN), "a secret");
    assert(
      html.includes(`key ${keys.secondId})`) &&
        html.includes(`${dir}/b.cbor was itself redacted: rules pw`) &&
        html.includes(`key ${keys.firstId})`),
      "the report names one redaction only",
    );
    assert(html.includes(`redacted as read from ${dir}/b.cbor (not hashed)`));
    // a bundle member is named as report takes it
    const z = await procrec([
      "bundle",
      "create",
      "-o",
      `${dir}/case.zip`,
      `${dir}/b.cbor`,
    ]);
    assertEquals(z.code, 0, z.stderr);
    const rz = await procrec([
      "report",
      `${dir}/case.zip`,
      "-o",
      `${dir}/case.html`,
      ...keys.second,
    ]);
    assertEquals(rz.code, 0, rz.stderr);
    const zhtml = await Deno.readTextFile(`${dir}/case.html`);
    assert(
      zhtml.includes(`redacted as read from ${dir}/case.zip#recordings/b.cbor`),
      "the bundle member is not named",
    );
    assert(zhtml.includes(`key ${keys.firstId})`), "the first key");
    // summary.txt of a bundle of an import of the export: both keys
    const x = await procrec([
      "export",
      `${dir}/b.cbor`,
      "-o",
      `${dir}/b.jsonl`,
      ...keys.second,
    ]);
    assertEquals(x.code, 0, x.stderr);
    const i = await procrec([
      "import",
      "jsonl",
      `${dir}/b.jsonl`,
      "-o",
      `${dir}/c.cbor`,
    ]);
    assertEquals(i.code, 0, i.stderr);
    const c = await procrec([
      "bundle",
      "create",
      "-o",
      `${dir}/c.zip`,
      `${dir}/c.cbor`,
    ]);
    assertEquals(c.code, 0, c.stderr);
    const unzip = await new Deno.Command("unzip", {
      args: ["-p", `${dir}/c.zip`, "summary.txt"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(unzip.code, 0, new TextDecoder().decode(unzip.stderr));
    const summary = new TextDecoder().decode(unzip.stdout);
    const line = summary.split("\n").find((l) => l.startsWith("redaction: "));
    assert(line !== undefined, summary);
    assert(
      line.includes(`key ${keys.secondId}`) &&
        line.includes(`key ${keys.firstId}`) &&
        line.includes(`${dir}/a.cbor`),
      line,
    );
  });
});

Deno.test("export --redact and report --redact of a redacted import keep its redaction and name its input by the keyed hash only", async () => {
  await withTempDir(async (dir) => {
    const keys = await setUp(dir);
    const sysmon =
      `${ROOT}fixtures/sysmon/otrf_lsass_campaign_01_logonpasswords_sysmon_eid1_eid5.jsonl`;
    const i = await procrec([
      "import",
      "sysmon",
      sysmon,
      "-o",
      `${dir}/i.cbor`,
    ]);
    assertEquals(i.code, 0, i.stderr);
    // the first redaction: of the import (svchost's "-k" stands for a secret)
    await Deno.writeTextFile(
      `${dir}/svc.json`,
      '{"rules":[{"name":"svc","flag":"-k"}]}',
    );
    const j = await procrec([
      "redact",
      `${dir}/i.cbor`,
      "-o",
      `${dir}/j.cbor`,
      "--rules",
      `${dir}/svc.json`,
      "--redact-key",
      `${dir}/k1`,
    ]);
    assertEquals(j.code, 0, j.stderr);
    const x = await procrec([
      "export",
      `${dir}/j.cbor`,
      "-o",
      `${dir}/j.jsonl`,
      ...keys.second,
    ]);
    assertEquals(x.code, 0, x.stderr);
    const h = await headerLine(`${dir}/j.jsonl`);
    const red = h.redaction as RedactionInfo;
    assertEquals(red.keyId, keys.secondId);
    assertEquals(red.source?.path, `${dir}/j.cbor`);
    assertEquals(red.source?.redaction?.keyId, keys.firstId);
    assertEquals(red.source?.redaction?.source?.path, `${dir}/i.cbor`);
    const files = (h.import as { files: { sha256: string }[] }).files;
    assertEquals(files[0].sha256, "");
    for (const f of [sysmon, `${dir}/i.cbor`, `${dir}/j.cbor`]) {
      assert(!(await holds(`${dir}/j.jsonl`, await sha256Of(f))), f);
    }
    assert(!(await holds(`${dir}/j.jsonl`, "smphost")), "the secret");
    const r = await procrec([
      "report",
      `${dir}/j.cbor`,
      "-o",
      `${dir}/j.html`,
      ...keys.second,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const html = await Deno.readTextFile(`${dir}/j.html`);
    assert(
      html.includes(`${dir}/j.cbor was itself redacted: rules svc`) &&
        html.includes(`key ${keys.firstId})`),
      "the report names one redaction only",
    );
  });
});

Deno.test("export --redact of a damaged redacted copy, or of one on a pipe, says its source was not complete; the end line says what was read", async () => {
  await withTempDir(async (dir) => {
    const keys = await setUp(dir);
    await writeRecording(`${dir}/a.cbor`, events(40));
    const b = await procrec([
      "redact",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/b.cbor`,
      ...keys.first,
    ]);
    assertEquals(b.code, 0, b.stderr);
    const bytes = await Deno.readFile(`${dir}/b.cbor`);
    // a crash: the trailer is gone
    await Deno.writeFile(
      `${dir}/cut.cbor`,
      bytes.subarray(0, bytes.length - 200),
    );
    const x = await procrec([
      "export",
      `${dir}/cut.cbor`,
      "-o",
      `${dir}/cut.jsonl`,
      ...keys.second,
    ]);
    assertEquals(x.code, 0, x.stderr);
    const red = (await headerLine(`${dir}/cut.jsonl`))
      .redaction as RedactionInfo;
    assertEquals(red.source?.path, `${dir}/cut.cbor`);
    assertEquals(red.source?.complete, false);
    assertEquals(red.source?.redaction?.keyId, keys.firstId);
    assertEquals((await endLine(`${dir}/cut.jsonl`)).complete, false);
    const r = await procrec([
      "report",
      `${dir}/cut.cbor`,
      "-o",
      `${dir}/cut.html`,
      ...keys.second,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assert(
      (await Deno.readTextFile(`${dir}/cut.html`)).includes(
        `redacted as read from ${dir}/cut.cbor (not hashed; it was NOT complete and intact)`,
      ),
      "the report says the source was whole",
    );
    // a whole recording on a pipe is read once: the header line cannot say
    const p = new Deno.Command(PROCREC, {
      args: ["export", "-", "-o", `${dir}/pipe.jsonl`, ...keys.second],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(bytes);
    await w.close();
    const out = await p.output();
    const err = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, err);
    assert(err.includes("is read once (a pipe or device)"), err);
    const pr = (await headerLine(`${dir}/pipe.jsonl`))
      .redaction as RedactionInfo;
    assertEquals(pr.source?.path, "-");
    assertEquals(pr.source?.complete, false);
    assertEquals(pr.source?.redaction?.keyId, keys.firstId);
    assertEquals((await endLine(`${dir}/pipe.jsonl`)).complete, true);
  });
});

Deno.test("verify names every redaction of the chain: a copy redacted twice, and an import of an export --redact of a redacted copy (not hashed)", async () => {
  await withTempDir(async (dir) => {
    const keys = await setUp(dir);
    await writeRecording(`${dir}/a.cbor`, events(5));
    const second = ["--rules", keys.second[1], "--redact-key", keys.second[3]];
    for (
      const [from, to, k] of [
        ["a", "b", keys.first],
        ["b", "c", second],
      ] as const
    ) {
      const r = await procrec([
        "redact",
        `${dir}/${from}.cbor`,
        "-o",
        `${dir}/${to}.cbor`,
        ...k,
      ]);
      assertEquals(r.code, 0, r.stderr);
    }
    const v = await procrec(["verify", `${dir}/c.cbor`]);
    assertEquals(v.code, 0, v.stderr);
    assert(
      v.stdout.includes(`key ${keys.secondId}`) &&
        v.stdout.includes(
          `${dir}/b.cbor was itself redacted: rules pw (HMAC-SHA-256, key ${keys.firstId}); a redacted copy of ${dir}/a.cbor (keyed SHA-256 `,
        ),
      v.stdout,
    );
    // export --redact of the redacted copy, imported: its source not hashed
    const x = await procrec([
      "export",
      `${dir}/b.cbor`,
      "-o",
      `${dir}/b.jsonl`,
      ...keys.second,
    ]);
    assertEquals(x.code, 0, x.stderr);
    const i = await procrec([
      "import",
      "jsonl",
      `${dir}/b.jsonl`,
      "-o",
      `${dir}/i.cbor`,
    ]);
    assertEquals(i.code, 0, i.stderr);
    const vi = await procrec(["verify", `${dir}/i.cbor`]);
    assert(
      vi.stdout.includes(`redacted as read from ${dir}/b.cbor (not hashed)`) &&
        vi.stdout.includes(`${dir}/b.cbor was itself redacted: rules pw`) &&
        !vi.stdout.includes("SHA-256 ,"),
      vi.stdout,
    );
    // and nothing to check a candidate source against
    const cs = await procrec([
      "redact",
      `${dir}/i.cbor`,
      "--check-source",
      `${dir}/b.cbor`,
      "--redact-key",
      keys.second[3],
    ]);
    assertEquals(cs.code, 2, cs.stdout + cs.stderr);
    assert(cs.stderr.includes("which was not hashed"), cs.stderr);
    // import --redact of a plain export of the redacted copy: the same
    const px = await procrec([
      "export",
      `${dir}/b.cbor`,
      "-o",
      `${dir}/p.jsonl`,
    ]);
    assertEquals(px.code, 0, px.stderr);
    const pi = await procrec([
      "import",
      "jsonl",
      `${dir}/p.jsonl`,
      "-o",
      `${dir}/pi.cbor`,
      ...keys.second,
    ]);
    assertEquals(pi.code, 0, pi.stderr);
    const vp = await procrec(["verify", `${dir}/pi.cbor`]);
    assert(
      vp.stdout.includes(`key ${keys.secondId}`) &&
        vp.stdout.includes(
          `redacted as read from ${dir}/p.jsonl (not hashed)`,
        ) &&
        vp.stdout.includes(
          `${dir}/p.jsonl was itself redacted: rules pw (HMAC-SHA-256, key ${keys.firstId})`,
        ),
      vp.stdout,
    );
  });
});

Deno.test("a recording whose chain holds as many redactions as a reader takes is not redacted again (the copy would be unreadable)", async () => {
  await withTempDir(async (dir) => {
    await writeRecording(`${dir}/a.cbor`, events(1));
    const header = (await RecordingReader.open(`${dir}/a.cbor`)).header;
    const r = new Redactor([], new Uint8Array(32).map((_, i) => i));
    const read = { path: "x.cbor", complete: true };
    let h = redactedOnTheFly(header, r, read);
    for (let i = 2; i <= 17; i++) h = redactedOnTheFly(h, r, read);
    let depth = 0;
    for (let x = h.redaction; x; x = x.source?.redaction) depth++;
    assertEquals(depth, 17);
    let refused = "";
    try {
      redactedOnTheFly(h, r, read);
    } catch (e) {
      refused = (e as Error).message;
    }
    assert(/already holds 17 redactions/.test(refused), refused);
  });
});
