/**
 * A progress line on stderr for a long read (replay and diff of a big
 * recording): how far into the file, how many events, how long so far. On a
 * terminal it appears once the read has taken a second and is rewritten in
 * place, then cleared; elsewhere (a pipe, a log) it is off unless asked for,
 * and then printed as whole lines, at most one a second, and a last one.
 *
 * @module
 */

import type { RecordingSource } from "../log/mod.ts";
import { escapeText } from "../text/mod.ts";

/** `auto`: on a terminal only; `on`: always; `off`: never. */
export type ProgressMode = "auto" | "on" | "off";

/** Where the line goes (stderr, or a test's sink). */
export interface ProgressSink {
  isTerminal(): boolean;
  writeSync(bytes: Uint8Array): number;
  /** The terminal's width (a line longer than it would wrap, and wrapped rows are not cleared). */
  columns?(): number;
}

/** Deno's stderr, with the console's width. */
const STDERR: ProgressSink = {
  isTerminal: () => Deno.stderr.isTerminal(),
  writeSync: (b) => Deno.stderr.writeSync(b),
  columns: () => {
    try {
      // (a terminal with no size, e.g. a pseudo-terminal never sized, says 0)
      return Deno.consoleSize().columns || 80;
    } catch {
      return 80;
    }
  },
};

/** On a terminal: the first line after this long, then at most this often. */
const TERMINAL_AFTER_MS = 1000;
const TERMINAL_EVERY_MS = 250;
/** Elsewhere (`on`): at most one line this often. */
const LINES_EVERY_MS = 1000;

/**
 * A progress line, fed as the read goes ({@link tick}) and ended once
 * ({@link end}).
 *
 * @example
 * ```ts
 * import { Progress } from "./_progress.ts";
 * const out: string[] = [];
 * const sink = {
 *   isTerminal: () => false,
 *   writeSync: (b: Uint8Array) => (out.push(new TextDecoder().decode(b)), b.length),
 * };
 * let now = 0;
 * const p = new Progress("reading a.cbor", 2_000_000, "on", sink, () => now);
 * now = 1500;
 * p.tick(() => 1_000_000, 40_000);
 * now = 2000;
 * p.end(() => 2_000_000, 80_000);
 * if (out.length !== 2 || !out[0].includes("50%") || !out[1].includes("80,000 events")) {
 *   throw new Error(out.join(""));
 * }
 * ```
 */
export class Progress {
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #sink: ProgressSink;
  readonly #now: () => number;
  readonly #terminal: boolean;
  readonly #on: boolean;
  readonly #start: number;
  /** When a line may be written next. */
  #next: number;
  /** A line stands on the terminal (to clear at the end). */
  #shown = false;

  constructor(
    label: string,
    totalBytes: number | undefined,
    mode: ProgressMode,
    sink: ProgressSink = STDERR,
    now: () => number = () => performance.now(),
  ) {
    // (a path from the command line or a bundle: no escape sequence of its
    // own reaches the terminal)
    this.#label = escapeText(label);
    this.#total = totalBytes;
    this.#sink = sink;
    this.#now = now;
    this.#terminal = sink.isTerminal();
    this.#on = progressShown(mode, sink);
    this.#start = now();
    this.#next = this.#start +
      (this.#terminal ? TERMINAL_AFTER_MS : LINES_EVERY_MS);
  }

  /**
   * The read has got this far (`bytes` is asked only when a line is due:
   * it may cost something to find).
   */
  tick(bytes: () => number, events?: number): void {
    if (!this.#on) return;
    const t = this.#now();
    if (t < this.#next) return;
    this.#next = t + (this.#terminal ? TERMINAL_EVERY_MS : LINES_EVERY_MS);
    this.#write(this.#line(bytes(), events, t));
  }

  /**
   * The read is over: a terminal's line is cleared; elsewhere a last line
   * says where it ended (when lines were asked for): `done` when the whole
   * input was read, else `stopped` (its reader stopped early, or it failed).
   */
  end(bytes: () => number, events?: number, whole = true): void {
    if (!this.#on) return;
    if (this.#terminal) {
      if (this.#shown) this.#put("\r\x1b[K");
      this.#shown = false;
      return;
    }
    this.#write(
      this.#line(bytes(), events, this.#now(), whole ? "done" : "stopped"),
    );
  }

  #line(
    bytes: number,
    events: number | undefined,
    t: number,
    ended?: "done" | "stopped",
  ): string {
    const total = this.#total;
    const where = total !== undefined && total > 0
      ? `${Math.min(100, Math.floor((bytes / total) * 100))}% of ${
        megabytes(total)
      }`
      : megabytes(bytes);
    const figures = `${ended ? `${ended}, ` : ""}${where}, ${
      events === undefined ? "" : `${events.toLocaleString("en")} events, `
    }${((t - this.#start) / 1000).toFixed(1)} s`;
    const label = this.#terminal
      ? fitted(this.#label, figures, this.#sink.columns?.() ?? 80)
      : this.#label;
    return `procrec: ${label}: ${figures}`;
  }

  #write(line: string): void {
    if (this.#terminal) {
      this.#put(`\r\x1b[K${line}`);
      this.#shown = true;
    } else this.#put(`${line}\n`);
  }

  #put(text: string): void {
    try {
      const bytes = new TextEncoder().encode(text);
      for (let at = 0; at < bytes.length;) {
        at += this.#sink.writeSync(bytes.subarray(at));
      }
    } catch {
      // (a closed stderr must not stop the read)
    }
  }
}

/**
 * The label cut in its middle (a path's start and its file name stay) so
 * that `procrec: LABEL: FIGURES` fits in `columns - 1` characters: a line
 * that wraps leaves its upper rows behind at each rewrite. The figures are
 * never cut.
 */
export function fitted(
  label: string,
  figures: string,
  columns: number,
): string {
  const keep = columns - 1 - "procrec: ".length - ": ".length - figures.length;
  if (label.length <= keep) return label;
  if (keep < 9) return label.slice(0, Math.max(keep, 0));
  const front = Math.ceil((keep - 1) / 2), back = keep - 1 - front;
  return label.slice(0, front) + "…" + label.slice(label.length - back);
}

function megabytes(bytes: number): string {
  return bytes < 1e6
    ? `${(bytes / 1e3).toFixed(1)} kB`
    : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Whether a line of this mode can show at all on this process's stderr. */
export function progressShown(
  mode: ProgressMode,
  sink: ProgressSink = STDERR,
): boolean {
  return mode === "on" || (mode === "auto" && sink.isTerminal());
}

/** The help of `--progress` (commands that read a recording through). */
export const PROGRESS_HELP =
  "show how far the read has got on stderr even when it is no terminal (a line a second and a last one); on a terminal the line shows by itself after a second (--no-progress: never)";

/** The mode of the `--progress` / `--no-progress` flags (commander: true, false or absent). */
export function progressMode(flag: boolean | undefined): ProgressMode {
  return flag === true ? "on" : flag === false ? "off" : "auto";
}

/**
 * The batches of `chunks` with a progress line labelled `label` told of
 * each, or `chunks` themselves when no line can show in this `mode` (then
 * nothing is wrapped and no file is looked at). `path`: the input as given,
 * for the line's 100% when it is one plain recording file.
 */
export async function progressed<
  C extends { readonly events: readonly unknown[] },
>(
  chunks: AsyncIterable<C>,
  reader: RecordingSource,
  mode: ProgressMode,
  label: string,
  path?: string | string[],
): Promise<AsyncIterable<C>> {
  if (!progressShown(mode)) return chunks;
  const total = path === undefined
    ? undefined
    : await plainFileSize(path, reader);
  return withProgress(chunks, reader, new Progress(label, total, mode));
}

/** The batches of `chunks`, the progress told of each. */
export async function* withProgress<
  C extends { readonly events: readonly unknown[] },
>(
  chunks: AsyncIterable<C>,
  reader: RecordingSource,
  progress: Progress,
): AsyncGenerator<C> {
  let events = 0;
  let whole = false;
  const bytes = () => reader.bytesSoFar ?? reader.report.bytes;
  try {
    for await (const c of chunks) {
      events += c.events.length;
      progress.tick(bytes, events);
      yield c;
    }
    whole = true;
  } finally {
    // (also when the read fails: the line does not stay above the error)
    progress.end(bytes, events, whole);
  }
}

/**
 * The size of the file read, when the input is one plain recording file
 * (not a bundle member, a segment directory or a pipe): the progress's 100%.
 */
export async function plainFileSize(
  path: string | string[],
  reader: RecordingSource,
): Promise<number | undefined> {
  const file = Array.isArray(path) && path.length === 1 ? path[0] : path;
  if (typeof file !== "string" || reader.name !== file) return undefined;
  const info = await Deno.stat(file).catch(() => undefined);
  return info?.isFile ? info.size : undefined;
}

/**
 * The bytes of `chunks` (an input read through, not a recording: no events
 * counted) with `progress` told of each, and ended after the last (or an
 * error).
 */
export async function* bytesWithProgress(
  chunks: AsyncIterable<Uint8Array>,
  progress: Progress,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  let whole = false;
  const read = () => bytes;
  try {
    for await (const c of chunks) {
      bytes += c.length;
      progress.tick(read);
      yield c;
    }
    whole = true;
  } finally {
    progress.end(read, undefined, whole);
  }
}
