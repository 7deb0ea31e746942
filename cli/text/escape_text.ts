/**
 * The one escaping function for text that comes from evidence (zip member
 * names, trailer count keys, Sysmon host names, manifest fields) before it
 * reaches a terminal: no control character or escape sequence gets through,
 * so a hostile bundle cannot clear the screen or print a fake verdict. Pure.
 *
 * @module
 */

// C0 controls, DEL, C1 controls (CSI is U+009B), the line and paragraph
// separators, the bidirectional formatting characters (the Arabic letter
// mark among them), which can make a line read differently from its bytes,
// and the invisible ones (zero-width space, joiners, word joiner, invisible
// operators, the byte order mark), which make `sshd\u200b` look like `sshd`;
// and the private-use characters that mark colour (text/style.ts), so that
// no evidence can colour a line: the ranges of the class every escaping
// scan is made from
const UNSAFE_RANGES: readonly [number, number][] = [
  [0x00, 0x1f],
  [0x7f, 0x9f],
  [0x061c, 0x061c],
  [0x200b, 0x200f],
  [0x2028, 0x2029],
  [0x202a, 0x202e],
  [0x2060, 0x2069],
  [0xe000, 0xe006],
  [0xfeff, 0xfeff],
];

/**
 * `text` with every control or formatting character written as `\uXXXX`
 * (the JSON escape: a JSON text stays valid JSON, its values the same),
 * except those in `keep` (the printing boundary keeps `"\n\t"`; a string
 * from evidence keeps none, so it cannot start a line of its own).
 *
 * @example
 * ```ts
 * import { escapeText } from "./escape_text.ts";
 * const name = "a\x1b[2J\x1b[32mINTACT\nb";
 * if (escapeText(name) !== "a\\u001b[2J\\u001b[32mINTACT\\u000ab") throw new Error(escapeText(name));
 * if (escapeText("x\ny\tz", "\n\t") !== "x\ny\tz") throw new Error();
 * if (escapeText("\u009b31m") !== "\\u009b31m") throw new Error();
 * if (escapeText("sshd\u200b") !== "sshd\\u200b") throw new Error();
 * if (escapeText('{"a":"\\u0041\u001b"}') !== '{"a":"\\u0041\\u001b"}') throw new Error();
 * ```
 */
export function escapeText(text: string, keep = ""): string {
  return escapeBy(unsafeBut(keep, false), text);
}

/**
 * One string of process evidence (a command line, an image, a user name) as
 * the analyst reads it in a tree, timeline, diff, hunt hit or report row:
 * {@link escapeText}, and a backslash that the evidence itself puts before
 * `u` and four hex digits written `\u005c`, so that every `\uXXXX` read
 * there is an escape (a command line holding the six characters `\u202e`
 * read exactly as one holding the right-to-left override). A backslash
 * before anything else (a Windows path) stays as it is. Not idempotent:
 * for raw evidence only, once (text it made holds `\u` escapes).
 *
 * @example
 * ```ts
 * import { escapeEvidence } from "./escape_text.ts";
 * // the forged escape and the real character read apart
 * if (escapeEvidence("a\\u202Eb") !== "a\\u005cu202Eb") throw new Error(escapeEvidence("a\\u202Eb"));
 * if (escapeEvidence("a\u202eb") !== "a\\u202eb") throw new Error();
 * if (escapeEvidence("C:\\Users\\user\\u1") !== "C:\\Users\\user\\u1") throw new Error();
 * ```
 */
export function escapeEvidence(text: string): string {
  return escapeBy(unsafeBut("", true), text);
}

function escapeBy(unsafe: RegExp, text: string): string {
  unsafe.lastIndex = 0;
  if (!unsafe.test(text)) return text;
  unsafe.lastIndex = 0;
  return text.replace(
    unsafe,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * A scan for the unsafe characters but those of `keep`, made once per
 * `keep`: the kept characters are cut out of the class's ranges, so a text
 * whose only control characters are kept ones (the newlines of a command's
 * output) is let through by one scan, not rebuilt by a call per newline (a
 * look-ahead at each character ran at a third of the speed).
 */
function unsafeBut(keep: string, backslash: boolean): RegExp {
  const key = `${backslash ? "b" : "-"}${keep}`;
  let re = WITHOUT.get(key);
  if (re === undefined) {
    const kept = new Set([...keep].map((c) => c.charCodeAt(0)));
    let cls = "";
    for (const [lo, hi] of UNSAFE_RANGES) {
      let from = -1;
      for (let c = lo; c <= hi + 1; c++) {
        if (c <= hi && !kept.has(c)) {
          if (from < 0) from = c;
        } else if (from >= 0) {
          cls += from === c - 1 ? u(from) : `${u(from)}-${u(c - 1)}`;
          from = -1;
        }
      }
    }
    // (every unsafe character kept: a class that matches nothing)
    const chars = cls === "" ? "[^\\s\\S]" : `[${cls}]`;
    re = new RegExp(
      backslash ? `${chars}|\\\\(?=u[0-9a-fA-F]{4})` : chars,
      "g",
    );
    WITHOUT.set(key, re);
  }
  return re;
}

function u(c: number): string {
  return `\\u${c.toString(16).padStart(4, "0")}`;
}

const WITHOUT = new Map<string, RegExp>();
