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
 * if (isoFromNs(-1_000_000_000n) !== "1969-12-31T23:59:59.000000000Z") throw new Error();
 * if (isoFromNs(1_764_700_000_000_000_001n) !== "2025-12-02T18:26:40.000000001Z") throw new Error();
 * ```
 */
export function isoFromNs(ns: bigint): string {
  // whole seconds (floored) and the ns past them: two BigInt operations
  let s = ns / NS_PER_S;
  let sub = ns - s * NS_PER_S;
  if (sub < 0n) {
    sub += NS_PER_S;
    s -= 1n;
  }
  if (s !== lastSecond) {
    // times come in runs within one second: its text is made once
    lastBase = new Date(Number(s) * 1000).toISOString().slice(0, 19);
    lastSecond = s;
  }
  return `${lastBase}.${String(Number(sub)).padStart(9, "0")}Z`;
}

const NS_PER_S = 1_000_000_000n;
/** The second of the last call, and its text up to the seconds. */
let lastSecond: bigint | undefined;
let lastBase = "";
