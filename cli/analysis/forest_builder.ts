import { EventCounts } from "../events/event_counts.ts";
import type {
  ProcessCreate,
  ProcessInfo,
  ProcessSnapshot,
  ProcEvent,
} from "../events/types.ts";
import { decodeExitStatus } from "./decode_exit_status.ts";
import type {
  AnalysisProblem,
  ExecStep,
  ExitStatus,
  Forest,
  ForestMeta,
  LostSpan,
  ProcessFlag,
  ProcessNode,
  ThreadInfo,
} from "./forest.ts";
import { processId } from "./process_id.ts";
import { IDENTITY_FIELDS } from "./forest.ts";

/**
 * A thread exit at most this long (ns) before its process's exit, with no
 * other activity of the process in between, is part of the exit burst.
 */
export const TEARDOWN_WINDOW_NS = 10_000_000;

const FLAG_ORDER: ProcessFlag[] = [
  "existing-before-recording",
  "seen-without-create",
  "denied",
  "parent-differs-from-creator",
  "reparented",
  "exit-missing",
  "in-lost-span",
];

interface State {
  node: ProcessNode;
  /** Threads by tid, built once a process has many (few are scanned). */
  byTid: Map<number, ThreadInfo> | undefined;
  /** Latest t of an event that shows the process doing something. */
  activity: number;
  /** Its exit was seen (or a new process took its pid). */
  dead: boolean;
}

/**
 * Builds the process forest incrementally, one event at a time, in bounded
 * memory (proportional to processes and threads, never to events). The same
 * builder runs live in `procrec record` and over a recording in
 * `procrec replay`, so both give the same forest for the same events.
 *
 * Broken invariants (a thread exit after its process's exit, an exit without
 * a create, a child that starts before its parent) become
 * {@link Forest.problems}; nothing here throws on odd input.
 *
 * @example
 * ```ts
 * import { ForestBuilder } from "./forest_builder.ts";
 * const b = new ForestBuilder({ os: "linux", bootId: "b" });
 * b.add({ kind: "process_create", t: 1, pid: 10, tid: 10, ppid: 1, ptid: 1,
 *   creatorPid: 1, creatorTid: 1, start: 1 });
 * b.add({ kind: "exec", t: 2, pid: 10, tid: 10,
 *   info: { image: "/bin/ls", argv: ["ls"], from: { image: "kernel" } } });
 * b.add({ kind: "thread_exit", t: 3, pid: 10, tid: 10, status: 0 });
 * b.add({ kind: "process_exit", t: 3, pid: 10, tid: 10, status: 0x100 });
 * const forest = b.finish();
 * const p = forest.processes[0];
 * if (p.image !== "/bin/ls" || p.exit?.text !== "exit 1") throw new Error();
 * if (p.threads[0].exitClass !== "last-thread") throw new Error();
 * ```
 */
export class ForestBuilder {
  readonly meta: ForestMeta;
  /** The latest process of each pid, running or ended. */
  #pids = new Map<number, State>();
  #byId = new Map<string, ProcessNode>();
  #liveByGuid = new Map<string, State>();
  #exits = new Map<number, ExitStatus>();
  #lost: LostSpan[] = [];
  #problems: AnalysisProblem[] = [];
  #counts = new EventCounts();
  #events = 0;
  #first: number | undefined;
  #last: number | undefined;
  #finished = false;

  constructor(meta: ForestMeta) {
    this.meta = { os: meta.os, bootId: meta.bootId };
  }

  /** Events added so far. */
  get events(): number {
    return this.#events;
  }

  /** Processes seen so far. */
  get processes(): number {
    return this.#byId.size;
  }

  /** Feeds one event. */
  add(event: ProcEvent): void {
    if (this.#finished) {
      throw new Error("Cannot add an event to a finished ForestBuilder");
    }
    const t = event.t;
    this.#events++;
    this.#counts.add(event);
    if (this.#first === undefined || t < this.#first) this.#first = t;
    if (this.#last === undefined || t > this.#last) this.#last = t;
    switch (event.kind) {
      case "process_create":
      case "process_snapshot":
        this.#create(event);
        break;
      case "exec": {
        const s = this.#liveOrImplicit(event.pid, t);
        const step = execStep(t, "exec", event.info);
        s.node.execs.push(step);
        applyInfo(s.node, event.info);
        s.activity = Math.max(s.activity, t);
        break;
      }
      case "comm": {
        const s = this.#liveOrImplicit(event.pid, t);
        s.node.comm = event.comm;
        s.activity = Math.max(s.activity, t);
        break;
      }
      case "image_load": {
        const s = this.#alive(event.pid);
        if (s) s.activity = Math.max(s.activity, t);
        break;
      }
      case "thread_create": {
        const s = this.#liveOrImplicit(event.pid, t);
        let th = findThread(s, event.tid);
        // a tid that ended before is a new thread (tids are reused)
        if (th === undefined || th.end !== undefined) {
          th = newThread(
            event.tid,
            t,
            s.node.threads.length === 0 && event.tid === event.pid,
            event.creatorPid !== 0 && event.creatorPid !== event.pid,
          );
          addThread(s, th);
        }
        th.creatorPid = event.creatorPid;
        th.creatorTid = event.creatorTid;
        s.activity = Math.max(s.activity, t);
        // (a thread created in its own process is the common case: c is s)
        if (event.creatorPid !== event.pid) {
          const c = this.#alive(event.creatorPid);
          if (c && c !== s) c.activity = Math.max(c.activity, t);
        }
        break;
      }
      case "thread_exit": {
        let s = this.#alive(event.pid);
        if (s === undefined) {
          const dead = this.#pids.get(event.pid)?.node;
          if (dead !== undefined && dead.end !== undefined && dead.end <= t) {
            this.#problem(
              event,
              "thread-exit-after-process-exit",
              `thread ${event.tid} of process ${event.pid} exits at ${t} after its process exited at ${dead.end}`,
            );
            const th = dead.threads.find((x) => x.tid === event.tid);
            if (th && th.end === undefined) {
              th.end = t;
              th.status = event.status;
            }
            break;
          }
          s = this.#implicit(event.pid, t);
        }
        let th = findThread(s, event.tid);
        if (th === undefined) {
          th = newThread(
            event.tid,
            undefined,
            s.node.threads.length === 0 && event.tid === event.pid,
            false,
          );
          addThread(s, th);
        }
        th.end = t;
        th.status = event.status;
        if (event.processExiting !== undefined) {
          th.processExiting = event.processExiting;
        }
        break;
      }
      case "process_exit": {
        let s = this.#alive(event.pid);
        if (s === undefined) {
          this.#problem(
            event,
            "exit-without-create",
            `process ${event.pid} exits at ${t} but was never created or seen running`,
          );
          s = this.#implicit(event.pid, t);
        }
        this.#exit(s, t, event.status, event.statusUnknown === true);
        if (event.guid !== undefined && s.node.guid === undefined) {
          s.node.guid = event.guid;
        }
        break;
      }
      case "lost": {
        const span: LostSpan = {
          from: Math.min(this.#maxBefore ?? t, t),
          to: t,
          reason: event.reason,
          count: event.count,
          countUnknown: event.countUnknown === true,
          ...(event.cpu !== undefined ? { cpu: event.cpu } : {}),
        };
        this.#lost.push(span);
        break;
      }
    }
    this.#maxBefore = this.#last;
  }

  /** The latest t before the current event. */
  #maxBefore: number | undefined;

  /** Ends the analysis and returns the forest; the builder takes no more events. */
  finish(): Forest {
    this.#finished = true;
    const last = this.#last ?? 0;
    // threads that exited while their process went on
    for (const s of this.#pids.values()) {
      if (s.dead) continue;
      for (const th of s.node.threads) {
        if (th.end !== undefined && th.exitClass === undefined) {
          th.exitClass = "standalone";
        }
      }
    }
    // snapshots arrive in any order: link them to their parents now
    const nodes = [...this.#byId.values()];
    const snapshotByPid = new Map<number, ProcessNode>();
    for (const n of nodes) {
      if (n.flags.includes("existing-before-recording")) {
        snapshotByPid.set(n.pid, n);
      }
    }
    for (const n of nodes) {
      if (
        n.parentId === undefined &&
        n.flags.includes("existing-before-recording")
      ) {
        const p = snapshotByPid.get(n.ppid);
        // a parent precedes its child in (start, pid): links stay acyclic
        if (
          p && (p.start < n.start || (p.start === n.start && p.pid < n.pid))
        ) {
          n.parentId = p.id;
          addChild(p, n.id);
        }
      }
    }
    // re-parenting: the parent exited while the child ran (by time, so the
    // order in which independent exits arrive does not matter)
    for (const n of nodes) {
      const p = n.parentId !== undefined
        ? this.#byId.get(n.parentId)
        : undefined;
      if (p?.end !== undefined && (n.end === undefined || n.end > p.end)) {
        addFlag(n, "reparented");
        n.reparentedAt = p.end;
      }
    }
    markLostSpans(nodes, this.#lost, last);
    const order = (a: ProcessNode, b: ProcessNode) =>
      a.start - b.start || a.pid - b.pid ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    sortIfNeeded(nodes, order);
    const byFlag = (a: ProcessFlag, b: ProcessFlag) =>
      FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b);
    const byThread = (a: ThreadInfo, b: ThreadInfo) =>
      Number(b.main) - Number(a.main) ||
      (a.start ?? -Infinity) - (b.start ?? -Infinity) || a.tid - b.tid;
    for (const n of nodes) {
      if (n.flags.length > 1) n.flags.sort(byFlag);
      if (n.children.length > 1) {
        const kids = n.children.map((id) => this.#byId.get(id)!);
        if (sortIfNeeded(kids, order)) n.children = kids.map((c) => c.id);
      }
      if (n.threads.length > 1) sortIfNeeded(n.threads, byThread);
    }
    this.#problems.sort((a, b) =>
      a.t - b.t || a.pid - b.pid || a.tid - b.tid ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
    );
    this.#lost.sort((a, b) =>
      a.from - b.from || a.to - b.to ||
      (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0) ||
      a.count - b.count
    );
    const counts: Forest["counts"] = this.#counts.sortedKinds();
    return {
      meta: this.meta,
      processes: nodes,
      roots: nodes.filter((n) => n.parentId === undefined).map((n) => n.id),
      byId: this.#byId,
      lost: this.#lost,
      problems: this.#problems,
      counts,
      events: this.#events,
      ...(this.#first !== undefined ? { first: this.#first } : {}),
      ...(this.#last !== undefined ? { last: this.#last } : {}),
    };
  }

  #create(event: ProcessCreate | ProcessSnapshot): void {
    const t = event.t;
    const old = this.#alive(event.pid);
    if (old !== undefined) {
      // the pid was reused before the old process's exit was seen
      addFlag(old.node, "exit-missing");
      this.#retire(old);
    }
    let id = processId(this.meta.bootId, event.pid, event.start);
    for (let n = 2; this.#byId.has(id); n++) {
      // a duplicate identity (damaged or replayed input): keep both
      id = processId(this.meta.bootId, event.pid, event.start) + `#${n}`;
    }
    const snapshot = event.kind === "process_snapshot";
    const creatorPid = snapshot ? undefined : event.creatorPid;
    const node = newNode(id, event.pid, event.start, event.ppid);
    node.threads.push(
      newThread(
        event.tid,
        event.start,
        true,
        false,
        creatorPid,
        creatorPid !== undefined
          ? (event as ProcessCreate).creatorTid
          : undefined,
      ),
    );
    if (snapshot) addFlag(node, "existing-before-recording");
    if (event.info) {
      node.execs.push(
        execStep(t, snapshot ? "snapshot" : "create", event.info),
      );
      applyInfo(node, event.info);
    }
    if (event.guid !== undefined) node.guid = event.guid;
    if (!snapshot) {
      const c = event as ProcessCreate;
      if (c.parentGuid !== undefined) node.parentGuid = c.parentGuid;
      if (c.denied) addFlag(node, "denied");
      node.creatorPid = c.creatorPid;
      if (c.creatorPid !== 0 && c.creatorPid !== c.ppid) {
        addFlag(node, "parent-differs-from-creator");
      }
      const creator = this.#alive(c.creatorPid);
      if (creator) {
        node.creatorId = creator.node.id;
        creator.activity = Math.max(creator.activity, t);
      }
    }
    const byGuid = !snapshot && event.parentGuid !== undefined
      ? this.#liveByGuid.get(event.parentGuid)
      : undefined;
    const parent = byGuid ??
      (event.ppid !== event.pid ? this.#alive(event.ppid) : undefined);
    const told = event.info !== undefined &&
      (event.info.image !== undefined || event.info.argv !== undefined ||
        event.info.cmdline !== undefined);
    if (!told && !snapshot && this.meta.os === "linux") {
      // a fork without exec runs its parent's image
      const from = (event as ProcessCreate).creatorPid === event.ppid
        ? parent
        : this.#alive((event as ProcessCreate).creatorPid) ?? parent;
      const img = from?.node;
      if (img && (img.image !== undefined || img.argv !== undefined)) {
        const last = img.execs[img.execs.length - 1];
        node.execs.push({
          t,
          via: "fork",
          image: img.image,
          argv: img.argv,
          cmdline: undefined,
          argvTruncated: undefined,
          from: last ? last.from : {},
        });
        if (img.image !== undefined) node.image = img.image;
        if (img.argv !== undefined) node.argv = img.argv;
        if (node.comm === undefined && img.comm !== undefined) {
          node.comm = img.comm;
        }
      }
    }
    if (parent) {
      node.parentId = parent.node.id;
      addChild(parent.node, id);
      parent.activity = Math.max(parent.activity, t);
      if (event.start < parent.node.start) {
        this.#problem(
          event,
          "child-before-parent",
          `process ${event.pid} starts at ${event.start}, before its parent ${parent.node.pid} (start ${parent.node.start})`,
        );
      }
    }
    const state: State = {
      node,
      byTid: undefined,
      activity: t,
      dead: false,
    };
    this.#setPid(event.pid, state);
    this.#byId.set(id, node);
    if (node.guid !== undefined) this.#liveByGuid.set(node.guid, state);
  }

  /** The running process with this pid. */
  #alive(pid: number): State | undefined {
    // most events in a burst are of one process: remember the last lookup
    let s: State | undefined;
    if (pid === this.#lastPid) s = this.#lastState;
    else {
      s = this.#pids.get(pid);
      this.#lastPid = pid;
      this.#lastState = s;
    }
    return s !== undefined && !s.dead ? s : undefined;
  }

  /** The last pid looked up in `#pids` and what it found (a cache). */
  #lastPid = -1;
  #lastState: State | undefined;

  /** Sets the latest process of a pid (keeping the cache right). */
  #setPid(pid: number, state: State): void {
    this.#pids.set(pid, state);
    if (pid === this.#lastPid) this.#lastState = state;
  }

  #liveOrImplicit(pid: number, t: number): State {
    return this.#alive(pid) ?? this.#implicit(pid, t);
  }

  /** A process first seen through an event other than its creation. */
  #implicit(pid: number, t: number): State {
    let id = processId(this.meta.bootId, pid, t);
    for (let n = 2; this.#byId.has(id); n++) {
      id = processId(this.meta.bootId, pid, t) + `#${n}`;
    }
    const node = newNode(id, pid, t, 0);
    addFlag(node, "seen-without-create");
    const state: State = { node, byTid: undefined, activity: t, dead: false };
    this.#setPid(pid, state);
    this.#byId.set(id, node);
    return state;
  }

  #exit(s: State, t: number, status: number, unknown: boolean): void {
    const node = s.node;
    node.end = t;
    // decoded once per distinct status; nodes share the (read-only) result
    const key = unknown ? -1 : status;
    let exit = this.#exits.get(key);
    if (exit === undefined) {
      exit = decodeExitStatus(status, this.meta.os, unknown);
      if (this.#exits.size < 4096) this.#exits.set(key, exit);
    }
    node.exit = exit;
    if (t < node.start) {
      this.#problems.push({
        t,
        pid: node.pid,
        tid: node.pid,
        type: "exit-before-start",
        message:
          `process ${node.pid} exits at ${t}, before its start ${node.start}`,
      });
    }
    classifyThreads(node, t, s.activity);
    this.#retire(s);
  }

  #retire(s: State): void {
    if (s.node.guid !== undefined) this.#liveByGuid.delete(s.node.guid);
    s.dead = true;
    s.byTid = undefined;
  }

  #problem(
    event: ProcEvent,
    type: AnalysisProblem["type"],
    message: string,
  ): void {
    this.#problems.push({
      t: event.t,
      pid: event.pid,
      tid: event.tid,
      type,
      message,
    });
  }
}

function execStep(
  t: number,
  via: ExecStep["via"],
  info: ProcessInfo,
): ExecStep {
  const step: ExecStep = {
    t,
    via,
    image: info.image,
    argv: info.argv,
    cmdline: info.cmdline,
    argvTruncated: info.argvTruncated ? true : undefined,
    from: info.from,
  };
  const src = info as unknown as Record<string, unknown>;
  const dst = step as unknown as Record<string, unknown>;
  for (const k of IDENTITY_FIELDS) if (src[k] !== undefined) dst[k] = src[k];
  return step;
}

function applyInfo(node: ProcessNode, info: ProcessInfo): void {
  // an exec replaces the image: what the new image did not say is unknown
  // (fields stay on the object, undefined: JSON leaves them out, and every
  // node keeps one shape)
  node.image = info.image;
  node.argv = info.argv;
  node.cmdline = info.cmdline;
  if (info.comm !== undefined) node.comm = info.comm;
}

/** A process node with every field present, so all nodes share one shape. */
function newNode(
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
    execs: [],
    image: undefined,
    argv: undefined,
    cmdline: undefined,
    comm: undefined,
    exit: undefined,
    threads: [],
    flags: NONE,
    reparentedAt: undefined,
    guid: undefined,
    parentGuid: undefined,
  };
}

/** A thread with every field present. */
function newThread(
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
 * The empty list most processes have for children and flags, shared and
 * frozen (one array less per process; a stray push throws).
 */
const NONE = Object.freeze([]) as unknown as never[];

function addChild(node: ProcessNode, id: string): void {
  if (node.children === NONE) node.children = [id];
  else node.children.push(id);
}

function addFlag(node: ProcessNode, flag: ProcessFlag): void {
  if (node.flags === NONE) node.flags = [flag];
  else if (!node.flags.includes(flag)) node.flags.push(flag);
}

/** Sorts in place unless already in order; says whether it sorted. */
function sortIfNeeded<T>(a: T[], cmp: (x: T, y: T) => number): boolean {
  for (let i = 1; i < a.length; i++) {
    if (cmp(a[i - 1], a[i]) > 0) {
      a.sort(cmp);
      return true;
    }
  }
  return false;
}

const SCAN_THREADS = 8;

function findThread(s: State, tid: number): ThreadInfo | undefined {
  if (s.byTid) return s.byTid.get(tid);
  const ths = s.node.threads;
  for (let i = ths.length - 1; i >= 0; i--) {
    if (ths[i].tid === tid) return ths[i];
  }
  return undefined;
}

function addThread(s: State, th: ThreadInfo): void {
  s.node.threads.push(th);
  if (s.byTid) s.byTid.set(th.tid, th);
  else if (s.node.threads.length > SCAN_THREADS) {
    // a later thread with a reused tid replaces an earlier one, as on a scan
    s.byTid = new Map(s.node.threads.map((x) => [x.tid, x]));
  }
}

/** Classifies the exits of a process's threads once the process has exited. */
function classifyThreads(
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

/** Flags processes whose lifetime overlaps a lost span. */
function markLostSpans(
  nodes: ProcessNode[],
  spans: LostSpan[],
  last: number,
): void {
  if (spans.length === 0) return;
  const sorted = [...spans].sort((a, b) => a.from - b.from);
  const maxTo: number[] = [];
  let m = -Infinity;
  for (const s of sorted) {
    m = Math.max(m, s.to);
    maxTo.push(m);
  }
  for (const n of nodes) {
    const end = n.end ?? Math.max(last, n.start);
    // spans with from <= end
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].from <= end) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && maxTo[lo - 1] >= n.start) addFlag(n, "in-lost-span");
  }
}
