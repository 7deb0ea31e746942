/**
 * A UTC instant in ns since the epoch as ISO 8601 with all nine digits of
 * the fraction, e.g. `2026-11-22T02:10:00.123456789Z`: the one time format
 * of procrec's output (manifests, reports, exports, fleet rows), so the same
 * instant always reads the same. Pure.
 *
 * @example
 * ```ts
 * import { isoFromNs } from "./iso_from_ns.ts";
 * if (isoFromNs(1_500_000_000n) !== "1970-01-01T00:00:01.500000000Z") throw new Error();
 * if (isoFromNs(1_000_000_001n) !== "1970-01-01T00:00:01.000000001Z") throw new Error();
 * if (isoFromNs(-1n) !== "1969-12-31T23:59:59.999999999Z") throw new Error(isoFromNs(-1n));
 * ```
 */
export function isoFromNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const sub = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const floorMs = ns < 0n && ns % 1_000_000n !== 0n ? ms - 1n : ms;
  const base = new Date(Number(floorMs)).toISOString().slice(0, 19);
  return `${base}.${sub.toString().padStart(9, "0")}Z`;
}
