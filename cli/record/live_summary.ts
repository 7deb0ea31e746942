/**
 * The analysis `procrec record` runs live, whose closing summary it prints.
 * Pure: fed event by event.
 *
 * @module
 */
import type { EventKind, ProcEvent } from "../events/types.ts";
import {
  ForestBuilder,
  type ForestMeta,
  renderSummary,
  summarize,
} from "../analysis/mod.ts";

/** Something fed every recorded event that renders a summary at the end. */
export interface LiveAnalysis {
  add(event: ProcEvent): void;
  /** The closing summary text (ends with a newline). */
  finish(): string;
}

/**
 * Counts events per kind and lost events per reason.
 *
 * @example
 * ```ts
 * import { EventCounts } from "./live_summary.ts";
 * const c = new EventCounts();
 * c.add({ kind: "comm", t: 0, pid: 1, tid: 1, comm: "x" });
 * if (!c.finish().includes("comm 1")) throw new Error(c.finish());
 * ```
 */
export class EventCounts implements LiveAnalysis {
  readonly counts: Partial<Record<EventKind, number>> = {};
  readonly lost: Record<string, number> = {};

  add(event: ProcEvent): void {
    this.counts[event.kind] = (this.counts[event.kind] ?? 0) + 1;
    if (event.kind === "lost") {
      this.lost[event.reason] = (this.lost[event.reason] ?? 0) + event.count;
    }
  }

  finish(): string {
    const kinds = Object.entries(this.counts).map(([k, n]) => `${k} ${n}`);
    const lost = Object.entries(this.lost).map(([k, n]) => `${k} ${n}`);
    return `events: ${kinds.join(", ") || "none"}\nlost: ${
      lost.join(", ") || "none"
    }\n`;
  }
}

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
export class ForestSummary implements LiveAnalysis {
  #b: ForestBuilder;
  constructor(meta: ForestMeta) {
    this.#b = new ForestBuilder({ os: meta.os, bootId: meta.bootId });
  }
  add(event: ProcEvent): void {
    this.#b.add(event);
  }
  finish(): string {
    return renderSummary(summarize(this.#b.finish()));
  }
}
