/**
 * Keeps only the events of one process's subtree, decided incrementally from
 * `process_create` parent links. Pure.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";

/**
 * Decides, event by event, whether an event belongs to the subtree rooted at
 * `rootPid`. A process joins when it is created by a member; it leaves after
 * its `process_exit` (so a reused pid is not taken for it). `lost` events are
 * always kept: a gap concerns every process.
 *
 * @example
 * ```ts
 * import { SubtreeFilter } from "./subtree_filter.ts";
 * const f = new SubtreeFilter(10);
 * const child = { kind: "process_create", t: 0, pid: 11, tid: 11, ppid: 10, ptid: 10,
 *   creatorPid: 10, creatorTid: 10, start: 0 } as const;
 * const other = { ...child, pid: 12, tid: 12, ppid: 1, ptid: 1 };
 * if (!f.keep(child) || f.keep(other)) throw new Error("subtree");
 * ```
 */
export class SubtreeFilter {
  #members = new Set<number>();
  /** Kept execs and snapshots whose `image_hash` may still come (`pid:t`), oldest first. */
  #awaitingHash = new Set<string>();

  constructor(readonly rootPid: number) {
    this.#members.add(rootPid);
  }

  /** Processes in the subtree now. */
  get size(): number {
    return this.#members.size;
  }

  #awaitHash(key: string): void {
    this.#awaitingHash.add(key);
    if (this.#awaitingHash.size > 65536) {
      const oldest = this.#awaitingHash.values().next().value;
      if (oldest !== undefined) this.#awaitingHash.delete(oldest);
    }
  }

  /** Whether `event` belongs to the subtree; updates membership. */
  keep(event: ProcEvent): boolean {
    switch (event.kind) {
      case "lost":
      case "accounts":
        return true;
      case "process_create":
        // the root's own creation (by the recorder), or a member's child
        if (event.pid === this.rootPid || this.#members.has(event.ppid)) {
          this.#members.add(event.pid);
          return true;
        }
        // a pid reused by a process outside the subtree
        if (event.pid !== this.rootPid) this.#members.delete(event.pid);
        return false;
      case "process_exit": {
        const kept = this.#members.has(event.pid);
        if (kept && event.pid !== this.rootPid) this.#members.delete(event.pid);
        return kept;
      }
      case "exec":
      case "process_snapshot": {
        const kept = this.#members.has(event.pid);
        if (kept) this.#awaitHash(`${event.pid}:${event.t}`);
        return kept;
      }
      case "image_hash":
        // it comes from the hash worker, often after the process ended
        return this.#awaitingHash.delete(`${event.pid}:${event.execT}`);
      default:
        return this.#members.has(event.pid);
    }
  }
}
