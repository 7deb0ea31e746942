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

/**
 * Yields the lines of UTF-8 `chunks` without their `\n` or `\r\n`, numbered
 * from 1; a final line without a newline is yielded too.
 *
 * @example
 * ```ts
 * import { readLines } from "./read_lines.ts";
 * const bytes = new TextEncoder().encode("a\r\nb\nc");
 * const lines = await Array.fromAsync(readLines([bytes.subarray(0, 2), bytes.subarray(2)]));
 * if (lines.map((l) => l.text).join() !== "a,b,c" || lines[2].no !== 3) throw new Error();
 * ```
 */
export async function* readLines(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Line> {
  const decoder = new TextDecoder();
  let rest = "";
  let no = 0;
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    let from = 0;
    let nl: number;
    while ((nl = rest.indexOf("\n", from)) >= 0) {
      const end = nl > from && rest[nl - 1] === "\r" ? nl - 1 : nl;
      yield { text: rest.slice(from, end), no: ++no };
      from = nl + 1;
    }
    rest = rest.slice(from);
  }
  rest += decoder.decode();
  if (rest.length > 0) {
    yield { text: rest.endsWith("\r") ? rest.slice(0, -1) : rest, no: ++no };
  }
}
