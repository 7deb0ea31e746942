/**
 * The processes alive right now, as the recorded events say: what a new
 * segment's header lists so that its trees have parents. Pure; its size is
 * the number of live processes (an exit removes the process).
 *
 * @module
 */
import type { ProcessSnapshot, ProcEvent } from "../events/types.ts";

/** How far apart two starts of one pid may be and still be one process. */
export const SAME_START_NS = 20_000_000;

/**
 * A table of live processes fed event by event.
 *
 * @example
 * ```ts
 * import { LiveProcesses } from "./live_processes.ts";
 * const live = new LiveProcesses();
 * live.add({ kind: "process_create", t: 1, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *   creatorPid: 1, creatorTid: 1, start: 1 });
 * live.add({ kind: "process_create", t: 2, pid: 6, tid: 6, ppid: 5, ptid: 5,
 *   creatorPid: 5, creatorTid: 5, start: 2 });
 * live.add({ kind: "process_exit", t: 3, pid: 5, tid: 5, status: 0 });
 * const s = live.snapshot(10);
 * if (s.length !== 1 || s[0].pid !== 6 || s[0].t !== 10) throw new Error();
 * ```
 */
export class LiveProcesses {
  #procs = new Map<number, ProcessSnapshot>();

  /** Processes alive. */
  get size(): number {
    return this.#procs.size;
  }

  /** Feeds one event. */
  add(e: ProcEvent): void {
    switch (e.kind) {
      case "process_create":
      case "process_snapshot":
        this.#procs.set(e.pid, {
          kind: "process_snapshot",
          t: e.t,
          pid: e.pid,
          tid: e.pid,
          ppid: e.ppid,
          start: e.start,
          ...(e.info ? { info: e.info } : {}),
          ...(e.guid !== undefined ? { guid: e.guid } : {}),
        });
        break;
      case "exec": {
        const p = this.#procs.get(e.pid);
        if (p) p.info = e.info;
        break;
      }
      case "process_exit":
        this.#procs.delete(e.pid);
        break;
    }
  }

  /**
   * Whether `pid` is alive with this `start` (the same process), within
   * {@link SAME_START_NS}: a run of the recorder measures its clocks' offset
   * anew (a few ns off the last run's, found by review: the processes seen
   * by both runs of a directory were listed twice), and a start read from
   * `/proc` is whole clock ticks (at most 10 ms), where the eBPF source
   * has the exact one. A pid is not used again so soon.
   *
   * @example
   * ```ts
   * import { LiveProcesses } from "./live_processes.ts";
   * const l = new LiveProcesses();
   * l.add({ kind: "process_snapshot", t: 0, pid: 1, tid: 1, ppid: 0,
   *   start: 260_000_000 });
   * if (!l.has(1, 259_999_995) || l.has(1, 300_000_000)) throw new Error();
   * ```
   */
  has(pid: number, start: number): boolean {
    const p = this.#procs.get(pid);
    return p !== undefined && Math.abs(p.start - start) <= SAME_START_NS;
  }

  /** The live processes as `process_snapshot` events at `t`, by pid. */
  snapshot(t: number): ProcessSnapshot[] {
    return [...this.#procs.values()]
      .sort((a, b) => a.pid - b.pid)
      .map((p) => ({ ...p, t }));
  }
}
