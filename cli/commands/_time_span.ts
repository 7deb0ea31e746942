/**
 * `--from/--to` of the commands that read a recording (`report`, `export`,
 * `verify`, as `replay` and `bundle create`): absolute UTC times (ISO-8601,
 * `2026-12-02T10:14:00Z`), offsets from the recording's start (`90s`,
 * `250ms`) or clock times on its day (`10:14`), the forms `replay` takes. A
 * segment directory reads only the segments covering the span. Needs
 * `--allow-read`.
 *
 * @module
 */
import { checkWindow, parseTimePoint } from "../analysis/mod.ts";
import { type RecordingSource, SegmentSetReader } from "../log/mod.ts";
import { UsageError } from "../errors.ts";
import { parseUtcTime } from "./replay.ts";
import { openRecordingInput } from "./_input.ts";

/** The flags as given. */
export interface TimeFlags {
  from?: string;
  to?: string;
}

/** A span of UTC time in ns; an end left out is open. */
export interface UtcSpan {
  fromUtcNs?: bigint;
  toUtcNs?: bigint;
}

/** A window in ns since a recording's time base (its events' `t`). */
export interface TimeWindow {
  from?: number;
  to?: number;
}

/** Whether `--from` or `--to` was given. */
export function hasTimeFlags(flags: TimeFlags): boolean {
  return flags.from !== undefined || flags.to !== undefined;
}

/**
 * The ends given as absolute UTC times (ISO-8601 with a zone); the others
 * (offsets, clock times) need a recording's time base: see {@link spanOf}.
 *
 * @example
 * ```ts
 * import { absoluteSpan } from "./_time_span.ts";
 * const s = absoluteSpan({ from: "1970-01-01T00:00:02Z", to: "5s" });
 * if (s.fromUtcNs !== 2_000_000_000n || s.toUtcNs !== undefined) throw new Error();
 * ```
 */
export function absoluteSpan(flags: TimeFlags): UtcSpan {
  const from = flags.from === undefined
    ? undefined
    : parseUtcTime(flags.from, "--from");
  const to = flags.to === undefined
    ? undefined
    : parseUtcTime(flags.to, "--to");
  return {
    ...(from !== undefined ? { fromUtcNs: from } : {}),
    ...(to !== undefined ? { toUtcNs: to } : {}),
  };
}

/**
 * Both ends in UTC ns, any form, relative forms against `baseUtcNs` (a
 * recording's `timeBase.utcNs`); a bad time, or an inverted or empty
 * window, is a {@link UsageError}.
 *
 * @example
 * ```ts
 * import { spanOf } from "./_time_span.ts";
 * const s = spanOf({ from: "1s", to: "1970-01-01T00:00:12Z" }, 10_000_000_000n);
 * if (s.fromUtcNs !== 11_000_000_000n || s.toUtcNs !== 12_000_000_000n) throw new Error();
 * let refused = false;
 * try { spanOf({ from: "3s", to: "2s" }, 0n); } catch { refused = true; }
 * if (!refused) throw new Error("an inverted window was taken");
 * ```
 */
export function spanOf(flags: TimeFlags, baseUtcNs: bigint): UtcSpan {
  const end = (text: string | undefined, name: string) => {
    if (text === undefined) return undefined;
    const abs = parseUtcTime(text, name);
    if (abs !== undefined) return abs;
    try {
      return baseUtcNs + BigInt(parseTimePoint(text, name, baseUtcNs));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const fromUtcNs = end(flags.from, "--from");
  const toUtcNs = end(flags.to, "--to");
  if (fromUtcNs !== undefined && toUtcNs !== undefined) {
    try {
      checkWindow(
        Number(fromUtcNs - baseUtcNs),
        Number(toUtcNs - baseUtcNs),
        "--from/--to",
      );
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return {
    ...(fromUtcNs !== undefined ? { fromUtcNs } : {}),
    ...(toUtcNs !== undefined ? { toUtcNs } : {}),
  };
}

/**
 * A UTC span as a window of `t` on the time base `baseUtcNs`.
 *
 * @example
 * ```ts
 * import { windowOn } from "./_time_span.ts";
 * const w = windowOn({ fromUtcNs: 15n }, 10n);
 * if (w.from !== 5 || w.to !== undefined) throw new Error();
 * ```
 */
export function windowOn(span: UtcSpan, baseUtcNs: bigint): TimeWindow {
  return {
    ...(span.fromUtcNs !== undefined
      ? { from: Number(span.fromUtcNs - baseUtcNs) }
      : {}),
    ...(span.toUtcNs !== undefined
      ? { to: Number(span.toUtcNs - baseUtcNs) }
      : {}),
  };
}

/**
 * Opens a recording input (file, bundle member, segment directory or
 * segment files) for `--from/--to`: a segment directory reads only the
 * segments covering the span (relative times count from the start of the
 * directory's oldest segment); the window is given on the time base of
 * what is read.
 */
export async function openInputInSpan(
  input: string | string[],
  flags: TimeFlags,
  member?: string,
): Promise<{ reader: RecordingSource; span: UtcSpan; window: TimeWindow }> {
  if (!hasTimeFlags(flags)) {
    return {
      reader: await openRecordingInput(input, { member }),
      span: {},
      window: {},
    };
  }
  const abs = absoluteSpan(flags);
  const relative = (flags.from !== undefined && abs.fromUtcNs === undefined) ||
    (flags.to !== undefined && abs.toUtcNs === undefined);
  // relative ends count from the start of the whole recording
  let reader = await openRecordingInput(input, {
    member,
    ...(relative ? {} : abs),
  });
  const span = spanOf(flags, BigInt(reader.header.timeBase.utcNs));
  if (relative && reader instanceof SegmentSetReader) {
    reader = await openRecordingInput(input, { member, ...span });
  }
  return {
    reader,
    span,
    window: windowOn(span, BigInt(reader.header.timeBase.utcNs)),
  };
}
