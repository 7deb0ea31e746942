/**
 * The one escaping function for text that comes from evidence (zip member
 * names, trailer count keys, Sysmon host names, manifest fields) before it
 * reaches a terminal: no control character or escape sequence gets through,
 * so a hostile bundle cannot clear the screen or print a fake verdict. Pure.
 *
 * @module
 */

// C0 controls, DEL, C1 controls (CSI is U+009B), the line and paragraph
// separators and the bidirectional formatting characters, which can make a
// line read differently from its bytes; and the private-use characters that
// mark colour (text/style.ts), so that no evidence can colour a line
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\uE000-\uE006]/g;

/**
 * `text` with every control or formatting character written as `\uXXXX`
 * (the JSON escape: a JSON text stays valid JSON), except those in `keep`
 * (the printing boundary keeps `"\n\t"`; a string from evidence keeps none,
 * so it cannot start a line of its own).
 *
 * @example
 * ```ts
 * import { escapeText } from "./escape_text.ts";
 * const name = "a\x1b[2J\x1b[32mINTACT\nb";
 * if (escapeText(name) !== "a\\u001b[2J\\u001b[32mINTACT\\u000ab") throw new Error(escapeText(name));
 * if (escapeText("x\ny\tz", "\n\t") !== "x\ny\tz") throw new Error();
 * if (escapeText("\u009b31m") !== "\\u009b31m") throw new Error();
 * ```
 */
export function escapeText(text: string, keep = ""): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  return text.replace(
    UNSAFE,
    (c) =>
      keep.includes(c)
        ? c
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
