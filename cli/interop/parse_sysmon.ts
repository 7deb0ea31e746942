/**
 * Reads Sysmon events from JSON lines or Windows event XML, whichever the
 * input is: the first character that is not white space (after a UTF-8 byte
 * order mark) decides, `{` for JSON lines and `<` for XML. UTF-16 input with
 * a byte order mark is read too.
 *
 * @module
 */
import { concatBytes } from "../io/concat_bytes.ts";
import { parseSysmonJsonLines } from "./parse_sysmon_json_lines.ts";
import { parseSysmonXml } from "./parse_sysmon_xml.ts";
import { ImportInputError } from "./sysmon_input_error.ts";
import type { SysmonRecord } from "./sysmon_record.ts";
import {
  type Replacements,
  Utf16Replacements,
  Utf8Replacements,
} from "./_replaced_text.ts";

export type { Replacements };

/** The two shapes Sysmon exports take. */
export type SysmonFormat = "jsonl" | "xml";

/**
 * Which shape `head` (the first bytes of an input) is, or `undefined` for an
 * input that holds only white space.
 *
 * @example
 * ```ts
 * import { detectSysmonFormat } from "./parse_sysmon.ts";
 * const f = detectSysmonFormat(new TextEncoder().encode("\ufeff  <Events>"), "x");
 * try {
 *   detectSysmonFormat(new Uint8Array([0x3c, 0, 0x45, 0]), "y");
 *   throw new Error("UTF-16 taken for UTF-8");
 * } catch (e) {
 *   if (!/UTF-16 without a byte order mark/.test((e as Error).message)) throw e;
 * }
 * if (f !== "xml") throw new Error(String(f));
 * ```
 */
export function detectSysmonFormat(
  head: Uint8Array,
  file: string,
): SysmonFormat | undefined {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  let line = 1;
  for (; i < head.length; i++) {
    const c = head[i];
    if (c === 0x0a) line++;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    // (UTF-16 without its byte order mark: a NUL beside each ASCII
    // character; read as UTF-8 it held no record, and the import said only
    // that; found by review)
    if (
      (c === 0x7b || c === 0x3c) && i + 1 < head.length && head[i + 1] === 0 ||
      c === 0 && (head[i + 1] === 0x7b || head[i + 1] === 0x3c)
    ) {
      throw new ImportInputError(
        file,
        line,
        undefined,
        "looks like UTF-16 without a byte order mark (a NUL byte beside each character): save it as UTF-8, or as UTF-16 with its byte order mark",
      );
    }
    if (c === 0x7b) return "jsonl";
    if (c === 0x3c) return "xml";
    throw new ImportInputError(
      file,
      line,
      undefined,
      `starts with ${
        shownStart(head, i)
      }, expected "{" (Sysmon JSON lines) or "<" (Windows event XML)`,
    );
  }
  return undefined;
}

/**
 * The character at `at` of `head` as an error shows it: quoted, or the byte
 * in hex when it does not start a UTF-8 character.
 */
function shownStart(head: Uint8Array, at: number): string {
  const c = head[at];
  if (c < 0x80) return JSON.stringify(String.fromCharCode(c));
  const text = new TextDecoder().decode(head.subarray(at, at + 4));
  const cp = text.codePointAt(0)!;
  const literal = c === 0xef && head[at + 1] === 0xbf && head[at + 2] === 0xbd;
  return cp === 0xfffd && !literal
    ? `the byte 0x${c.toString(16)}, which is not UTF-8`
    : JSON.stringify(String.fromCodePoint(cp));
}

/** The records of one input and the shape it was read as. */
export interface SysmonInput {
  /** `undefined` until the first bytes are read; stays so for blank input. */
  format: () => SysmonFormat | undefined;
  records: AsyncGenerator<SysmonRecord>;
  /**
   * What reading the input as text replaced with U+FFFD (bytes that are
   * not UTF-8, or not UTF-16 for input with its byte order mark): known
   * once {@link records} is read to its end; `undefined` before.
   */
  replaced: () => Replacements | undefined;
}

/**
 * Detects the shape of `chunks` from its first non-blank bytes and yields
 * its records.
 *
 * @example
 * ```ts
 * import { parseSysmon } from "./parse_sysmon.ts";
 * const bytes = new TextEncoder().encode('{"EventID":5,"Computer":"h"}\n');
 * const input = parseSysmon([bytes], "x.jsonl");
 * const records = await Array.fromAsync(input.records);
 * if (records.length !== 1 || input.format() !== "jsonl") throw new Error();
 * ```
 */
export function parseSysmon(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file: string,
): SysmonInput {
  let format: SysmonFormat | undefined;
  let replaced: Replacements | undefined;
  async function* records(): AsyncGenerator<SysmonRecord> {
    const it = await utf8(chunks, (r) => (replaced = r));
    const head: Uint8Array[] = [];
    let headBytes = new Uint8Array(0);
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      head.push(r.value);
      const joined = new Uint8Array(headBytes.length + r.value.length);
      joined.set(headBytes);
      joined.set(r.value, headBytes.length);
      headBytes = joined;
      format = detectSysmonFormat(headBytes, file);
      if (format !== undefined) break;
    }
    if (format === undefined) return;
    const rest = (async function* () {
      yield* head;
      yield* it;
    })();
    yield* format === "jsonl"
      ? parseSysmonJsonLines(rest, file)
      : parseSysmonXml(rest, file);
  }
  return {
    format: () => format,
    records: records(),
    replaced: () => replaced,
  };
}

/**
 * The bytes of `chunks` as UTF-8: UTF-16 input (with its byte order mark, as
 * PowerShell and Event Viewer often save XML) is converted as it streams.
 * What the decoding replaces with U+FFFD (here, or in the parser's UTF-8
 * decoder) is counted and given to `done` once the input is read.
 */
async function utf8(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  done: (replaced: Replacements) => void,
): Promise<AsyncGenerator<Uint8Array>> {
  const src = (async function* () {
    for await (const c of chunks) yield c;
  })();
  const first: Uint8Array[] = [];
  let n = 0;
  while (n < 2) {
    const r = await src.next();
    if (r.done) break;
    first.push(r.value);
    n += r.value.length;
  }
  const head = first.length === 1 ? first[0] : concatBytes(first);
  const encoding = head[0] === 0xff && head[1] === 0xfe
    ? "utf-16le"
    : head[0] === 0xfe && head[1] === 0xff
    ? "utf-16be"
    : undefined;
  if (encoding === undefined) {
    const count = new Utf8Replacements();
    return (async function* () {
      count.scan(head);
      if (head.length > 0) yield head;
      for await (const c of src) {
        count.scan(c);
        yield c;
      }
      done(count.end());
    })();
  }
  const count = new Utf16Replacements(encoding === "utf-16le");
  return (async function* () {
    const decoder = new TextDecoder(encoding); // drops the byte order mark
    const encoder = new TextEncoder();
    count.scan(head);
    yield encoder.encode(decoder.decode(head, { stream: true }));
    for await (const c of src) {
      count.scan(c);
      yield encoder.encode(decoder.decode(c, { stream: true }));
    }
    yield encoder.encode(decoder.decode());
    done(count.end());
  })();
}
