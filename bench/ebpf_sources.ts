/**
 * Benchmark: the storm (60,000 threads alongside 1,500 execs) recorded by
 * each Linux source, one after the other, with a system-wide `procrec record`
 * that the storm does not belong to. Prints, per source: events captured,
 * lost, execs whose image and argv were captured exactly, and the recorder's
 * CPU seconds: during the storm (the process CPU clock, to the nanosecond:
 * bench/_process_cpu.ts; start of the storm to
 * the end of the drain) and in all (getrusage of the whole run, Deno's start
 * included, via the shell's `times`). Then forkstat on the same storm, when
 * installed (its output lines, its CPU during the storm).
 *
 *   deno task bench:sources [THREADS EXECS [RUNS]]     (root; make build first)
 *
 * With RUNS > 1 (default 1) each recorder runs RUNS times, in rounds, and the
 * target is judged on the medians (a busy machine scatters single runs).
 *
 * Then the same storm through the library alone (driver/linux/build/test_ebpf
 * bench: the C ABI, no Deno), to tell the library's CPU from the CLI's.
 *
 * Last, each source's recorder CPU against issue 3's target: procrec as a
 * whole (library and Deno, kernel to recording on disk) at most a quarter of
 * forkstat's CPU on the same storm. forkstat's figure is the one measured
 * here when it is installed, else {@link FORKSTAT_RECORDED} (said so). The
 * target is judged on the CPU during the storm, measured the same way for
 * both; the total (Deno's start, BPF loading and the snapshot included) is
 * printed beside it, cold and warm: every recorder with hashing names its
 * own image hash cache file (`record --hash-cache`, never the machine's
 * default, which other runs fill): the measured runs start with an empty one
 * (cold: the first run in a boot reads every running image), and each round
 * records each source's storm once more with the file an unmeasured
 * `procrec record -- /bin/true` saved just before (warm: a recorder started
 * again in the same boot).
 *
 * Hashing (issue 12): each source's storm is recorded again with `--no-image-hash`,
 * right before or after (the order swapped every round), and the recorder's
 * CPU with hashing on over off is printed pair by pair, with the median of
 * the pairs against the target (at most +10%, the cache doing the work), their
 * spread (least, middle half, greatest), the differences in ms, and the
 * median of the pairs in which the worker read under 1 MB of other
 * processes' images (the storm's own cost). The "on" CPU is split into the
 * hash worker thread's (`procrec-hash`, with its wake-ups) and the rest, and
 * every live thread's CPU is shown by name, on against off; then the storm's
 * own hashing (files read, cache hits) and what the
 * worker read for the other processes of the machine in the same window
 * (a system-wide recorder hashes them too: on a shared machine their
 * first-time reads are most of its CPU), and the whole run's counters.
 *
 *   deno task bench:sources --hashing [RUNS [THREADS EXECS]]   (default 5 rounds)
 *
 * prints only the hashing figures (no forkstat, no library runs). Then the first-time hash throughput: a
 * fresh copy of the Deno binary (some 100 MB, never hashed before) is run
 * under `procrec record`, and its size over the time from its exec to its
 * `image_hash` event is the worker's MB/s (page cache warm: the copy was just
 * written). And the SHA-256 code alone (bench/sha256_speed.c, built here):
 * MB/s of CPU time, with the SHA extensions and in plain C. The storm starts
 * once the recorder's CPU is still (its hash worker done with the snapshot's
 * images, a start-up cost counted in the total only).
 *
 * Needs root and `make build` (and `make -C driver/linux build/test_ebpf
 * build/storm` for the library figures). Not a test: it asserts nothing.
 *
 * {@link recordStorm}, {@link forkstatStorm}, {@link stormAlone} and
 * {@link libraryStorm} are also used by `bench/compare.ts`
 * (`deno task bench:compare`).
 *
 * @module
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import {
  cpuByThreadName,
  processCpu,
  threadCpu,
  threadSwitches,
} from "./_process_cpu.ts";
import {
  buildEbpfStorm,
  checkEbpfStorm,
  parseStormTruth,
} from "../tests/_ebpf_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const PROCREC = `${ROOT}procrec`;
/** forkstat's CPU on the default storm, measured on the 2-core development VM (Debian 12, kernel 6.18). */
export const FORKSTAT_RECORDED = 1.14;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's CPU so far, seconds, to the nanosecond (see bench/_process_cpu.ts for why not /proc/PID/stat's ticks). */
const cpuOf = processCpu;
/** The CPU of the threads of a process named `name`, seconds, to the nanosecond. */
const threadCpuOf = threadCpu;

/** The hash worker's thread name (driver/linux/hasher.c). */
const HASH_THREAD = "procrec-hash";

/** The one child of a process (the recorder under its shell). */
async function childOf(pid: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const kids = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`)
      .trim();
    if (kids) return Number(kids.split(" ")[0]);
    await sleep(10);
  }
  throw new Error(`process ${pid} has no child`);
}

/**
 * The image hash cache a measured recorder starts with (`record
 * --hash-cache`): `cold`, none yet (a first run: every running image is read,
 * then the file is saved at the stop, as a first run does); `warm`, the file
 * an earlier, unmeasured `procrec record -- /bin/true` of the same source
 * saved just before (a recorder started again in the same boot). Never the
 * machine's default cache: what other runs left there would make the figure
 * depend on them.
 */
export type HashCache = "cold" | "warm";

/**
 * The `--hash-cache` flags of a run with `cache` in `dir` (made fresh): for
 * `warm`, after a priming run that saves the file.
 */
export async function hashCacheFlags(
  source: string,
  dir: string,
  cache: HashCache,
): Promise<string[]> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { mode: 0o700 });
  await Deno.chmod(dir, 0o700); // whatever the umask: the library checks it
  const flags = ["--hash-cache", `${dir}/image-hashes`];
  if (cache === "warm") {
    const r = await new Deno.Command(PROCREC, {
      args: [
        "record",
        "--source",
        source,
        "-q",
        "-o",
        `${dir}/prime.cbor`,
        ...flags,
        "--",
        "/bin/true",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!r.success) {
      throw new Error(
        `the priming run of the warm hash cache failed: ${
          new TextDecoder().decode(r.stderr).trim()
        }`,
      );
    }
    await Deno.remove(`${dir}/prime.cbor`);
  }
  return flags;
}

/** The storm's size: threads alongside execs. */
export interface StormSize {
  threads: string;
  execs: string;
}
/** The storm of the issues: 60,000 threads alongside 1,500 execs. */
export const DEFAULT_STORM: StormSize = { threads: "60000", execs: "1500" };

/**
 * The storm recorded system-wide by `procrec record --source SOURCE`: events,
 * losses, execs captured exactly, the storm's wall time and the recorder's CPU:
 * during the storm, in all (`recorderCpuTotal`, the whole run), and that
 * total in its three parts: `recorderCpuStart` from the start until the
 * recorder is settled (start-up, the snapshot's image hashes, and what the
 * host ran meanwhile: a system-wide recorder records it), the storm, and
 * `recorderCpuClose` from SIGTERM to the exit (drain, close and, without
 * `-q` in `flags`, the closing summary, which reads the whole recording
 * back).
 */
export async function recordStorm(
  source: string,
  dir: string,
  storm: string,
  size: StormSize = DEFAULT_STORM,
  flags: string[] = [],
  hashCache: HashCache = "cold",
) {
  const noHash = flags.includes("--no-image-hash");
  const tag = `${source}${noHash ? "-nohash" : ""}${
    flags.includes("-q") ? "-q" : ""
  }${noHash ? "" : `-${hashCache}`}`;
  const out = `${dir}/${tag}.cbor`;
  const stats = `${dir}/${tag}.json`;
  const cacheFlags = noHash
    ? []
    : await hashCacheFlags(source, `${dir}/${tag}-cache`, hashCache);
  // bash runs the recorder as its child and reports its CPU with `times`
  const sh = new Deno.Command("bash", {
    args: [
      "-c",
      '"$@"; times',
      "bench",
      PROCREC,
      "record",
      "--source",
      source,
      "-o",
      out,
      "--stats-out",
      stats,
      ...cacheFlags,
      ...flags,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const rec = await childOf(sh.pid);
  for (let i = 0; i < 600; i++) {
    try {
      await Deno.lstat(`${out}.incomplete`);
      break;
    } catch {
      await sleep(20);
    }
  }
  await sleep(500); // let the recorder settle (Deno's start, snapshot)
  // and its hash worker finish the snapshot's images (a start-up cost, in
  // the total): until, for 0.5 s, the recorder used under 0.02 s of CPU and
  // its hash worker under 1 ms (no image read: a file read in the window
  // would be the snapshot's, not the storm's), at most 60 s
  for (
    let i = 0, last = cpuOf(rec), lastHash = threadCpuOf(rec, HASH_THREAD);
    i < 120;
    i++
  ) {
    await sleep(500);
    const now = cpuOf(rec), hashNow = threadCpuOf(rec, HASH_THREAD);
    if (now - last < 0.02 && hashNow - lastHash < 0.001) break;
    last = now;
    lastHash = hashNow;
  }
  const cpu0 = cpuOf(rec);
  const hash0 = threadCpuOf(rec, HASH_THREAD);
  const threads0 = cpuByThreadName(rec);
  const wakes0 = threadSwitches(rec, HASH_THREAD).voluntary;
  const t0 = performance.now();
  const s = await new Deno.Command(storm, {
    args: [size.threads, size.execs, `${dir}/${tag}.truth`],
  }).output();
  const wall = (performance.now() - t0) / 1000;
  if (!s.success) throw new Error("the storm failed");
  await sleep(500); // the recorder drains
  const cpuStop = cpuOf(rec);
  const stopUtcNs = BigInt(Date.now()) * 1_000_000n; // the window's end
  const cpuStorm = cpuStop - cpu0;
  const hashCpu = threadCpuOf(rec, HASH_THREAD) - hash0;
  const hashWakes = threadSwitches(rec, HASH_THREAD).voluntary - wakes0;
  const threadsCpu: Record<string, number> = {};
  for (const [name, t] of cpuByThreadName(rec)) {
    threadsCpu[name] = Number((t - (threads0.get(name) ?? 0)).toFixed(4));
  }
  Deno.kill(rec, "SIGTERM");
  const r = await sh.output();
  const text = new TextDecoder().decode(r.stdout).trim().split("\n");
  // `times`: shell user/sys, then children user/sys, e.g. "0m0.512s 0m0.101s"
  const secs = (t: string) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t)!;
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const [cu, cs] = text[text.length - 1].split(" ");
  const cpuAll = secs(cu) + secs(cs);

  const truth = parseStormTruth(
    await Deno.readTextFile(`${dir}/${tag}.truth`),
  );
  const reader = await RecordingReader.open(out);
  const events = await Array.fromAsync(reader.events());
  const st = JSON.parse(await Deno.readTextFile(stats));
  const check = checkEbpfStorm(
    events,
    truth,
    (p) => Deno.realPathSync(p),
    true,
  );
  const inStorm =
    events.filter((e) =>
      e.kind !== "lost" && e.kind !== "process_snapshot" &&
      e.kind !== "image_hash"
    ).length;
  const hashes = events.filter((e) => e.kind === "image_hash");
  const work = hashWork(
    events,
    truth,
    Number(stopUtcNs - reader.header.timeBase.utcNs),
  );
  return {
    source: reader.header.source.name + (flags.length ? ` ${flags}` : ""),
    stormSeconds: wall.toFixed(2),
    events: inStorm,
    kernelMsgs: Number(st.kernelMsgs),
    lost: check.lost,
    execsExact: `${check.exact}/${check.total}`,
    recorderCpuDuringStorm: cpuStorm.toFixed(3),
    recorderCpuTotal: cpuAll.toFixed(2),
    recorderCpuStart: cpu0.toFixed(2),
    /** The rest of the whole run: SIGTERM to the exit, and the launcher. */
    recorderCpuClose: Math.max(0, cpuAll - cpuStop).toFixed(2),
    hashEvents: hashes.length,
    hashOk: hashes.filter((e) => e.status === "ok").length,
    hashFilesRead: Number(st.hashRead ?? 0),
    hashCacheHits: Number(st.hashCached ?? 0),
    hashSkipped: Number(st.hashSkipped ?? 0),
    /** The hash worker thread's CPU during the storm and the drain, seconds. */
    hashWorkerCpu: hashCpu.toFixed(3),
    /** The hash worker's voluntary context switches in that window (its waits for work: wake-ups). */
    hashWorkerWakes: hashWakes,
    /** The CPU of the recorder's threads during the storm and the drain, by name, seconds (live threads). */
    threadsCpu,
    ...work,
  };
}

/**
 * What the hash worker did in the measured window (from the storm's first
 * exec to `end`, the recorder's `t` when its CPU was read after the drain):
 * for the storm's own execs (`/bin/true`, `/bin/false`: files read and taken
 * from the cache) and other processes' (the rest of the machine, which a
 * system-wide recorder hashes too: hashes emitted in the window, files read
 * and MB read). On a shared machine the other processes' first-time reads (a
 * freshly built or copied binary, or a compiler the recorder has not seen
 * yet: each run starts with an empty cache) are most of the worker's CPU.
 */
export function hashWork(
  events: ProcEvent[],
  truth: ReturnType<typeof parseStormTruth>,
  end = Infinity,
) {
  const stormPids = new Set<number>([
    truth.threadExec[0],
    ...truth.execs.map((x) => x[0]),
  ]);
  // the storm's execs: its pids (reused by others at other times) running
  // its argv ("IMAGE storm INDEX", "/bin/true storm-thread-exec")
  const stormExecs = new Set<string>();
  let from = Infinity;
  for (const e of events) {
    if (
      e.kind === "exec" && stormPids.has(e.pid) &&
      e.info.argv?.[1]?.startsWith("storm")
    ) {
      stormExecs.add(`${e.pid}:${e.t}`);
      from = Math.min(from, e.t);
    }
  }
  const w = {
    stormHashes: 0,
    stormRead: 0,
    stormCached: 0,
    otherHashes: 0,
    otherRead: 0,
    otherMbRead: "0.0",
  };
  let otherBytes = 0;
  for (const e of events) {
    if (e.kind !== "image_hash" || e.execT < from || e.t > end) continue;
    const read = e.status === "ok" && !e.cached;
    if (stormExecs.has(`${e.pid}:${e.execT}`)) {
      w.stormHashes++;
      if (read) w.stormRead++;
      if (e.cached) w.stormCached++;
    } else {
      w.otherHashes++;
      if (read) {
        w.otherRead++;
        otherBytes += e.size ?? 0;
      }
    }
  }
  w.otherMbRead = (otherBytes / 1e6).toFixed(1);
  return w;
}

/**
 * First-time hash throughput: a fresh copy of a big binary (never hashed, so
 * not in the cache) run under `procrec record --only-command`; its size over
 * the time from its exec to its `image_hash` event, MB/s.
 */
export async function firstHashThroughput(dir: string, source: string) {
  const deno = await Deno.realPath(`${ROOT}node_modules/deno/deno`);
  const copy = `${dir}/fresh-${source}`;
  await Deno.copyFile(deno, copy);
  await Deno.chmod(copy, 0o755);
  const out = `${dir}/first-${source}.cbor`;
  const r = await new Deno.Command(PROCREC, {
    args: [
      "record",
      "--source",
      source,
      "--only-command",
      "-q",
      "--no-hash-cache", // the machine's default cache is not the bench's
      "-o",
      out,
      "--",
      copy,
      "eval",
      "await new Promise((r) => setTimeout(r, 3000))",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  const reader = await RecordingReader.open(out);
  const events = await Array.fromAsync(reader.events());
  const exec = events.find((e) => e.kind === "exec" && e.info.image === copy);
  const hash = events.find((e) =>
    e.kind === "image_hash" && exec !== undefined && e.pid === exec.pid &&
    e.execT === exec.t
  );
  await Deno.remove(copy);
  if (hash?.kind !== "image_hash" || hash.size === undefined) {
    return {
      source,
      status: hash?.kind === "image_hash" ? hash.status : "none",
    };
  }
  const secs = (hash.t - hash.execT) / 1e9;
  return {
    source,
    status: hash.status,
    mb: (hash.size / 1e6).toFixed(1),
    seconds: secs.toFixed(3),
    mbPerSecond: (hash.size / 1e6 / secs).toFixed(0),
  };
}

/** The same storm watched by forkstat (proc connector, prints each event), when installed. */
export async function forkstatStorm(
  dir: string,
  storm: string,
  size: StormSize = DEFAULT_STORM,
) {
  try {
    await new Deno.Command("forkstat", { args: ["-h"], stdout: "null" })
      .output();
  } catch {
    console.log("forkstat not installed: its figures skipped");
    return undefined;
  }
  const log = `${dir}/forkstat.txt`;
  const sh = new Deno.Command("bash", {
    args: ["-c", 'forkstat -e fork,exec,exit > "$0"', log],
    stdin: "null",
  }).spawn();
  const fk = await childOf(sh.pid);
  await sleep(500);
  const cpu0 = cpuOf(fk);
  const t0 = performance.now();
  await new Deno.Command(storm, {
    args: [size.threads, size.execs, `${dir}/forkstat.truth`],
  }).output();
  const wall = (performance.now() - t0) / 1000;
  await sleep(500);
  const cpuStorm = cpuOf(fk) - cpu0;
  Deno.kill(fk, "SIGINT");
  await sh.output();
  const lines = (await Deno.readTextFile(log)).split("\n").length;
  return {
    source: "forkstat",
    stormSeconds: wall.toFixed(2),
    events: lines,
    kernelMsgs: NaN,
    lost: NaN,
    execsExact: "-",
    recorderCpuDuringStorm: cpuStorm.toFixed(3),
    recorderCpuTotal: "-",
  };
}

/** The storm's wall time with no recorder running, seconds. */
export async function stormAlone(
  dir: string,
  storm: string,
  size: StormSize = DEFAULT_STORM,
): Promise<number> {
  const t0 = performance.now();
  const s = await new Deno.Command(storm, {
    args: [size.threads, size.execs, `${dir}/alone.truth`],
  }).output();
  if (!s.success) throw new Error("the storm failed");
  return (performance.now() - t0) / 1000;
}

/** The library figures of {@link libraryStorm}. */
export interface LibraryFigures {
  source: string;
  records: number;
  lost: number;
  /** CPU of the whole run (open, start, storm, drain), seconds. */
  cpu: number;
  /** CPU during the storm and the drain, seconds. */
  cpuStorm: number;
  line: string;
}

/** Builds `test_ebpf` and `storm` of driver/linux if missing; false when it cannot. */
export async function buildLibraryBench(): Promise<boolean> {
  const r = await new Deno.Command("make", {
    args: ["-s", "-C", `${ROOT}driver/linux`, "build/test_ebpf", "build/storm"],
    stdout: "null",
    stderr: "null",
  }).output();
  return r.success;
}

/**
 * The default storm (test_ebpf's is fixed at 60,000 threads and 1,500 execs)
 * through the library alone: `driver/linux/build/test_ebpf STORM bench SOURCE`,
 * the C ABI with no Deno. Undefined when test_ebpf fails (its stderr printed).
 */
export async function libraryStorm(
  source: string,
): Promise<LibraryFigures | undefined> {
  const lib = `${ROOT}driver/linux/build`;
  const r = await new Deno.Command(`${lib}/test_ebpf`, {
    args: [`${lib}/storm`, "bench", source],
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(r.stdout).trim();
  const m =
    /(\d+) records, \d+ kernel messages, lost (\d+); CPU ([\d.]+) s \(open\+start [\d.]+ s, storm ([\d.]+) s\)/
      .exec(line);
  if (!r.success || !m) return undefined;
  return {
    source,
    records: Number(m[1]),
    lost: Number(m[2]),
    cpu: Number(m[3]),
    cpuStorm: Number(m[4]),
    line,
  };
}

/**
 * The spread of numbers: least, first quartile, median, third quartile and
 * greatest (quartiles interpolated between the sorted values).
 *
 * @example
 * ```ts
 * import { spread } from "./ebpf_sources.ts";
 * const s = spread([4, 1, 3, 2, 5]);
 * if (s.min !== 1 || s.q1 !== 2 || s.median !== 3 || s.q3 !== 4 || s.max !== 5) {
 *   throw new Error(JSON.stringify(s));
 * }
 * ```
 */
export function spread(xs: (string | number)[]) {
  const n = xs.map(Number).sort((a, b) => a - b);
  const at = (q: number) => {
    const i = q * (n.length - 1), lo = Math.floor(i);
    return lo + 1 < n.length ? n[lo] + (n[lo + 1] - n[lo]) * (i - lo) : n[lo];
  };
  return {
    min: n[0],
    q1: at(0.25),
    median: at(0.5),
    q3: at(0.75),
    max: n[n.length - 1],
  };
}

/** The median of numbers (or numeric strings). */
export function median(xs: (string | number)[]): number {
  const n = xs.map(Number).sort((a, b) => a - b);
  return n.length % 2
    ? n[n.length >> 1]
    : (n[n.length / 2 - 1] + n[n.length / 2]) / 2;
}

if (import.meta.main) await main();

async function main() {
  // `--hashing [RUNS [THREADS EXECS]]`: only the hashing figures
  const hashingOnly = Deno.args[0] === "--hashing";
  const a = hashingOnly ? Deno.args.slice(1) : Deno.args;
  const THREADS = (hashingOnly ? a[1] : a[0]) ?? "60000";
  const EXECS = (hashingOnly ? a[2] : a[1]) ?? "1500";
  const RUNS = Math.max(
    1,
    Number((hashingOnly ? a[0] : a[2]) ?? (hashingOnly ? "5" : "1")) || 1,
  );
  const size = { threads: THREADS, execs: EXECS };
  if (Deno.uid() !== 0) {
    console.error(
      "bench: needs root (the recorders load BPF and open the proc connector)",
    );
    Deno.exit(2);
  }
  const dir = await Deno.makeTempDir({ prefix: "procrec-bench-" });
  try {
    const storm = await buildEbpfStorm(dir);
    console.log(
      `storm: ${THREADS} threads alongside ${EXECS} execs, recorded system-wide by each source; ${RUNS} round(s); load average ${loadAverage()}`,
    );
    type Row = Awaited<ReturnType<typeof recordStorm>>;
    const runs: Record<string, Row[]> = { ebpf: [], netlink: [] };
    const noHash: Record<string, Row[]> = { ebpf: [], netlink: [] };
    /** Hashing on with a warm hash cache (the runs above start cold). */
    const warm: Record<string, Row[]> = { ebpf: [], netlink: [] };
    const fks: NonNullable<Awaited<ReturnType<typeof forkstatStorm>>>[] = [];
    for (let i = 0; i < RUNS; i++) {
      const round = `${dir}/run${i}`; // fresh output paths each round
      await Deno.mkdir(round);
      for (const source of ["ebpf", "netlink"]) {
        // hashing on and off in turn, the order swapped every round (a
        // drift of the machine's load falls on both sides)
        for (const on of i % 2 === 0 ? [true, false] : [false, true]) {
          const row = await recordStorm(
            source,
            round,
            storm,
            size,
            on ? [] : ["--no-image-hash"],
          );
          (on ? runs : noHash)[source].push(row);
          console.log(JSON.stringify({ ...row, load: loadAverage() }));
        }
        if (hashingOnly) continue;
        // the whole run again from the cache file an earlier run saved
        const row = await recordStorm(source, round, storm, size, [], "warm");
        warm[source].push(row);
        console.log(JSON.stringify({ ...row, load: loadAverage() }));
      }
      if (hashingOnly) continue;
      const fk = await forkstatStorm(round, storm, size);
      if (fk) {
        fks.push(fk);
        console.log(JSON.stringify(fk));
      }
    }
    if (!hashingOnly) {
      const rows = [...Object.values(runs), ...Object.values(noHash)].flat();
      console.table([...rows, ...fks]);
      const forkstatCpu = fks.length
        ? median(fks.map((f) => f.recorderCpuDuringStorm))
        : FORKSTAT_RECORDED;
      const target = forkstatCpu / 4;
      console.log(
        `target: recorder CPU at most a quarter of forkstat's: ${
          forkstatCpu.toFixed(2)
        } s / 4 = ${target.toFixed(2)} s (${
          fks.length
            ? `forkstat measured above${RUNS > 1 ? ", median" : ""}`
            : "forkstat not installed: its figure recorded on the development VM"
        })`,
      );
      for (const [source, rs] of Object.entries(runs)) {
        const cpu = median(rs.map((r) => r.recorderCpuDuringStorm));
        const total = median(rs.map((r) => r.recorderCpuTotal));
        const ws = warm[source];
        console.log(
          `  ${source.padEnd(8)} during the storm ${cpu.toFixed(2)} s${
            RUNS > 1 ? " (median)" : ""
          } = ${(cpu / forkstatCpu * 100).toFixed(0)}% of forkstat: ${
            cpu <= target ? "met" : "NOT met"
          } (whole run, cold hash cache: ${total.toFixed(2)} s: until settled ${
            median(rs.map((r) => r.recorderCpuStart)).toFixed(2)
          } s, stop to exit ${
            median(rs.map((r) => r.recorderCpuClose)).toFixed(2)
          } s with the closing summary; warm hash cache: ${
            median(ws.map((r) => r.recorderCpuTotal)).toFixed(2)
          } s: until settled ${
            median(ws.map((r) => r.recorderCpuStart)).toFixed(2)
          } s, ${
            median(ws.map((r) => r.hashFilesRead)).toFixed(0)
          } files read to hash against ${
            median(rs.map((r) => r.hashFilesRead)).toFixed(0)
          } cold; bench:compare gives them without the summary)`,
        );
      }
    }
    printHashing(runs, noHash);
    for (
      const [name, defs] of [["SHA extensions where present", []], [
        "plain C",
        ["-DPR_SHA256_NO_ACCEL"],
      ]] as const
    ) {
      const exe = `${dir}/sha256_speed`;
      const cc = await new Deno.Command("cc", {
        args: [
          "-std=gnu11",
          "-O2",
          ...defs,
          "-o",
          exe,
          `${ROOT}bench/sha256_speed.c`,
          `${ROOT}driver/common/pr_sha256.c`,
        ],
      }).output();
      const run = cc.success ? await new Deno.Command(exe).output() : undefined;
      console.log(
        `sha256 (${name}): ${
          run?.success
            ? new TextDecoder().decode(run.stdout).trim()
            : "could not be built"
        }`,
      );
    }
    for (const source of ["ebpf", "netlink"]) {
      const f = await firstHashThroughput(dir, source);
      console.log(
        f.mbPerSecond !== undefined
          ? `first-time hash (${source}): ${f.mb} MB in ${f.seconds} s from exec to image_hash = ${f.mbPerSecond} MB/s`
          : `first-time hash (${source}): no figure (hash ${f.status})`,
      );
    }
    if (hashingOnly) return;
    const lib = `${ROOT}driver/linux/build`;
    try {
      await Deno.stat(`${lib}/test_ebpf`);
      await Deno.stat(`${lib}/storm`);
      for (const source of ["ebpf", "netlink"]) {
        const r = await new Deno.Command(`${lib}/test_ebpf`, {
          args: [`${lib}/storm`, "bench", source],
        }).output();
        console.log(new TextDecoder().decode(r.stdout).trim());
      }
    } catch {
      console.log(
        "library figures skipped: make -C driver/linux build/test_ebpf build/storm",
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The 1-minute load average, as /proc/loadavg gives it. */
function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
}

type HashRow = Awaited<ReturnType<typeof recordStorm>>;

/**
 * The hashing figures: per source, the recorder's CPU during the storm with
 * hashing on over off, round by round (the pairs ran one after the other),
 * and the median of those ratios against the target; that CPU split into
 * the hash worker thread's and the rest of the recorder's (the extra
 * `image_hash` events through the ring, Deno and the recording); the
 * storm's own hashing (files read, cache hits) and the other processes'
 * first-time reads that fell into the same window.
 */
function printHashing(
  runs: Record<string, HashRow[]>,
  noHash: Record<string, HashRow[]>,
) {
  console.log(
    "hashing: recorder CPU during the storm, hashing on / --no-image-hash, in pairs (target: at most +10%, judged on the median of the pairs)",
  );
  const pct = (r: number) =>
    `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(0)}%`;
  for (const source of ["ebpf", "netlink"]) {
    const on = runs[source], off = noHash[source];
    const ratios = on.map((r, i) =>
      Number(r.recorderCpuDuringStorm) /
      Math.max(0.001, Number(off[i].recorderCpuDuringStorm))
    );
    const rest = on.map((r, i) =>
      (Number(r.recorderCpuDuringStorm) - Number(r.hashWorkerCpu)) /
      Math.max(0.001, Number(off[i].recorderCpuDuringStorm))
    );
    const m = median(ratios);
    const sp = spread(ratios);
    console.log(
      `  ${source.padEnd(8)} on/off by pair: ${
        ratios.map((r) => r.toFixed(2)).join(" ")
      }; median ${pct(m)} ${m <= 1.1 ? "met" : "NOT met"} (spread: ${
        sp.min.toFixed(2)
      } to ${sp.max.toFixed(2)}, middle half ${sp.q1.toFixed(2)} to ${
        sp.q3.toFixed(2)
      }; CPU on ${
        median(on.map((r) => r.recorderCpuDuringStorm)).toFixed(3)
      } s, off ${
        median(off.map((r) => r.recorderCpuDuringStorm)).toFixed(3)
      } s, medians; on - off by pair: ${
        on.map((r, i) =>
          `${
            ((Number(r.recorderCpuDuringStorm) -
              Number(off[i].recorderCpuDuringStorm)) * 1000).toFixed(0)
          }`
        ).join(" ")
      } ms)`,
    );
    // a system-wide recorder hashes the other processes' new binaries too,
    // and records what else the machine runs (another session's storm
    // doubles the events): the pairs where its worker read under 1 MB of
    // other processes' images (about 1 ms of SHA-256) and both runs recorded
    // the same events within 5% show the storm's own cost
    const alike = (i: number) =>
      Math.abs(on[i].events - off[i].events) <= 0.05 * off[i].events;
    const clean = ratios.filter((_, i) =>
      Number(on[i].otherMbRead) < 1 && alike(i)
    );
    console.log(
      `           the storm's own cost (pairs where the worker read under 1 MB of other processes' images, and the events of on and off within 5%): ${
        clean.length
          ? `${clean.length} of ${ratios.length} pairs, median ${
            pct(median(clean))
          } ${median(clean) <= 1.1 ? "met" : "NOT met"} (${
            clean.map((r) => r.toFixed(2)).join(" ")
          })`
          : "no such pair"
      }; pairs with other events (another storm?): ${
        ratios.filter((_, i) => !alike(i)).length
      }`,
    );
    console.log(
      `           hash worker thread ${
        median(on.map((r) => r.hashWorkerCpu)).toFixed(3)
      } s (by pair: ${on.map((r) => r.hashWorkerCpu).join(" ")}; woken ${
        on.map((r) => r.hashWorkerWakes).join(" ")
      } times); the rest of the recorder, on/off: median ${pct(median(rest))}`,
    );
    const names = new Set(
      [...on, ...off].flatMap((r) => Object.keys(r.threadsCpu)),
    );
    const byThread = [...names].map((n) => {
      const a = median(on.map((r) => r.threadsCpu[n] ?? 0));
      const b = median(off.map((r) => r.threadsCpu[n] ?? 0));
      return { n, a, b };
    }).filter((x) => x.a + x.b >= 0.002).sort((x, y) =>
      (y.a - y.b) - (x.a - x.b)
    );
    console.log(
      `           by thread (live threads), medians on / off: ${
        byThread.map((x) => `${x.n} ${x.a.toFixed(3)}/${x.b.toFixed(3)} s`)
          .join(", ")
      }`,
    );
    const last = on[on.length - 1];
    console.log(
      `           the storm's execs: ${
        on.map((r) => `${r.stormHashes} hashes ${r.stormRead} read`).join(
          ", ",
        )
      } (the rest from the cache); other processes' execs in the same window: ${
        on.map((r) => `${r.otherRead} files ${r.otherMbRead} MB`).join(", ")
      } read`,
    );
    console.log(
      `           whole run (last pair): ${last.hashEvents} hashes (${last.hashOk} ok), ${last.hashFilesRead} files read, ${last.hashCacheHits} from the cache, ${last.hashSkipped} skipped`,
    );
  }
}
