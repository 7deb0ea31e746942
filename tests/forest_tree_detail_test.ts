/**
 * `detail: "tree"` (what `procrec diff`, `replay --summary` and the closing
 * summary of `record` analyse with, issue 16) keeps the full analysis minus
 * the exec steps and the threads of ended processes: its forest equals the
 * full forest with those left out (and their counts kept), and its summary
 * the full forest's, on every fixture, on each fixture cut at random places (processes
 * still running), on build storms and on random streams of reused pids and
 * tids, forks, execs, hashes and exits; and the diff of tree forests equals
 * the diff of full ones on every pair of fixtures and on storms.
 */
import {
  analyze,
  type Forest,
  forestToJson,
  type ProcessNode,
  renderTree,
  summarize,
  threadCount,
  type ThreadInfo,
  type ThreadTally,
} from "../cli/analysis/mod.ts";
import { diffForests, type DiffOptions, renderDiff } from "../cli/diff/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import { workload } from "../bench/replay_bench.ts";
import { fixtureFiles } from "./_frame_by_frame.ts";
import { assertEquals } from "./_record_helpers.ts";
import { xorshift } from "./_xorshift.ts";

const META = { os: "linux" as const, bootId: "tree" };

/**
 * The full forest as JSON, with what `detail: "processes"` (or `"tree"`,
 * which also leaves out the exec steps) leaves out left out.
 */
function reduced(full: Forest, detail: "processes" | "tree"): string {
  const processes = full.processes.map((n): ProcessNode => {
    const execs = detail === "tree" ? [] : n.execs;
    return n.end === undefined ? { ...n, execs } : {
      ...n,
      execs,
      threads: [],
      endedThreads: tally(n.threads),
    };
  });
  return JSON.stringify({ ...forestToJson(full), processes });
}

/** A process's threads counted, written out plainly. */
function tally(threads: ThreadInfo[]): ThreadTally {
  const of = (c: ThreadInfo["exitClass"]) =>
    threads.filter((th) => th.exitClass === c).length;
  return {
    threads: threads.length,
    remote: threads.filter((th) => th.remote).length,
    teardown: of("teardown"),
    standalone: of("standalone"),
    lastThread: of("last-thread"),
  };
}

/**
 * Checks that the tree and processes forests of `events` are the full one,
 * reduced, and that what is made of them is what is made of the full one.
 */
async function check(
  events: ProcEvent[],
  os: "linux" | "windows",
  what: string,
) {
  const meta = { os, bootId: META.bootId };
  const full = await analyze(events, meta);
  const tree = await analyze(events, meta, { detail: "tree" });
  const procs = await analyze(events, meta, { detail: "processes" });
  assertEquals(full.detail, undefined, what);
  assertEquals(tree.detail, "tree", what);
  assertEquals(procs.detail, "processes", what);
  assertEquals(JSON.stringify(forestToJson(tree)), reduced(full, "tree"), what);
  assertEquals(
    JSON.stringify(forestToJson(procs)),
    reduced(full, "processes"),
    what,
  );
  assertEquals(
    tree.processes.map(threadCount),
    full.processes.map(threadCount),
    what,
  );
  // and the summary (of a tree forest, as record and replay --summary make
  // it), the tree view (of a processes forest, as replay shows it), with
  // every optional part of its lines
  for (const all of [false, true]) {
    assertEquals(summarize(tree, { all }), summarize(full, { all }), what);
    assertEquals(summarize(procs, { all }), summarize(full, { all }), what);
  }
  for (const wide of [false, true]) {
    const o = { ids: true, wide };
    assertEquals(renderTree(procs, o), renderTree(full, o), what);
  }
  return { full, tree, procs };
}

async function eventsOf(path: string) {
  const r = await RecordingReader.open(path);
  const events: ProcEvent[] = [];
  for await (const e of r.events()) events.push(e);
  return { events, os: r.header.os };
}

Deno.test("a tree forest is the full forest without exec steps and ended processes' threads, on fixtures and their prefixes", async () => {
  const rand = xorshift(0x7ee);
  let leftOut = 0, running = 0;
  for (const path of await fixtureFiles()) {
    const { events, os } = await eventsOf(path);
    const { full } = await check(events, os, path);
    for (const n of full.processes) {
      if (n.end !== undefined && n.threads.length > 0) leftOut++;
    }
    for (let k = 0; k < 3 && events.length > 1; k++) {
      const cut = 1 + Math.floor(rand() * (events.length - 1));
      const part = await check(events.slice(0, cut), os, `${path} [0, ${cut})`);
      for (const n of part.full.processes) {
        if (n.end === undefined && n.threads.length > 0) running++;
      }
    }
  }
  // (both cases were seen: threads replaced by their number, and kept)
  assertEquals(leftOut > 100 && running > 10, true, `${leftOut} ${running}`);
});

Deno.test("a tree forest is the full forest reduced, on storms and random streams", async () => {
  await check([...workload(20_000, 1000, 0)], "linux", "storm");
  let forks = 0, remote = 0, teardown = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const events = stream(seed, 300 + seed * 10);
    const { full, tree } = await check(events, "linux", `seed ${seed}`);
    for (const n of full.processes) {
      if (n.execs.some((s) => s.via === "fork")) forks++;
    }
    for (const n of tree.processes) {
      if (n.endedThreads?.remote) remote++;
      if (n.endedThreads?.teardown) teardown++;
    }
  }
  // (forks, and ended processes with remote threads and teardown exits)
  assertEquals(
    forks > 100 && remote > 100 && teardown > 100,
    true,
    `${forks} forks, ${remote} remote, ${teardown} teardown`,
  );
});

const OPTIONS: DiffOptions[] = [
  {},
  { volatile: false },
  { ignoreArgv: [/[0-9]+/g] },
];

Deno.test("the diff of tree forests equals the diff of full forests", async () => {
  const pairs: [Forest, Forest][] = [];
  const fulls: Forest[] = [], trees: Forest[] = [];
  for (const path of await fixtureFiles()) {
    const { events, os } = await eventsOf(path);
    const meta = { os, bootId: "b" };
    fulls.push(await analyze(events, meta));
    trees.push(await analyze(events, meta, { detail: "tree" }));
  }
  let differ = 0;
  for (let i = 0; i < fulls.length; i++) {
    for (let j = 0; j < fulls.length; j++) {
      pairs.push([fulls[i], fulls[j]]);
      for (const o of OPTIONS) {
        const want = diffForests(fulls[i], fulls[j], o);
        const got = diffForests(trees[i], trees[j], o);
        assertEquals(JSON.stringify(got), JSON.stringify(want), `${i} ${j}`);
        assertEquals(renderDiff(got, "a", "b"), renderDiff(want, "a", "b"));
        if (!want.same) differ++;
      }
    }
  }
  const a = [...workload(20_000, 1000, 0)];
  const b = [...workload(20_000, 400_000, 0, 89)];
  const want = diffForests(await analyze(a, META), await analyze(b, META));
  const got = diffForests(
    await analyze(a, META, { detail: "tree" }),
    await analyze(b, META, { detail: "tree" }),
  );
  assertEquals(JSON.stringify(got), JSON.stringify(want), "storms");
  // (real diffs were compared: the fixtures' exits, the storms' exits and
  // thread counts)
  assertEquals(differ > fulls.length * fulls.length, true);
  const fields = new Set(
    want.changed.flatMap((c) => c.changes.map((x) => x.field)),
  );
  assertEquals(
    fields.has("exit") && fields.has("threads"),
    true,
    [...fields].join(),
  );
});

/**
 * Few pids and tids: creates (some with their image, some forks of a parent
 * that exec'd), execs, hashes of them, threads, exits before and after their
 * threads', comm changes.
 */
function stream(seed: number, n: number): ProcEvent[] {
  const rnd = xorshift(Math.imul(seed, 0x9e3779b1));
  for (let i = 0; i < 4; i++) rnd();
  const pick = () => 2 + Math.floor(rnd() * 10);
  const evs: ProcEvent[] = [];
  const execs: { pid: number; t: number }[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += 1_000_000 + Math.floor(rnd() * 2_000_000);
    const pid = pick();
    const r = rnd();
    if (r < 0.15) {
      const ppid = pick();
      const withImage = rnd() < 0.3;
      evs.push({
        kind: "process_create",
        start: t,
        creatorPid: ppid,
        creatorTid: ppid,
        t,
        pid,
        tid: pid,
        ppid,
        ptid: ppid,
        ...(withImage
          ? {
            info: {
              image: `/bin/c${pid}`,
              argv: [`c${pid}`],
              uid: 1000,
              from: { image: "kernel" as const },
            },
          }
          : {}),
      });
    } else if (r < 0.3) {
      evs.push({
        kind: "exec",
        t,
        pid,
        tid: pid,
        info: {
          image: `/bin/x${Math.floor(rnd() * 4)}`,
          argv: ["x", `${Math.floor(rnd() * 3)}`],
          from: { image: "kernel", argv: "kernel" },
        },
      });
      execs.push({ pid, t });
    } else if (r < 0.36 && execs.length > 0) {
      const e = execs[Math.floor(rnd() * execs.length)];
      evs.push({
        kind: "image_hash",
        t,
        pid: e.pid,
        tid: e.pid,
        execT: e.t,
        status: "ok",
        sha256: "ab".repeat(32),
      });
    } else if (r < 0.44) {
      evs.push({
        kind: "process_exit",
        t,
        pid,
        tid: pid,
        status: rnd() < 0.2 ? 0x100 : 0,
      });
    } else if (r < 0.48) {
      evs.push({ kind: "comm", t, pid, tid: pid, comm: "c" });
    } else {
      const tid = rnd() < 0.1 ? pid : 100 + Math.floor(rnd() * 12);
      // (some made by another process: remote)
      const creator = rnd() < 0.15 ? pick() : pid;
      if (rnd() < 0.55) {
        evs.push({
          kind: "thread_create",
          t,
          pid,
          tid,
          creatorPid: creator,
          creatorTid: creator,
        });
      } else evs.push({ kind: "thread_exit", t, pid, tid, status: 0 });
    }
  }
  return evs;
}
