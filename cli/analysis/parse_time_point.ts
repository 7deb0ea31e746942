/**
 * Times as an analyst types them, turned into ns since a recording's time
 * base: offsets (`1.5s`, `250ms`, `-2s`, `3`), ISO-8601 instants
 * (`2026-12-02T10:14:00Z`, `...T10:14:00.25+01:00`) and clock times on the
 * recording's day in the local time zone (`10:14`, `10:14:30.5`). Pure (the
 * local zone is JavaScript's, as `Date` has it).
 *
 * @module
 */

const OFFSET = /^([+-]?\d+(?:\.\d+)?)(ns|us|ms|s|m)?$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/i;
const CLOCK = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

function fractionNs(digits: string | undefined): bigint {
  return digits ? BigInt(digits.padEnd(9, "0")) : 0n;
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Days in month `mo` (1-12) of year `y` (Gregorian, leap years too). */
function daysInMonth(y: number, mo: number): number {
  if (mo === 2) {
    return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(mo) ? 30 : 31;
}

/**
 * An ISO-8601 instant with its zone (`2026-12-02T10:14:00Z`,
 * `2026-12-02 11:14:00.25+01:00`) as UTC ns; undefined when `text` is not
 * written so. A date or time that does not exist (February 31, month 13,
 * 24:00, a 60th second, a zone beyond ±23:59) is an Error naming `name`
 * and the text, never rolled over into another day. The one parser of
 * absolute times: {@link parseTimePoint} and `replay`'s `parseUtcTime`.
 *
 * @example
 * ```ts
 * import { parseIsoInstant } from "./parse_time_point.ts";
 * if (parseIsoInstant("1970-01-01T00:00:01.5Z", "--from") !== 1_500_000_000n) throw new Error();
 * if (parseIsoInstant("1.5s", "--from") !== undefined) throw new Error();
 * let refused = "";
 * try { parseIsoInstant("2026-02-31T00:00Z", "--from"); } catch (e) { refused = (e as Error).message; }
 * if (!refused.includes("February 2026 has 28 days")) throw new Error(refused);
 * ```
 */
export function parseIsoInstant(
  text: string,
  name: string,
): bigint | undefined {
  const iso = ISO.exec(text.trim());
  if (!iso) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = iso;
  const wrong = (why: string) =>
    new Error(`${name} "${text}" is not a date and time that exists: ${why}`);
  if (+mo < 1 || +mo > 12) throw wrong(`there is no month ${mo}`);
  const days = daysInMonth(+y, +mo);
  if (+d < 1 || +d > days) {
    throw wrong(`${MONTHS[+mo - 1]} ${y} has ${days} days`);
  }
  if (+h > 23) throw wrong(`hours go from 00 to 23`);
  if (+mi > 59) throw wrong(`minutes go from 00 to 59`);
  if (+(s ?? 0) > 59) {
    throw wrong(`seconds go from 00 to 59 (a leap second cannot be told)`);
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (+z[2] > 23 || +z[3] > 59) {
      throw wrong(`zone ${zone} is not an offset (at most ±23:59)`);
    }
    offsetMinutes = (+z[2] * 60 + +z[3]) * (z[1] === "-" ? -1 : 1);
  }
  // (every field checked: nothing rolls over; setUTCFullYear, not Date.UTC,
  // which reads years 0-99 as 1900-1999)
  const date = new Date(0);
  date.setUTCFullYear(+y, +mo - 1, +d);
  date.setUTCHours(+h, +mi, +(s ?? 0), 0);
  const ms = date.getTime() - offsetMinutes * 60_000;
  return BigInt(ms) * 1_000_000n + fractionNs(frac);
}

/**
 * A time as ns since the recording's time base (`baseUtcNs`, the header's
 * `timeBase.utcNs`). Throws an Error naming `name` and the forms it takes.
 *
 * @example
 * ```ts
 * import { parseTimePoint } from "./parse_time_point.ts";
 * const base = 1_764_670_000_000_000_000n; // 2025-12-02T10:06:40Z
 * if (parseTimePoint("250ms", "--from", base) !== 250_000_000) throw new Error();
 * if (parseTimePoint("2", "--to", base) !== 2_000_000_000) throw new Error();
 * if (parseTimePoint("2025-12-02T10:06:41.5Z", "--from", base) !== 1_500_000_000) throw new Error();
 * if (parseTimePoint("2025-12-02T11:06:40+01:00", "--from", base) !== 0) throw new Error();
 * ```
 */
export function parseTimePoint(
  text: string,
  name: string,
  baseUtcNs: bigint,
): number {
  const t = text.trim();
  const off = OFFSET.exec(t);
  if (off) {
    const unit = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9 }[off[2] ?? "s"]!;
    return Math.round(Number(off[1]) * unit);
  }
  const iso = parseIsoInstant(text, name);
  if (iso !== undefined) return Number(iso - baseUtcNs);
  const clock = CLOCK.exec(t);
  if (clock) {
    const [, h, mi, s, frac] = clock;
    if (+h > 23 || +mi > 59 || +(s ?? 0) > 59) {
      throw new Error(`${name} "${text}" is not a clock time (HH:MM[:SS])`);
    }
    const day = new Date(Number(baseUtcNs / 1_000_000n));
    const ms = new Date(
      day.getFullYear(),
      day.getMonth(),
      day.getDate(),
      +h,
      +mi,
      +(s ?? 0),
    ).getTime();
    return Number(BigInt(ms) * 1_000_000n + fractionNs(frac) - baseUtcNs);
  }
  throw new Error(
    `${name} "${text}" is not a time (an offset such as 1.5s, 250ms or 3; an ISO-8601 time such as 2026-12-02T10:14:00Z; or a clock time on the recording's day such as 10:14 or 10:14:30)`,
  );
}

/** A window of time, both ends inclusive, in ns since the time base. */
export interface TimeWindow {
  from: number;
  to: number;
}

/**
 * `FROM..TO` as a {@link TimeWindow}; an end left out, an inverted window
 * (TO before FROM) or an empty one (TO equal to FROM) is an Error.
 *
 * @example
 * ```ts
 * import { parseTimeWindow } from "./parse_time_point.ts";
 * const w = parseTimeWindow("1s..2.5s", "--started-in", 0n);
 * if (w.from !== 1e9 || w.to !== 2.5e9) throw new Error();
 * let refused = false;
 * try { parseTimeWindow("2s..1s", "--started-in", 0n); } catch { refused = true; }
 * if (!refused) throw new Error("an inverted window was taken");
 * ```
 */
export function parseTimeWindow(
  text: string,
  name: string,
  baseUtcNs: bigint,
): TimeWindow {
  const parts = text.split("..");
  if (parts.length !== 2 || parts[0].trim() === "" || parts[1].trim() === "") {
    throw new Error(
      `${name} "${text}" is not a window FROM..TO (e.g. 10:14..10:15 or 1s..2s)`,
    );
  }
  const from = parseTimePoint(parts[0], name, baseUtcNs);
  const to = parseTimePoint(parts[1], name, baseUtcNs);
  checkWindow(from, to, `${name} "${text}"`);
  return { from, to };
}

/**
 * Throws when a window is inverted or empty.
 *
 * @example
 * ```ts
 * import { checkWindow } from "./parse_time_point.ts";
 * checkWindow(1, 2, "--from/--to");
 * ```
 */
export function checkWindow(from: number, to: number, what: string): void {
  if (to < from) {
    throw new Error(`${what} is inverted: its end is before its start`);
  }
  if (to === from) {
    throw new Error(`${what} is empty: its end equals its start`);
  }
}
