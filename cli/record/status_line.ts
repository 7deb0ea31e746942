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
  /** Pieces published to NATS, acknowledged, pending (with `--publish`). */
  publish?: { published: number; acked: number; pending: number };
}

/**
 * Formats one status line (no newline).
 *
 * @example
 * ```ts
 * import { formatStatusLine } from "./status_line.ts";
 * const s = formatStatusLine({ elapsedMs: 2500, events: 1234, rate: 500, processes: 80, lost: 0 });
 * if (s !== "recording 2.5s  1,234 events  500 events/s  80 processes  0 lost") throw new Error(s);
 * const p = formatStatusLine({ elapsedMs: 0, events: 0, rate: 0, processes: 0, lost: 0,
 *   publish: { published: 3, acked: 2, pending: 1 } });
 * if (!p.endsWith("0 lost  published 3 acked 2 pending 1")) throw new Error(p);
 * ```
 */
export function formatStatusLine(f: StatusFigures): string {
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  return `recording ${(f.elapsedMs / 1000).toFixed(1)}s  ${
    n(f.events)
  } events  ${n(f.rate)} events/s  ${n(f.processes)} processes  ${
    n(f.lost)
  } lost${
    f.publish
      ? `  published ${n(f.publish.published)} acked ${
        n(f.publish.acked)
      } pending ${n(f.publish.pending)}`
      : ""
  }`;
}
