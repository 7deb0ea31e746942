/**
 * What an exporter must remember of the processes alive at a point of the
 * stream, so that an exit or a child can name its process or parent: memory
 * proportional to the live processes, never to the events.
 *
 * @module
 */
import type { ProcessInfo, ProcEvent } from "../events/types.ts";
import { processId } from "../analysis/process_id.ts";

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
   * The running process with this pid, when it was seen starting by `t`
   * (an exec rule's decision names its process by pid; the kernel source
   * may deliver the creation after it).
   */
  running(pid: number, t: number): ProcessView | undefined {
    const v = this.#live.get(pid);
    return v !== undefined && !(v.start > t) ? v : undefined;
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
  }
}
