/**
 * `import sysmon` and `import jsonl` take `--redact` too: a Sysmon command
 * line's secret never reaches the imported recording.
 */
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
  });
});
