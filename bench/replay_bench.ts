/**
 * Benchmark (not a test): `deno task bench`. Generates a 1,000,000-event
 * recording and prints events/s for raw decoding (reader only), decode +
 * analysis, and the diff of two such recordings, with peak memory; then the
 * analysis of a recording of as many events over 100 times fewer processes,
 * to show that memory follows processes, not events. The diff and the other
 * figures are each measured in a process of their own, after raw decoding
 * ({@link measureReplayInChild}: peak RSS is the process's). `BENCH_EVENTS`
 * sets the number of events. `deno task bench --small-chunks [ROUNDS]` measures the
 * row of many small chunks alone (after a raw pass, as the whole bench
 * takes it), ROUNDS times.
 *
 * {@link generateRecordings} and {@link measureReplayInChild} are also used by
 * `bench/compare.ts` (`deno task bench:compare`).
 *
 * @module
 */
import {
  analyzeChunks,
  type ExecStep,
  type ForestOptions,
  type ProcessNode,
} from "../cli/analysis/mod.ts";
import { newNode, newThread } from "../cli/analysis/_forest_nodes.ts";
import { ForestDiffer, renderDiff } from "../cli/diff/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import {
  analysisChunks,
  RecordingReader,
  RecordingWriter,
} from "../cli/log/mod.ts";
import { testHeader } from "../tests/_recording_helpers.ts";

/**
 * A build-like workload: jobs of fork, exec, threads, exits, 8 at a time,
 * one event every microsecond from `timeBase` (ns).
 */
export function* workload(
  total: number,
  pidBase: number,
  extraPerJob: number,
  failEvery = 97,
  timeBase = 1_000,
): Generator<ProcEvent> {
  let t = timeBase;
  let pid = pidBase;
  let n = 0;
  const root = pid++;
  yield {
    kind: "process_snapshot",
    t,
    pid: root,
    tid: root,
    ppid: 1,
    start: -1e9,
    info: { image: "/usr/bin/make", argv: ["make", "-j8"], from: {} },
  };
  n++;
  let job = 0;
  while (n < total) {
    // 8 concurrent jobs, their events interleaved round-robin
    const batch = Array.from({ length: 8 }, () => {
      const p = pid++;
      const k = job++;
      const evs: ProcEvent[] = [];
      const threads = k % 3;
      evs.push({
        kind: "process_create",
        t: 0,
        pid: p,
        tid: p,
        ppid: root,
        ptid: root,
        creatorPid: root,
        creatorTid: root,
        start: 0,
      });
      evs.push({
        kind: "exec",
        t: 0,
        pid: p,
        tid: p,
        info: {
          image: "/usr/bin/gcc",
          argv: ["gcc", "-c", `src/f${k % 5000}.c`, "-o", `obj/f${k % 5000}.o`],
          from: { image: "kernel", argv: "kernel" },
        },
      });
      for (let i = 0; i < extraPerJob; i++) {
        evs.push({ kind: "comm", t: 0, pid: p, tid: p, comm: `w${i % 10}` });
      }
      const tids: number[] = [];
      for (let i = 0; i < threads; i++) {
        const tid = pid++;
        tids.push(tid);
        evs.push({
          kind: "thread_create",
          t: 0,
          pid: p,
          tid,
          creatorPid: p,
          creatorTid: p,
        });
      }
      for (const tid of tids) {
        evs.push({ kind: "thread_exit", t: 0, pid: p, tid, status: 0 });
      }
      evs.push({ kind: "thread_exit", t: 0, pid: p, tid: p, status: 0 });
      evs.push({
        kind: "process_exit",
        t: 0,
        pid: p,
        tid: p,
        status: k % failEvery === 0 ? 0x100 : 0,
      });
      return evs;
    });
    for (let i = 0; n < total; i++) {
      let any = false;
      for (const evs of batch) {
        const e = evs[i];
        if (!e) continue;
        any = true;
        t += 1_000;
        e.t = t;
        if (e.kind === "process_create") e.start = t;
        yield e;
        if (++n >= total) return;
      }
      if (!any) break;
    }
  }
}

export async function write(
  path: string,
  events: Iterable<ProcEvent>,
  chunkEvents?: number,
): Promise<void> {
  const w = await RecordingWriter.create(
    path,
    testHeader({ host: "bench", source: { name: "fixture", reason: "bench" } }),
    { flushIntervalMs: 0, overwrite: true, chunkEvents },
  );
  for (const e of events) w.write(e);
  await w.close();
}

let peakRss = 0;
let peakHeap = 0;
function sample(): void {
  const m = Deno.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}
const gc = () => (globalThis as { gc?: () => void }).gc?.();
/** Heap in use after a full collection: what is retained. */
function retained(): number {
  gc();
  return Deno.memoryUsage().heapUsed;
}
/**
 * A full collection, then a pause for the collector's own threads to finish
 * (sweeping its pages goes on beside the program): each path is measured
 * as a process of its own would start it, not paying for the garbage of
 * the paths measured before it in this process (measured back to back,
 * decode + analysis took 1.76-1.93M events/s, against 2.05-2.15M with a
 * `procrec diff` of 1.5 s run between them).
 */
async function quiesce(): Promise<void> {
  gc();
  await new Promise((r) => setTimeout(r, 300));
}
function resetPeaks(): void {
  gc();
  peakRss = 0;
  peakHeap = 0;
  sample();
}

/** Groups of events as read, sampling memory every 16 groups (64k events when full). */
async function* sampled<C>(chunks: AsyncIterable<C>): AsyncGenerator<C> {
  let i = 0;
  for await (const c of chunks) {
    if ((++i & 15) === 0) sample();
    yield c;
  }
}

/**
 * Decode + analysis as replay does it (`analyzeChunks` over
 * `analysisChunks`); `detail: "tree"` as `procrec diff` does it.
 */
async function analyzeFile(path: string, options: ForestOptions = {}) {
  const r = await RecordingReader.open(path);
  return await analyzeChunks(sampled(analysisChunks(r)), {
    os: "linux",
    bootId: "bench",
  }, options);
}

const mb = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
const rate = (n: number, ms: number) =>
  `${Math.round(n / (ms / 1000)).toLocaleString("en")} events/s`;

/**
 * A copy of the objects of a full forest's processes: nodes, threads, exec
 * steps, and the lists that hold them (not the strings and argv lists, which
 * the decoder made): what any analysis into these shapes allocates at the
 * least, whatever its logic.
 */
export function copyForestObjects(
  processes: readonly ProcessNode[],
): ProcessNode[] {
  const out = new Array<ProcessNode>(processes.length);
  for (let i = 0; i < processes.length; i++) {
    const p = processes[i];
    const n = newNode(p.id, p.pid, p.start, p.ppid);
    Object.assign(n, p);
    n.children = p.children.length ? p.children.slice() : p.children;
    n.flags = p.flags.length ? p.flags.slice() : p.flags;
    n.threads = p.threads.map((th) => {
      const c = newThread(
        th.tid,
        th.start,
        th.main,
        th.remote,
        th.creatorPid,
        th.creatorTid,
      );
      c.end = th.end;
      c.status = th.status;
      c.endInferred = th.endInferred;
      c.exitClass = th.exitClass;
      c.processExiting = th.processExiting;
      return c;
    });
    // (argv lists are the decoder's, counted in raw decoding: shared)
    n.execs = p.execs.map((s): ExecStep => ({
      t: s.t,
      via: s.via,
      image: s.image,
      argv: s.argv,
      cmdline: s.cmdline,
      argvTruncated: s.argvTruncated,
      from: s.from,
    }));
    out[i] = n;
  }
  return out;
}

/** The recordings the replay figures are measured on (paths in `dir`). */
export interface ReplayRecordings {
  /** A build of `events` events. */
  a: string;
  /** The same build with other pids and times, and other jobs failing. */
  b: string;
  /** As many events over 100 times fewer processes. */
  few: string;
  /** Chunks of 2 events (a long idle recording), at most 200,000 events. */
  small: string;
  events: number;
}

/**
 * Where the bench recordings' times begin (ns since boot): 3 days of uptime,
 * as a real recording's times are (past 2^32, so the writer encodes them as
 * 64-bit floats and V8 keeps them as boxed doubles), unless
 * `BENCH_TIME_BASE` gives another (1000: the small times of the tables
 * before 2026-12-03 night).
 */
export const TIME_BASE = Number(
  Deno.env.get("BENCH_TIME_BASE") ?? 3 * 86_400e9,
);

/** Writes the recordings of {@link ReplayRecordings} into `dir`. */
export async function generateRecordings(
  dir: string,
  events: number,
  timeBase = TIME_BASE,
): Promise<ReplayRecordings> {
  const r: ReplayRecordings = {
    a: `${dir}/a.cbor`,
    b: `${dir}/b.cbor`,
    few: `${dir}/few.cbor`,
    small: `${dir}/small.cbor`,
    events,
  };
  await write(r.a, workload(events, 1000, 0, 97, timeBase));
  await write(r.b, workload(events, 400_000, 0, 89, timeBase));
  await write(r.few, workload(events, 1000, 600, 97, timeBase));
  await write(
    r.small,
    workload(Math.min(events, 200_000), 1000, 0, 97, timeBase),
    2,
  );
  return r;
}

/** The figures of one pass of {@link measureReplay}. */
export interface ReplayFigures {
  /** Raw decoding (reader alone): events, milliseconds. */
  rawEvents: number;
  rawMs: number;
  /** Decode + analysis of recording a, as replay does. */
  analysisEvents: number;
  analysisMs: number;
  analysisProcesses: number;
  analysisPeakRss: number;
  /** Forest retained after GC: many processes, then 100 times fewer. */
  keptMany: { events: number; processes: number; kept: number };
  keptFew: { events: number; processes: number; kept: number };
  /** Reading the small-chunk recording: bytes, chunks, milliseconds. */
  smallBytes: number;
  smallChunks: number;
  smallMs: number;
  /**
   * Diff of a and b as `procrec diff` does it: each decoded, analysed and
   * reduced to its side in turn (one forest at a time), then diffed and
   * rendered. `diffOnlyMs`: reducing both sides, the diff and its text.
   */
  diffEvents: number;
  diffMs: number;
  diffOnlyMs: number;
  diffPeakRss: number;
  /**
   * The RSS when the diff began (after a full collection): what the rows
   * before it left the process holding (pages V8 and the allocator keep).
   */
  diffStartRss: number;
  diffSummary: string;
}

/**
 * A long idle recording: many small chunks (2 events each, as the 250 ms
 * flush leaves them), read as replay reads a file (`analysisChunks`: the
 * reader's batches of chunks, verified and decoded), in MB/s; printed with
 * `log`.
 */
export async function measureSmallChunks(
  path: string,
  log: (line: string) => void = console.log,
): Promise<{ smallBytes: number; smallChunks: number; smallMs: number }> {
  const smallBytes = (await Deno.stat(path)).size;
  const t0 = performance.now();
  const rs = await RecordingReader.open(path);
  let events = 0;
  for await (const g of analysisChunks(rs)) events += g.events.length;
  const smallMs = performance.now() - t0;
  const chunks = rs.report.chunks;
  log(
    `small chunks:        ${
      (smallBytes / 1e6 / (smallMs / 1000)).toFixed(1)
    } MB/s (${chunks.toLocaleString("en")} chunks of ${
      Math.round(events / chunks)
    } events, ${mb(smallBytes)}, ${(smallMs / 1000).toFixed(2)}s)`,
  );
  return { smallBytes, smallChunks: chunks, smallMs };
}

/**
 * Measures raw decoding, then (`part`) decode + analysis, memory and small
 * chunks, or the diff, on `rec`; prints each figure with `log` as it comes.
 * Peak RSS is sampled every 5 ms; run with `--v8-flags=--expose-gc` for the
 * retained figures (`deno task bench` adds the V8 flags the launcher gives
 * the analysis). The process's RSS carries over from one path to the next:
 * {@link measureReplayInChild} measures each part in a process of its own.
 * The figures of the other part are NaN.
 */
export async function measureReplay(
  rec: ReplayRecordings,
  log: (line: string) => void = console.log,
  part: "analysis" | "diff",
): Promise<ReplayFigures> {
  const timer = setInterval(sample, 5);
  try {
    // raw decoding: the reader alone
    await quiesce();
    resetPeaks();
    let t0 = performance.now();
    let n = 0;
    // the reader's events, as replay and diff take them (analysisChunks:
    // the chunks in batches, then a damaged tail's lost event)
    const r0 = await RecordingReader.open(rec.a);
    for await (const c of sampled(analysisChunks(r0))) n += c.events.length;
    const rawMs = performance.now() - t0;
    log(
      `raw decoding:        ${rate(n, rawMs)} (${n} events, ${
        (rawMs / 1000).toFixed(2)
      }s)`,
    );

    const NONE = { ms: NaN, events: NaN, processes: NaN, kept: NaN, rss: NaN };
    let many = NONE, few = NONE;
    let smallBytes = NaN, small = NaN, smallMs = NaN;
    if (part !== "diff") {
      // decode + analysis, as replay does; then the same number of events over
      // 100x fewer processes. Each forest is measured after a full GC while it
      // is alive, then dropped.
      const measure = async (path: string) => {
        await quiesce();
        resetPeaks();
        const base = retained();
        const t = performance.now();
        const f = await analyzeFile(path);
        const ms = performance.now() - t;
        const kept = retained() - base;
        return {
          ms,
          events: f.events,
          processes: f.processes.length,
          kept,
          rss: peakRss,
        };
      };
      many = await measure(rec.a);
      log(
        `decode + analysis:   ${rate(many.events, many.ms)} (${
          many.processes.toLocaleString("en")
        } processes; ${(many.ms / rawMs).toFixed(2)}x raw decoding; peak RSS ${
          mb(many.rss)
        })`,
      );
      few = await measure(rec.few);
      const per = (m: { kept: number; processes: number; events: number }) =>
        `${m.events.toLocaleString("en")} events, ${
          m.processes.toLocaleString("en")
        } processes: ${mb(m.kept)} (${
          Math.round(m.kept / m.processes)
        } bytes/process)`;
      log(`memory (forest kept, after GC): ${per(many)}; ${per(few)}`);

      ({ smallBytes, smallChunks: small, smallMs } = await measureSmallChunks(
        rec.small,
        log,
      ));
    }

    let dMs = NaN, diffOnlyMs = NaN, diffStartRss = NaN, diffPeakRss = NaN;
    let diffEvents = NaN, diffSummary = "";
    if (part !== "analysis") {
      // diff of two such recordings, as `procrec diff` does it: one forest at
      // a time, analysed keeping only the tree (`detail: "tree"`), and
      // reduced to its side of the diff (A is let go before B is
      // analysed), then the diff and its text
      await quiesce();
      resetPeaks();
      diffStartRss = Deno.memoryUsage().rss;
      t0 = performance.now();
      const differ = new ForestDiffer();
      let sideMs = 0;
      const sideOf = async (path: string) => {
        const f = await analyzeFile(path, { detail: "tree" });
        const t = performance.now();
        const side = differ.side(f);
        sideMs += performance.now() - t;
        return { side, events: f.events };
      };
      const sa = await sideOf(rec.a);
      const sb = await sideOf(rec.b);
      const t1 = performance.now();
      const d = differ.diff(sa.side, sb.side);
      const text = renderDiff(d, "a", "b");
      dMs = performance.now() - t0;
      diffOnlyMs = sideMs + performance.now() - t1;
      diffSummary = d.same
        ? "same"
        : `${d.changed.length} changed, ${d.added.length} added, ${d.removed.length} removed, ${text.length} bytes of text`;
      log(
        `diff of two:         ${
          rate(sa.events + sb.events, dMs)
        } (${diffSummary}; ${
          (dMs / 1000).toFixed(2)
        }s, of which the diff itself ${
          (diffOnlyMs / 1000).toFixed(2)
        }s; peak RSS ${mb(peakRss)}, from ${mb(diffStartRss)} at its start)`,
      );

      diffEvents = sa.events + sb.events;
      diffPeakRss = peakRss;
    }

    return {
      rawEvents: n,
      rawMs,
      analysisEvents: many.events,
      analysisMs: many.ms,
      analysisProcesses: many.processes,
      analysisPeakRss: many.rss,
      keptMany: many,
      keptFew: few,
      smallBytes,
      smallChunks: small,
      smallMs,
      diffEvents,
      diffMs: dMs,
      diffOnlyMs,
      diffPeakRss,
      diffStartRss,
      diffSummary,
    };
  } finally {
    clearInterval(timer);
  }
}

/** Where a child pass's figures are on its stdout: the last line, after this. */
const FIGURES_LINE = "replay figures: ";

/**
 * The V8 flags of `deno task bench` (deno.json's, with `--expose-gc`): the
 * launcher's flags for the analysis, given to a pass in a child process.
 */
async function benchV8Flags(): Promise<string> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  const m = /--v8-flags=(\S+)/.exec(config.tasks.bench);
  if (!m) throw new Error("deno.json: the bench task has no --v8-flags");
  return m[1];
}

/**
 * One {@link measureReplay} part in a process of its own (this module run
 * with `--replay-pass`, the V8 flags of `deno task bench`); its lines go
 * to `log` as they come.
 */
async function replayPartInChild(
  rec: ReplayRecordings,
  part: "analysis" | "diff",
  log: (line: string) => void,
): Promise<ReplayFigures> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `--v8-flags=${await benchV8Flags()}`,
      new URL(import.meta.url).pathname,
      "--replay-pass",
      part,
      JSON.stringify(rec),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let figures: ReplayFigures | undefined;
  let pending = "";
  const errText = new Response(child.stderr).text();
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith(FIGURES_LINE)) {
        figures = JSON.parse(line.slice(FIGURES_LINE.length));
      } else log(`${part} pass: ${line}`);
    }
  }
  const [status, err] = await Promise.all([child.status, errText]);
  if (!status.success || !figures) {
    throw new Error(
      `the ${part} pass in a child process failed (exit ${status.code}${
        figures ? "" : ", no figures"
      }): ${err.trim()}`,
    );
  }
  return figures;
}

/**
 * {@link measureReplay}, its diff and its other paths each in a process of
 * its own, started as a replay or a diff is: not holding the pages of the
 * paths, passes or recordings made before it (V8 keeps the pages of what
 * it has collected: a full analysis of a 1M-event build dropped and
 * collected left 47 MiB of heap and 204 MiB of its pages resident 2 s
 * later, so a diff measured after the analyses began with 365 MiB).
 */
export async function measureReplayInChild(
  rec: ReplayRecordings,
  log: (line: string) => void = console.log,
): Promise<ReplayFigures> {
  const an = await replayPartInChild(rec, "analysis", log);
  const diff = await replayPartInChild(rec, "diff", log);
  return {
    ...an,
    diffEvents: diff.diffEvents,
    diffMs: diff.diffMs,
    diffOnlyMs: diff.diffOnlyMs,
    diffPeakRss: diff.diffPeakRss,
    diffStartRss: diff.diffStartRss,
    diffSummary: diff.diffSummary,
  };
}

/**
 * The full forest of `path` analysed, then its objects made again
 * ({@link copyForestObjects}) while it is alive: `objectsMs`, what making
 * the objects of the forest's shapes costs whatever the analysis's logic
 * (with raw decoding, near the least an analysis into them takes; a little
 * more, as the forest it copies is alive too). Run it after the other
 * figures: the copy raises the process's peak memory.
 */
export async function measureForestObjects(
  path: string,
): Promise<{ events: number; processes: number; objectsMs: number }> {
  const f = await analyzeFile(path);
  const t = performance.now();
  const copy = copyForestObjects(f.processes);
  const objectsMs = performance.now() - t;
  if (copy.length !== f.processes.length) throw new Error("copy");
  return { events: f.events, processes: f.processes.length, objectsMs };
}

/**
 * `--small-chunks [ROUNDS]`: the small-chunk row alone, as the whole bench
 * takes it (after a raw pass over the build recording), ROUNDS times in
 * one process (default 3).
 */
async function smallChunksOnly(events: number, rounds: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "procrec-bench-" });
  try {
    const a = `${dir}/a.cbor`, small = `${dir}/small.cbor`;
    await write(a, workload(events, 1000, 0, 97, TIME_BASE));
    await write(
      small,
      workload(Math.min(events, 200_000), 1000, 0, 97, TIME_BASE),
      2,
    );
    const t0 = performance.now();
    let n = 0;
    for await (const c of analysisChunks(await RecordingReader.open(a))) {
      n += c.events.length;
    }
    const rawMs = performance.now() - t0;
    console.log(
      `raw decoding:        ${rate(n, rawMs)} (${n} events, ${
        (rawMs / 1000).toFixed(2)
      }s)`,
    );
    for (let i = 0; i < rounds; i++) await measureSmallChunks(small);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main && Deno.args[0] === "--replay-pass") {
  // (measureReplayInChild's child: the figures last, on a line of their own)
  const part = Deno.args[1];
  if (part !== "analysis" && part !== "diff") {
    throw new Error(`--replay-pass analysis|diff RECORDINGS, not ${part}`);
  }
  const figures = await measureReplay(
    JSON.parse(Deno.args[2]),
    console.log,
    part,
  );
  console.log(`${FIGURES_LINE}${JSON.stringify(figures)}`);
} else if (import.meta.main && Deno.args[0] === "--small-chunks") {
  await smallChunksOnly(
    Number(Deno.env.get("BENCH_EVENTS") ?? 1_000_000),
    Number(Deno.args[1] ?? 3),
  );
} else if (import.meta.main) {
  const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? 1_000_000);
  const dir = await Deno.makeTempDir({ prefix: "procrec-bench-" });
  try {
    const t0 = performance.now();
    const rec = await generateRecordings(dir, EVENTS);
    console.log(
      `generated 4 recordings of ${EVENTS.toLocaleString("en")} events in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      }s (${mb((await Deno.stat(rec.a)).size)} each)`,
    );
    const r = await measureReplayInChild(rec);
    const o = await measureForestObjects(rec.a);
    console.log(
      `forest objects alone: ${o.objectsMs.toFixed(0)} ms to make those of ${
        o.processes.toLocaleString("en")
      } processes again, with the forest alive; raw decoding + that: ${
        rate(o.events, r.rawMs + o.objectsMs)
      }`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
