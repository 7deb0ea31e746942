/**
 * `import sysmon` and `import jsonl` take `--redact` too: a Sysmon command
 * line's secret never reaches the imported recording.
 */
import { createHash } from "node:crypto";
import { RecordingReader } from "../cli/log/mod.ts";
import { parseRedactionKey, redactionHmac } from "../cli/redact/mod.ts";
import {
  assert,
  assertEquals,
  procrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

const SYSMON =
  `${ROOT}fixtures/sysmon/otrf_lsass_campaign_01_logonpasswords_sysmon_eid1_eid5.jsonl`;

async function holds(path: string, needle: string): Promise<boolean> {
  return new TextDecoder("latin1").decode(await Deno.readFile(path)).includes(
    needle,
  );
}

Deno.test("import sysmon --redact and import jsonl --redact leave no secret in the recording", async () => {
  await withTempDir(async (dir) => {
    // "-k smphost" stands for a secret: svchost's service group
    await Deno.writeTextFile(
      `${dir}/rules.json`,
      '{"rules":[{"name":"svc","flag":"-k"}]}',
    );
    const k = await procrec(["keygen", "--redact", "-o", `${dir}/k`]);
    assertEquals(k.code, 0, k.stderr);
    const redact = [
      "--redact",
      `${dir}/rules.json`,
      "--redact-key",
      `${dir}/k`,
    ];
    const plain = await procrec([
      "import",
      "sysmon",
      SYSMON,
      "-o",
      `${dir}/a.cbor`,
    ]);
    assertEquals(plain.code, 0, plain.stderr);
    assert(await holds(`${dir}/a.cbor`, "smphost"), "the control lacks it");
    const red = await procrec([
      "import",
      "sysmon",
      SYSMON,
      "-o",
      `${dir}/b.cbor`,
      ...redact,
    ]);
    assertEquals(red.code, 0, red.stderr);
    assert(!(await holds(`${dir}/b.cbor`, "smphost")), "sysmon: secret kept");
    assert(await holds(`${dir}/b.cbor`, "[redacted:svc:"), "sysmon: no marker");
    const x = await procrec([
      "export",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/a.jsonl`,
    ]);
    assertEquals(x.code, 0, x.stderr);
    const j = await procrec([
      "import",
      "jsonl",
      `${dir}/a.jsonl`,
      "-o",
      `${dir}/c.cbor`,
      ...redact,
    ]);
    assertEquals(j.code, 0, j.stderr);
    assert(!(await holds(`${dir}/c.cbor`, "smphost")), "jsonl: secret kept");
    const v = await procrec(["verify", `${dir}/c.cbor`]);
    assertEquals(v.code, 0, v.stdout);
    assert(v.stdout.includes("note: redacted: rules svc"), v.stdout);
    // (found by review) the inputs are named by keyed hashes: the JSON lines
    // input's plain SHA-256 let anyone test a guess at the secret by
    // rebuilding the input from the recording and the guess
    const key = parseRedactionKey(await Deno.readTextFile(`${dir}/k`), "k");
    for (
      const [rec, input] of [
        [`${dir}/b.cbor`, SYSMON],
        [`${dir}/c.cbor`, `${dir}/a.jsonl`],
      ]
    ) {
      const plainHash = createHash("sha256").update(
        await Deno.readFile(input),
      ).digest("hex");
      const reader = await RecordingReader.open(rec);
      const files = reader.header.import?.files;
      await Array.fromAsync(reader.chunks()); // (read to the end: closed)
      assertEquals(files?.[0].sha256, "", rec);
      assertEquals(
        files?.[0].sha256Hmac,
        redactionHmac(key, `procrec source sha256:${plainHash}`),
        rec,
      );
      assert(!(await holds(rec, plainHash)), `${rec}: the plain hash is there`);
    }
    // export --redact and report --redact of the plain import name its
    // input by the keyed hash too (found by review: export kept the plain
    // SHA-256 of the Sysmon file, which holds the secret)
    const sysmonHash = createHash("sha256").update(await Deno.readFile(SYSMON))
      .digest("hex");
    const e = await procrec([
      "export",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/ax.jsonl`,
      ...redact,
    ]);
    assertEquals(e.code, 0, e.stderr);
    const r = await procrec([
      "report",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/a.html`,
      ...redact,
    ]);
    assertEquals(r.code, 0, r.stderr);
    for (const out of [`${dir}/ax.jsonl`, `${dir}/a.html`]) {
      assert(!(await holds(out, "smphost")), `${out}: secret kept`);
      assert(!(await holds(out, sysmonHash)), `${out}: the plain hash`);
    }
    assert(
      await holds(
        `${dir}/ax.jsonl`,
        redactionHmac(key, `procrec source sha256:${sysmonHash}`),
      ),
      "export names its input by the keyed hash",
    );
  });
});

Deno.test("import --redact: an error about a malformed field quotes no value of the input, so not the secret (found by review)", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/rules.json`,
      '{"rules":[{"name":"pw","flag":"-p","separate":false}]}',
    );
    const k = await procrec(["keygen", "--redact", "-o", `${dir}/k`]);
    assertEquals(k.code, 0, k.stderr);
    const a = await procrec([
      "import",
      "sysmon",
      SYSMON,
      "-o",
      `${dir}/a.cbor`,
    ]);
    assertEquals(a.code, 0, a.stderr);
    const x = await procrec([
      "export",
      `${dir}/a.cbor`,
      "-o",
      `${dir}/a.jsonl`,
    ]);
    assertEquals(x.code, 0, x.stderr);
    // a process whose argv is one string holding a secret: malformed
    let done = false;
    const lines = (await Deno.readTextFile(`${dir}/a.jsonl`)).trimEnd().split(
      "\n",
    ).map((l) => {
      const o = JSON.parse(l);
      if (!done && o.kind === "process_create" && o.info !== undefined) {
        o.info.argv = "mysql -pIMPSEKRET1 db";
        done = true;
      }
      return JSON.stringify(o);
    });
    assert(done, "no process with argv in the export");
    await Deno.writeTextFile(`${dir}/bad.jsonl`, lines.join("\n") + "\n");
    const plain = await procrec([
      "import",
      "jsonl",
      `${dir}/bad.jsonl`,
      "-o",
      `${dir}/b.cbor`,
    ]);
    assertEquals(plain.code, 2, plain.stderr);
    assert(plain.stderr.includes("IMPSEKRET1"), "the control lacks it");
    const r = await procrec([
      "import",
      "jsonl",
      `${dir}/bad.jsonl`,
      "-o",
      `${dir}/c.cbor`,
      "--redact",
      `${dir}/rules.json`,
      "--redact-key",
      `${dir}/k`,
    ]);
    assertEquals(r.code, 2, r.stderr);
    assert(!r.stderr.includes("IMPSEKRET"), r.stderr);
    assert(
      /bad\.jsonl": line \d+: \w+ event field "info\.argv" is a value not shown \(--redact\), expected/
        .test(r.stderr),
      r.stderr,
    );
    // a line that is no JSON: the parser's excerpt of it is not shown
    // either (found by review: it quoted ten characters each side)
    await Deno.writeTextFile(
      `${dir}/nojson.jsonl`,
      `${
        lines[0]
      }\n{"kind":"comm","t":1,"pid":1,"tid":1,"comm":IMPSEKRETVALUE2}\n`,
    );
    const n = await procrec([
      "import",
      "jsonl",
      `${dir}/nojson.jsonl`,
      "-o",
      `${dir}/d.cbor`,
      "--redact",
      `${dir}/rules.json`,
      "--redact-key",
      `${dir}/k`,
    ]);
    assertEquals(n.code, 2, n.stderr);
    assert(/nojson\.jsonl": line 2: /.test(n.stderr), n.stderr);
    assert(!n.stderr.includes("IMPSEKRET"), n.stderr);
  });
});
