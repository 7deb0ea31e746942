/**
 * The live status line of `procrec record` (written to a terminal only).
 * Pure.
 *
 * @module
 */

/** What the status line shows. */
export interface StatusFigures {
  elapsedMs: number;
  events: number;
  /** Events per second over the last interval. */
  rate: number;
  /** Processes alive (created or found running, not yet exited). */
  processes: number;
  lost: number;
}

/**
 * Formats one status line (no newline).
 *
 * @example
 * ```ts
 * import { formatStatusLine } from "./status_line.ts";
 * const s = formatStatusLine({ elapsedMs: 2500, events: 1234, rate: 500, processes: 80, lost: 0 });
 * if (s !== "recording 2.5s  1,234 events  500 events/s  80 processes  0 lost") throw new Error(s);
 * ```
 */
export function formatStatusLine(f: StatusFigures): string {
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  return `recording ${(f.elapsedMs / 1000).toFixed(1)}s  ${
    n(f.events)
  } events  ${n(f.rate)} events/s  ${n(f.processes)} processes  ${
    n(f.lost)
  } lost`;
}
