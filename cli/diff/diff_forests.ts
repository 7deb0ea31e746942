import type { Forest } from "../analysis/forest.ts";
import { ForestDiffer } from "./forest_differ.ts";
import type { NormalizeOptions } from "./normalize.ts";

/** A process as the diff shows it: no pid, no time. */
export interface DiffProcess {
  image?: string;
  /** The command as recorded (argv quoted, or the command line). */
  command: string;
  /** Exit status text, or `running`; then each exec rule decision (`exec denied IMAGE by rule R`). */
  exit: string;
  threads: number;
}

/** A process with its descendants (for added and removed subtrees). */
export interface DiffSubtree extends DiffProcess {
  children: DiffSubtree[];
}

/** A process and its whole subtree present on one side only. */
export interface DiffAddRemove {
  /** Commands of the ancestors, root first (at most the {@link MAX_PATH} nearest). */
  path: string[];
  /** Number of ancestors. */
  depth: number;
  process: DiffSubtree;
  /** Number of processes in the subtree below it. */
  descendants: number;
}

/** One field that differs between two matched processes. */
export interface DiffChange {
  field: "exit" | "argv" | "threads";
  a: string | number;
  b: string | number;
}

/** A process present on both sides that differs. */
export interface DiffChanged {
  /** Commands of the ancestors, root first (at most the {@link MAX_PATH} nearest). */
  path: string[];
  /** Number of ancestors. */
  depth: number;
  a: DiffProcess;
  b: DiffProcess;
  changes: DiffChange[];
}

/** One line of the tree diff, in output order. */
export type DiffLine =
  | { op: " "; depth: number; process: DiffProcess }
  | { op: "+" | "-"; depth: number; process: DiffProcess; root: boolean }
  | {
    op: "~";
    depth: number;
    a: DiffProcess;
    b: DiffProcess;
    changes: DiffChange[];
  };

/** The difference of two forests. */
export interface ForestDiff {
  same: boolean;
  added: DiffAddRemove[];
  removed: DiffAddRemove[];
  changed: DiffChanged[];
  /** Every reported process with just the ancestors needed to place it. */
  lines: DiffLine[];
}

/** Options of {@link diffForests}. */
export type DiffOptions = NormalizeOptions;

/**
 * Diffs two process forests. Processes match by canonical path: normalized
 * image and argv under matched parents; never by pid or time. Among
 * siblings with the same key, identical subtrees pair first, then the rest
 * in start order; leftovers with the same image pair as an argv change.
 * Each difference is reported once: a whole added or removed subtree as one
 * entry, a matched process whose exit status, argv or thread count differs
 * as one entry with every changed field. Children that differ show up as
 * their own added or removed entries, not as a change of the parent.
 *
 * @example
 * ```ts
 * import { analyze } from "../analysis/mod.ts";
 * import { diffForests } from "./diff_forests.ts";
 * const run = (code: number, pid: number) => analyze([
 *   { kind: "process_create", t: 0, pid, tid: pid, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: pid,
 *     info: { image: "/bin/false", argv: ["false"], from: {} } },
 *   { kind: "process_exit", t: 5, pid, tid: pid, status: code << 8 },
 * ], { os: "linux", bootId: "b" });
 * const d = diffForests(await run(1, 10), await run(2, 99));
 * if (d.changed.length !== 1 || d.changed[0].changes[0].field !== "exit") throw new Error();
 * if (!diffForests(await run(1, 10), await run(1, 99)).same) throw new Error();
 * ```
 */
export function diffForests(
  a: Forest,
  b: Forest,
  options: DiffOptions = {},
): ForestDiff {
  const differ = new ForestDiffer(options);
  const sa = differ.side(a);
  const sb = differ.side(b);
  return differ.diff(sa, sb);
}

export { MAX_PATH } from "./_diff_trees.ts";
