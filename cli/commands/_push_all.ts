/**
 * Appending a long list to another. Pure.
 *
 * @module
 */

/**
 * `more` pushed onto `all` one by one: `all.push(...more)` passes each
 * element as an argument, and V8 overflows the call stack at about 125,000
 * (a search or a hunt over a fleet gets there).
 *
 * @example
 * ```ts
 * import { pushAll } from "./_push_all.ts";
 * const all = [1];
 * pushAll(all, new Array(200_000).fill(2));
 * if (all.length !== 200_001) throw new Error(String(all.length));
 * ```
 */
export function pushAll<T>(all: T[], more: readonly T[]): void {
  for (let i = 0; i < more.length; i++) all.push(more[i]);
}
