/**
 * The analysis `procrec record` runs live, whose closing summary it prints.
 * Pure: fed event by event.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import {
  ForestBuilder,
  type ForestMeta,
  forestWithEnd,
  renderSummary,
  summarize,
} from "../analysis/mod.ts";

/**
 * The same analysis `procrec replay` runs ({@link ForestBuilder}), fed live;
 * its closing summary is `renderSummary(summarize(forest))`, so a live
 * summary equals the replay summary of the same recording.
 *
 * @example
 * ```ts
 * import { ForestSummary } from "./live_summary.ts";
 * const a = new ForestSummary({ os: "linux", bootId: "b" });
 * a.add({ kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *   creatorPid: 1, creatorTid: 1, start: 0 });
 * if (a.finish().length === 0) throw new Error("summary");
 * ```
 */
export class ForestSummary {
  #b: ForestBuilder;
  constructor(meta: ForestMeta) {
    this.#b = new ForestBuilder({ os: meta.os, bootId: meta.bootId });
  }
  /** Feeds one recorded event. */
  add(event: ProcEvent): void {
    this.#b.add(event);
  }
  /**
   * The closing summary text (ends with a newline). `endUtcNs`: the
   * recording's end (its trailer's end time; `baseUtcNs` its time base),
   * until which a process still running counts, as in the replay summary.
   */
  finish(endUtcNs?: bigint, baseUtcNs = 0n): string {
    return renderSummary(
      summarize(forestWithEnd(this.#b.finish(), endUtcNs, baseUtcNs)),
    );
  }
}
