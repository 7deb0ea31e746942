import type { Forest, ProcessNode } from "./forest.ts";
import {
  isFiltering,
  selectProcesses,
  type TreeFilter,
} from "./select_processes.ts";

/** The JSON form of a forest: plain data, processes in start order. */
export interface ForestJson {
  meta: Forest["meta"];
  events: number;
  counts: Forest["counts"];
  first?: number;
  last?: number;
  roots: string[];
  processes: (ProcessNode & { matched?: boolean })[];
  lost: Forest["lost"];
  problems: Forest["problems"];
}

/**
 * Turns a forest (optionally filtered like the tree) into plain data for
 * `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { analyze } from "./analyze.ts";
 * import { forestToJson } from "./forest_to_json.ts";
 * const f = await analyze([], { os: "linux", bootId: "b" });
 * if (JSON.stringify(forestToJson(f).processes) !== "[]") throw new Error();
 * ```
 */
export function forestToJson(forest: Forest, filter?: TreeFilter): ForestJson {
  const sel = isFiltering(filter)
    ? selectProcesses(forest, filter!)
    : undefined;
  const processes = forest.processes
    .filter((n) => !sel || sel.shown.has(n.id))
    .map((n) => {
      if (!sel) return n;
      return {
        ...n,
        children: n.children.filter((c) => sel.shown.has(c)),
        matched: sel.matched.has(n.id),
      };
    });
  return {
    meta: forest.meta,
    events: forest.events,
    counts: forest.counts,
    ...(forest.first !== undefined ? { first: forest.first } : {}),
    ...(forest.last !== undefined ? { last: forest.last } : {}),
    roots: forest.roots.filter((r) => !sel || sel.shown.has(r)),
    processes,
    lost: forest.lost,
    problems: forest.problems,
  };
}
