/**
 * The progress line of a long read (`replay`, `diff`, `replay --diff`): when
 * it shows and what it says, on a terminal (rewritten in place after a
 * second, then cleared) and elsewhere (only with --progress: whole lines,
 * one a second and a last one); and that it goes to stderr only, leaving
 * the output byte-identical.
 */
import {
  Progress,
  type ProgressMode,
  withProgress,
} from "../cli/commands/_progress.ts";
import {
  analysisChunks,
  RecordingReader,
  type RecordingSource,
  SegmentSetReader,
} from "../cli/log/mod.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { testHeader, workload } from "./_recording_helpers.ts";
import { assert, assertEquals, procrec } from "./_record_helpers.ts";

const FIX = new URL("../fixtures/", import.meta.url).pathname;

/** A sink that keeps what is written in `written`, a terminal or not. */
function sinkInto(written: string[], terminal: boolean, columns?: number) {
  return {
    isTerminal: () => terminal,
    writeSync: (b: Uint8Array) => {
      written.push(new TextDecoder().decode(b));
      return b.length;
    },
    ...(columns !== undefined ? { columns: () => columns } : {}),
  };
}

/** A progress line into a sink that keeps what is written, and a clock to set. */
function setup(terminal: boolean, mode: ProgressMode, total?: number) {
  const written: string[] = [];
  const clock = { now: 10_000 };
  const progress = new Progress(
    "reading x.cbor",
    total,
    mode,
    sinkInto(written, terminal),
    () => clock.now,
  );
  return { written, clock, progress };
}

Deno.test("on a terminal the line shows after a second, is rewritten at most every 250 ms, and is cleared at the end", () => {
  const { written, clock, progress } = setup(true, "auto", 4_000_000);
  let asked = 0;
  const bytes = (n: number) => () => (asked++, n);
  clock.now += 999;
  progress.tick(bytes(1_000_000), 10);
  assertEquals(written, []);
  assertEquals(asked, 0); // (not asked for the bytes when no line is due)
  clock.now += 1;
  progress.tick(bytes(1_000_000), 25_000);
  assertEquals(written, [
    "\r\x1b[Kprocrec: reading x.cbor: 25% of 4.0 MB, 25,000 events, 1.0 s",
  ]);
  clock.now += 249;
  progress.tick(bytes(2_000_000), 50_000);
  assertEquals(written.length, 1);
  clock.now += 1;
  progress.tick(bytes(3_999_999), 99_999);
  assertEquals(
    written[1],
    "\r\x1b[Kprocrec: reading x.cbor: 99% of 4.0 MB, 99,999 events, 1.3 s",
  );
  progress.end(bytes(4_000_000), 100_000);
  assertEquals(written[2], "\r\x1b[K");
  assertEquals(written.length, 3);
});

Deno.test("on a terminal a read shorter than a second leaves nothing, not even a clearing", () => {
  const { written, clock, progress } = setup(true, "auto", 100);
  clock.now += 500;
  progress.tick(() => 50, 5);
  progress.end(() => 100, 10);
  assertEquals(written, []);
});

Deno.test("elsewhere the line is off unless asked for; --no-progress silences a terminal too", () => {
  for (
    const [terminal, mode] of [[false, "auto"], [true, "off"], [
      false,
      "off",
    ]] as const
  ) {
    const { written, clock, progress } = setup(terminal, mode, 100);
    for (let i = 0; i < 10; i++) {
      clock.now += 700;
      progress.tick(() => 10 * i, i);
    }
    progress.end(() => 100, 10);
    assertEquals(written, [], `${terminal} ${mode}`);
  }
});

Deno.test("asked for off a terminal: whole lines, at most one a second, then a last one saying done", () => {
  const { written, clock, progress } = setup(false, "on");
  for (let i = 1; i <= 8; i++) {
    clock.now += 300;
    progress.tick(() => i * 1_500_000, i * 1000);
  }
  progress.end(() => 12_345_678, 8000);
  // ticks at 300 ms steps: lines at 1.2 s and 2.4 s; no total: bytes read
  assertEquals(written, [
    "procrec: reading x.cbor: 6.0 MB, 4,000 events, 1.2 s\n",
    "procrec: reading x.cbor: 12.0 MB, 8,000 events, 2.4 s\n",
    "procrec: reading x.cbor: done, 12.3 MB, 8,000 events, 2.4 s\n",
  ]);
});

Deno.test("a read that ended early says it stopped, not done; a count left out is not shown", async () => {
  const { written, clock, progress } = setup(false, "on");
  clock.now += 1500;
  progress.tick(() => 1_500_000);
  progress.end(() => 2_000_000, undefined, false);
  assertEquals(written, [
    "procrec: reading x.cbor: 1.5 MB, 1.5 s\n",
    "procrec: reading x.cbor: stopped, 2.0 MB, 1.5 s\n",
  ]);
  // through withProgress: a reader that leaves the loop early
  const lines = setup(false, "on");
  const source = {
    report: { bytes: 0 },
    bytesSoFar: 700,
  } as unknown as RecordingSource;
  async function* chunks() {
    for (let i = 0; i < 3; i++) yield { events: [1, 2] };
  }
  for await (const _ of withProgress(chunks(), source, lines.progress)) break;
  for await (const _ of withProgress(chunks(), source, lines.progress)) {
    /* read whole */
  }
  assertEquals(lines.written, [
    "procrec: reading x.cbor: stopped, 0.7 kB, 2 events, 0.0 s\n",
    "procrec: reading x.cbor: done, 0.7 kB, 6 events, 0.0 s\n",
  ]);
});

Deno.test("a stderr that cannot be written does not stop the read", () => {
  const p = new Progress("reading x.cbor", 10, "on", {
    isTerminal: () => false,
    writeSync: () => {
      throw new Deno.errors.BrokenPipe("closed");
    },
  }, () => 0);
  p.tick(() => 5, 1);
  p.end(() => 10, 2);
});

/** Events and bytes of a fixture as the reader counts them. */
async function readAll(path: string) {
  const r = await RecordingReader.open(path);
  let events = 0;
  for await (const c of r.chunks()) events += c.events.length;
  // (and the lost event a damaged tail gives)
  events += r.tailEvents().length;
  return { events, bytes: (await Deno.stat(path)).size };
}

Deno.test("replay --progress: a last line on stderr with the fixture's events; stdout as without it", async () => {
  const path = `${FIX}make.cbor`;
  const { events, bytes } = await readAll(path);
  assert(events > 10 && bytes < 1e6, `${events} events, ${bytes} bytes`);
  for (const view of [[], ["--summary"], ["--json"]]) {
    const plain = await procrec(["replay", ...view, path]);
    const shown = await procrec(["replay", ...view, "--progress", path]);
    assertEquals(plain.code, 0, plain.stderr);
    assertEquals(shown.code, 0, shown.stderr);
    assertEquals(shown.stdout, plain.stdout, `${view}`);
    assert(!plain.stderr.includes("procrec: reading"), plain.stderr);
    const last = `procrec: reading ${path}: done, 100% of ${
      (bytes / 1e3).toFixed(1)
    } kB, ${events.toLocaleString("en")} events, `;
    assert(shown.stderr.includes(last), `${last}\nnot in\n${shown.stderr}`);
    // what else it wrote is what it writes without the line
    assertEquals(
      shown.stderr.split("\n").filter((l) => !l.startsWith("procrec: reading"))
        .join("\n"),
      plain.stderr,
    );
  }
});

Deno.test("diff --progress and replay --diff --progress: one last line per recording, in order; the diff as without it", async () => {
  const a = `${FIX}make.cbor`, b = `${FIX}failing.cbor`;
  const ea = (await readAll(a)).events, eb = (await readAll(b)).events;
  for (const cmd of [["diff"], ["replay", "--diff"]]) {
    const plain = await procrec([...cmd, a, b]);
    // (before --diff, whose list would take it)
    const shown = await procrec([cmd[0], "--progress", ...cmd.slice(1), a, b]);
    assertEquals(plain.code, 1, plain.stderr);
    assertEquals(shown.code, 1, shown.stderr);
    assertEquals(shown.stdout, plain.stdout);
    const lines = shown.stderr.split("\n").filter((l) =>
      l.startsWith("procrec: diff: reading")
    );
    assertEquals(lines.length, 2, shown.stderr);
    assert(
      lines[0].startsWith(
        `procrec: diff: reading ${a} (1 of 2): done, 100% of `,
      ) && lines[0].includes(` ${ea.toLocaleString("en")} events`),
      lines[0],
    );
    assert(
      lines[1].startsWith(
        `procrec: diff: reading ${b} (2 of 2): done, 100% of `,
      ) && lines[1].includes(` ${eb.toLocaleString("en")} events`),
      lines[1],
    );
  }
});

Deno.test("hunt --progress: a last line per recording hunted; the hunt's output as without it", async () => {
  const rules = new URL(
    "../fixtures/sigma/rules/linux/process_creation",
    import.meta.url,
  ).pathname;
  const paths = [`${FIX}make.cbor`, `${FIX}failing.cbor`];
  const plain = await procrec(["hunt", "--rules", rules, ...paths]);
  const shown = await procrec([
    "hunt",
    "--progress",
    "--rules",
    rules,
    ...paths,
  ]);
  assertEquals(shown.code, plain.code, shown.stderr);
  assertEquals(shown.stdout, plain.stdout);
  const lines = shown.stderr.split("\n").filter((l) =>
    l.startsWith("procrec: hunt: reading ")
  );
  assertEquals(lines.length, 2, shown.stderr);
  for (const [i, path] of paths.entries()) {
    const { events } = await readAll(path);
    assert(
      lines[i].startsWith(`procrec: hunt: reading ${path}: done, 100% of `) &&
        lines[i].includes(` ${events.toLocaleString("en")} events, `),
      lines[i],
    );
  }
});

Deno.test("report --progress: a last line for the recording read; the page as without it", async () => {
  const path = `${FIX}make.cbor`;
  const { events, bytes } = await readAll(path);
  const dir = await Deno.makeTempDir({ prefix: "procrec-progress-" });
  try {
    const plain = await procrec(["report", path, "-o", `${dir}/a.html`]);
    const shown = await procrec([
      "report",
      "--progress",
      path,
      "-o",
      `${dir}/b.html`,
    ]);
    assertEquals(plain.code, 0, plain.stderr);
    assertEquals(shown.code, 0, shown.stderr);
    assertEquals(
      await Deno.readTextFile(`${dir}/b.html`),
      await Deno.readTextFile(`${dir}/a.html`),
    );
    assert(!plain.stderr.includes("procrec: report: reading"), plain.stderr);
    const last = `procrec: report: reading ${path}: done, 100% of ${
      (bytes / 1e3).toFixed(1)
    } kB, ${events.toLocaleString("en")} events, `;
    assert(shown.stderr.includes(last), `${last}\nnot in\n${shown.stderr}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export --progress: a last line before the export's note; the lines as without it", async () => {
  // (a copy of make.cbor whose last chunk is damaged: the lost event its
  // tail gives is exported too)
  const dir = await Deno.makeTempDir({ prefix: "procrec-progress-" });
  const damaged = `${dir}/damaged.cbor`;
  const bytes = await Deno.readFile(`${FIX}make.cbor`);
  bytes.fill(0, 2250, 2253);
  await Deno.writeFile(damaged, bytes);
  for (const path of [`${FIX}make.cbor`, damaged]) {
    const name = path.split("/").pop();
    const { events, bytes } = await readAll(path);
    for (const format of ["jsonl", "ecs"]) {
      const plain = await procrec(["export", "--format", format, path]);
      const shown = await procrec([
        "export",
        "--progress",
        "--format",
        format,
        path,
      ]);
      assertEquals(plain.code, 0, plain.stderr);
      assertEquals(shown.code, 0, shown.stderr);
      assertEquals(shown.stdout, plain.stdout, `${name} ${format}`);
      const lines = shown.stderr.split("\n");
      const at = lines.findIndex((l) =>
        l.startsWith(
          `procrec: export: reading ${path}: done, 100% of ${
            (bytes / 1e3).toFixed(1)
          } kB, ${events.toLocaleString("en")} events, `,
        )
      );
      assert(at >= 0, shown.stderr);
      assertEquals(
        lines.filter((_, i) => i !== at).join("\n"),
        plain.stderr,
        `${name} ${format}`,
      );
      if (path === damaged && format === "jsonl") {
        assert(
          /"kind":"lost".*"reason":"recording"/.test(shown.stdout),
          shown.stdout,
        );
      }
    }
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("import --progress: a last line per input read (jsonl: hashed, then read); the recordings as without it", async () => {
  const sysmon =
    `${FIX}sysmon/otrf_lsass_campaign_01_logonpasswords_sysmon_eid1_eid5.jsonl`;
  const dir = await Deno.makeTempDir({ prefix: "procrec-progress-" });
  try {
    const done = (what: string, path: string, bytes: number) =>
      `procrec: import: ${what} ${path}: done, 100% of ${
        (bytes / 1e3).toFixed(1)
      } kB, `;
    const plain = await procrec([
      "import",
      "sysmon",
      sysmon,
      "-o",
      `${dir}/a.cbor`,
    ]);
    const shown = await procrec([
      "import",
      "sysmon",
      "--progress",
      sysmon,
      "-o",
      `${dir}/b.cbor`,
    ]);
    assertEquals(plain.code, 0, plain.stderr);
    assertEquals(shown.code, 0, shown.stderr);
    assertEquals(shown.stdout, plain.stdout.replaceAll("a.cbor", "b.cbor"));
    const size = (await Deno.stat(sysmon)).size;
    assertEquals(shown.stderr.split("\n").filter((l) => l !== "").length, 1);
    assert(
      shown.stderr.startsWith(done("reading", sysmon, size)),
      shown.stderr,
    );
    const summary = async (p: string) =>
      (await procrec(["replay", "--summary", p])).stdout;
    assertEquals(
      await summary(`${dir}/b.cbor`),
      await summary(`${dir}/a.cbor`),
    );
    // a procrec export read back: hashed, then read
    const jsonl = `${dir}/a.jsonl`;
    assertEquals(
      (await procrec(["export", `${dir}/a.cbor`, "-o", jsonl])).code,
      0,
    );
    const again = await procrec([
      "import",
      "jsonl",
      "--progress",
      jsonl,
      "-o",
      `${dir}/c.cbor`,
    ]);
    assertEquals(again.code, 0, again.stderr);
    const lines = again.stderr.split("\n").filter((l) => l !== "");
    const jsonlSize = (await Deno.stat(jsonl)).size;
    assertEquals(lines.length, 2, again.stderr);
    assert(lines[0].startsWith(done("hashing", jsonl, jsonlSize)), lines[0]);
    assert(lines[1].startsWith(done("reading", jsonl, jsonlSize)), lines[1]);
    assertEquals(
      await summary(`${dir}/c.cbor`),
      await summary(`${dir}/a.cbor`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--progress and --no-progress are in the help of replay, diff, hunt, report, export and import", async () => {
  for (
    const cmd of [
      ["replay"],
      ["diff"],
      ["hunt"],
      ["report"],
      ["export"],
      ["import", "sysmon"],
      ["import", "jsonl"],
    ]
  ) {
    const h = await procrec([...cmd, "--help"]);
    assert(
      h.stdout.includes("--progress") && h.stdout.includes("--no-progress"),
      h.stdout,
    );
  }
});

Deno.test("a segment directory's progress moves within each segment, not only when one is done", async () => {
  const dir = await Deno.makeTempDir({ prefix: "procrec-progress-" });
  try {
    const events = workload(60_000);
    const w = await SegmentWriter.open(testHeader(), {
      dir,
      keep: { count: 7 },
      writer: { flushIntervalMs: 0 },
    });
    for (let i = 0; i < events.length; i++) {
      w.write(events[i]);
      if (i === 30_000) await w.rotateNow();
    }
    await w.close();
    const first = [...Deno.readDirSync(dir)].map((e) => e.name).sort()[0];
    const firstSize = (await Deno.stat(`${dir}/${first}`)).size;
    const r = await SegmentSetReader.open([dir]);
    const seen: number[] = [];
    for await (const _ of analysisChunks(r)) seen.push(r.bytesSoFar!);
    for (let i = 1; i < seen.length; i++) {
      assert(seen[i] >= seen[i - 1], `${seen}`);
    }
    const inFirst = new Set(seen.filter((b) => b > 0 && b < firstSize));
    assert(inFirst.size >= 3, `${[...inFirst]} within ${firstSize} bytes`);
    assertEquals(r.bytesSoFar, r.report.bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the label reaches stderr escaped, and on a narrow terminal is cut in its middle so the line never wraps", () => {
  const { written, clock, progress } = setup(false, "on");
  const evil = new Progress(
    "reading a\x1b[31mRED.cbor",
    10,
    "on",
    sinkInto(written, false),
    () => clock.now,
  );
  evil.end(() => 10, 1);
  progress.end(() => 0, 0);
  assert(!written[0].includes("\x1b"), JSON.stringify(written[0]));
  assert(written[0].includes("a\\u001b[31mRED.cbor"), written[0]);

  const long = `reading /evidence/host-${"x".repeat(120)}/run.cbor`;
  const lines: string[] = [];
  const now = { t: 0 };
  const narrow = new Progress(
    long,
    1000,
    "auto",
    sinkInto(lines, true, 80),
    () => now.t,
  );
  now.t = 1500;
  narrow.tick(() => 500, 7);
  const shown = lines[0].replace("\r\x1b[K", "");
  assert(shown.length <= 79, `${shown.length}: ${shown}`);
  assert(
    shown.startsWith("procrec: reading /evidence/") &&
      shown.includes("…") &&
      shown.endsWith("x/run.cbor: 50% of 1.0 kB, 7 events, 1.5 s"),
    shown,
  );
});

Deno.test("a read that fails takes its line off the terminal before the error", async () => {
  const { withProgress } = await import("../cli/commands/_progress.ts");
  const lines: string[] = [];
  const now = { t: 0 };
  const p = new Progress(
    "reading x.cbor",
    100,
    "auto",
    sinkInto(lines, true),
    () => now.t,
  );
  async function* failing() {
    now.t = 2000;
    yield { events: [1, 2, 3] };
    throw new Error("damaged");
  }
  const reader = { report: { bytes: 40 } } as unknown as Parameters<
    typeof withProgress
  >[1];
  let error = "";
  try {
    for await (const _ of withProgress(failing(), reader, p)) { /* read */ }
  } catch (e) {
    error = (e as Error).message;
  }
  assertEquals(error, "damaged");
  assertEquals(lines.length, 2, JSON.stringify(lines));
  assertEquals(lines[1], "\r\x1b[K");
});
