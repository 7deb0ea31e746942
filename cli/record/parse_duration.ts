/**
 * Parses a duration like `5s`, `250ms`, `2m`, `1h` or `1.5` (seconds) into
 * milliseconds; throws a `RangeError` naming the text otherwise.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./parse_duration.ts";
 * if (parseDuration("1.5s") !== 1500 || parseDuration("2m") !== 120000) throw new Error();
 * ```
 */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) {
    throw new RangeError(
      `Cannot parse duration "${text}": expected a number with an optional unit ms, s, m or h (e.g. 10s)`,
    );
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"] ?? 1000;
  return Math.round(Number(m[1]) * unit);
}
