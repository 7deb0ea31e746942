/**
 * How the tree, the summary and event lines print a time (`--time`): as an
 * offset since the recording's time base, as UTC, or as the local clock.
 * Pure (the local zone is JavaScript's, as `Date` has it from `TZ`).
 *
 * @module
 */
import { isoFromNs } from "../text/mod.ts";

/** `relative`: `+1.234s` since the time base; `utc`: ISO-8601 with `Z`; `local`: ISO-8601 with the local offset. */
export type TimeMode = "relative" | "utc" | "local";

/** The modes `--time` takes. */
export const TIME_MODES: readonly TimeMode[] = ["utc", "local", "relative"];

/** How to print times, and the instant their `t` counts from. */
export interface TimeStyle {
  mode: TimeMode;
  /** The recording's time base (header `timeBase.utcNs`), ns since the epoch. */
  baseUtcNs: bigint;
  /** Fraction digits of a second: 3 (default) or 9. */
  digits?: 3 | 9;
}

/**
 * `t` (ns since the time base) as `style` says; without a style, the
 * relative form `+1.234s`.
 *
 * @example
 * ```ts
 * import { formatTime } from "./format_time.ts";
 * const base = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z
 * if (formatTime(2_500_000) !== "+0.003s") throw new Error();
 * const utc = formatTime(1_010_000_000, { mode: "utc", baseUtcNs: base });
 * if (utc !== "2026-01-01T00:00:01.010Z") throw new Error(utc);
 * // rounded like the relative form: +0.008s
 * const r = formatTime(7_600_000, { mode: "utc", baseUtcNs: base });
 * if (r !== "2026-01-01T00:00:00.008Z") throw new Error(r);
 * const nine = formatTime(5, { mode: "utc", baseUtcNs: base, digits: 9 });
 * if (nine !== "2026-01-01T00:00:00.000000005Z") throw new Error(nine);
 * const rel = formatTime(-5e9, { mode: "relative", baseUtcNs: base, digits: 9 });
 * if (rel !== "-5.000000000s") throw new Error(rel);
 * ```
 */
export function formatTime(t: number, style?: TimeStyle): string {
  const digits = style?.digits ?? 3;
  if (!style || style.mode === "relative") {
    const s = (Math.abs(t) / 1e9).toFixed(digits);
    return `${t < 0 ? "-" : "+"}${s}s`;
  }
  // rounded to the digits shown, as the relative form rounds
  const unit = digits === 9 ? 1n : 1_000_000n;
  let ns = style.baseUtcNs + BigInt(Math.round(t));
  ns = floorDiv(ns + unit / 2n, unit) * unit;
  if (style.mode === "utc") {
    const iso = isoFromNs(ns); // nine digits
    return digits === 9 ? iso : `${iso.slice(0, 23)}Z`;
  }
  return localIso(ns, digits);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** ns since the epoch on the local clock: `2026-01-01T01:00:00.000+01:00`. */
function localIso(ns: bigint, digits: 3 | 9): string {
  const sub = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const secMs = Number((ns - sub) / 1_000_000n);
  const d = new Date(secMs);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const zone = off === 0
    ? "+00:00"
    : `${off < 0 ? "-" : "+"}${p(Math.floor(Math.abs(off) / 60))}:${
      p(Math.abs(off) % 60)
    }`;
  const frac = sub.toString().padStart(9, "0").slice(0, digits);
  return `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${
    p(d.getHours())
  }:${p(d.getMinutes())}:${p(d.getSeconds())}.${frac}${zone}`;
}
