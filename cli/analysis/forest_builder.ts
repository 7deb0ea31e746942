import { EventCounts } from "../events/event_counts.ts";
import type {
  CommChange,
  Exec,
  ExecAudited,
  ExecDenied,
  ImageHash,
  ImageLoad,
  Lost,
  ProcessCreate,
  ProcessExit,
  ProcessInfo,
  ProcessSnapshot,
  ProcEvent,
  ThreadCreate,
  ThreadExit,
} from "../events/types.ts";
import { decodeExitStatus } from "./decode_exit_status.ts";
import type {
  AnalysisProblem,
  ExecDecision,
  ExecStep,
  ExitStatus,
  Forest,
  ForestMeta,
  ForestOptions,
  LostSpan,
  ProcessNode,
} from "./forest.ts";
import {
  addChild,
  addExec,
  addFlag,
  classifyThreads,
  newNode,
  newThread,
  NONE,
  TEARDOWN_WINDOW_NS,
  ThreadsByTid,
  ThreadTallies,
} from "./_forest_nodes.ts";
import {
  classifyRunningThreadExits,
  linkSnapshots,
  markEndLost,
  markLostSpans,
  markReparented,
  processOrder,
  sortForest,
  sortLostSpans,
  sortProblems,
} from "./_forest_passes.ts";
import { processId } from "./process_id.ts";
import { PidTable } from "./_pid_table.ts";
import { IDENTITY_FIELDS } from "./forest.ts";
import type { AccountNames } from "./process_identity.ts";

export { TEARDOWN_WINDOW_NS };

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
  /**
   * The latest process of each pid, running or ended: its number (its place
   * in {@link #nodes}).
   */
  #pids = new PidTable<number>();
  /** Every process so far, in the order seen (the index by id is made at the end). */
  #nodes: ProcessNode[] = [];
  // what the builder keeps of each process besides its node, by number (no
  // object per process)
  /** The parent's number, or -1 when it is not known. */
  #parentOf = new Int32Array(1024);
  /** The latest t of an event that shows the process doing something. */
  #activity = new Float64Array(1024);
  /** 1 once its exit was seen (or a new process took its pid). */
  #dead = new Uint8Array(1024);
  /** The number of the child added last (to tell whether its children come in order), or -1. */
  #lastChild = new Int32Array(1024);
  /** The number of the process that held its pid before it, or -1. */
  #samePidBefore = new Int32Array(1024);
  /** Threads by tid of the running processes that have many. */
  #byTid = new ThreadsByTid();
  /**
   * The name that flagged a process `comm-not-utf8`, by its number: an
   * exec that then names the process the same (eBPF reports the rename an
   * exec makes as a comm event of its own) takes the flag back, and a fork
   * that runs under it has it too.
   */
  #commFlaggedBy = new Map<number, string>();
  /** Of those, the processes that have the flag from their parent (a fork): an exec renames them, and takes it back. */
  #commInherited = new Set<number>();
  /** Processes whose children were not added in the forest's order. */
  #unsortedKids = new Set<ProcessNode>();
  /** The numbers of the snapshots, in order. */
  #snapshots: number[] = [];
  /** Every process so far came after the one before in the forest's order. */
  #inOrder = true;
  /** Every start so far is a safe integer and every pid a 32-bit unsigned one. */
  #searchable = true;
  /**
   * The ids given to each pid seen more than once (a reused pid's new id is
   * checked against them), by pid.
   */
  #reusedIds = new Map<number, string[]>();
  /** Every id so far, once a pid that is not a 32-bit unsigned integer was seen (ids of two pids may then be equal). */
  #allIds: Set<string> | undefined;
  /** The running processes with a guid, by guid: their numbers. */
  #liveByGuid = new Map<string, number>();
  #exits = new Map<number, ExitStatus>();
  /** The status decoded last (a key of `#exits`) and its decoding. */
  #lastExitKey = NaN;
  #lastExit: ExitStatus | undefined;
  #lost: LostSpan[] = [];
  #problems: AnalysisProblem[] = [];
  #counts = new EventCounts();
  /** Events of the {@link COUNTED_KINDS}, by kind (not yet in `#counts`). */
  #kindCounts = new Float64Array(COUNTED_KINDS.length);
  #events = 0;
  #first: number | undefined;
  #last: number | undefined;
  #accounts: AccountNames | undefined;
  #finished = false;
  /**
   * Exec rule decisions not attached yet: the enforcer reports a decision
   * at once, so it can precede, in the stream, the creation of the process
   * it is about (which the kernel source delivers later).
   */
  #pendingDecisions: (ExecDenied | ExecAudited)[] = [];

  /** {@link ForestOptions.detail}. */
  readonly #detail: "full" | "processes" | "tree";
  /** `detail: "tree"`: no exec steps kept. */
  readonly #tree: boolean;
  /** `detail: "processes"` or `"tree"`: the threads of ended processes counted, not kept. */
  readonly #countThreads: boolean;
  /** The counts of ended processes' threads, shared. */
  #tallies = new ThreadTallies();

  constructor(meta: ForestMeta, options: ForestOptions = {}) {
    this.meta = { os: meta.os, bootId: meta.bootId };
    this.#detail = options.detail ?? "full";
    this.#tree = this.#detail === "tree";
    this.#countThreads = this.#detail !== "full";
  }

  /**
   * The latest process with this pid so far, running or ended, as analysed
   * up to now (what `record --follow` prints an event's line from).
   */
  latest(pid: number): ProcessNode | undefined {
    const p = this.#pids.get(pid);
    return p === undefined ? undefined : this.#nodes[p];
  }

  /**
   * The `i`th process seen (0 to {@link processes} - 1), as analysed up to
   * now: `record --follow` finds a row's parents by their ids from these.
   */
  nodeAt(i: number): ProcessNode | undefined {
    return this.#nodes[i];
  }

  /** The host's account names as the latest `accounts` event gave them. */
  get accounts(): AccountNames | undefined {
    return this.#accounts;
  }

  /** Events added so far. */
  get events(): number {
    return this.#events;
  }

  /** Processes seen so far. */
  get processes(): number {
    return this.#nodes.length;
  }

  /** Feeds one event. */
  add(event: ProcEvent): void {
    if (this.#finished) {
      throw new Error("Cannot add an event to a finished ForestBuilder");
    }
    const t = event.t;
    this.#events++;
    if (this.#first === undefined || t < this.#first) this.#first = t;
    if (this.#last === undefined || t > this.#last) this.#last = t;
    // (events are counted by kind here, in numbers; other kinds by name)
    const n = this.#kindCounts;
    switch (event.kind) {
      case "process_create":
        n[K_CREATE]++;
        this.#onCreate(event);
        break;
      case "process_snapshot":
        n[K_SNAPSHOT]++;
        this.#onCreate(event);
        break;
      case "exec":
        n[K_EXEC]++;
        this.#onExec(event);
        break;
      case "comm":
        n[K_COMM]++;
        this.#onComm(event);
        break;
      case "image_load":
        n[K_IMAGE_LOAD]++;
        this.#onImageLoad(event);
        break;
      case "exec_denied":
      case "exec_audited":
        this.#counts.add(event);
        this.#onDecision(event);
        break;
      case "accounts":
        this.#counts.add(event);
        this.#accounts = {
          users: new Map(event.users),
          groups: new Map(event.groups),
        };
        break;
      case "thread_create":
        n[K_THREAD_CREATE]++;
        this.#onThreadCreate(event);
        break;
      case "thread_exit":
        n[K_THREAD_EXIT]++;
        this.#onThreadExit(event);
        break;
      case "process_exit":
        n[K_EXIT]++;
        this.#onProcessExit(event);
        break;
      case "lost":
        this.#counts.add(event);
        this.#onLost(event);
        break;
      case "image_hash":
        this.#counts.add(event);
        this.#onImageHash(event);
        break;
      default:
        this.#counts.add(event);
    }
    this.#maxBefore = this.#last;
  }

  /** The latest t before the current event. */
  #maxBefore: number | undefined;

  /**
   * Ends the analysis and returns the forest; the builder takes no more
   * events. What needs the whole history runs here, as small passes.
   */
  finish(): Forest {
    this.#finished = true;
    this.#moveStaleDecisions();
    this.#attachPending();
    // (copies: the passes sort and link them in place)
    const nodes = this.#nodes.slice();
    const parents = nodes.map((_, p) => {
      const parent = this.#parentOf[p];
      return parent < 0 ? undefined : nodes[parent];
    });
    classifyRunningThreadExits(nodes, this.#dead);
    linkSnapshots(
      nodes,
      parents,
      this.#unsortedKids,
      this.#snapshots,
      this.#parentOf,
    );
    markReparented(nodes, parents);
    markLostSpans(nodes, this.#lost, this.#last ?? 0);
    markEndLost(nodes, this.#lost, this.#last ?? 0);
    const byId = sortForest(nodes, {
      inOrder: this.#inOrder,
      searchable: this.#searchable,
      unsortedKids: this.#unsortedKids,
      unsortedThreads: this.#byTid.unsorted,
    });
    sortProblems(this.#problems);
    sortLostSpans(this.#lost);
    for (let k = 0; k < COUNTED_KINDS.length; k++) {
      if (this.#kindCounts[k] > 0) {
        this.#counts.addKind(COUNTED_KINDS[k], this.#kindCounts[k]);
      }
    }
    this.#kindCounts.fill(0);
    const counts: Forest["counts"] = this.#counts.sortedKinds();
    return {
      meta: this.meta,
      processes: nodes,
      roots: nodes.filter((n) => n.parentId === undefined).map((n) => n.id),
      byId,
      lost: this.#lost,
      problems: this.#problems,
      counts,
      events: this.#events,
      ...(this.#first !== undefined ? { first: this.#first } : {}),
      ...(this.#last !== undefined ? { last: this.#last } : {}),
      ...(this.#accounts !== undefined ? { accounts: this.#accounts } : {}),
      ...(this.#detail !== "full" ? { detail: this.#detail } : {}),
    };
  }

  /**
   * The step an `image_hash` is about: of the processes that held `pid`,
   * latest first (at most {@link MAX_PID_HOLDERS}), the latest step at `t`
   * that awaits a hash (an exec, a snapshot, a creation that names its
   * image), among each one's last {@link MAX_LATER_STEPS}; none when an
   * earlier `image_hash` answered for it (the first answer stands). Found
   * through the processes, not kept apart for each exec until its hash
   * comes: most execs of a recording made without hashes never get one.
   * The bounds keep a hash that matches nothing from scanning a long
   * history (a hash comes moments after its exec).
   */
  #awaitedStep(pid: number, t: number): ExecStep | undefined {
    let p = this.#pids.get(pid) ?? -1;
    for (let hops = 0; p >= 0 && hops < MAX_PID_HOLDERS; hops++) {
      const execs = this.#nodes[p].execs;
      const stop = Math.max(0, execs.length - MAX_LATER_STEPS);
      for (let i = execs.length - 1; i >= stop; i--) {
        const s = execs[i];
        if (!sameTime(s.t, t) || !awaitsHash(s)) continue;
        return this.#answered.has(s) ? undefined : s;
      }
      p = this.#samePidBefore[p];
    }
    return undefined;
  }

  /** The steps an `image_hash` answered for (a later one changes nothing). */
  #answered = new WeakSet<ExecStep>();

  /** The hash worker's answer for an exec or snapshot: onto its step. */
  #onImageHash(e: ImageHash): void {
    const step = this.#tree ? undefined : this.#awaitedStep(e.pid, e.execT);
    if (step === undefined) return; // its exec is not in this recording (or filtered out)
    this.#answered.add(step);
    if (e.status === "ok" && e.sha256 !== undefined) {
      step.sha256 = e.sha256;
      delete step.hashState;
      delete step.hashReason;
      if (e.cached) step.hashCached = true;
    } else if (e.status !== "ok" && step.sha256 === undefined) {
      step.hashState = e.status;
      if (e.reason !== undefined) step.hashReason = e.reason;
    }
  }

  /** An exec: the process runs a new image. */
  #onExec(e: Exec): void {
    const t = e.t;
    const p = this.#liveOrImplicit(e.pid, t);
    const node = this.#nodes[p];
    if (!this.#tree) {
      addExec(node, execStep(t, "exec", e.info, this.#accounts));
    }
    // a comm event that only told the exec's own rename: not a name the
    // process gave itself (the exec's notUtf8 says it of its comm)
    const by = this.#commFlaggedBy.get(p);
    if (
      by !== undefined && e.info.comm !== undefined &&
      (by === e.info.comm || this.#commInherited.has(p))
    ) {
      this.#commFlaggedBy.delete(p);
      this.#commInherited.delete(p);
      node.flags = node.flags.filter((f) => f !== "comm-not-utf8");
    }
    applyInfo(node, e.info);
    this.#active(p, t);
  }

  /** A new command name. */
  #onComm(e: CommChange): void {
    const t = e.t;
    const p = this.#liveOrImplicit(e.pid, t);
    const node = this.#nodes[p];
    // (the same name again, which the exec just gave it: no new name)
    if (e.notUtf8 && e.comm !== node.comm) {
      addFlag(node, "comm-not-utf8");
      this.#commFlaggedBy.set(p, e.comm);
      this.#commInherited.delete(p);
    }
    node.comm = e.comm;
    this.#active(p, t);
  }

  /** An exec rule decided about an exec of this process. */
  #onDecision(e: ExecDenied | ExecAudited): void {
    const p = this.#alive(e.pid);
    if (p < 0 || this.#nodes[p].start > e.t) {
      this.#pendingDecisions.push(e);
      return;
    }
    this.#attach(this.#nodes[p], e);
    this.#active(p, e.t);
  }

  /** An image loaded: the process is active. */
  #onImageLoad(e: ImageLoad): void {
    const p = this.#alive(e.pid);
    if (p >= 0) this.#active(p, e.t);
  }

  /** A thread starts (a reused tid after an exit is a new thread). */
  #onThreadCreate(e: ThreadCreate): void {
    const t = e.t;
    const p = this.#liveOrImplicit(e.pid, t);
    const node = this.#nodes[p];
    let th = this.#byTid.find(p, node, e.tid);
    // a tid that ended before is a new thread (tids are reused)
    if (th === undefined || th.end !== undefined) {
      th = newThread(
        e.tid,
        t,
        node.threads.length === 0 && e.tid === e.pid,
        // the source decides (a Windows process's first thread is made by
        // its creator and is not remote); recordings without its verdict
        // fall back to "made by another process"
        e.remote ?? (e.creatorPid !== 0 && e.creatorPid !== e.pid),
      );
      this.#byTid.add(p, node, th);
    }
    th.creatorPid = e.creatorPid;
    th.creatorTid = e.creatorTid;
    this.#active(p, t);
    // (a thread created in its own process is the common case: c is p)
    if (e.creatorPid !== e.pid) {
      const c = this.#alive(e.creatorPid);
      if (c >= 0 && c !== p) this.#active(c, t);
    }
  }

  /** A thread ends (after its process's exit: a problem). */
  #onThreadExit(e: ThreadExit): void {
    const t = e.t;
    let p = this.#alive(e.pid);
    if (p < 0) {
      const dead = this.latest(e.pid);
      if (dead !== undefined && dead.end !== undefined && dead.end <= t) {
        this.#problem(
          e,
          "thread-exit-after-process-exit",
          `thread ${e.tid} of process ${e.pid} exits at ${t} after its process exited at ${dead.end}`,
        );
        const th = dead.threads.find((x) => x.tid === e.tid);
        if (th && th.end === undefined) {
          th.end = t;
          th.status = e.status;
        }
        return;
      }
      p = this.#implicit(e.pid, t);
    }
    const node = this.#nodes[p];
    let th = this.#byTid.find(p, node, e.tid);
    if (th === undefined) {
      th = newThread(
        e.tid,
        undefined,
        node.threads.length === 0 && e.tid === e.pid,
        false,
      );
      this.#byTid.add(p, node, th);
    }
    th.end = t;
    th.status = e.status;
    if (e.processExiting !== undefined) {
      th.processExiting = e.processExiting;
    }
  }

  /** A process ends (unseen before: a problem, and an implicit process). */
  #onProcessExit(e: ProcessExit): void {
    const t = e.t;
    let p = this.#alive(e.pid);
    if (p < 0) {
      this.#problem(
        e,
        "exit-without-create",
        `process ${e.pid} exits at ${t} but was never created or seen running`,
      );
      p = this.#implicit(e.pid, t);
    }
    this.#exit(p, t, e.status, e.statusUnknown === true);
    const node = this.#nodes[p];
    if (e.inferred === true) addFlag(node, "exit-inferred");
    if (e.guid !== undefined && node.guid === undefined) node.guid = e.guid;
  }

  /** Events lost: a span from the latest time before it to its time. */
  #onLost(e: Lost): void {
    const t = e.t;
    const span: LostSpan = {
      from: Math.min(this.#maxBefore ?? t, t),
      to: t,
      reason: e.reason,
      count: e.count,
      countUnknown: e.countUnknown === true,
      ...(e.cpu !== undefined ? { cpu: e.cpu } : {}),
    };
    this.#lost.push(span);
  }

  /** A process created, or running when the recording began (a snapshot). */
  #onCreate(event: ProcessCreate | ProcessSnapshot): void {
    const t = event.t;
    const old = this.#alive(event.pid);
    if (old >= 0) {
      // the pid was reused before the old process's exit was seen
      addFlag(this.#nodes[old], "exit-missing");
      this.#retire(old);
    }
    const id = this.#newId(event.pid, event.start);
    const snapshot = event.kind === "process_snapshot";
    const creatorPid = snapshot ? undefined : event.creatorPid;
    const node = newNode(id, event.pid, event.start, event.ppid);
    node.threads = [
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
    ];
    if (snapshot) addFlag(node, "existing-before-recording");
    if (event.info && !this.#tree) {
      const step = execStep(
        t,
        snapshot ? "snapshot" : "create",
        event.info,
        this.#accounts,
      );
      // (a snapshot's image, or a create's that names its image, Windows:
      // procrec.dll hashes it, awaits its hash: see awaitsHash)
      addExec(node, step);
    }
    if (event.info) applyInfo(node, event.info);
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
      if (creator >= 0) {
        node.creatorId = this.#nodes[creator].id;
        this.#active(creator, t);
      }
    }
    const byGuid = !snapshot && event.parentGuid !== undefined
      ? this.#liveByGuid.get(event.parentGuid)
      : undefined;
    const parent = byGuid ??
      (event.ppid !== event.pid ? this.#alive(event.ppid) : -1);
    const parentNode = parent >= 0 ? this.#nodes[parent] : undefined;
    const told = event.info !== undefined &&
      (event.info.image !== undefined || event.info.argv !== undefined ||
        event.info.cmdline !== undefined);
    if (!told && !snapshot && this.meta.os === "linux") {
      // a fork without exec runs its parent's image
      const creator = (event as ProcessCreate).creatorPid === event.ppid
        ? -1
        : this.#alive((event as ProcessCreate).creatorPid);
      const img = creator >= 0 ? this.#nodes[creator] : parentNode;
      if (img && (img.image !== undefined || img.argv !== undefined)) {
        if (!this.#tree) {
          const last = img.execs[img.execs.length - 1];
          // (a literal of one shape: one with a spread in it is made by a
          // slow runtime call, and every fork without exec makes one)
          const step: ExecStep = {
            t,
            via: "fork",
            image: img.image,
            argv: img.argv,
            cmdline: undefined,
            argvTruncated: undefined,
            from: last ? last.from : {},
          };
          // (the parent's texts, as flawed as they were)
          if (last?.notUtf8 !== undefined) step.notUtf8 = last.notUtf8;
          addExec(node, step);
        }
        if (img.image !== undefined) node.image = img.image;
        if (img.argv !== undefined) node.argv = img.argv;
        if (node.comm === undefined && img.comm !== undefined) {
          node.comm = img.comm;
          // (runs under the name the parent gave itself, flag and all)
          const by = this.#commFlaggedBy.get(creator >= 0 ? creator : parent);
          if (by !== undefined && by === img.comm) {
            addFlag(node, "comm-not-utf8");
            this.#commFlaggedBy.set(this.#nodes.length, by);
            this.#commInherited.add(this.#nodes.length);
          }
        }
      }
    }
    const p = this.#nodes.length;
    if (parentNode !== undefined) {
      node.parentId = parentNode.id;
      addChild(parentNode, id);
      const prev = this.#lastChild[parent];
      if (prev >= 0 && processOrder(this.#nodes[prev], node) > 0) {
        this.#unsortedKids.add(parentNode);
      }
      this.#lastChild[parent] = p;
      this.#active(parent, t);
      if (event.start < parentNode.start) {
        this.#problem(
          event,
          "child-before-parent",
          `process ${event.pid} starts at ${event.start}, before its parent ${parentNode.pid} (start ${parentNode.start})`,
        );
      }
    }
    this.#add(event.pid, node, parent, t);
    if (snapshot) this.#snapshots.push(p);
    if (node.guid !== undefined) this.#liveByGuid.set(node.guid, p);
    if (this.#pendingDecisions.length) {
      this.#pendingDecisions = this.#pendingDecisions.filter((d) => {
        if (d.pid !== event.pid || d.t < node.start) return true;
        this.#attach(node, d);
        return false;
      });
    }
  }

  /**
   * Decisions attached, as they came, to a process that had in fact ended
   * before them: the kernel source reports an exit a little after the
   * enforcer's decision, so a process that exited and whose pid a new one
   * took within that lag looked alive to a decision about the new one. They
   * go back to the pending ones, which `finish` attaches by time.
   */
  #moveStaleDecisions(): void {
    for (const { node, d, e } of this.#attached) {
      if (node.end === undefined || !(e.t > node.end)) continue;
      const left = node.decisions!.filter((x) => x !== d);
      if (left.length > 0) node.decisions = left;
      else delete node.decisions;
      this.#pendingDecisions.push(e);
    }
    this.#attached = [];
  }

  /**
   * Attaches the decisions still pending at the end: to the latest process
   * of that pid started by then (the first seen of those that started at
   * that time), else to an implicit one. The processes of each pid are
   * sorted by start once and searched by halves: a recording of many
   * decisions about pids that ended (or never started) took a pass over
   * every process for each.
   */
  #attachPending(): void {
    const pending = this.#pendingDecisions.splice(0);
    if (pending.length === 0) return;
    const byPid = new Map<number, ProcessNode[]>();
    for (const e of pending) byPid.set(e.pid, []);
    for (const n of this.#nodes) {
      // (a start that does not compare is never "started by then")
      if (n.start === n.start) byPid.get(n.pid)?.push(n);
    }
    // (stable: among equal starts, the order seen)
    for (const list of byPid.values()) list.sort((a, b) => a.start - b.start);
    for (const e of pending) {
      const list = byPid.get(e.pid)!;
      // the first place whose start is after e.t
      let lo = 0, hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (list[mid].start <= e.t) lo = mid + 1;
        else hi = mid;
      }
      let at = lo - 1;
      while (at > 0 && list[at - 1].start === list[at].start) at--;
      if (at >= 0) {
        addDecision(list[at], e);
        continue;
      }
      const made = this.#nodes.length;
      const n = this.#nodes[this.#liveOrImplicit(e.pid, e.t)];
      addDecision(n, e);
      // (an implicit process made here is a holder for the decisions after)
      if (this.#nodes.length > made && n.start === n.start) {
        let i = list.length;
        while (i > 0 && list[i - 1].start > n.start) i--;
        list.splice(i, 0, n);
      }
    }
  }

  /** Each decision attached as it came: its process, its form there and its event. */
  #attached: {
    node: ProcessNode;
    d: ExecDecision;
    e: ExecDenied | ExecAudited;
  }[] = [];

  /** Attaches a decision to `node` as it comes (see {@link #moveStaleDecisions}). */
  #attach(node: ProcessNode, e: ExecDenied | ExecAudited): void {
    this.#attached.push({ node, d: addDecision(node, e), e });
  }

  /** The number of the running process with this pid, or -1. */
  #alive(pid: number): number {
    // most events in a burst are of one process: remember the last lookup
    let p: number;
    if (pid === this.#lastPid) p = this.#lastP;
    else {
      p = this.#pids.get(pid) ?? -1;
      this.#lastPid = pid;
      this.#lastP = p;
    }
    return p >= 0 && this.#dead[p] === 0 ? p : -1;
  }

  /** The last pid looked up in `#pids` and what it found, or -1 (a cache). */
  #lastPid = -1;
  #lastP = -1;

  /** The process is active at `t`. */
  #active(p: number, t: number): void {
    this.#activity[p] = Math.max(this.#activity[p], t);
  }

  /**
   * Adds a new running process, the latest of its pid, active at `t`, with
   * its parent's number (or -1).
   */
  #add(pid: number, node: ProcessNode, parent: number, t: number): number {
    const p = this.#nodes.length;
    if (p === this.#activity.length) {
      const n = p * 2;
      const parentOf = new Int32Array(n), lastChild = new Int32Array(n);
      const activity = new Float64Array(n), dead = new Uint8Array(n);
      const samePidBefore = new Int32Array(n);
      parentOf.set(this.#parentOf);
      lastChild.set(this.#lastChild);
      samePidBefore.set(this.#samePidBefore);
      this.#samePidBefore = samePidBefore;
      activity.set(this.#activity);
      dead.set(this.#dead);
      this.#parentOf = parentOf;
      this.#lastChild = lastChild;
      this.#activity = activity;
      this.#dead = dead;
    }
    if (p > 0 && processOrder(this.#nodes[p - 1], node) > 0) {
      this.#inOrder = false;
    }
    if (!Number.isSafeInteger(node.start) || pid >>> 0 !== pid) {
      this.#searchable = false;
    }
    this.#nodes.push(node);
    this.#parentOf[p] = parent;
    this.#lastChild[p] = -1;
    this.#activity[p] = t;
    this.#dead[p] = 0;
    this.#samePidBefore[p] = this.#pids.get(pid) ?? -1;
    this.#pids.set(pid, p);
    // (keeping the cache right)
    if (pid === this.#lastPid) this.#lastP = p;
    return p;
  }

  #liveOrImplicit(pid: number, t: number): number {
    const p = this.#alive(pid);
    return p >= 0 ? p : this.#implicit(pid, t);
  }

  /**
   * The id of a new process: {@link processId}, with `#2`, `#3`... when a
   * process already has it (damaged or replayed input: both are kept). Two
   * ids are equal only if their pids are equal as 32-bit numbers, so while
   * every pid so far was a 32-bit unsigned integer, a pid never seen before
   * gives a new id without looking it up among all the ids.
   */
  #newId(pid: number, start: number): string {
    const base = processId(this.meta.bootId, pid, start);
    if (pid >>> 0 !== pid && this.#allIds === undefined) {
      // from now on an id may equal one of another pid: keep them all
      this.#allIds = new Set();
      for (const n of this.#nodes) this.#allIds.add(n.id);
    }
    let id = base;
    const all = this.#allIds;
    if (all !== undefined) {
      for (let n = 2; all.has(id); n++) id = base + `#${n}`;
      all.add(id);
      return id;
    }
    const prior = pid === this.#lastPid
      ? this.#lastP
      : this.#pids.get(pid) ?? -1;
    if (prior < 0) return base;
    // a reused pid: its id can only equal an earlier id of the same pid
    let ids = this.#reusedIds.get(pid);
    if (ids === undefined) {
      // its first reuse: the one process of that pid so far is the prior
      ids = [this.#nodes[prior].id];
      this.#reusedIds.set(pid, ids);
    }
    for (let n = 2; ids.includes(id); n++) id = base + `#${n}`;
    ids.push(id);
    return id;
  }

  /** A process first seen through an event other than its creation. */
  #implicit(pid: number, t: number): number {
    const id = this.#newId(pid, t);
    const node = newNode(id, pid, t, 0);
    addFlag(node, "seen-without-create");
    return this.#add(pid, node, -1, t);
  }

  #exit(p: number, t: number, status: number, unknown: boolean): void {
    const node = this.#nodes[p];
    node.end = t;
    // decoded once per distinct status; nodes share the (read-only) result
    const key = unknown ? -1 : status;
    // (most exits have the status of the exit before)
    let exit = key === this.#lastExitKey ? this.#lastExit : undefined;
    if (exit === undefined) {
      exit = this.#exits.get(key);
      if (exit === undefined) {
        exit = decodeExitStatus(status, this.meta.os, unknown);
        if (this.#exits.size < 4096) this.#exits.set(key, exit);
      }
      this.#lastExitKey = key;
      this.#lastExit = exit;
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
    classifyThreads(node, t, this.#activity[p]);
    if (this.#countThreads) {
      // (only their counts are kept: the tid map forgets them below)
      node.endedThreads = this.#tallies.of(node.threads);
      node.threads = NONE;
    }
    this.#retire(p);
  }

  #retire(p: number): void {
    const guid = this.#nodes[p].guid;
    if (guid !== undefined) this.#liveByGuid.delete(guid);
    this.#dead[p] = 1;
    this.#byTid.drop(p);
    this.#lastChild[p] = -1;
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

/** The kinds of the most frequent events, counted by number in `add`. */
const COUNTED_KINDS = [
  "process_create",
  "process_snapshot",
  "exec",
  "comm",
  "image_load",
  "thread_create",
  "thread_exit",
  "process_exit",
] as const;
const K_CREATE = 0;
const K_SNAPSHOT = 1;
const K_EXEC = 2;
const K_COMM = 3;
const K_IMAGE_LOAD = 4;
const K_THREAD_CREATE = 5;
const K_THREAD_EXIT = 6;
const K_EXIT = 7;

/**
 * Processes of one pid, latest first, that an `image_hash` is looked for in
 * at most (a hash comes moments after its exec, not after the pid was taken
 * again that many times).
 */
const MAX_PID_HOLDERS = 32;
/** Steps of each of those processes, latest first, looked at at most. */
const MAX_LATER_STEPS = 64;

/** Equal times (NaN equal to NaN, as a key made of them was). */
function sameTime(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/**
 * A step whose image's hash may come: an exec's, a snapshot's, a
 * creation's that names its image (Windows); not a fork's (its parent's).
 */
function awaitsHash(s: ExecStep): boolean {
  return s.via === "exec" || s.via === "snapshot" ||
    (s.via === "create" && s.image !== undefined);
}

const IDENTITY_SET: ReadonlySet<string> = new Set(IDENTITY_FIELDS);

function execStep(
  t: number,
  via: ExecStep["via"],
  info: ProcessInfo,
  names: AccountNames | undefined,
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
  // (most infos carry none of these fields: their own few keys say so)
  let any = false;
  for (const k in src) {
    if (IDENTITY_SET.has(k) && src[k] !== undefined) {
      any = true;
      break;
    }
  }
  if (any) {
    // in IDENTITY_FIELDS order (the order JSON shows them in)
    for (const k of IDENTITY_FIELDS) if (src[k] !== undefined) dst[k] = src[k];
  }
  // names as the host had them at this moment
  if (names) {
    const u = info.uid !== undefined ? names.users.get(info.uid) : undefined;
    const eu = info.euid !== undefined ? names.users.get(info.euid) : undefined;
    const g = info.gid !== undefined ? names.groups.get(info.gid) : undefined;
    if (u !== undefined) step.userName = u;
    if (eu !== undefined && info.euid !== info.uid) {
      step.effectiveUserName = eu;
    }
    if (g !== undefined) step.groupName = g;
  }
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

/** Adds an exec rule decision to a process. */
function addDecision(
  node: ProcessNode,
  e: ExecDenied | ExecAudited,
): ExecDecision {
  const d: ExecDecision = {
    t: e.t,
    action: e.kind === "exec_denied" ? "denied" : "audited",
    rule: e.rule,
    image: e.image,
    ...(e.argv ? { argv: e.argv } : {}),
    ...(e.kind === "exec_audited" && e.exempt ? { exempt: true } : {}),
    ...(e.byContent ? { byContent: true } : {}),
    ...(e.notUtf8 ? { notUtf8: e.notUtf8 } : {}),
  };
  (node.decisions ??= []).push(d);
  node.decisions.sort((a, b) => a.t - b.t);
  return d;
}
