/**
 * What an exporter must remember of the processes alive at a point of the
 * stream, so that an exit or a child can name its process or parent: memory
 * proportional to the live processes, never to the events.
 *
 * @module
 */
import type { ProcessInfo, ProcEvent } from "../events/types.ts";
import { processId } from "../analysis/process_id.ts";

/** How long (ns of event time) an ended process is kept for {@link ProcessTable.holderAt}. */
export const ENDED_KEPT_NS = 10_000_000_000;
/** How many ended processes are kept at most for {@link ProcessTable.holderAt}. */
export const MAX_ENDED_KEPT = 8192;

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
   * The processes that ended lately, by pid, in the order they ended: what
   * names them only (their texts and parents are let go).
   */
  #ended = new Map<number, ProcessHolder[]>();
  /** The same, each with the event time it ended at, oldest first (from `#endedHead`). */
  #endedQueue: { view: ProcessHolder; t: number }[] = [];
  #endedHead = 0;
  /** The latest event time observed. */
  #now = -Infinity;

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
    if (event.t > this.#now) this.#now = event.t;
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
        this.#forget(this.#live.get(event.pid), event.t);
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
        this.#forget(self, event.t);
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
   * `t` (the first to end of those that started at that time). Ended
   * processes are kept for {@link ENDED_KEPT_NS} of event time after their
   * end, at most {@link MAX_ENDED_KEPT} of them (`settleDecisions` of
   * settle_decisions.ts holds a decision back until the exits before it
   * have come).
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

  #implicit(pid: number, t: number): ProcessView {
    const v: ProcessView = {
      entityId: processId(this.bootId, pid, t),
      pid,
      start: t,
    };
    this.#live.set(pid, v);
    return v;
  }

  #forget(v: ProcessView | undefined, t: number): void {
    if (v === undefined) return;
    if (this.#live.get(v.pid) === v) this.#live.delete(v.pid);
    const key = this.#guidOf.get(v);
    if (key !== undefined && this.#byGuid.get(key) === v) {
      this.#byGuid.delete(key);
    }
    // kept a while for the decisions about it that come after its exit
    const holder = { entityId: v.entityId, pid: v.pid, start: v.start };
    const list = this.#ended.get(v.pid);
    if (list === undefined) this.#ended.set(v.pid, [holder]);
    else list.push(holder);
    this.#endedQueue.push({ view: holder, t });
    const q = this.#endedQueue;
    while (
      this.#endedHead < q.length &&
      (q.length - this.#endedHead > MAX_ENDED_KEPT ||
        !(q[this.#endedHead].t >= this.#now - ENDED_KEPT_NS))
    ) {
      const old = q[this.#endedHead++].view;
      const of = this.#ended.get(old.pid)!;
      // (the oldest of its pid: they end in the queue's order)
      of.shift();
      if (of.length === 0) this.#ended.delete(old.pid);
    }
    if (this.#endedHead > 4096 && this.#endedHead * 2 > q.length) {
      q.splice(0, this.#endedHead);
      this.#endedHead = 0;
    }
  }
}
