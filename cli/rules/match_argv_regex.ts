/**
 * An `argv` rule's regular expression run as the enforcer runs it: POSIX
 * ERE in the C locale on the arguments' bytes (`driver/linux/exec_match.c`
 * `pr_ere_match`). The expression and the text are both turned into
 * strings of one character per UTF-8 byte and tried with the `s` flag (`.`
 * matches a newline, as in POSIX without `REG_NEWLINE`), so that `.` and a
 * bracket count bytes as the enforcer does. Exact for the expressions that
 * {@link checkArgvRegex} accepts. Pure.
 *
 * @module
 */

const utf8 = new TextEncoder();
const compiled = new Map<string, RegExp>();

/**
 * `s` as one character (U+0000 to U+00FF) per byte of its UTF-8 encoding.
 *
 * @example
 * ```ts
 * import { byteString } from "./match_argv_regex.ts";
 * if (byteString("é") !== "\u00c3\u00a9") throw new Error();
 * ```
 */
export function byteString(s: string): string {
  let out = "";
  for (const b of utf8.encode(s)) out += String.fromCharCode(b);
  return out;
}

/**
 * Whether the arguments joined by single spaces (`line`) match the `argv`
 * regex `source`, as the enforcer decides it. Throws a `SyntaxError` when
 * `source` does not compile.
 *
 * @example
 * ```ts
 * import { matchArgvRegex } from "./match_argv_regex.ts";
 * if (!matchArgvRegex("^a.b$", "a\nb") || matchArgvRegex("^a.b$", "aéb")) throw new Error();
 * ```
 */
export function matchArgvRegex(source: string, line: string): boolean {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(byteString(source), "s");
    compiled.set(source, re);
  }
  return re.test(byteString(line));
}
