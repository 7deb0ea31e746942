/**
 * Helpers of the eBPF source tests: the storm of driver/linux/ebpf/storm.c
 * (threads and execs at once), its ground truth, and a check of a recording
 * against it.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { buildC } from "./_record_helpers.ts";

/** What the storm says it did (its output lines). */
export interface StormTruth {
  /** The storm process. */
  root: number;
  /** Threads it created and joined (its 4 workers not included). */
  threads: number;
  /** Children that exec'd, in order: [pid, argv, raw wait status]. */
  execs: [number, string[], number][];
  /** The child whose non-leader thread exec'd /bin/true. */
  threadExec: [number, number];
  /** Children without exec: [pid, raw wait status]. */
  children: [number, number][];
}

/** Builds driver/linux/ebpf/storm.c with gcc into `dir`; returns its path. */
export function buildEbpfStorm(dir: string): Promise<string> {
  return buildC("driver/linux/ebpf/storm.c", `${dir}/storm`);
}

/** Parses the storm's output. */
export function parseStormTruth(text: string): StormTruth {
  const t: StormTruth = {
    root: 0,
    threads: 0,
    execs: [],
    threadExec: [0, 0],
    children: [],
  };
  for (const line of text.split("\n")) {
    if (!line) continue;
    const f = line.split(" ");
    if (f[0] === "exec") {
      t.execs.push([Number(f[1]), [f[3], "storm", f[2]], Number(f[4])]);
    } else if (f[0] === "thread-exec") {
      t.threadExec = [Number(f[1]), Number(f[2])];
    } else if (f[0] === "child") t.children.push([Number(f[1]), Number(f[2])]);
    else if (f[0] === "storm") {
      t.root = Number(f[1]);
      t.threads = Number(f[2]);
    } else throw new Error(`bad storm line: ${line}`);
  }
  return t;
}

/** One process the storm forked, as a recording shows it. */
export interface SeenProcess {
  pid: number;
  ppid: number;
  execs: { image?: string; argv?: string[]; tid: number; from: string }[];
  status?: number;
  exits: number;
}

/**
 * The storm's children in a recording, per pid in creation order: pid_max is
 * often 32768 and the storm creates 60,000 threads, so pids are reused; an
 * exec or exit belongs to the pid's latest child that has not exited.
 */
export function stormChildren(
  events: Iterable<ProcEvent>,
  root: number,
): {
  byPid: Map<number, SeenProcess[]>;
  threads: number;
  threadExits: number;
  lost: number;
  rootExit?: number;
} {
  const byPid = new Map<number, SeenProcess[]>();
  let threads = 0, threadExits = 0, lost = 0, rootExit: number | undefined;
  const live = (pid: number) => {
    const l = byPid.get(pid);
    const p = l?.[l.length - 1];
    return p && p.exits === 0 ? p : undefined;
  };
  for (const e of events) {
    if (e.kind === "process_create" && e.ppid === root) {
      const l = byPid.get(e.pid) ?? [];
      l.push({ pid: e.pid, ppid: e.ppid, execs: [], exits: 0 });
      byPid.set(e.pid, l);
    } else if (e.kind === "exec") {
      live(e.pid)?.execs.push({
        image: e.info.image,
        argv: e.info.argv,
        tid: e.tid,
        from: `${e.info.from.image}/${e.info.from.argv}`,
      });
    } else if (e.kind === "process_exit") {
      if (e.pid === root) rootExit = e.status;
      const p = live(e.pid);
      if (p) (p.status = e.status), p.exits++;
    } else if (e.kind === "thread_create" && e.pid === root) threads++;
    else if (e.kind === "thread_exit" && e.pid === root) threadExits++;
    else if (e.kind === "lost") lost += e.count || 1;
  }
  return { byPid, threads, threadExits, lost, rootExit };
}

/**
 * Compares a recording with the storm's truth; returns the differences. An
 * exec counts as exact when its image and argv are right and, unless
 * `anyProvenance`, were taken in the kernel at the exec.
 */
export function checkEbpfStorm(
  events: Iterable<ProcEvent>,
  truth: StormTruth,
  realImage: (path: string) => string,
  anyProvenance = false,
): { errors: string[]; exact: number; total: number; lost: number } {
  const seen = stormChildren(events, truth.root);
  const cursor = new Map<number, number>();
  const next = (pid: number): SeenProcess | undefined => {
    const i = cursor.get(pid) ?? 0;
    cursor.set(pid, i + 1);
    return seen.byPid.get(pid)?.[i];
  };
  const errors: string[] = [];
  const err = (s: string) => errors.length < 30 && errors.push(s);
  let exact = 0;
  const same = (a: unknown, b: unknown) =>
    JSON.stringify(a) === JSON.stringify(b);
  for (const [pid, argv, status] of truth.execs) {
    const p = next(pid);
    if (!p) {
      err(`exec child ${pid} (${argv.join(" ")}): no process_create`);
      continue;
    }
    if (p.ppid !== truth.root) err(`child ${pid}: parent ${p.ppid}`);
    if (p.exits !== 1 || p.status !== status) {
      err(
        `child ${pid}: ${p.exits} exits, status ${p.status}, expected ${status}`,
      );
    }
    const x = p.execs;
    if (
      x.length === 1 && x[0].image === realImage(argv[0]) &&
      same(x[0].argv, argv) &&
      (x[0].from === "kernel/kernel" || anyProvenance)
    ) exact++;
    else {err(
        `child ${pid}: execs ${JSON.stringify(x)}, expected ${
          realImage(argv[0])
        } ${JSON.stringify(argv)}`,
      );}
  }
  const [tpid, tstatus] = truth.threadExec;
  const tp = next(tpid);
  const want = ["/bin/true", "storm-thread-exec"];
  if (
    !tp || tp.execs.length !== 1 || tp.execs[0].tid === tpid ||
    tp.execs[0].image !== realImage("/bin/true") ||
    !same(tp.execs[0].argv, want) ||
    tp.status !== tstatus
  ) {
    err(`exec from a non-leader thread (pid ${tpid}): ${JSON.stringify(tp)}`);
  }
  for (const [pid, status] of truth.children) {
    const p = next(pid);
    if (!p || p.exits !== 1 || p.status !== status) {
      err(`child ${pid}: ${JSON.stringify(p)}, expected status ${status}`);
    }
  }
  // 4 worker threads, plus the threads they create and join
  if (seen.threads !== truth.threads + 4) {
    err(
      `${seen.threads} thread_create in the storm, expected ${
        truth.threads + 4
      }`,
    );
  }
  if (seen.threadExits < truth.threads + 4) {
    err(
      `${seen.threadExits} thread_exit in the storm, expected ${
        truth.threads + 4
      }`,
    );
  }
  if (seen.rootExit !== 0) {
    err(`storm exit status ${seen.rootExit}, expected 0`);
  }
  if (seen.lost) err(`${seen.lost} events lost`);
  return { errors, exact, total: truth.execs.length, lost: seen.lost };
}
