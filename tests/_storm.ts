/**
 * The storm of the recording tests: build it, parse its ground truth, check
 * a recording against it. Pids are reused on a busy host (pid_max may be
 * 32768), so both sides are compared per process lifetime, in order, and the
 * recording is followed from the storm's root down its parent links.
 */
import type { Exec, ProcEvent } from "../cli/events/types.ts";
import { buildC } from "./_record_helpers.ts";

/** One process lifetime of the ground truth. */
export interface TruthLife {
  ppid: number;
  status: number;
  /** Execs in order: [image, argv]. */
  execs: [string, string[]][];
}

/** The storm's ground truth, parsed. */
export interface Truth {
  root: number;
  /** Execs of the root itself (none: it is exec'd by the recorder). */
  /** pid -> lifetimes in order */
  procs: Map<number, TruthLife[]>;
  /** Number of processes. */
  processCount: number;
  /** "pid/tid" -> how many threads with that id were created and joined */
  threads: Map<string, number>;
  /** "pid/tid" -> threads created that then exec'd */
  execThreads: Map<string, number>;
}

const inc = (m: Map<string, number>, k: string) =>
  m.set(k, (m.get(k) ?? 0) + 1);

/** Parses the truth file the storm wrote. */
export function parseTruth(text: string): Truth {
  const t: Truth = {
    root: 0,
    procs: new Map(),
    processCount: 0,
    threads: new Map(),
    execThreads: new Map(),
  };
  // execs come before the reaping of their lifetime: hold them until the P line
  const pendingExecs = new Map<number, [string, string[]][]>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [tag, a, b, ...rest] = line.split(" ");
    const pid = Number(a);
    if (tag === "R") t.root = pid;
    else if (tag === "P") {
      const lives = t.procs.get(pid) ?? [];
      lives.push({
        ppid: Number(b),
        status: Number(rest[0]),
        execs: pendingExecs.get(pid) ?? [],
      });
      pendingExecs.delete(pid);
      t.procs.set(pid, lives);
      t.processCount++;
    } else if (tag === "X") {
      const list = pendingExecs.get(pid) ?? [];
      list.push([b, rest.join(" ").split("\x1f")]);
      pendingExecs.set(pid, list);
    } else if (tag === "T") inc(t.threads, `${a}/${b}`);
    else if (tag === "C") inc(t.execThreads, `${a}/${b}`);
    else throw new Error(`bad truth line: ${line}`);
  }
  if (pendingExecs.size) {
    throw new Error(`execs of unreaped processes: ${[...pendingExecs.keys()]}`);
  }
  return t;
}

/** Builds the storm helper with gcc into `dir`; returns its path. */
export function buildStorm(dir: string): Promise<string> {
  return buildC("tests/record_storm_helper.c", `${dir}/storm`);
}

/** One process lifetime as recorded. */
interface RecordedLife {
  ppid: number;
  creates: number;
  exits: number[];
  execs: Exec[];
}

/**
 * Follows the storm's subtree through the recording: a process belongs from
 * its `process_create` by a member until its `process_exit`.
 */
export function recordedSubtree(events: ProcEvent[], root: number) {
  const lives = new Map<number, RecordedLife[]>();
  const live = new Set<number>([root]);
  lives.set(root, [{ ppid: -1, creates: 0, exits: [], execs: [] }]);
  const threadCreates = new Map<string, number>();
  const threadCreators = new Map<string, number>();
  const threadExits = new Map<string, number>();
  const cur = (pid: number) => lives.get(pid)![lives.get(pid)!.length - 1];
  let lost = 0;
  for (const e of events) {
    switch (e.kind) {
      case "process_create":
        if (e.pid === root) cur(root).creates++;
        else if (live.has(e.ppid)) {
          live.add(e.pid);
          const l = lives.get(e.pid) ?? [];
          l.push({ ppid: e.ppid, creates: 1, exits: [], execs: [] });
          lives.set(e.pid, l);
        }
        break;
      case "process_exit":
        if (live.has(e.pid)) {
          cur(e.pid).exits.push(e.status);
          live.delete(e.pid);
        }
        break;
      case "exec":
        if (live.has(e.pid)) cur(e.pid).execs.push(e);
        break;
      case "thread_create":
        if (live.has(e.pid)) {
          inc(threadCreates, `${e.pid}/${e.tid}`);
          threadCreators.set(`${e.pid}/${e.tid}`, e.creatorPid);
        }
        break;
      case "thread_exit":
        if (live.has(e.pid)) inc(threadExits, `${e.pid}/${e.tid}`);
        break;
      case "lost":
        lost += e.count || 1;
        break;
    }
  }
  return { lives, threadCreates, threadCreators, threadExits, lost };
}

/** Checks a recording against the storm's truth; returns differences and figures. */
export function checkStorm(events: ProcEvent[], truth: Truth) {
  const rec = recordedSubtree(events, truth.root);
  const errors: string[] = [];
  const err = (s: string) => errors.length < 30 && errors.push(s);
  if (rec.lost) err(`${rec.lost} events lost`);

  const root = rec.lives.get(truth.root)![0];
  if (root.creates !== 1) {
    err(`root ${truth.root}: ${root.creates} process_create events`);
  }
  if (JSON.stringify(root.exits) !== JSON.stringify([3 << 8])) {
    err(
      `root ${truth.root}: exits ${JSON.stringify(root.exits)}, expected [768]`,
    );
  }
  let reached = 0, total = 0;
  const known = (p: string | undefined) => p === "kernel" || p === "proc";
  for (const [pid, want] of truth.procs) {
    const got = rec.lives.get(pid) ?? [];
    if (got.length !== want.length) {
      err(
        `pid ${pid}: ${got.length} recorded lifetimes, expected ${want.length}`,
      );
      continue;
    }
    want.forEach((w, i) => {
      const g = got[i];
      const at = `pid ${pid}${want.length > 1 ? ` (lifetime ${i})` : ""}`;
      if (g.ppid !== w.ppid) err(`${at}: parent ${g.ppid}, expected ${w.ppid}`);
      if (g.exits.length !== 1 || g.exits[0] !== w.status) {
        err(
          `${at}: exit statuses ${
            JSON.stringify(g.exits)
          }, expected [${w.status}]`,
        );
      }
      if (g.execs.length !== w.execs.length) {
        err(`${at}: ${g.execs.length} execs, expected ${w.execs.length}`);
        return;
      }
      w.execs.forEach(([image, argv], j) => {
        const info = g.execs[j].info;
        total++;
        const imgFrom = info.from.image, argvFrom = info.from.argv;
        if (known(imgFrom)) {
          if (info.image !== image) {
            err(`${at} exec ${j}: image ${info.image}, expected ${image}`);
          }
        } else if (imgFrom !== "gone" || info.image !== undefined) {
          err(
            `${at} exec ${j}: image provenance ${imgFrom} with value ${info.image}`,
          );
        }
        if (known(argvFrom)) {
          if (JSON.stringify(info.argv) !== JSON.stringify(argv)) {
            err(
              `${at} exec ${j}: argv ${JSON.stringify(info.argv)}, expected ${
                JSON.stringify(argv)
              }`,
            );
          }
        } else if (argvFrom !== "gone" || info.argv !== undefined) {
          err(
            `${at} exec ${j}: argv provenance ${argvFrom} with value ${info.argv}`,
          );
        }
        if (known(imgFrom) && known(argvFrom)) reached++;
      });
    });
  }
  for (const [key, n] of truth.threads) {
    const c = rec.threadCreates.get(key) ?? 0;
    if (c !== n) err(`thread ${key}: ${c} thread_create events, expected ${n}`);
    else if (rec.threadCreators.get(key) !== Number(key.split("/")[0])) {
      err(`thread ${key}: creator ${rec.threadCreators.get(key)}`);
    }
    const x = rec.threadExits.get(key) ?? 0;
    if (x !== n) err(`thread ${key}: ${x} thread_exit events, expected ${n}`);
  }
  for (const [key, n] of truth.execThreads) {
    const c = rec.threadCreates.get(key) ?? 0;
    if (c !== n) {
      err(`exec'ing thread ${key}: ${c} thread_create events, expected ${n}`);
    }
  }
  return { errors, reached, total, lost: rec.lost };
}

/**
 * The proc connector's thread exits with the one exit it may name by another
 * tid moved back to its thread, for comparing them with eBPF's.
 *
 * When a non-leader thread execs, the kernel's de_thread() waits until the
 * old leader is a zombie (its exit_notify()), then swaps the two tasks' tids
 * (exchange_tids()). The proc connector sends a task's exit after
 * exit_notify() and names it by the task's tid at that moment: an old leader
 * delayed between the two (an interrupt, a descheduled vCPU) is reported
 * under the exec'ing thread's old tid. That message is the same as the exit
 * of a thread with that tid, so the proc connector source records it as
 * such (driver/linux/README.md); eBPF reads the exit earlier
 * (sched_process_exit) and always names the leader.
 *
 * Only that case is moved: for each exec'ing thread "pid/tid" of the truth
 * (which never exits under its own tid), as many exits as threads with that
 * key, and only where eBPF has none under that key. Returns the exits and
 * the keys moved.
 */
export function leaderExitsUnderExecTid(
  netlink: Map<string, number>,
  ebpf: Map<string, number>,
  execThreads: Map<string, number>,
): { exits: Map<string, number>; moved: string[] } {
  const exits = new Map(netlink);
  const moved: string[] = [];
  for (const [key, n] of execThreads) {
    const [pid, tid] = key.split("/");
    const got = exits.get(key) ?? 0;
    if (pid === tid || got === 0 || (ebpf.get(key) ?? 0) !== 0) continue;
    const m = Math.min(n, got);
    if (got === m) exits.delete(key);
    else exits.set(key, got - m);
    const leader = `${pid}/${pid}`;
    exits.set(leader, (exits.get(leader) ?? 0) + m);
    moved.push(key);
  }
  return { exits, moved };
}
