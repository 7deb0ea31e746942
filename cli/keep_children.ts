/**
 * Whether procrec leaves a child process running when it exits (`record --
 * CMD` stopped before CMD ended). Deno kills the child processes it still
 * holds when a program ends by returning from its main module, even those
 * `unref()`ed; `Deno.exit` does not: the entry point ends with it then.
 *
 * @module
 */

let kept = false;

/** From now on, procrec's exit leaves its child processes running. */
export function keepChildrenAtExit(): void {
  kept = true;
}

/**
 * Whether {@link keepChildrenAtExit} was called.
 *
 * @example
 * ```ts
 * import { childrenKept, keepChildrenAtExit } from "./keep_children.ts";
 * keepChildrenAtExit();
 * if (!childrenKept()) throw new Error();
 * ```
 */
export function childrenKept(): boolean {
  return kept;
}
