/**
 * Benchmark (not a test): `deno task bench:compare [ROUNDS [THREADS EXECS]]`
 * (root; `make build` first). One invocation measures every path of issue 16
 * side by side and prints one table of absolute figures and of ratios, each
 * with its target and whether the median over the rounds meets it.
 *
 * In each of ROUNDS rounds (default 2), in an order rotated every round: the
 * storm alone, the storm watched by forkstat, recorded by `procrec record -q`
 * with the netlink and the eBPF source (and with the eBPF source three more
 * times: with a warm image hash cache, with `--no-image-hash`, and without
 * `-q`: the closing summary, which reads the whole recording back, is then
 * part of the run), and run through the library alone
 * (driver/linux/build/test_ebpf bench, only for the default storm size, which
 * test_ebpf fixes); and each source's fixed cost, the CPU of a whole
 * `procrec record -- /bin/true` with and without image hashing
 * (bench/_startup_cost.ts), which tells the recorder's total "with start-up"
 * apart from its CPU during the storm. Every recorder with hashing names its
 * own hash cache file (`record --hash-cache`, never the machine's default):
 * cold, an empty one (the first run in a boot reads every running image),
 * except the runs marked warm, which start with the file that an unmeasured
 * `procrec record -- /bin/true` saved just before (a recorder started again
 * in the same boot); the rows say which. Then the replay paths (raw decoding, decode + analysis,
 * small chunks, diff) on generated recordings of `BENCH_EVENTS` events
 * (default 1,000,000): first `procrec diff` of two of them as a user runs
 * it, in a process of its own (bench/_diff_command.ts), ROUNDS times, while
 * this process holds little (after the rounds in this process, its heap of
 * some 350 MiB and its collector's threads shared the 2 cores with the
 * measured process: rounds of the same command took 1.34 to 3.13 s); then
 * the paths without the CLI, ROUNDS times, each time in a process of its
 * own (bench/replay_bench.ts's `measureReplayInChild`: raw decoding, the
 * diff, decode + analysis, small chunks; V8 keeps the pages of what it has
 * collected, so a diff measured after the full analyses began with 365 MiB
 * resident); last, in this process, ROUNDS times, the objects of the full
 * forest made again with the forest alive (what its shapes cost, whatever
 * the analysis's logic). The storm and replay code is that of
 * bench/ebpf_sources.ts and bench/replay_bench.ts.
 *
 * The table is Markdown, so that bench/RESULTS.md can quote it as printed.
 *
 * @module
 */
import {
  buildLibraryBench,
  DEFAULT_STORM,
  FORKSTAT_RECORDED,
  forkstatStorm,
  type LibraryFigures,
  libraryStorm,
  median,
  recordStorm,
  stormAlone,
  type StormSize,
} from "./ebpf_sources.ts";
import {
  generateRecordings,
  measureForestObjects,
  measureReplayInChild,
  type ReplayFigures,
} from "./replay_bench.ts";
import { buildEbpfStorm } from "../tests/_ebpf_helpers.ts";
import { type StartupCost, startupCost } from "./_startup_cost.ts";
import {
  type DiffCommandFigures,
  measureDiffCommand,
} from "./_diff_command.ts";

const ROUNDS = Math.max(1, Number(Deno.args[0] ?? "2") || 1);
const size: StormSize = {
  threads: Deno.args[1] ?? DEFAULT_STORM.threads,
  execs: Deno.args[2] ?? DEFAULT_STORM.execs,
};
const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? 1_000_000);

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(
    "usage: deno task bench:compare [ROUNDS [THREADS EXECS]]   (root)\n" +
      "  ROUNDS   interleaved rounds, medians judged (default 2)\n" +
      "  THREADS EXECS   the storm's size (default 60000 1500; the library\n" +
      "           figures need the default)\n" +
      "  BENCH_EVENTS=N  events of the replay recordings (default 1000000)",
  );
  Deno.exit(0);
}
if (Deno.uid() !== 0) {
  console.error(
    "bench:compare: needs root (the recorders load BPF and open the proc connector)",
  );
  Deno.exit(2);
}

type Recorded = Awaited<ReturnType<typeof recordStorm>>;
type Forkstat = NonNullable<Awaited<ReturnType<typeof forkstatStorm>>>;
const alone: number[] = [];
const fks: Forkstat[] = [];
const recs: Record<string, Recorded[]> = { netlink: [], ebpf: [] };
/** The eBPF storm recorded without -q (the closing summary printed). */
const withSummary: Recorded[] = [];
/** The eBPF storm recorded with -q --no-image-hash. */
const withoutHash: Recorded[] = [];
/**
 * The eBPF storm recorded with -q and a warm image hash cache (saved by an
 * earlier run); the other recorders start cold: an empty cache of their own.
 */
const withWarm: Recorded[] = [];
const libs: Record<string, LibraryFigures[]> = { netlink: [], ebpf: [] };
const startups: Record<string, StartupCost[]> = { netlink: [], ebpf: [] };
const failed: string[] = [];
const replays: ReplayFigures[] = [];
/** Making the full forest's objects again (after the replay rounds). */
const objects: { events: number; objectsMs: number }[] = [];
/** `procrec diff` of the same two recordings, each in a process of its own. */
const diffCommands: DiffCommandFigures[] = [];

/** What a start-up read to hash: "N MB in K files (largest first)". */
function hashedText(c: StartupCost): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  const all = c.hashed.reduce((n, h) => n + h.bytes, 0);
  const top = c.hashed.slice(0, 3).map((h) => `${h.image} ${mb(h.bytes)}`);
  return `images read to hash ${mb(all)} in ${c.hashed.length} files${
    top.length
      ? ` (${top.join(", ")}${c.hashed.length > 3 ? ", ..." : ""})`
      : ""
  }`;
}

/**
 * The Node launcher of `node_modules/.bin/deno`, when this process runs
 * under it (an ancestor: `deno task` runs the bench as its child): a 100 MB
 * binary that every system-wide recorder started here hashes at its start,
 * as it hashes every running process's image.
 */
function nodeLauncher(): string | undefined {
  try {
    for (let pid = Deno.ppid; pid > 1;) {
      const exe = Deno.readLinkSync(`/proc/${pid}/exe`);
      if (/\/node[^/]*$/.test(exe)) return `${exe} (pid ${pid})`;
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    }
  } catch {
    // an ancestor ended, or is not ours to read
  }
  return undefined;
}

/** Runs one job, logging what it printed or why it failed. */
async function job(name: string, f: () => Promise<unknown>): Promise<void> {
  try {
    const r = await f();
    console.log(`  ${name}: ${typeof r === "string" ? r : JSON.stringify(r)}`);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    failed.push(`${name}: ${why}`);
    console.log(`  ${name}: FAILED: ${why}`);
  }
}

/**
 * The host's time taken from this VM's CPUs (steal) and all CPU time, in
 * seconds, from /proc/stat (USER_HZ ticks); undefined where not readable.
 * On a VM the absolute figures move with it (bench/RESULTS.md).
 */
function cpuClock(): { steal: number; all: number } | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")
      .find((l) => l.startsWith("cpu "));
    // user nice system idle iowait irq softirq steal (guest time is in user)
    const t = line?.trim().split(/\s+/).slice(1, 9).map(Number);
    if (!t || t.length < 8 || t.some((x) => !Number.isFinite(x))) {
      return undefined;
    }
    return { steal: t[7] / 100, all: t.reduce((a, b) => a + b, 0) / 100 };
  } catch {
    return undefined;
  }
}
const clockAtStart = cpuClock();

const dir = await Deno.makeTempDir({ prefix: "procrec-compare-" });
try {
  const storm = await buildEbpfStorm(dir);
  const defaultSize = size.threads === DEFAULT_STORM.threads &&
    size.execs === DEFAULT_STORM.execs;
  const withLib = defaultSize && await buildLibraryBench();
  let hasForkstat = true;
  try {
    await new Deno.Command("forkstat", { args: ["-h"], stdout: "null" })
      .output();
  } catch {
    hasForkstat = false;
  }
  const jobs: [string, (round: string) => Promise<unknown>][] = [
    ["storm alone", async (round) => {
      const s = await stormAlone(round, storm, size);
      alone.push(s);
      return `${s.toFixed(2)} s`;
    }],
    ...(hasForkstat
      ? [["forkstat", async (round: string) => {
        const r = await forkstatStorm(round, storm, size);
        if (r) fks.push(r);
        return r;
      }] as [string, (round: string) => Promise<unknown>]]
      : []),
    ...["netlink", "ebpf"].map((source) =>
      [`procrec ${source}`, async (round: string) => {
        const r = await recordStorm(source, round, storm, size, ["-q"]);
        recs[source].push(r);
        return r;
      }] as [string, (round: string) => Promise<unknown>]
    ),
    ["procrec ebpf with the closing summary", async (round: string) => {
      const r = await recordStorm("ebpf", round, storm, size);
      withSummary.push(r);
      return r;
    }],
    ["procrec ebpf, warm hash cache", async (round: string) => {
      const r = await recordStorm("ebpf", round, storm, size, ["-q"], "warm");
      withWarm.push(r);
      return r;
    }],
    ["procrec ebpf --no-image-hash", async (round: string) => {
      const r = await recordStorm("ebpf", round, storm, size, [
        "-q",
        "--no-image-hash",
      ]);
      withoutHash.push(r);
      return r;
    }],
    ...["netlink", "ebpf"].map((source) =>
      [`procrec ${source} start-up`, async (round: string) => {
        const r = [
          await startupCost(source, round, true, "cold"),
          await startupCost(source, round, true, "warm"),
          await startupCost(source, round, false),
        ];
        startups[source].push(...r);
        return r.map((c) =>
          `${c.cpu.toFixed(2)} s${
            c.hash
              ? ` (${c.cache} hash cache), ${hashedText(c)}`
              : " (--no-image-hash)"
          }`
        ).join("; ");
      }] as [string, (round: string) => Promise<unknown>]
    ),
    ...(withLib
      ? ["netlink", "ebpf"].map((source) =>
        [`library ${source}`, async () => {
          const r = await libraryStorm(source);
          if (!r) throw new Error("test_ebpf bench failed");
          libs[source].push(r);
          return r.line.replace(/^library \S+\s*: /, "");
        }] as [string, (round: string) => Promise<unknown>]
      )
      : []),
  ];
  console.log(
    `storm: ${size.threads} threads alongside ${size.execs} execs; ${ROUNDS} round(s), order rotated each round${
      hasForkstat ? "" : "; forkstat not installed (scripts/setup.sh)"
    }${
      withLib
        ? ""
        : "; library figures skipped (need the default storm and make -C driver/linux build/test_ebpf build/storm)"
    }`,
  );
  for (let i = 0; i < ROUNDS; i++) {
    console.log(`round ${i + 1}/${ROUNDS}`);
    const round = `${dir}/round${i}`;
    await Deno.mkdir(round);
    for (let j = 0; j < jobs.length; j++) {
      const [name, f] = jobs[(i + j) % jobs.length];
      await job(name, () => f(round));
    }
  }

  const t0 = performance.now();
  const rec = await generateRecordings(`${dir}`, EVENTS);
  console.log(
    `replay: ${EVENTS.toLocaleString("en")}-event recordings generated in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
  for (let i = 0; i < ROUNDS; i++) {
    const c = await measureDiffCommand(rec.a, rec.b).catch((e) => {
      failed.push(`procrec diff, round ${i + 1}: ${e.message}`);
      return undefined;
    });
    if (!c) continue;
    diffCommands.push(c);
    console.log(
      `procrec diff ${i + 1}/${ROUNDS}:  ${
        (c.ms / 1000).toFixed(2)
      }s in its own process, peak RSS ${
        (c.peakRss / 1048576).toFixed(0)
      } MiB (exit ${c.code})`,
    );
  }
  for (let i = 0; i < ROUNDS; i++) {
    console.log(`replay round ${i + 1}/${ROUNDS}`);
    replays.push(
      await measureReplayInChild(rec, (l) => console.log(`  ${l}`)),
    );
  }
  // last: the copy raises the process's peak memory
  for (let i = 0; i < ROUNDS; i++) {
    const o = await measureForestObjects(rec.a);
    objects.push(o);
    console.log(
      `forest objects ${i + 1}/${ROUNDS}: ${
        o.objectsMs.toFixed(0)
      } ms to make them again`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

// ---- the table: medians over the rounds ----
interface Row {
  path: string;
  value: string;
  ratio: string;
  target: string;
  met: boolean | undefined;
}
const rows: Row[] = [];
const med = <T>(xs: T[], f: (x: T) => number) =>
  xs.length ? median(xs.map(f)) : NaN;
const s2 = (x: number) => Number.isNaN(x) ? "—" : `${x.toFixed(2)} s`;
const x2 = (x: number) => Number.isNaN(x) ? "—" : `${x.toFixed(2)}×`;
const ms0 = (x: number) => Number.isNaN(x) ? "—" : `${x.toFixed(0)} ms`;
const mib = (b: number) =>
  Number.isNaN(b) ? "—" : `${(b / 1048576).toFixed(0)} MiB`;
const eps = (n: number, ms: number) =>
  `${Math.round(n / (ms / 1000)).toLocaleString("en")} events/s`;
const row = (
  path: string,
  value: string,
  ratio: string,
  target: string,
  ok: boolean | undefined,
) => rows.push({ path, value, ratio, target, met: ok });
const judge = (x: number, ok: (x: number) => boolean) =>
  Number.isNaN(x) ? undefined : ok(x);

const aloneWall = median(alone);
const fkCpu = fks.length
  ? med(fks, (f) => Number(f.recorderCpuDuringStorm))
  : FORKSTAT_RECORDED;
const fkNote = fks.length ? "" : " (not measured: development VM figure)";
row("storm alone, wall time", s2(aloneWall), "", "", undefined);
row(
  "forkstat, CPU during the storm",
  s2(fkCpu) + fkNote,
  "",
  "",
  undefined,
);
if (fks.length) {
  const w = med(fks, (f) => Number(f.stormSeconds));
  row(
    "forkstat, storm wall time",
    s2(w),
    `${x2(w / aloneWall)} storm alone`,
    "",
    undefined,
  );
}
const cpuTarget: Record<string, number> = { netlink: 0.5, ebpf: 0.1 };
for (const source of ["netlink", "ebpf"]) {
  const rs = recs[source];
  const cpu = med(rs, (r) => Number(r.recorderCpuDuringStorm));
  row(
    `procrec ${source}, recorder CPU during the storm`,
    s2(cpu),
    `${x2(cpu / fkCpu)} forkstat`,
    `≤ ${cpuTarget[source]}× forkstat`,
    judge(cpu / fkCpu, (x) => x <= cpuTarget[source]),
  );
  const fixed = (hash: boolean, cache = "cold") =>
    med(
      startups[source].filter((c) =>
        c.hash === hash && (!hash || c.cache === cache)
      ),
      (c) => c.cpu,
    );
  // the whole run, in its parts: until settled (start-up, the snapshot's
  // image hashes, and the waits in which a system-wide recorder records
  // whatever else the host runs), the storm, SIGTERM to the exit
  const whole = (runs: Recorded[], what: string) => {
    const total = med(runs, (r) => Number(r.recorderCpuTotal));
    row(
      `procrec ${source}, recorder CPU with start-up${what}`,
      s2(total),
      runs.length
        ? `start until settled ${
          s2(med(runs, (r) => Number(r.recorderCpuStart)))
        } + storm ${
          s2(med(runs, (r) => Number(r.recorderCpuDuringStorm)))
        } + stop to exit ${s2(med(runs, (r) => Number(r.recorderCpuClose)))}`
        : "",
      source === "ebpf" ? "≤ 0.3 s" : "",
      source === "ebpf" ? judge(total, (x) => x <= 0.3) : undefined,
    );
  };
  // with hashing, cold (a first run: an empty hash cache) and warm (the
  // cache file an earlier run in this boot saved)
  whole(rs, " (record -q), cold: first run, empty hash cache");
  if (source === "ebpf") {
    whole(withWarm, " (record -q), warm: hash cache of an earlier run");
    whole(withoutHash, " (record -q --no-image-hash)");
    whole(
      withSummary,
      " and the closing summary (record without -q), cold hash cache",
    );
  }
  const last = startups[source].filter((c) => c.hash && c.cache === "cold")
    .at(-1);
  const lastWarm = startups[source].filter((c) => c.hash && c.cache === "warm")
    .at(-1);
  row(
    `procrec ${source}, start-up + shutdown alone (record -- /bin/true), cold hash cache`,
    s2(fixed(true)),
    `warm hash cache ${s2(fixed(true, "warm"))}; ${
      s2(fixed(false))
    } with --no-image-hash${
      last ? `; last cold run: ${hashedText(last)}` : ""
    }${lastWarm ? `; last warm run: ${hashedText(lastWarm)}` : ""}`,
    "",
    undefined,
  );
  const wall = med(rs, (r) => Number(r.stormSeconds));
  row(
    `procrec ${source}, storm wall time`,
    s2(wall),
    `${x2(wall / aloneWall)} storm alone`,
    source === "netlink" ? "≤ 1.3× storm alone" : "",
    source === "netlink" ? judge(wall / aloneWall, (x) => x <= 1.3) : undefined,
  );
  const frac = med(rs, (r) => {
    const [a, b] = r.execsExact.split("/").map(Number);
    return a / b;
  });
  const want = source === "netlink" ? 0.99 : 1;
  row(
    `procrec ${source}, execs with image + argv`,
    Number.isNaN(frac) ? "—" : `${(frac * 100).toFixed(1)}%`,
    "",
    `≥ ${want * 100}%`,
    judge(frac, (x) => x >= want),
  );
  const lost = med(rs, (r) => Number(r.lost));
  row(
    `procrec ${source}, events lost`,
    Number.isNaN(lost) ? "—" : String(lost),
    "",
    "0",
    judge(lost, (x) => x === 0),
  );
}
for (const source of ["netlink", "ebpf"]) {
  if (!libs[source].length) continue;
  const cpu = med(libs[source], (l) => l.cpu);
  const rcpu = med(recs[source], (r) => Number(r.recorderCpuDuringStorm));
  row(
    `library ${source} alone (no Deno), CPU`,
    s2(cpu),
    `${x2(cpu / fkCpu)} forkstat; procrec ${source} = ${
      x2(rcpu / cpu)
    } library`,
    "",
    undefined,
  );
}
/**
 * The lowest and highest of the rounds, when there are several ("" for one):
 * a median near its target whose rounds straddle it says the host's noise
 * decides the verdict.
 */
const spread = <T>(
  xs: T[],
  f: (x: T) => number,
  show: (x: number) => string,
) => {
  if (xs.length < 2) return "";
  const v = xs.map(f);
  return `rounds ${show(Math.min(...v))} to ${show(Math.max(...v))}`;
};
const mega = (x: number) => `${(x / 1e6).toFixed(2)}M`;
const joined = (...parts: string[]) => parts.filter((p) => p).join("; ");
if (replays.length) {
  const raw = med(replays, (r) => r.rawEvents / (r.rawMs / 1000));
  const rawMs = med(replays, (r) => r.rawMs);
  row(
    "replay, raw decoding",
    eps(raw, 1000),
    spread(replays, (r) => r.rawEvents / (r.rawMs / 1000), mega),
    "≥ 4,000,000 events/s",
    raw >= 4e6,
  );
  const an = med(replays, (r) => r.analysisEvents / (r.analysisMs / 1000));
  const anMs = med(replays, (r) => r.analysisMs);
  row(
    "replay, decode + analysis",
    `${eps(an, 1000)}, peak RSS ${mib(med(replays, (r) => r.analysisPeakRss))}`,
    joined(
      `${x2(anMs / rawMs)} raw decoding time`,
      spread(replays, (r) => r.analysisEvents / (r.analysisMs / 1000), mega),
    ),
    "≥ 2,000,000 events/s (≤ 2× raw decoding)",
    an >= 2e6,
  );
  // what the forest's shapes cost whatever the analysis's logic: making
  // the objects of the full forest again (with it alive), beside raw decoding
  const objMs = med(objects, (o) => o.objectsMs);
  row(
    "replay, making the full forest's objects alone (again, with the forest alive)",
    ms0(objMs),
    joined(
      `of the analysis's ${ms0(anMs)}; raw decoding + that: ${
        eps(med(objects, (o) => o.events), rawMs + objMs)
      }`,
      spread(objects, (o) => o.objectsMs, ms0),
    ),
    "",
    undefined,
  );
  const diffMs = med(replays, (r) => r.diffMs);
  const diffRss = med(replays, (r) => r.diffPeakRss);
  row(
    `diff of two ${
      (EVENTS / 1e6).toLocaleString("en")
    }M-event recordings, without the CLI (a bench process of its own, after raw decoding)`,
    `${s2(diffMs / 1000)}, peak RSS ${mib(diffRss)}`,
    joined(
      `${x2(diffMs / (2 * anMs))} two decode + analysis; RSS ${
        mib(med(replays, (r) => r.diffStartRss))
      } at its start`,
      spread(replays, (r) => r.diffMs / 1000, s2),
    ),
    EVENTS === 1_000_000 ? "≤ 1.5 s, ≤ 400 MiB" : "(for 1M events)",
    EVENTS === 1_000_000
      ? diffMs <= 1500 && diffRss <= 400 * 1048576
      : undefined,
  );
  const cmdMs = med(diffCommands, (c) => c.ms);
  const cmdRss = med(diffCommands, (c) => c.peakRss);
  row(
    `diff of two ${
      (EVENTS / 1e6).toLocaleString("en")
    }M-event recordings: \`procrec diff A B\` in its own process, start-up included`,
    `${s2(cmdMs / 1000)}, peak RSS ${mib(cmdRss)}`,
    joined(
      `${x2(cmdMs / diffMs)} without the CLI`,
      spread(diffCommands, (c) => c.ms / 1000, s2),
    ),
    EVENTS === 1_000_000 ? "≤ 1.5 s, ≤ 400 MiB" : "(for 1M events)",
    // (no verdict when every run failed: they are listed with the failures)
    EVENTS === 1_000_000 && diffCommands.length > 0
      ? cmdMs <= 1500 && cmdRss <= 400 * 1048576
      : undefined,
  );
  const mbs = med(replays, (r) => r.smallBytes / 1e6 / (r.smallMs / 1000));
  row(
    "reading many small chunks",
    `${mbs.toFixed(1)} MB/s`,
    spread(
      replays,
      (r) => r.smallBytes / 1e6 / (r.smallMs / 1000),
      (x) => `${x.toFixed(1)} MB/s`,
    ),
    "≥ 50 MB/s",
    mbs >= 50,
  );
}

const verdict = (m: boolean | undefined) =>
  m === undefined ? "" : m ? "met" : "NOT met";
const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3)
  .join(" ");
const clockAtEnd = cpuClock();
const steal = clockAtStart && clockAtEnd
  ? `; host steal ${(clockAtEnd.steal - clockAtStart.steal).toFixed(1)} s of ${
    (clockAtEnd.all - clockAtStart.all).toFixed(0)
  } s of the CPUs' time (${
    (100 * (clockAtEnd.steal - clockAtStart.steal) /
      Math.max(0.01, clockAtEnd.all - clockAtStart.all)).toFixed(1)
  }%)`
  : "";
console.log(
  `\nbench:compare, ${
    new Date().toISOString()
  }: medians of ${ROUNDS} round(s); storm ${size.threads} threads + ${size.execs} execs; ${navigator.hardwareConcurrency} cores, kernel ${Deno.osRelease()}, load average ${load}${steal}\n`,
);
console.log("| path | figure | ratio | target | |");
console.log("|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.path} | ${r.value} | ${r.ratio} | ${r.target} | ${verdict(r.met)} |`,
  );
}
const launcher = nodeLauncher();
if (launcher) {
  console.log(
    `\nThis ran under the Node launcher of node_modules/.bin/deno, ${launcher}: every recorder started here hashed its image too (run node_modules/deno/deno task bench:compare to leave it out).`,
  );
}
if (failed.length) {
  console.log(`\nfailed runs (left out of the medians):`);
  for (const f of failed) console.log(`  ${f}`);
}
