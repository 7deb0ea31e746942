/**
 * Checks that an `argv` rule's regular expression is in the subset that
 * JavaScript (`--dry-run`, {@link matchArgvRegex}) and POSIX ERE (the
 * enforcer's glibc `regcomp`, C locale) read the same way:
 *
 * - characters, `.`, `^`, `$`, groups `( )`, alternatives `|` (none empty);
 * - `*`, `+`, `?` and bounds `{n}`, `{n,}`, `{n,m}` (n, m at most 255) after
 *   something to repeat, never after another quantifier;
 * - brackets `[abc]`, `[^a-z]`, with `-` first, last or between the two ends
 *   of one range, and no `]` first;
 * - `\` before one of `. [ ] ( ) * + ? { } | ^ $ \ /` (the character itself).
 *
 * Everything else means something else in one of them or nothing in the
 * other (`\d`, `\w`, `\s`, `\b`, `\n`, back-references, `(?:`, look-arounds,
 * lazy quantifiers, `\` or `[:class:]` inside brackets, ...) and is refused
 * with what to write instead. Pure.
 *
 * @module
 */
import { byteString } from "./match_argv_regex.ts";

const ESCAPABLE = new Set(".[]()*+?{}|^$\\/");
const INSTEAD: Record<string, string> = {
  d: "[0-9]",
  D: "[^0-9]",
  w: "[A-Za-z0-9_]",
  W: "[^A-Za-z0-9_]",
  s: '" " (the arguments are joined by single spaces) or a bracket of the whitespace characters themselves (YAML double quotes: "[ \\t]")',
  S: '[^ ] or a bracket that excludes the whitespace characters themselves (YAML double quotes: "[^ \\t]")',
  b: "the neighbours spelled out, e.g. (^|[^A-Za-z0-9_])word([^A-Za-z0-9_]|$)",
  B: "the neighbours spelled out, e.g. [A-Za-z0-9_]x",
  n: 'the character itself (YAML double quotes: "\\n")',
  t: 'the character itself (YAML double quotes: "\\t")',
  r: 'the character itself (YAML double quotes: "\\r")',
  f: "the character itself",
  v: "the character itself",
  x: "the character itself",
  u: "the character itself",
  c: "the character itself",
  "0": "the character itself",
  k: "no back-reference (not supported)",
};
const CLASSES: Record<string, string> = {
  alpha: "A-Za-z",
  digit: "0-9",
  alnum: "A-Za-z0-9",
  upper: "A-Z",
  lower: "a-z",
  space: "the whitespace characters themselves",
  xdigit: "0-9A-Fa-f",
  punct: "the punctuation characters themselves",
};

/**
 * `undefined` when `source` reads the same in JavaScript and POSIX ERE, else
 * what is wrong in it and what to write instead.
 *
 * @example
 * ```ts
 * import { checkArgvRegex } from "./check_argv_regex.ts";
 * if (checkArgvRegex("-o +[^ ]+") !== undefined) throw new Error();
 * if (!checkArgvRegex("-p\\d+")?.includes("write [0-9]")) throw new Error();
 * ```
 */
export function checkArgvRegex(source: string): string | undefined {
  // one character per byte, as the enforcer reads the expression
  const re = byteString(source);
  let depth = 0, canRepeat = false, emptyAlt = true;
  const quantifierAfter = (i: number): string | undefined => {
    const c = re[i];
    if (c === "?") {
      return `a lazy quantifier ("${
        re.slice(i - 1, i + 1)
      }": POSIX ERE has none; a rule only asks whether it matches): drop the "?"`;
    }
    if (c === "*" || c === "+" || c === "{") {
      return `a quantifier after a quantifier ("${
        re.slice(i - 1, i + 1)
      }"): put the first in a group, e.g. (x*)+`;
    }
    return undefined;
  };
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === "\\") {
      const n = re[i + 1];
      if (n === undefined) return 'a "\\" at the end: write \\\\';
      if (!ESCAPABLE.has(n)) {
        const instead = /[1-9]/.test(n)
          ? "no back-reference (not supported)"
          : INSTEAD[n] ?? `${n} without the "\\"`;
        return `"\\${n}" (POSIX ERE and JavaScript read it differently): write ${instead}`;
      }
      i++;
      canRepeat = true;
      emptyAlt = false;
    } else if (c === "[") {
      const end = checkBracket(re, i);
      if (typeof end === "string") return end;
      i = end;
      canRepeat = true;
      emptyAlt = false;
    } else if (c === "(") {
      if (re[i + 1] === "?") {
        const what = re.slice(i, i + 3);
        return `"${what}" (${
          what === "(?:"
            ? "a non-capturing group"
            : "a look-around or named group"
        }, not POSIX ERE): ${
          what === "(?:"
            ? "write a plain group ( ), capturing does not matter here"
            : "not supported; match the text itself"
        }`;
      }
      depth++;
      canRepeat = false;
      emptyAlt = true;
    } else if (c === ")") {
      if (depth === 0) return 'an unmatched ")": write \\) for the character';
      if (emptyAlt) {
        return "an empty group or alternative: POSIX ERE leaves it undefined; remove it";
      }
      depth--;
      canRepeat = true;
    } else if (c === "|") {
      if (emptyAlt) {
        return "an empty alternative: POSIX ERE leaves it undefined; remove it";
      }
      emptyAlt = true;
      canRepeat = false;
    } else if (c === "*" || c === "+" || c === "?") {
      if (!canRepeat) {
        return `"${c}" with nothing to repeat: write \\${c} for the character`;
      }
      const q = quantifierAfter(i + 1);
      if (q) return q;
      canRepeat = false;
    } else if (c === "{") {
      const m = /^\{([0-9]+)(,([0-9]+)?)?\}/.exec(re.slice(i));
      if (!canRepeat || !m) {
        return 'a "{" that is not a bound {n}, {n,} or {n,m} after something to repeat: write \\{ for the character';
      }
      const lo = Number(m[1]), hi = m[3] === undefined ? lo : Number(m[3]);
      if (lo > 255 || hi > 255 || (m[3] !== undefined && lo > hi)) {
        return `the bound "${m[0]}": at most 255, the lower first`;
      }
      i += m[0].length - 1;
      const q = quantifierAfter(i + 1);
      if (q) return q;
      canRepeat = false;
    } else if (c === "}") {
      return 'a "}" that closes no bound: write \\} for the character';
    } else if (c === "^" || c === "$") {
      canRepeat = false;
      emptyAlt = false;
    } else {
      canRepeat = true;
      emptyAlt = false;
    }
  }
  if (depth > 0) {
    return 'an unclosed "(": close it, or write \\( for the character';
  }
  if (emptyAlt) {
    return "an empty alternative: POSIX ERE leaves it undefined; remove it";
  }
  return undefined;
}

/** Checks the bracket that opens at re[at]; the index of its "]" or what is wrong. */
function checkBracket(re: string, at: number): number | string {
  let i = at + 1;
  if (re[i] === "^") i++;
  if (re[i] === "]") {
    return 'a "]" first in a bracket (JavaScript ends the bracket there, POSIX ERE takes it as the character): write it outside, e.g. (\\]|[abc])';
  }
  const first = i;
  const backslash =
    'a "\\" inside a bracket (a backslash to POSIX ERE, an escape to JavaScript): write the characters themselves; for a backslash, (\\\\|[abc])';
  const posixClass = (j: number): string | undefined => {
    if (re[j] !== "[" || !/[:.=]/.test(re[j + 1] ?? "")) return undefined;
    const name = /^\[:([a-z]+):\]/.exec(re.slice(j))?.[1];
    const range = name ? CLASSES[name] : undefined;
    return `"${
      re.slice(j, j + 2)
    }" inside a bracket (a POSIX class, a literal to JavaScript): write ${
      range ? `the range ${range}` : "the characters themselves"
    }`;
  };
  let prev: "none" | "char" | "range" = "none";
  for (; i < re.length && re[i] !== "]"; i++) {
    const c = re[i];
    if (c === "\\") return backslash;
    const cls = posixClass(i);
    if (cls) return cls;
    if (c === "-" && i !== first && re[i + 1] !== "]") {
      // a range: its start is the character before, its end the one after
      if (prev !== "char" || re[i - 1] === "-" || re[i + 1] === "-") {
        return 'a "-" inside a bracket that is neither first, last nor between the two ends of one range: put it first or last';
      }
      if (re[i + 1] === "\\") return backslash;
      const endCls = posixClass(i + 1);
      if (endCls) return endCls;
      if (i + 1 < re.length) i++;
      prev = "range";
      continue;
    }
    prev = "char";
  }
  if (i >= re.length) {
    return 'an unclosed "[": close it, or write \\[ for the character';
  }
  return i;
}
