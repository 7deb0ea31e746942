/**
 * Times as Sysmon writes them and as SIEMs read them.
 *
 * @module
 */

const SYSMON_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?$/;

/**
 * Nanoseconds since the Unix epoch of a Sysmon `UtcTime`
 * (`YYYY-MM-DD HH:MM:SS.fff`, UTC, no zone letter), or `undefined` when the
 * text is not one.
 *
 * @example
 * ```ts
 * import { parseSysmonUtcTime } from "./utc_time.ts";
 * if (parseSysmonUtcTime("1970-01-01 00:00:01.5") !== 1_500_000_000n) throw new Error();
 * if (parseSysmonUtcTime("2020-13-01 00:00:00.000") !== undefined) throw new Error();
 * // the year as written, 20 (not 1920)
 * if (parseSysmonUtcTime("0020-01-01 00:00:00") !== -61536067200000000000n) throw new Error();
 * // a leap second: the next day's first second on the POSIX time line
 * if (parseSysmonUtcTime("2016-12-31 23:59:60.5") !== 1_483_228_800_500_000_000n) throw new Error();
 * if (parseSysmonUtcTime("2016-12-31 12:00:60") !== undefined) throw new Error();
 * ```
 */
export function parseSysmonUtcTime(text: string): bigint | undefined {
  const m = SYSMON_TIME.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return undefined;
  }
  // a leap second, 23:59:60, ends a day only: on the POSIX time line it is
  // the next day's first second (found by review: it was refused, the date
  // checked after the second had rolled it over)
  if (s === 60 && (h !== 23 || mi !== 59)) return undefined;
  // (not Date.UTC, which takes years 0-99 as 1900-1999: found by review)
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, 0, 0);
  if (date.getUTCDate() !== d) return undefined; // 2021-02-30
  const ms = date.getTime() + s * 1000;
  const frac = BigInt((m[7] ?? "").padEnd(9, "0"));
  return BigInt(ms) * 1_000_000n + frac;
}
