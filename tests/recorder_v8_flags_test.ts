/**
 * The recorder's V8 flags (the launcher passes them to `record`) are the
 * ones the live-memory benchmark measures with: the benchmark's figures are
 * the recorder's.
 */
import { assert, assertEquals, procrec, ROOT } from "./_record_helpers.ts";

Deno.test("the launcher gives record the V8 flags deno task bench:live-memory measures with", async () => {
  const launcher = await Deno.readTextFile(`${ROOT}procrec`);
  const m = /^RECORDER_V8_FLAGS="([^"]+)"$/m.exec(launcher);
  assert(m, "the launcher sets RECORDER_V8_FLAGS");
  const flags = m[1].split(",");
  assert(flags.includes("--optimize-for-size"), m[1]);
  assert(
    /if \[ "\$\{1:-\}" = "record" \]; then V8_FLAGS=\("--v8-flags=\$RECORDER_V8_FLAGS"\)/
      .test(launcher),
    "record gets them",
  );
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const bench = /--v8-flags=(\S+)/.exec(tasks["bench:live-memory"]);
  assert(bench, tasks["bench:live-memory"]);
  assertEquals(
    bench[1].split(",").filter((f) => f !== "--expose-gc"),
    flags,
    "the benchmark's flags",
  );
  // Deno takes them (an unknown V8 flag would stop every record)
  const help = await procrec(["record", "--help"]);
  assertEquals(help.code, 0, help.stderr);
  assert(!/unknown|Error/i.test(help.stderr), help.stderr);
});
