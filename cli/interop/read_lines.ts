import { ImportInputError } from "./sysmon_input_error.ts";

/**
 * Splits a byte stream into text lines, in bounded memory.
 *
 * @module
 */

/** A line of text and its 1-based number. */
export interface Line {
  text: string;
  no: number;
}

/** Longest line {@link readLines} accepts by default, in UTF-16 units. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

/** Options of {@link readLines}. */
export interface ReadLinesOptions {
  /** The input's name, for the error of a line too long. */
  file?: string;
  /** Longest line accepted (default {@link MAX_LINE_CHARS}). */
  maxChars?: number;
  /**
   * Refuse bytes that are not UTF-8 ({@link ImportInputError} naming the
   * line and the byte's offset), instead of reading them as U+FFFD.
   */
  strictUtf8?: boolean;
}

/**
 * Yields the lines of UTF-8 `chunks` without their `\n` or `\r\n`, numbered
 * from 1; a final line without a newline is yielded too. Linear in the input
 * however long its lines; a line longer than `maxChars` throws
 * {@link ImportInputError} naming the file, the line and the limit (an input
 * without newlines, such as `/dev/zero`, ends there).
 *
 * @example
 * ```ts
 * import { readLines } from "./read_lines.ts";
 * const bytes = new TextEncoder().encode("a\r\nb\nc");
 * const lines = await Array.fromAsync(readLines([bytes.subarray(0, 2), bytes.subarray(2)]));
 * if (lines.map((l) => l.text).join() !== "a,b,c" || lines[2].no !== 3) throw new Error();
 * let message = "";
 * await Array.fromAsync(readLines([new Uint8Array(100)], { file: "z", maxChars: 10 }))
 *   .catch((e) => (message = e.message));
 * if (!message.includes("line 1") || !message.includes("10 characters")) throw new Error(message);
 * ```
 */
export async function* readLines(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ReadLinesOptions = {},
): AsyncGenerator<Line> {
  const max = options.maxChars ?? MAX_LINE_CHARS;
  const strict = options.strictUtf8 === true;
  const decoder = new TextDecoder("utf-8", { fatal: strict });
  let offset = 0;
  /** Continuation bytes the last chunk's cut-off sequence still needs. */
  let pending = 0;
  /** The bytes of that sequence so far. */
  let held = 0;
  // the line so far: only the new text is searched for a newline
  let rest = "";
  let no = 0;
  const tooLong = () =>
    new ImportInputError(
      options.file ?? "input",
      no + 1,
      undefined,
      `is longer than the limit of ${max} characters for a line`,
    );
  const notUtf8 = (chunk: Uint8Array) => {
    // a sequence the chunks before began, broken here or by the end: its
    // lead byte, held from before, is at fault (a newline byte is never
    // inside a UTF-8 sequence: the lines before the bad byte are counted in
    // its chunk)
    let k = 0;
    while (k < pending && k < chunk.length && (chunk[k] & 0xc0) === 0x80) k++;
    const at = pending > 0 && k < pending
      ? -held
      : firstInvalidUtf8(chunk, pending);
    let line = no + 1;
    for (let i = 0; i < at; i++) if (chunk[i] === 0x0a) line++;
    return new ImportInputError(
      options.file ?? "input",
      line,
      undefined,
      `is not valid UTF-8 (at byte offset ${offset + at} of the input)`,
    );
  };
  for await (const chunk of chunks) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch (e) {
      if (strict) throw notUtf8(chunk);
      throw e;
    }
    offset += chunk.length;
    if (strict) [pending, held] = cutOff(chunk, pending, held);
    let from = 0;
    let nl: number;
    while ((nl = text.indexOf("\n", from)) >= 0) {
      let line = rest + text.slice(from, nl);
      rest = "";
      if (line.length > max + 1) throw tooLong();
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line.length > max) throw tooLong();
      yield { text: line, no: ++no };
      from = nl + 1;
    }
    rest += text.slice(from);
    if (rest.length > max + 1) throw tooLong();
  }
  try {
    rest += decoder.decode();
  } catch (e) {
    // a sequence cut off by the end of the input
    if (strict) throw notUtf8(new Uint8Array(0));
    throw e;
  }
  if (rest.endsWith("\r")) rest = rest.slice(0, -1);
  if (rest.length > max) throw tooLong();
  if (rest.length > 0) yield { text: rest, no: ++no };
}

/**
 * The offset of the first byte of `bytes` that does not continue a valid
 * UTF-8 sequence, after the `pending` continuation bytes of a sequence the
 * chunk before began; `bytes.length` when only the end is cut off.
 */
function firstInvalidUtf8(bytes: Uint8Array, pending: number): number {
  // (the continuation bytes of a sequence the chunk before began)
  let i = 0;
  while (i < pending && i < bytes.length && (bytes[i] & 0xc0) === 0x80) i++;
  while (i < bytes.length) {
    const b = bytes[i];
    const n = b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    if (n === 0) return i;
    for (let k = 1; k < n && i + k < bytes.length; k++) {
      if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    if (i + n > bytes.length) return bytes.length;
    // overlong, surrogate and out-of-range forms
    const b1 = bytes[i + 1];
    if (
      (b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) ||
      (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)
    ) return i;
    i += n;
  }
  return bytes.length;
}

/**
 * The continuation bytes still needed after `chunk` (valid UTF-8) by a
 * sequence it cuts off, and the bytes of that sequence so far; `before` and
 * `heldBefore`: the same after the chunk before it.
 */
function cutOff(
  chunk: Uint8Array,
  before: number,
  heldBefore: number,
): [number, number] {
  const n = chunk.length;
  for (let j = n - 1; j >= 0 && j >= n - 4; j--) {
    const b = chunk[j];
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0x80) return [0, 0];
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    const have = n - j;
    return have >= len ? [0, 0] : [len - have, have];
  }
  // only continuation bytes: all of them the sequence before's
  return before > n ? [before - n, heldBefore + n] : [0, 0];
}
