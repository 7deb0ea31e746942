import type { Forest } from "./forest.ts";
import { ProcessIndex } from "./_process_index.ts";

/**
 * The place of the process with this id in `forest.processes`, found through
 * the index the builder made ({@link Forest.byId}) with no map of ids,
 * starting from `near` when given (a place it is likely close to); -1
 * when that index cannot tell (a forest made otherwise, a process that does
 * not fit the id scheme, or an id not in the forest): the caller then looks
 * it up its own way.
 *
 * @example
 * ```ts
 * import { analyze } from "./analyze.ts";
 * import { processPosition } from "./process_position.ts";
 * const f = await analyze([
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 7 },
 *   { kind: "process_create", t: 1, pid: 6, tid: 6, ppid: 5, ptid: 5,
 *     creatorPid: 5, creatorTid: 5, start: 3 },
 * ], { os: "linux", bootId: "b" });
 * if (processPosition(f, f.processes[1].id) !== 1) throw new Error();
 * if (processPosition(f, "{x}") !== -1) throw new Error();
 * ```
 */
export function processPosition(
  forest: Forest,
  id: string,
  near = -1,
): number {
  const index = forest.byId;
  if (!(index instanceof ProcessIndex)) return -1;
  const at = index.positionOf(id, near);
  return at >= 0 && forest.processes[at] === index.at(at) ? at : -1;
}
