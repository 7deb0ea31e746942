/**
 * Colour for a terminal, kept apart from the text: renderers wrap parts in
 * {@link style} markers (private-use characters that {@link escapeText}
 * escapes in evidence, so no recorded string can carry one), and only the
 * printing boundary turns them into SGR sequences ({@link applyStyles}),
 * when it writes to a terminal and `NO_COLOR` is not set. Pure.
 *
 * @module
 */

/** The styles renderers use. */
export type Style = "red" | "green" | "yellow" | "bold" | "dim" | "cyan";

const CODES: Record<Style, [string, string]> = {
  red: ["\uE001", "31"],
  green: ["\uE002", "32"],
  yellow: ["\uE003", "33"],
  bold: ["\uE004", "1"],
  dim: ["\uE005", "2"],
  cyan: ["\uE006", "36"],
};
const END = "\uE000";

/** Every marker character: what the printing boundary lets through. */
export const STYLE_MARKERS: string = END +
  Object.values(CODES).map(([m]) => m).join("");

/**
 * `text` marked to print in `s` when colour is on; `text` as is when `on`
 * is false (so a renderer can pass its option through).
 *
 * @example
 * ```ts
 * import { applyStyles, style } from "./style.ts";
 * const t = `a ${style("red", "exit 1")} b`;
 * if (applyStyles(t, true) !== "a \x1b[31mexit 1\x1b[0m b") throw new Error();
 * if (applyStyles(t, false) !== "a exit 1 b") throw new Error();
 * if (style("red", "x", false) !== "x") throw new Error();
 * ```
 */
export function style(s: Style, text: string, on = true): string {
  return on && text !== "" ? `${CODES[s][0]}${text}${END}` : text;
}

const ANY_MARKER = /[\uE000-\uE006]/g;
const BY_MARKER = new Map(
  Object.values(CODES).map(([m, code]) => [m, `\x1b[${code}m`]),
);

/**
 * The markers of `text` as SGR sequences (`color`), or removed. A style
 * ends at its end marker; an enclosing style is restored after it.
 */
export function applyStyles(text: string, color: boolean): string {
  if (!color) return text.replace(ANY_MARKER, "");
  const open: string[] = [];
  return text.replace(ANY_MARKER, (m) => {
    if (m === END) {
      open.pop();
      return "\x1b[0m" + open.join("");
    }
    const sgr = BY_MARKER.get(m)!;
    open.push(sgr);
    return sgr;
  });
}

/**
 * Whether output to a stream should be coloured: it is a terminal,
 * `NO_COLOR` is unset or empty (no-color.org) and `TERM` is not `dumb`.
 *
 * @example
 * ```ts
 * import { wantsColor } from "./style.ts";
 * if (wantsColor(true, { NO_COLOR: "1" })) throw new Error();
 * if (wantsColor(false, {})) throw new Error();
 * if (!wantsColor(true, { TERM: "xterm" })) throw new Error();
 * ```
 */
export function wantsColor(
  isTerminal: boolean,
  env: { NO_COLOR?: string; TERM?: string },
): boolean {
  if (!isTerminal) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return env.TERM !== "dumb";
}
