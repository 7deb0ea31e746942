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
  const decoder = new TextDecoder();
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
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
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
  rest += decoder.decode();
  if (rest.endsWith("\r")) rest = rest.slice(0, -1);
  if (rest.length > max) throw tooLong();
  if (rest.length > 0) yield { text: rest, no: ++no };
}
