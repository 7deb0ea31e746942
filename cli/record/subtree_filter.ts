/**
 * Keeps only the events of one process's subtree, decided incrementally from
 * `process_create` parent links. Pure.
 *
 * @module
 */
import type { EventKind, ProcEvent } from "../events/types.ts";

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
 * const other = { ...child, pid: 12, tid: 12, ppid: 1, ptid: 1, creatorPid: 1, creatorTid: 1 };
 * if (!f.keep(child) || f.keep(other)) throw new Error("subtree");
 * ```
 */
export class SubtreeFilter {
  #members = new Set<number>();
  /**
   * The root's parent as the source reported it (the recorder, in the
   * source's pid namespace), once the root's creation was seen: another
   * process of that parent was made by the root with `CLONE_PARENT` (the
   * recorder starts no other process), which gives the new process its
   * creator's parent. Learned, not `Deno.pid`: in a pid namespace the
   * recorder's own pid is not the one the sources report.
   */
  #rootParent = 0;
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
    return this.keepParts(
      event.kind,
      event.pid,
      event.kind === "process_create" ? event.ppid : 0,
      event.kind === "image_hash" ? event.execT : event.t,
      event.kind === "process_create" ? event.creatorPid : 0,
    );
  }

  /**
   * {@link keep} from the fields it looks at: the kind, pid, parent pid and
   * creator pid (of a `process_create`) and time (`execT` of an
   * `image_hash`), as the library's chunk encoder gives them without an
   * event object.
   */
  keepParts(
    kind: EventKind,
    pid: number,
    ppid: number,
    t: number,
    creator = 0,
  ): boolean {
    switch (kind) {
      case "lost":
      case "accounts":
        return true;
      case "process_create":
        // the root's own creation (by the recorder), a member's child, one
        // a member made with CLONE_PARENT (its parent is the member's: the
        // eBPF source names the member as creator; the proc connector does
        // not, but only the root's parent is not a member, the recorder)
        if (pid === this.rootPid && this.#rootParent === 0) {
          this.#rootParent = ppid;
        }
        if (
          pid === this.rootPid || this.#members.has(ppid) ||
          (creator !== 0 && this.#members.has(creator)) ||
          (this.#rootParent !== 0 && ppid === this.#rootParent)
        ) {
          this.#members.add(pid);
          return true;
        }
        // a pid reused by a process outside the subtree
        if (pid !== this.rootPid) this.#members.delete(pid);
        return false;
      case "process_exit": {
        const kept = this.#members.has(pid);
        if (kept && pid !== this.rootPid) this.#members.delete(pid);
        return kept;
      }
      case "exec":
      case "process_snapshot": {
        const kept = this.#members.has(pid);
        if (kept) this.#awaitHash(`${pid}:${t}`);
        return kept;
      }
      case "image_hash":
        // it comes from the hash worker, often after the process ended
        return this.#awaitingHash.delete(`${pid}:${t}`);
      default:
        return this.#members.has(pid);
    }
  }
}
