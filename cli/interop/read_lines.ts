import { ImportInputError } from "./sysmon_input_error.ts";
import { concatBytes } from "../io/concat_bytes.ts";
import { Utf8Replacements } from "./_replaced_text.ts";

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
  /** The bytes of a sequence the chunks so far cut off (valid so far). */
  let held: Uint8Array = new Uint8Array(0);
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
    // the bad byte, found by a UTF-8 decoding from the sequence the chunks
    // before cut off (its lead byte is at fault when this chunk, or the
    // end, breaks it); a newline byte is never inside a UTF-8 sequence, so
    // the lines before the bad byte are counted from there
    const first = new Utf8Replacements();
    first.scan(held);
    first.scan(chunk);
    const found = first.end();
    return new ImportInputError(
      options.file ?? "input",
      no + found.line,
      undefined,
      `is not valid UTF-8 (at byte offset ${
        offset - held.length + found.offset
      } of the input)`,
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
    if (strict) held = cutOff(held, chunk);
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
 * The bytes of a sequence cut off at the end of `held` (what the chunks
 * before cut off) and `chunk`, which decoded as UTF-8: none, or a lead byte
 * and up to two of its continuations.
 */
function cutOff(held: Uint8Array, chunk: Uint8Array): Uint8Array {
  const tail = chunk.length >= 4
    ? chunk.subarray(chunk.length - 4)
    : concatBytes([held, chunk]).subarray(-4);
  const n = tail.length;
  for (let j = n - 1; j >= 0 && j >= n - 3; j--) {
    const b = tail[j];
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0x80) break;
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return n - j < len ? tail.slice(j) : new Uint8Array(0);
  }
  return new Uint8Array(0);
}
