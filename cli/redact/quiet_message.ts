/**
 * A message about evidence, for output that is to hold no secret: the
 * values it quotes left out. Pure.
 *
 * @module
 */

/**
 * `message` without the values it quotes: a field's value (`is the string
 * "..."`, `is "..."`, cut or whole, `is [...]`, `is {...}`) and the excerpt
 * of a line that is not JSON (`..."--password",Hunter2"... is not valid
 * JSON`), each replaced by `a value not shown (--redact)`. The file, line
 * and field it names stay. Found by review: with `--redact`, such messages
 * put the secret (or part of it, cut where no rule finds it) on stderr and
 * into an export's end line.
 *
 * @example
 * ```ts
 * import { withoutQuotedValues } from "./quiet_message.ts";
 * const m = withoutQuotedValues('line 4: exec event field "info.argv" is the string "mysql -pX", expected an array');
 * if (m !== 'line 4: exec event field "info.argv" is a value not shown (--redact), expected an array') throw new Error(m);
 * const j = withoutQuotedValues('line 2: is not JSON: Unexpected token \'H\', ..."password",Hunter2Sec"... is not valid JSON');
 * if (j.includes("Hunter2")) throw new Error(j);
 * const cut = withoutQuotedValues('field "x" is "abcdefgh..., expected a number');
 * if (cut.includes("abc")) throw new Error(cut);
 * ```
 */
export function withoutQuotedValues(message: string): string {
  return message
    .replace(/\.\.\."[\s\S]*?"\.\.\./g, "a value not shown (--redact)")
    .replace(
      /\bis (?:the string )?"(?:[^"\\]|\\.)*(?:"(?:\.\.\.)?|$)|\bis [[{].*?(?=, expected|$)/g,
      "is a value not shown (--redact)",
    );
}
