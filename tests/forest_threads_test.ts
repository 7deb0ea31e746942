/**
 * The builder keeps what it knows of each process besides its node by number
 * in typed arrays (issue 16): activity, whether it ended, its parent, its last
 * child, and the threads by tid of a process with many. Its threads (reused
 * tids, exits before and after creations, remote creators, processes with
 * more threads than it scans) and their exit classes (teardown by activity
 * and time, standalone, last thread; standalone for a process still running)
 * equal a plain model written from the rules, on random streams.
 */
import { ForestBuilder, type ThreadInfo } from "../cli/analysis/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { newThread } from "../cli/analysis/_forest_nodes.ts";
import { assertEquals } from "./_record_helpers.ts";
import { xorshift } from "./_xorshift.ts";

interface Proc {
  pid: number;
  start: number;
  threads: ThreadInfo[];
  activity: number;
  end?: number;
}

/** The threads of every process, by the rules, in the forest's order. */
function model(events: ProcEvent[]): ThreadInfo[][] {
  const all: Proc[] = [];
  const latest = new Map<number, Proc>();
  const alive = (pid: number) => {
    const p = latest.get(pid);
    return p && p.end === undefined && !ended.has(p) ? p : undefined;
  };
  const ended = new Set<Proc>();
  const add = (pid: number, start: number, t: number): Proc => {
    const p: Proc = { pid, start, threads: [], activity: t };
    all.push(p);
    latest.set(pid, p);
    return p;
  };
  const touch = (p: Proc | undefined, t: number) => {
    if (p) p.activity = Math.max(p.activity, t);
  };
  // (a thread with every field, as the builder makes it)
  const thread = (tid: number, start: number | undefined, main: boolean) =>
    newThread(tid, start, main, false);
  const lastWith = (p: Proc, tid: number) =>
    p.threads.findLast((th) => th.tid === tid);
  for (const e of events) {
    const t = e.t;
    switch (e.kind) {
      case "process_create": {
        const old = alive(e.pid);
        if (old) ended.add(old);
        const creator = alive(e.creatorPid);
        touch(creator, t);
        const parent = e.ppid !== e.pid ? alive(e.ppid) : undefined;
        touch(parent, t);
        const p = add(e.pid, e.start, t);
        const th = thread(e.tid, e.start, true);
        th.creatorPid = e.creatorPid;
        th.creatorTid = e.creatorTid;
        p.threads.push(th);
        break;
      }
      case "comm":
        touch(alive(e.pid) ?? add(e.pid, t, t), t);
        break;
      case "thread_create": {
        const p = alive(e.pid) ?? add(e.pid, t, t);
        let th = lastWith(p, e.tid);
        if (th === undefined || th.end !== undefined) {
          th = thread(e.tid, t, p.threads.length === 0 && e.tid === e.pid);
          th.remote = e.creatorPid !== 0 && e.creatorPid !== e.pid;
          p.threads.push(th);
        }
        th.creatorPid = e.creatorPid;
        th.creatorTid = e.creatorTid;
        touch(p, t);
        if (e.creatorPid !== e.pid) touch(alive(e.creatorPid), t);
        break;
      }
      case "thread_exit": {
        let p = alive(e.pid);
        if (p === undefined) {
          const dead = latest.get(e.pid);
          if (dead?.end !== undefined && dead.end <= t) {
            const th = dead.threads.find((x) => x.tid === e.tid);
            if (th && th.end === undefined) {
              th.end = t;
              th.status = e.status;
            }
            break;
          }
          p = add(e.pid, t, t);
        }
        let th = lastWith(p, e.tid);
        if (th === undefined) {
          th = thread(
            e.tid,
            undefined,
            p.threads.length === 0 && e.tid === e.pid,
          );
          p.threads.push(th);
        }
        th.end = t;
        th.status = e.status;
        break;
      }
      case "process_exit": {
        const p = alive(e.pid) ?? add(e.pid, t, t);
        p.end = t;
        classify(p, t);
        break;
      }
    }
  }
  for (const p of all) {
    if (p.end !== undefined || ended.has(p)) continue;
    for (const th of p.threads) {
      if (th.end !== undefined) th.exitClass = "standalone";
    }
  }
  // the forest's order: start, pid (the streams give no two the same)
  all.sort((a, b) => a.start - b.start || a.pid - b.pid);
  return all.map((p) =>
    [...p.threads].sort((a, b) =>
      Number(b.main) - Number(a.main) ||
      (a.start ?? -Infinity) - (b.start ?? -Infinity) || a.tid - b.tid
    )
  );
}

/** Exit classes of a process that exits at `t`, by the rules. */
function classify(p: Proc, t: number): void {
  for (const th of p.threads) {
    if (th.end === undefined) {
      th.end = t;
      th.endInferred = true;
    }
  }
  // the last: latest exit, then the main thread, then the highest tid
  const last =
    [...p.threads].sort((a, b) =>
      b.end! - a.end! || Number(b.main) - Number(a.main) || b.tid - a.tid
    )[0];
  for (const th of p.threads) {
    if (th === last) th.exitClass = "last-thread";
    else {
      th.exitClass = th.end! >= p.activity && t - th.end! <= 10_000_000
        ? "teardown"
        : "standalone";
    }
  }
}

/** Processes of few pids, many threads of few tids, times 1 to 3 ms apart. */
function stream(seed: number, n: number): ProcEvent[] {
  const rnd = xorshift(Math.imul(seed, 0x9e3779b1));
  for (let i = 0; i < 4; i++) rnd();
  const pick = () => 2 + Math.floor(rnd() * 12);
  const evs: ProcEvent[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += 1_000_000 + Math.floor(rnd() * 2_000_000);
    const pid = pick();
    const r = rnd();
    if (r < 0.12) {
      const ppid = pick(), creator = rnd() < 0.2 ? pick() : ppid;
      const by = { creatorPid: creator, creatorTid: creator };
      evs.push({
        kind: "process_create",
        start: t,
        ...by,
        t,
        pid,
        tid: pid,
        ppid,
        ptid: ppid,
      });
    } else if (r < 0.2) {
      evs.push({ kind: "process_exit", t, pid, tid: pid, status: 0 });
    } else if (r < 0.25) {
      evs.push({ kind: "comm", t, pid, tid: pid, comm: "c" });
    } else {
      const tid = rnd() < 0.1 ? pid : 100 + Math.floor(rnd() * 16);
      const creator = rnd() < 0.1 ? pick() : pid;
      const who = { t, pid, tid };
      if (rnd() < 0.55) {
        evs.push({
          ...who,
          kind: "thread_create",
          creatorPid: creator,
          creatorTid: creator,
        });
      } else evs.push({ ...who, kind: "thread_exit", status: 0 });
    }
  }
  return evs;
}

Deno.test("the builder's threads and their exit classes equal the plain model on random streams", () => {
  let many = 0, classes = 0;
  for (let seed = 1; seed <= 120; seed++) {
    const events = stream(seed, 200 + seed * 20);
    const b = new ForestBuilder({ os: "linux", bootId: "threads" });
    for (const e of events) b.add(e);
    const got = b.finish().processes.map((p) => p.threads);
    assertEquals(got, model(events), `seed ${seed}`);
    for (const ths of got) {
      if (ths.length > 8) many++;
      for (const th of ths) if (th.exitClass === "teardown") classes++;
    }
  }
  // (the streams have processes with more threads than the builder scans,
  // and exits in the teardown window)
  assertEquals(many > 100 && classes > 100, true, `${many} ${classes}`);
});
