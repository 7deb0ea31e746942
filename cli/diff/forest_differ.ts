import type { Forest } from "../analysis/forest.ts";
import {
  canonicalize,
  type CNode,
  NormalizeMemo,
  Shapes,
} from "./_canonical_tree.ts";
import { diffTrees } from "./_diff_trees.ts";
import type { DiffOptions, ForestDiff } from "./diff_forests.ts";

/** One side of a diff, as {@link ForestDiffer.side} reduced it. */
export interface DiffSide {
  /** The canonical roots (opaque to callers). */
  readonly roots: readonly unknown[];
}

/**
 * {@link diffForests} in two steps, so that a command holds one forest at a
 * time: {@link side} reduces a forest to what the diff needs (it keeps no
 * process node), the caller drops the forest and analyses the next
 * recording, then {@link diff} compares the two sides. Reduce side A first,
 * then side B: the subtree numbering is shared and, in that order, the
 * result is exactly {@link diffForests}'s.
 *
 * @example
 * ```ts
 * import { analyze } from "../analysis/mod.ts";
 * import { ForestDiffer } from "./forest_differ.ts";
 * const run = (code: number, pid: number) => analyze([
 *   { kind: "process_create", t: 0, pid, tid: pid, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: pid,
 *     info: { image: "/bin/false", argv: ["false"], from: {} } },
 *   { kind: "process_exit", t: 5, pid, tid: pid, status: code << 8 },
 * ], { os: "linux", bootId: "b" });
 * const differ = new ForestDiffer();
 * const a = differ.side(await run(1, 10));
 * const b = differ.side(await run(2, 99));
 * const d = differ.diff(a, b);
 * if (d.changed.length !== 1 || d.changed[0].changes[0].field !== "exit") throw new Error();
 * ```
 */
export class ForestDiffer {
  #shapes = new Shapes();
  #memo: NormalizeMemo;

  constructor(options: DiffOptions = {}) {
    this.#memo = new NormalizeMemo(options);
  }

  /** Reduces one forest to its canonical tree. */
  side(forest: Forest): DiffSide {
    return { roots: canonicalize(forest, this.#memo, this.#shapes) };
  }

  /** The diff of side `a` (the baseline) and side `b`. */
  diff(a: DiffSide, b: DiffSide): ForestDiff {
    return diffTrees(a.roots as CNode[], b.roots as CNode[]);
  }
}
