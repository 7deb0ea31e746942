/**
 * What an exporter must remember of the processes alive at a point of the
 * stream, so that an exit or a child can name its process or parent: memory
 * proportional to the live processes, never to the events.
 *
 * @module
 */
import type { ProcessInfo, ProcEvent } from "../events/types.ts";
import { processId } from "../analysis/process_id.ts";

/**
 * How many ended processes {@link ProcessTable.holderAt} remembers, besides
 * those of the pids {@link ProcessTable.watch}ed: the latest to end.
 */
export const MAX_ENDED_KEPT = 8192;
/** How many ended processes of one pid it remembers at most. */
export const MAX_ENDED_PER_PID = 16;

/** A process as an exporter describes it. */
export interface ProcessView {
  /** Its parent, as far as known (kept for the documents of its execs and exit). */
  parent?: ProcessView;
  /** Sysmon ProcessGuid when the source gave one, else procrec's process id. */
  entityId: string;
  pid: number;
  /** ns since the time base. */
  start: number;
  info?: ProcessInfo;
}

/** What names a process that held a pid ({@link ProcessTable.holderAt}). */
export type ProcessHolder = Pick<ProcessView, "entityId" | "pid" | "start">;

/** The process an event is about and its parent, as far as known. */
export interface EventContext {
  self: ProcessView;
  parent?: ProcessView;
}

/**
 * Tracks live processes through a stream of events in order.
 *
 * @example
 * ```ts
 * import { ProcessTable } from "./process_table.ts";
 * const table = new ProcessTable("boot");
 * table.observe({ kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *   creatorPid: 1, creatorTid: 1, start: 0, info: { image: "/bin/sh", from: {} } });
 * const ctx = table.observe({ kind: "process_exit", t: 9, pid: 5, tid: 5, status: 0 });
 * if (ctx?.self.info?.image !== "/bin/sh" || ctx.self.start !== 0) throw new Error();
 * if (table.size !== 0) throw new Error("exited processes are forgotten");
 * ```
 */
export class ProcessTable {
  #live = new Map<number, ProcessView>();
  #byGuid = new Map<string, ProcessView>();
  #guidOf = new WeakMap<ProcessView, string>();
  /**
   * The processes that ended lately, by pid, in the order they ended
   * (at most {@link MAX_ENDED_PER_PID} each): what names them only (their
   * texts and parents are let go).
   */
  #ended = new Map<number, ProcessHolder[]>();
  /** The latest {@link MAX_ENDED_KEPT} of them to end, oldest first (from `#endedHead`). */
  #endedQueue: ProcessHolder[] = [];
  #endedHead = 0;
  /** Those of `#ended` still in `#endedQueue`. */
  #queued = new Set<ProcessHolder>();
  /** The pids watched, with how many times each. */
  #watched = new Map<number, number>();
  /** Decisions whose process could not be told (see {@link unsettled}). */
  #unsettled = new WeakSet<ProcEvent>();

  constructor(readonly bootId: string) {}

  /** Processes alive now. */
  get size(): number {
    return this.#live.size;
  }

  /**
   * Updates the table with `event` and returns its process and parent; for
   * events that are not about a process's lifecycle, `undefined`.
   */
  observe(event: ProcEvent): EventContext | undefined {
    switch (event.kind) {
      case "process_create":
      case "process_snapshot": {
        const parentGuid = event.kind === "process_create"
          ? event.parentGuid
          : undefined;
        let parent = parentGuid !== undefined
          ? this.#byGuid.get(parentGuid.toLowerCase())
          : undefined;
        if (parent === undefined && event.ppid !== event.pid) {
          parent = this.#live.get(event.ppid);
        }
        if (parent === undefined && parentGuid !== undefined) {
          parent = { entityId: parentGuid, pid: event.ppid, start: NaN };
        }
        const self: ProcessView = {
          entityId: event.guid ??
            processId(this.bootId, event.pid, event.start),
          pid: event.pid,
          start: event.start,
        };
        if (event.info) self.info = event.info;
        if (parent) self.parent = parent;
        // (a holder of the pid whose exit was not seen ended by now)
        this.#forget(this.#live.get(event.pid));
        this.#live.set(event.pid, self);
        if (event.guid !== undefined) {
          this.#byGuid.set(event.guid.toLowerCase(), self);
          this.#guidOf.set(self, event.guid.toLowerCase());
        }
        return parent ? { self, parent } : { self };
      }
      case "exec": {
        const self = this.#live.get(event.pid) ??
          this.#implicit(event.pid, event.t);
        self.info = event.info;
        return self.parent ? { self, parent: self.parent } : { self };
      }
      case "process_exit": {
        const self =
          (event.guid !== undefined
            ? this.#byGuid.get(event.guid.toLowerCase())
            : undefined) ??
            this.#live.get(event.pid) ??
            {
              entityId: event.guid ??
                processId(this.bootId, event.pid, event.t),
              pid: event.pid,
              start: NaN,
            };
        this.#forget(self);
        return self.parent ? { self, parent: self.parent } : { self };
      }
      default:
        return undefined;
    }
  }

  /**
   * The process that held this pid at time `t`, as the analysis attaches an
   * exec rule's decision (which names its process by pid): of the running
   * one and those of the pid that ended lately, the latest that started by
   * `t` (the first to end of those that started at that time). The ended
   * ones are the latest {@link MAX_ENDED_KEPT} to end, and every one of a
   * pid {@link watch}ed when it ended until it is no longer watched
   * (`DecisionSettler` of settle_decisions.ts watches the pids of the
   * decisions it holds back, until the exits before them have come).
   */
  holderAt(pid: number, t: number): ProcessHolder | undefined {
    let best: ProcessHolder | undefined;
    const consider = (v: ProcessHolder) => {
      if (v.start <= t && (best === undefined || v.start > best.start)) {
        best = v;
      }
    };
    for (const v of this.#ended.get(pid) ?? []) consider(v);
    const live = this.#live.get(pid);
    if (live !== undefined) consider(live);
    return best;
  }

  /** Keeps every process of `pid` that ends from now on, until {@link unwatch}. */
  watch(pid: number): void {
    this.#watched.set(pid, (this.#watched.get(pid) ?? 0) + 1);
  }

  /** Undoes one {@link watch}; the pid's ended processes then go as any. */
  unwatch(pid: number): void {
    const n = this.#watched.get(pid) ?? 0;
    if (n > 1) {
      this.#watched.set(pid, n - 1);
      return;
    }
    this.#watched.delete(pid);
    // those kept only because it was watched go now
    const list = this.#ended.get(pid);
    if (list === undefined) return;
    const kept = list.filter((h) => this.#queued.has(h));
    if (kept.length > 0) this.#ended.set(pid, kept);
    else this.#ended.delete(pid);
  }

  /** Marks a decision whose process could not be told: it names none. */
  markUnsettled(decision: ProcEvent): void {
    this.#unsettled.add(decision);
  }

  /** Whether {@link markUnsettled} marked this decision. */
  unsettled(decision: ProcEvent): boolean {
    return this.#unsettled.has(decision);
  }

  #implicit(pid: number, t: number): ProcessView {
    const v: ProcessView = {
      entityId: processId(this.bootId, pid, t),
      pid,
      start: t,
    };
    this.#live.set(pid, v);
    return v;
  }

  #forget(v: ProcessView | undefined): void {
    if (v === undefined) return;
    if (this.#live.get(v.pid) === v) this.#live.delete(v.pid);
    const key = this.#guidOf.get(v);
    if (key !== undefined && this.#byGuid.get(key) === v) {
      this.#byGuid.delete(key);
    }
    // kept a while for the decisions about it that come after its exit
    const holder = { entityId: v.entityId, pid: v.pid, start: v.start };
    // (a start that does not compare is never a holder)
    if (!(holder.start === holder.start)) return;
    const list = this.#ended.get(v.pid);
    if (list === undefined) this.#ended.set(v.pid, [holder]);
    else {
      list.push(holder);
      if (list.length > MAX_ENDED_PER_PID) list.shift();
    }
    this.#endedQueue.push(holder);
    this.#queued.add(holder);
    const q = this.#endedQueue;
    while (q.length - this.#endedHead > MAX_ENDED_KEPT) {
      const old = q[this.#endedHead++];
      this.#queued.delete(old);
      if (this.#watched.has(old.pid)) continue;
      const of = this.#ended.get(old.pid);
      const at = of?.indexOf(old) ?? -1;
      if (at < 0) continue; // (gone past the pid's own bound)
      of!.splice(at, 1);
      if (of!.length === 0) this.#ended.delete(old.pid);
    }
    if (this.#endedHead > 4096 && this.#endedHead * 2 > q.length) {
      q.splice(0, this.#endedHead);
      this.#endedHead = 0;
    }
  }
}
