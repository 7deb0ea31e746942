/**
 * The process and thread records the forest builder works on, and the
 * helpers that keep them in shape (private to cli/analysis). Pure.
 *
 * @module
 */
import type {
  ExecStep,
  ProcessFlag,
  ProcessNode,
  ThreadInfo,
  ThreadTally,
} from "./forest.ts";

/**
 * A thread exit at most this long (ns) before its process's exit, with no
 * other activity of the process in between, is part of the exit burst.
 */
export const TEARDOWN_WINDOW_NS = 10_000_000;

export const FLAG_ORDER: ProcessFlag[] = [
  "existing-before-recording",
  "seen-without-create",
  "denied",
  "parent-differs-from-creator",
  "reparented",
  "exit-missing",
  "exit-inferred",
  "in-lost-span",
  "end-lost",
  "comm-not-utf8",
];

/** A process node with every field present, so all nodes share one shape. */
export function newNode(
  id: string,
  pid: number,
  start: number,
  ppid: number,
): ProcessNode {
  return {
    id,
    pid,
    start,
    end: undefined,
    ppid,
    parentId: undefined,
    creatorPid: undefined,
    creatorId: undefined,
    children: NONE,
    execs: NONE,
    image: undefined,
    argv: undefined,
    cmdline: undefined,
    comm: undefined,
    exit: undefined,
    threads: NONE,
    endedThreads: undefined,
    flags: NONE,
    reparentedAt: undefined,
    endState: undefined,
    guid: undefined,
    parentGuid: undefined,
  };
}

/** A thread with every field present. */
export function newThread(
  tid: number,
  start: number | undefined,
  main: boolean,
  remote: boolean,
  creatorPid?: number,
  creatorTid?: number,
): ThreadInfo {
  return {
    tid,
    start,
    end: undefined,
    status: undefined,
    endInferred: undefined,
    exitClass: undefined,
    main,
    remote,
    creatorPid,
    creatorTid,
    processExiting: undefined,
  };
}

/**
 * The empty list most processes have for children and flags (and every
 * process has for execs and threads until the first is added), shared and
 * frozen (one array less per process; a stray push throws). A list made
 * from its first element holds one slot: `[]` and a push would reserve 17.
 */
export const NONE = Object.freeze([]) as unknown as never[];

export function addChild(node: ProcessNode, id: string): void {
  node.children = appended(node.children, id);
}

export function addExec(node: ProcessNode, step: ExecStep): void {
  node.execs = appended(node.execs, step);
}

/**
 * `list` with `x` at its end: a short list is made again at its exact
 * length (a push onto a list of one reserves 17 slots, and most processes
 * have a few threads, execs or children), a longer one grows by push.
 */
function appended<T>(list: T[], x: T): T[] {
  switch (list.length) {
    case 0:
      return [x];
    case 1:
      return [list[0], x];
    case 2:
      return [list[0], list[1], x];
    case 3:
      return [list[0], list[1], list[2], x];
    default:
      list.push(x);
      return list;
  }
}

/**
 * Adds a flag in its place of {@link FLAG_ORDER} (a node's flags are always
 * in that order: nothing sorts them afterwards).
 */
export function addFlag(node: ProcessNode, flag: ProcessFlag): void {
  const flags = node.flags;
  if (flags === NONE) {
    node.flags = [flag];
    return;
  }
  if (flags.includes(flag)) return;
  const rank = FLAG_ORDER.indexOf(flag);
  let i = flags.length;
  while (i > 0 && FLAG_ORDER.indexOf(flags[i - 1]) > rank) i--;
  flags.splice(i, 0, flag);
}

/** The order of a process's threads: the main one first, then by start (unknown first) and tid. */
export function threadOrder(a: ThreadInfo, b: ThreadInfo): number {
  return Number(b.main) - Number(a.main) ||
    (a.start ?? -Infinity) - (b.start ?? -Infinity) || a.tid - b.tid;
}

/** Sorts in place unless already in order; says whether it sorted. */
export function sortIfNeeded<T>(a: T[], cmp: (x: T, y: T) => number): boolean {
  for (let i = 1; i < a.length; i++) {
    if (cmp(a[i - 1], a[i]) > 0) {
      a.sort(cmp);
      return true;
    }
  }
  return false;
}

const SCAN_THREADS = 8;

/**
 * The threads of the running processes that have many, by tid, by process
 * number (a process with few has its list scanned): a later thread with a
 * reused tid replaces an earlier one, as on a scan from the end.
 */
export class ThreadsByTid {
  #maps = new Map<number, Map<number, ThreadInfo>>();
  /**
   * The processes whose threads were added out of {@link threadOrder} (the
   * only ones whose threads need sorting at the end).
   */
  readonly unsorted = new Set<ProcessNode>();

  /** The latest thread of process `p` (its node `node`) with this tid. */
  find(p: number, node: ProcessNode, tid: number): ThreadInfo | undefined {
    const ths = node.threads;
    if (ths.length > SCAN_THREADS) return this.#maps.get(p)!.get(tid);
    for (let i = ths.length - 1; i >= 0; i--) {
      if (ths[i].tid === tid) return ths[i];
    }
    return undefined;
  }

  /** Adds a thread to process `p` (its node `node`, running). */
  add(p: number, node: ProcessNode, th: ThreadInfo): void {
    node.threads = appended(node.threads, th);
    const n = node.threads.length;
    if (n > 1 && threadOrder(node.threads[n - 2], th) > 0) {
      this.unsorted.add(node);
    }
    if (n > SCAN_THREADS + 1) this.#maps.get(p)!.set(th.tid, th);
    else if (n === SCAN_THREADS + 1) {
      this.#maps.set(p, new Map(node.threads.map((x) => [x.tid, x])));
    }
  }

  /** Forgets the threads of process `p` (it ended). */
  drop(p: number): void {
    this.#maps.delete(p);
  }
}

/** Classifies the exits of a process's threads once the process has exited. */
export function classifyThreads(
  node: ProcessNode,
  exitT: number,
  activity: number,
): void {
  if (node.threads.length === 1) {
    // the common case: one thread, whose exit is the process's
    const th = node.threads[0];
    if (th.exitClass === undefined) {
      if (th.end === undefined) {
        th.end = exitT;
        th.endInferred = true;
      }
      th.exitClass = "last-thread";
    }
    return;
  }
  // the process's exit ended every thread still running, whose own exit the
  // source did not report (some report only the leader's exit as the process's)
  for (const th of node.threads) {
    if (th.end === undefined) {
      th.end = exitT;
      th.endInferred = true;
    }
  }
  // the last exit (latest; on a tie the main thread, then the highest tid)
  // ended the process; the others are classified by the OS's word or by time
  let last: ThreadInfo | undefined;
  for (const th of node.threads) {
    if (th.exitClass !== undefined) continue;
    if (
      last === undefined || th.end! > last.end! ||
      (th.end === last.end &&
        (Number(th.main) - Number(last.main) || th.tid - last.tid) > 0)
    ) last = th;
  }
  for (const th of node.threads) {
    if (th.exitClass !== undefined || th === last) continue;
    if (th.processExiting === true) th.exitClass = "teardown";
    else if (th.processExiting === false) th.exitClass = "standalone";
    else if (th.end! >= activity && exitT - th.end! <= TEARDOWN_WINDOW_NS) {
      th.exitClass = "teardown";
    } else th.exitClass = "standalone";
  }
  if (last) last.exitClass = "last-thread";
}

/** What a {@link ThreadTally} and the summary count of threads, besides how many. */
export interface ThreadCounts {
  /** Threads made by another process. */
  remote: number;
  /** Exits of each class (`ThreadInfo.exitClass`). */
  teardown: number;
  standalone: number;
  lastThread: number;
}

/**
 * Adds the remote threads and the exits of each class among `threads` to
 * `into`. A function of its own: a loop over each process's threads inside
 * the summary's loop over processes made V8 leave its on-stack-replaced
 * inner loop (a deoptimisation) at every process with threads.
 */
export function addThreadCounts(
  threads: readonly ThreadInfo[],
  into: ThreadCounts,
): void {
  for (let i = 0; i < threads.length; i++) {
    const th = threads[i];
    if (th.remote) into.remote++;
    if (th.exitClass === "teardown") into.teardown++;
    else if (th.exitClass === "standalone") into.standalone++;
    else if (th.exitClass === "last-thread") into.lastThread++;
  }
}

/**
 * The counts of a process's threads (after {@link classifyThreads}), one
 * frozen object per distinct counts: most processes share a few.
 */
export class ThreadTallies {
  #byCounts = new Map<string, ThreadTally>();
  /** The tally made last (most processes have the counts of the one before). */
  #last: ThreadTally | undefined;
  #counts: ThreadCounts = {
    remote: 0,
    teardown: 0,
    standalone: 0,
    lastThread: 0,
  };

  of(threads: readonly ThreadInfo[]): ThreadTally {
    const c = this.#counts;
    c.remote =
      c.teardown =
      c.standalone =
      c.lastThread =
        0;
    addThreadCounts(threads, c);
    const { remote, teardown, standalone, lastThread } = c;
    const n = threads.length, last = this.#last;
    if (
      last !== undefined && last.threads === n && last.remote === remote &&
      last.teardown === teardown && last.standalone === standalone &&
      last.lastThread === lastThread
    ) return last;
    const key = `${n},${remote},${teardown},${standalone},${lastThread}`;
    let tally = this.#byCounts.get(key);
    if (tally === undefined) {
      tally = Object.freeze({
        threads: n,
        remote,
        teardown,
        standalone,
        lastThread,
      });
      // (bounded: past it, counts not seen yet get their own object)
      if (this.#byCounts.size < 65536) this.#byCounts.set(key, tally);
    }
    this.#last = tally;
    return tally;
  }
}
