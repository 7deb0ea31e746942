/**
 * A small deterministic random generator (xorshift32) for tests that feed
 * random streams: the same seed gives the same numbers, so a failure can be
 * replayed.
 *
 * @example
 * ```ts
 * import { xorshift } from "./_xorshift.ts";
 * const a = xorshift(7), b = xorshift(7);
 * const x = a();
 * if (x !== b() || x < 0 || x >= 1) throw new Error(String(x));
 * ```
 */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}
