/**
 * Parses the segment options `--rotate SIZE|DURATION` and
 * `--keep SIZE|AGE|COUNT`. Pure; a bad value is a `RangeError` naming it.
 *
 * @module
 */

/** When a segment is closed and the next begun. */
export interface Rotation {
  bytes?: number;
  ms?: number;
}

/** What retention keeps (the newest segments). */
export interface Retention {
  bytes?: number;
  ageMs?: number;
  count?: number;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB|K|M|G|T)$/i;
const TIME = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)$/;
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};
const TIME_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

function size(m: RegExpExecArray): number {
  const unit = m[2].toLowerCase()[0];
  // KB and KiB alike are binary (as the ring sizes are)
  return Math.round(Number(m[1]) * SIZE_UNITS[unit]);
}

/**
 * `--rotate`: a size (`64MiB`) or a duration (`1h`, `30s`).
 *
 * @example
 * ```ts
 * import { parseRotation } from "./parse_rotation.ts";
 * if (parseRotation("64MiB").bytes !== 64 * 1024 * 1024) throw new Error();
 * if (parseRotation("1h").ms !== 3_600_000) throw new Error();
 * ```
 */
export function parseRotation(text: string): Rotation {
  const t = text.trim();
  let m = SIZE.exec(t);
  if (m) {
    const bytes = size(m);
    if (bytes < 4096) {
      throw new RangeError(`--rotate "${text}" is below 4KiB`);
    }
    return { bytes };
  }
  m = TIME.exec(t);
  if (m) {
    const ms = Math.round(Number(m[1]) * TIME_UNITS[m[2]]);
    if (ms < 100) throw new RangeError(`--rotate "${text}" is below 100ms`);
    return { ms };
  }
  throw new RangeError(
    `--rotate "${text}" is neither a size (e.g. 64MiB) nor a duration (e.g. 1h, 30s)`,
  );
}

/**
 * `--keep`: a total size (`20GiB`), an age (`7d`) or a count of segments
 * (`100`).
 *
 * @example
 * ```ts
 * import { parseRetention } from "./parse_rotation.ts";
 * if (parseRetention("100").count !== 100) throw new Error();
 * if (parseRetention("7d").ageMs !== 7 * 86_400_000) throw new Error();
 * if (parseRetention("1GiB").bytes !== 1024 ** 3) throw new Error();
 * ```
 */
export function parseRetention(text: string): Retention {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const count = Number(t);
    if (count < 1) throw new RangeError(`--keep "${text}" keeps nothing`);
    return { count };
  }
  let m = SIZE.exec(t);
  if (m) {
    const bytes = size(m);
    if (bytes < 4096) throw new RangeError(`--keep "${text}" is below 4KiB`);
    return { bytes };
  }
  m = TIME.exec(t);
  if (m) return { ageMs: Math.round(Number(m[1]) * TIME_UNITS[m[2]]) };
  throw new RangeError(
    `--keep "${text}" is neither a size (e.g. 20GiB), an age (e.g. 7d) nor a count of segments (e.g. 100)`,
  );
}
