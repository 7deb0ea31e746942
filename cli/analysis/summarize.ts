import type { EventKind } from "../events/types.ts";
import { type Forest, type ProcessNode, threadCount } from "./forest.ts";
import { addThreadCounts, type ThreadCounts } from "./_forest_nodes.ts";

/** A process as a summary names it. */
export interface SummaryProcess {
  id: string;
  pid: number;
  image?: string;
  command?: string;
  start: number;
}

/** The closing numbers of a recording: the same live and on replay. */
export interface Summary {
  os: "linux" | "windows";
  events: number;
  /** Events per kind, kinds in name order. */
  counts: Partial<Record<EventKind, number>>;
  /** Time of the first and last event (ns since the time base). */
  first?: number;
  last?: number;
  /**
   * The recording's end ({@link Forest.end}), when it is known and later
   * than {@link last}: a process still running then counts until it.
   */
  end?: number;
  processes: number;
  threads: number;
  /** Processes running before the recording began. */
  existing: number;
  /** Processes whose exit was seen. */
  exited: number;
  /** Processes with the `reparented` flag. */
  reparented: number;
  /** Processes whose parent is not their creator. */
  parentDiffersFromCreator: number;
  /** Thread exits per class, and remote thread creations. */
  threadExits: { teardown: number; standalone: number; lastThread: number };
  remoteThreads: number;
  lost: {
    spans: number;
    /** Events known lost (spans with an unknown count add nothing). */
    events: number;
    /** Spans whose count is unknown. */
    unknownSpans: number;
    byReason: Record<string, number>;
    /** Processes whose lifetime overlaps a lost span. */
    processesAffected: number;
  };
  /** Most children first (at most 5). */
  topSpawners: (SummaryProcess & { children: number })[];
  /**
   * Longest lifetime first (at most 5). A process without an exit counts
   * until the recording's end ({@link Summary.end}), or until the last
   * event when no later end is known (a recording without a trailer, cut
   * short).
   */
  longestLived: (SummaryProcess & {
    duration: number;
    running: boolean;
    /** Its end was lost with a damaged tail ({@link ProcessNode.endState}). */
    endLost?: boolean;
  })[];
  /** Processes that exited unsuccessfully, by start (at most 20 unless `all`), and their total. */
  failures: (SummaryProcess & { exit: string })[];
  failuresTotal: number;
  problems: number;
}

/** How many entries each list of a summary keeps. */
export const SUMMARY_LIMITS = { topSpawners: 5, longestLived: 5, failures: 20 };

/**
 * Sums a forest up: counts per kind, lost events, top spawners,
 * longest-lived processes and failures (the first 20; every one with
 * `all`). A process still running counts until the recording's end
 * ({@link Forest.end}), or its last event when no later end is known.
 * Deterministic: ties are broken by start, pid and id.
 *
 * @example
 * ```ts
 * import { analyze } from "./analyze.ts";
 * import { summarize } from "./summarize.ts";
 * const f = await analyze([
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 0 },
 *   { kind: "process_create", t: 2, pid: 6, tid: 6, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 2 },
 *   { kind: "process_exit", t: 9, pid: 5, tid: 5, status: 0x200 },
 * ], { os: "linux", bootId: "b" });
 * const s = summarize(f);
 * if (s.failuresTotal !== 1 || s.failures[0].exit !== "exit 2") throw new Error();
 * // pid 6 runs on: until the last event (9), or the recording's end (60)
 * if (s.longestLived[0].duration !== 9 - 0) throw new Error("exited");
 * if (s.longestLived[1].duration !== 9 - 2) throw new Error("to the last");
 * const e = summarize({ ...f, end: 60 });
 * if (e.longestLived[0].duration !== 60 - 2 || e.end !== 60) throw new Error();
 * ```
 */
export function summarize(
  forest: Forest,
  options: { all?: boolean } = {},
): Summary {
  // (a process without an exit was alive until the recording ended: the
  // trailer's end, long after the last event on a quiet host; counted to
  // the last event, a daemon of a recording quiet for ten minutes lost
  // them from its lifetime)
  const until = Math.max(forest.last ?? 0, forest.end ?? -Infinity);
  let threads = 0, existing = 0, exited = 0, reparented = 0, pdc = 0;
  let affected = 0;
  const counts: ThreadCounts = {
    remote: 0,
    teardown: 0,
    standalone: 0,
    lastThread: 0,
  };
  const failures: (SummaryProcess & { exit: string })[] = [];
  for (const n of forest.processes) {
    threads += threadCount(n);
    if (n.flags.includes("existing-before-recording")) existing++;
    if (n.flags.includes("reparented")) reparented++;
    if (n.flags.includes("parent-differs-from-creator")) pdc++;
    if (n.flags.includes("in-lost-span")) affected++;
    if (n.exit) {
      exited++;
      if (!n.exit.success && n.exit.kind !== "unknown") {
        failures.push({ ...brief(n), exit: n.exit.text });
      }
    }
    if (n.threads.length > 0) addThreadCounts(n.threads, counts);
    else if (n.endedThreads !== undefined) {
      // (a forest that counted the threads of ended processes: their counts)
      const c = n.endedThreads;
      counts.remote += c.remote;
      counts.teardown += c.teardown;
      counts.standalone += c.standalone;
      counts.lastThread += c.lastThread;
    }
  }
  const byReason: Record<string, number> = {};
  let lostEvents = 0, unknown = 0;
  for (const s of forest.lost) {
    if (s.countUnknown) unknown++;
    else lostEvents += s.count;
    byReason[s.reason] = (byReason[s.reason] ?? 0) + s.count;
  }
  const sortedReasons: Record<string, number> = {};
  for (const k of Object.keys(byReason).sort()) sortedReasons[k] = byReason[k];
  const tie = (a: ProcessNode, b: ProcessNode) =>
    a.start - b.start || a.pid - b.pid ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const spawners = forest.processes
    .filter((n) => n.children.length > 0)
    .sort((a, b) => b.children.length - a.children.length || tie(a, b))
    .slice(0, SUMMARY_LIMITS.topSpawners)
    .map((n) => ({ ...brief(n), children: n.children.length }));
  const life = (n: ProcessNode) =>
    (n.end ?? Math.max(until, n.start)) - n.start;
  const longest = [...forest.processes]
    .sort((a, b) => life(b) - life(a) || tie(a, b))
    .slice(0, SUMMARY_LIMITS.longestLived)
    .map((n) => ({
      ...brief(n),
      duration: life(n),
      running: n.end === undefined && n.endState === undefined,
      ...(n.endState !== undefined ? { endLost: true } : {}),
    }));
  return {
    os: forest.meta.os,
    events: forest.events,
    counts: forest.counts,
    ...(forest.first !== undefined ? { first: forest.first } : {}),
    ...(forest.last !== undefined ? { last: forest.last } : {}),
    ...(forest.end !== undefined && forest.end > (forest.last ?? -Infinity)
      ? { end: forest.end }
      : {}),
    processes: forest.processes.length,
    threads,
    existing,
    exited,
    reparented,
    parentDiffersFromCreator: pdc,
    threadExits: {
      teardown: counts.teardown,
      standalone: counts.standalone,
      lastThread: counts.lastThread,
    },
    remoteThreads: counts.remote,
    lost: {
      spans: forest.lost.length,
      events: lostEvents,
      unknownSpans: unknown,
      byReason: sortedReasons,
      processesAffected: affected,
    },
    topSpawners: spawners,
    longestLived: longest,
    failures: options.all
      ? failures
      : failures.slice(0, SUMMARY_LIMITS.failures),
    failuresTotal: failures.length,
    problems: forest.problems.length,
  };
}

function brief(n: ProcessNode): SummaryProcess {
  const p: SummaryProcess = { id: n.id, pid: n.pid, start: n.start };
  if (n.image !== undefined) p.image = n.image;
  const cmd = n.argv?.join(" ") ?? n.cmdline;
  if (cmd !== undefined) p.command = cmd;
  return p;
}
