/**
 * A forest given the recording's end ({@link Forest.end}). Pure.
 *
 * @module
 */
import type { Forest } from "./forest.ts";

/**
 * `forest` ending at `endUtcNs` (the recording's end, e.g. its trailer's
 * end time; `baseUtcNs`: its time base) when that is later than its last
 * event and a safe number of ns since the time base; else `forest` as it
 * is (it ends with its last event). A process still running then counts
 * until that end: in the summary, the timeline and the report alike.
 *
 * @example
 * ```ts
 * import { forestWithEnd } from "./forest_end.ts";
 * import { analyze } from "./analyze.ts";
 * const f = await analyze([{ kind: "process_create", t: 5, pid: 6, tid: 6,
 *   ppid: 1, ptid: 1, creatorPid: 1, creatorTid: 1, start: 5 }],
 *   { os: "linux", bootId: "b" });
 * if (forestWithEnd(f, 100n, 10n).end !== 90) throw new Error();
 * if (forestWithEnd(f, 12n, 10n).end !== undefined) throw new Error();
 * if (forestWithEnd(f, undefined, 10n) !== f) throw new Error();
 * ```
 */
export function forestWithEnd(
  forest: Forest,
  endUtcNs: bigint | undefined,
  baseUtcNs: bigint,
): Forest {
  if (endUtcNs === undefined) return forest;
  const end = Number(endUtcNs - baseUtcNs);
  return Number.isSafeInteger(end) && end > (forest.last ?? -Infinity)
    ? { ...forest, end }
    : forest;
}
