/**
 * The deterministic diff of two process forests (`procrec replay --diff A B`,
 * `procrec diff A B`). Pure: never calls `Deno.*`.
 *
 * The same two inputs give byte-identical output on every run, independent
 * of pids, times and the interleaving of independent concurrent events:
 * processes match by canonical path (normalized image and argv under
 * matched ancestors), sibling order is canonical key, then start order.
 *
 * Limitations: a process whose image changed is reported as removed and
 * added, not as changed; matching between identical siblings whose subtrees
 * both differ falls back to start order.
 *
 * @example
 * ```ts
 * import { analyze } from "../analysis/mod.ts";
 * import { diffForests, renderDiff } from "./mod.ts";
 * const f = await analyze([], { os: "linux", bootId: "b" });
 * const d = diffForests(f, f);
 * if (!d.same || renderDiff(d, "a", "a") !== "") throw new Error();
 * ```
 *
 * @module
 */
export * from "./normalize.ts";
export * from "./diff_forests.ts";
export * from "./forest_differ.ts";
export * from "./render_diff.ts";
export * from "./token_diff.ts";
