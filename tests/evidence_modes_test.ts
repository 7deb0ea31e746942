/**
 * Modes of the outputs of issue 20 that tests/output_opener_test.ts does not
 * cover: a recording and its NAME.incomplete while it is written, the
 * redaction key and a redacted copy are 0600 under umask 000, and 0640 to
 * the group with --group (the key stays 0600).
 */
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

const why = await captureUnavailable();
const octal = async (p: string) =>
  ((await Deno.lstat(p)).mode! & 0o777).toString(8);
const RULES = '{"rules":[{"name":"pw","flag":"-p","separate":false}]}';

/** `procrec ARGS` under `umask 000`, in `cwd`; a spawned child. */
function underUmask000(cwd: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", 'umask 000; exec "$0" "$@"', PROCREC, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function run(cwd: string, args: string[]) {
  const o = await underUmask000(cwd, args).output();
  return { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
}

for (const group of [undefined, "daemon"]) {
  const want = group ? "640" : "600";
  captureTest(
    `under umask 000 the recording and its .incomplete, the redaction key and a redacted copy are ${want}${
      group ? " and the group's, with --group" : ""
    }`,
    async () => {
      await withTempDir(async (dir) => {
        const g = group ? ["--group", group] : [];
        const k = await run(dir, ["keygen", "--redact", "-o", "r.key"]);
        assertEquals(k.code, 0, k.stderr);
        assertEquals(await octal(`${dir}/r.key`), "600", "the key");
        await Deno.writeTextFile(`${dir}/rules.json`, RULES);
        const child = underUmask000(dir, [
          "record",
          ...g,
          "--only-command",
          "--redact",
          "rules.json",
          "--redact-key",
          "r.key",
          "-o",
          "a.cbor",
          "--",
          "sh",
          "-c",
          "/bin/true -pX; while [ ! -e go ]; do sleep 0.05; done",
        ]);
        try {
          assert(
            await waitForPath(`${dir}/a.cbor.incomplete`, { child }),
            "no .incomplete",
          );
          assertEquals(
            await octal(`${dir}/a.cbor.incomplete`),
            want,
            ".incomplete",
          );
          if (group) {
            assertEquals((await Deno.stat(`${dir}/a.cbor.incomplete`)).gid, 1);
          }
        } finally {
          await Deno.writeTextFile(`${dir}/go`, "");
        }
        const o = await child.output();
        assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
        assertEquals(await octal(`${dir}/a.cbor`), want, "the recording");
        const r = await run(dir, [
          "redact",
          "a.cbor",
          ...g,
          "-o",
          "b.cbor",
          "--rules",
          "rules.json",
          "--redact-key",
          "r.key",
        ]);
        assertEquals(r.code, 0, r.stderr);
        assertEquals(await octal(`${dir}/b.cbor`), want, "the redacted copy");
        if (group) {
          for (const f of ["a.cbor", "b.cbor"]) {
            assertEquals((await Deno.stat(`${dir}/${f}`)).gid, 1, f);
          }
        }
        // nothing else was left behind (temporary files)
        const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
        assertEquals(names, ["a.cbor", "b.cbor", "go", "r.key", "rules.json"]);
      }, "procrec-modes-");
    },
    why,
  );
}

Deno.test("a redaction key that others can read is refused, and names the fix", async () => {
  await withTempDir(async (dir) => {
    const k = await procrec(["keygen", "--redact", "-o", `${dir}/k`]);
    assertEquals(k.code, 0, k.stderr);
    // keygen never replaces a key
    const again = await procrec(["keygen", "--redact", "-o", `${dir}/k`]);
    assertEquals(again.code, 2, again.stderr);
    await Deno.chmod(`${dir}/k`, 0o644);
    await Deno.writeTextFile(`${dir}/rules.json`, RULES);
    const r = await procrec([
      "export",
      `${PROCREC.replace(/procrec$/, "")}fixtures/make.cbor`,
      "--redact",
      `${dir}/rules.json`,
      "--redact-key",
      `${dir}/k`,
    ]);
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes("others can read it (mode 0644)"), r.stderr);
    assert(r.stderr.includes(`chmod 600 ${dir}/k`), r.stderr);
  });
});
