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
  const iso = ISO.exec(t);
  if (iso) {
    const [, y, mo, d, h, mi, s, frac, zone] = iso;
    let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +(s ?? 0));
    if (zone.toUpperCase() !== "Z") {
      const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
      const minutes = (+z[2] * 60 + +z[3]) * (z[1] === "-" ? -1 : 1);
      ms -= minutes * 60_000;
    }
    if (Number.isNaN(ms) || +mo > 12 || +d > 31 || +h > 23 || +mi > 59) {
      throw new Error(`${name} "${text}" is not a valid date and time`);
    }
    return Number(BigInt(ms) * 1_000_000n + fractionNs(frac) - baseUtcNs);
  }
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
