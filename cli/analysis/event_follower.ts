/**
 * `record --follow`: one timeline row per process start, exec and exit as
 * the events arrive, for the processes a filter matches. Pure: fed event by
 * event, it returns the rows to print.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { commandText } from "./command_text.ts";
import type { ForestMeta, ProcessNode } from "./forest.ts";
import { ForestBuilder } from "./forest_builder.ts";
import {
  isFiltering,
  processMatcher,
  type TreeFilter,
} from "./select_processes.ts";
import { startCommand, type TimelineRow, timelineRow } from "./timeline_of.ts";

/**
 * Follows a live stream of events: {@link EventFollower.add} returns the
 * rows an event makes (a start, an exec, an exit), as `replay --events`
 * prints them, if the process matches `filter` at that moment. A filter
 * that needs the end (`failed`, `signal`) matches exit rows only; flags
 * known only at the end of a recording (`reparented`, `in-lost-span`) do
 * not match live. The analysis behind it keeps every process seen, as
 * record's summary does.
 *
 * @example
 * ```ts
 * import { EventFollower } from "./event_follower.ts";
 * const f = new EventFollower({ os: "linux", bootId: "b" }, 0n, { image: ["sleep"] });
 * const rows = [
 *   f.add({ kind: "process_create", t: 1, pid: 9, tid: 9, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 1 }),
 *   f.add({ kind: "exec", t: 2, pid: 9, tid: 9,
 *     info: { image: "/bin/sleep", argv: ["sleep", "1"], from: {} } }),
 *   f.add({ kind: "process_exit", t: 3, pid: 9, tid: 9, status: 0 }),
 * ].flat();
 * if (rows.map((r) => r.event).join() !== "exec,exit") throw new Error();
 * if (rows[0].command !== "sleep 1" || rows[1].status !== "exit 0") throw new Error();
 * ```
 */
export class EventFollower {
  #b: ForestBuilder;
  #base: bigint;
  #filter: TreeFilter;
  #filtering: boolean;
  #byId = new Map<string, ProcessNode>();
  #seen = 0;

  /** `baseUtcNs`: the recording's time base (header `timeBase.utcNs`). */
  constructor(meta: ForestMeta, baseUtcNs: bigint, filter: TreeFilter = {}) {
    this.#b = new ForestBuilder(meta);
    this.#base = baseUtcNs;
    this.#filter = filter;
    this.#filtering = isFiltering(filter);
  }

  /** Feeds one event; returns the rows it makes (none, or one). */
  add(ev: ProcEvent): TimelineRow[] {
    this.#b.add(ev);
    let row: TimelineRow | undefined;
    const n = ev.kind === "process_create" || ev.kind === "exec" ||
        ev.kind === "process_exit"
      ? this.#b.latest(ev.pid)
      : undefined;
    if (!n) return [];
    // (a row's user may be its parent's, or a grandparent's, at its start,
    // as `replay --events` finds them: by id, among the processes so far)
    for (; this.#seen < this.#b.processes; this.#seen++) {
      const p = this.#b.nodeAt(this.#seen)!;
      this.#byId.set(p.id, p);
    }
    const ctx = {
      meta: this.#b.meta,
      accounts: this.#b.accounts,
      byId: this.#byId,
    };
    if (ev.kind === "process_create") {
      // (at the process's start time and with its start command, as
      // `replay --events` shows it: the lines are the same)
      row = timelineRow(ctx, this.#base, n, n.start, "start", {
        command: startCommand(n),
      });
    } else if (ev.kind === "exec") {
      const step = n.execs[n.execs.length - 1];
      row = timelineRow(ctx, this.#base, n, ev.t, "exec", {
        command: commandText(step ?? n),
      });
    } else if (n.exit) {
      row = timelineRow(ctx, this.#base, n, ev.t, "exit", {
        status: n.exit.text,
      });
    }
    if (!row) return [];
    if (
      this.#filtering &&
      !processMatcher({ ...ctx, last: ev.t }, this.#filter)(n)
    ) return [];
    return [row];
  }
}
