/**
 * The recorder's V8 flags (the launcher passes them to `record`) are the
 * ones the live-memory benchmark measures with, and the other commands'
 * (the analysis: replay, diff...) the ones the replay benchmarks measure
 * with: the benchmarks' figures are the commands'.
 */
import { assert, assertEquals, procrec, ROOT } from "./_record_helpers.ts";

/** The launcher's `NAME="..."` value, its `$REGEXP_V8_FLAG` put in. */
function launcherFlags(launcher: string, name: string): string {
  const m = new RegExp(`^${name}="([^"]+)"$`, "m").exec(launcher);
  assert(m, `the launcher sets ${name}`);
  const regexp = /^REGEXP_V8_FLAG="([^"]+)"$/m.exec(launcher);
  assert(regexp, "the launcher sets REGEXP_V8_FLAG");
  return m[1].replaceAll("$REGEXP_V8_FLAG", regexp[1]);
}

Deno.test("the launcher gives record the V8 flags deno task bench:live-memory measures with", async () => {
  const launcher = await Deno.readTextFile(`${ROOT}procrec`);
  const value = launcherFlags(launcher, "RECORDER_V8_FLAGS");
  const flags = value.split(",");
  assert(flags.includes("--optimize-for-size"), value);
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

Deno.test("the launcher gives every other command the V8 flags deno task bench and bench:compare measure the analysis with", async () => {
  const launcher = await Deno.readTextFile(`${ROOT}procrec`);
  const value = launcherFlags(launcher, "ANALYSIS_V8_FLAGS");
  const flags = value.split(",");
  assert(flags.some((f) => f.startsWith("--max-semi-space-size=")), value);
  assert(
    /^V8_FLAGS=\("--v8-flags=\$ANALYSIS_V8_FLAGS"\)$/m.test(launcher),
    "the other commands get them",
  );
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  for (const task of ["bench", "bench:compare"]) {
    const bench = /--v8-flags=(\S+)/.exec(tasks[task]);
    assert(bench, tasks[task]);
    assertEquals(
      bench[1].split(",").filter((f) => f !== "--expose-gc"),
      flags,
      `deno task ${task}'s flags`,
    );
  }
  // Deno takes them (an unknown V8 flag would stop every command), and a
  // command that analyses runs with them
  const help = await procrec(["replay", "--help"]);
  assertEquals(help.code, 0, help.stderr);
  assert(!/unknown|Error/i.test(help.stderr), help.stderr);
  const replay = await procrec([
    "replay",
    "--summary",
    `${ROOT}fixtures/make.cbor`,
  ]);
  assertEquals(replay.code, 0, replay.stderr);
  assert(/^processes: \d+/m.test(replay.stdout), replay.stdout);
});
