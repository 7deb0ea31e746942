/**
 * A case-insensitive regular expression written without the `i` flag
 * (private to cli/hunt). V8's linear engine, which the launcher lets take
 * over from an expression that backtracks without end, takes no `i` flag:
 * a Sigma `|re|i` (or `(?i)`) value such as `(a+)+$` would otherwise run for
 * minutes against a command line any local user can write. Pure.
 *
 * @module
 */
import { foldUnit } from "./_fold_unit.ts";

/**
 * `src` (a pattern for the `i` flag, without the `u` flag) as a pattern
 * that matches exactly the same texts without the `i` flag: each character
 * that has other cases as a class of all of them (`x` as `[xX]`, `é` as
 * `[é\u00c9]`), and each character class with the other cases of the
 * characters it holds (`\xHH` and `\uHHHH` as the characters they stand
 * for). `undefined` when the pattern holds another escape that could stand
 * for a letter (`\cJ`, octal) or a back-reference (the linear engine takes
 * none): then the caller keeps the `i` flag.
 *
 * Without the `u` flag, the `i` flag folds a character (a UTF-16 code unit)
 * by its upper case, when that is one code unit, but never a character
 * above U+007F to one below it (ECMA-262, Canonicalize): an ASCII letter
 * matches exactly its two cases, any other ASCII character only itself, and
 * a character above U+007F every character of the same upper case
 * ({@link foldGroup}).
 *
 * @example
 * ```ts
 * import { caseFreeSource } from "./_case_free_regex.ts";
 * if (caseFreeSource("a[b-c]\\d") !== "[aA][b-cBC]\\d") throw new Error();
 * if (caseFreeSource("(?<n>x)") !== "(?<n>[xX])") throw new Error();
 * if (caseFreeSource("\u00e9") !== "[\u00e9\\u00c9]") throw new Error();
 * if (caseFreeSource("\\x41") !== "[\\x41a]") throw new Error();
 * if (caseFreeSource("(a)\\1") !== undefined) throw new Error();
 * ```
 */
export function caseFreeSource(src: string): string | undefined {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) return undefined;
      const unit = unitAt(src, i);
      if (unit !== undefined) {
        // \xHH, \uHHHH: the character it stands for, with its cases
        out += literal(String.fromCharCode(unit.code), src.slice(i, unit.end));
        i = unit.end;
        continue;
      }
      if (!plainEscape(src, i)) return undefined;
      // (an escaped character above U+007F is that character, with its cases)
      out += n < "\x80" ? c + n : literal(n, c + n);
      i += 2;
      continue;
    }
    if (c === "[") {
      const cls = caseFreeClass(src, i);
      if (cls === undefined) return undefined;
      out += cls.text;
      i = cls.end;
      continue;
    }
    // a modifier group ((?i:...), (?-i:...), (?m:...)) sets its own flags:
    // the i flag stays
    if (c === "(" && /^\(\?[-a-zA-Z]/.test(src.slice(i, i + 3))) {
      return undefined;
    }
    if (c === "(" && src.startsWith("(?<", i) && !/^[=!]/.test(src[i + 3])) {
      // a group's name: kept as written
      const close = src.indexOf(">", i);
      if (close < 0) return undefined;
      out += src.slice(i, close + 1);
      i = close + 1;
      continue;
    }
    out += literal(c);
    i++;
  }
  return out;
}

/**
 * Whether the escape at `at` stands for the same texts whatever the case:
 * a class (`\d`, `\w`, `\s` and their negations), an assertion (`\b`,
 * `\B`), a control character (`\f`, `\n`, `\r`, `\t`, `\v`, `\0` not
 * followed by a digit) or a character that is not a letter or digit.
 */
function plainEscape(src: string, at: number): boolean {
  const n = src[at + 1];
  if ("dDwWsSbBfnrtv".includes(n)) return true;
  if (n === "0") return !/[0-9]/.test(src[at + 2] ?? "");
  return !/[A-Za-z0-9]/.test(n);
}

/**
 * The class at `at` (`[`) with the other case of each letter it holds
 * added, and where it ends; `undefined` for an escape {@link plainEscape}
 * refuses.
 */
function caseFreeClass(
  src: string,
  at: number,
): { text: string; end: number } | undefined {
  let i = at + 1;
  if (src[i] === "^") i++;
  /** The other cases of the class's characters that it does not hold. */
  const added = new Set<number>();
  /** The last atom was a - as written (not escaped, not a range's end). */
  let dash = false;
  while (i < src.length && src[i] !== "]") {
    const a = classAtom(src, i);
    if (a === undefined) return undefined;
    // (a - as written: not an escape)
    dash = src[i] === "-";
    i = a.end;
    if (src[i] === "-" && src[i + 1] !== "]" && src[i + 1] !== undefined) {
      // atom - atom: a range, or, when either is a class (\d-a), both atoms
      // and a - of their own (Annex B)
      const b = classAtom(src, i + 1);
      if (b === undefined) return undefined;
      i = b.end;
      dash = false;
      if (a.code !== undefined && b.code !== undefined) {
        for (let x = a.code; x <= b.code; x++) {
          // (a code of the range itself needs no adding)
          addOther(added, x, (y) => y >= a.code! && y <= b.code!);
        }
      } else {
        if (a.code !== undefined) addOther(added, a.code);
        if (b.code !== undefined) addOther(added, b.code);
      }
      continue;
    }
    if (a.code !== undefined) addOther(added, a.code);
  }
  if (i >= src.length) return undefined;
  let body = src.slice(at, i);
  // (a - at the end is a character: escaped, so that what is added after
  // it makes no range)
  if (dash) body = body.slice(0, -1) + "\\-";
  return { text: `${body}${runs(added)}]`, end: i + 1 };
}

/**
 * The class atom at `at`: the code it stands for (`undefined` for `\d`,
 * `\w`, `\s` and their negations) and where it ends; `undefined` for an
 * escape {@link plainEscape} refuses (`\b`, a backspace here, is taken).
 */
function classAtom(
  src: string,
  at: number,
): { code: number | undefined; end: number } | undefined {
  if (src[at] !== "\\") return { code: src.charCodeAt(at), end: at + 1 };
  const unit = unitAt(src, at);
  if (unit !== undefined) return unit;
  const n = src[at + 1];
  if (n === undefined || (!plainEscape(src, at) && n !== "b")) return undefined;
  return {
    code: "dDwWsS".includes(n) ? undefined : escapedCode(n),
    end: at + 2,
  };
}

/**
 * The code unit of the `\xHH` or `\uHHHH` escape at `at` (`\` there) and
 * where it ends; `undefined` for another escape (without the `u` flag, a
 * `\x` or `\u` without its hex digits is the letter itself, which
 * {@link plainEscape} refuses).
 */
function unitAt(
  src: string,
  at: number,
): { code: number; end: number } | undefined {
  const n = src[at + 1];
  const digits = n === "x" ? 2 : n === "u" ? 4 : 0;
  if (digits === 0) return undefined;
  const hex = src.slice(at + 2, at + 2 + digits);
  if (hex.length !== digits || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  return { code: parseInt(hex, 16), end: at + 2 + digits };
}

/** The code of the character a plain escape in a class stands for. */
function escapedCode(n: string): number {
  switch (n) {
    case "b":
      return 8;
    case "f":
      return 12;
    case "n":
      return 10;
    case "r":
      return 13;
    case "t":
      return 9;
    case "v":
      return 11;
    case "0":
      return 0;
    default:
      return n.charCodeAt(0);
  }
}

/**
 * Adds to `added` the other cases of `code` that `inRange` does not hold
 * already.
 */
function addOther(
  added: Set<number>,
  code: number,
  inRange: (code: number) => boolean = (y) => y === code,
): void {
  if (code < 0x80) {
    const c = String.fromCharCode(code);
    if (!isLetter(c)) return;
    const o = other(c).charCodeAt(0);
    if (!inRange(o)) added.add(o);
    return;
  }
  for (const y of foldGroup(code)) {
    if (!inRange(y)) added.add(y);
  }
}

/**
 * Code units as class atoms, in order, three or more in a row as a range
 * (a wide range's other cases are runs: `[\u0400-\u04ff]` adds a few
 * ranges, not hundreds of atoms). ASCII letters as they are, any other
 * unit as `\uXXXX`.
 */
function runs(codes: Set<number>): string {
  const sorted = [...codes].sort((a, b) => a - b);
  const atom = (x: number) => x < 0x80 ? String.fromCharCode(x) : unitEscape(x);
  let out = "";
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    if (j - i >= 2) out += `${atom(sorted[i])}-${atom(sorted[j])}`;
    else for (let k = i; k <= j; k++) out += atom(sorted[k]);
    i = j + 1;
  }
  return out;
}

/**
 * A character of the pattern (outside a class), written `as`, as a class
 * of its cases.
 */
function literal(c: string, as = c): string {
  if (c < "\x80") return isLetter(c) ? `[${as}${other(c)}]` : as;
  const group = foldGroup(c.charCodeAt(0));
  if (group.length < 2) return as;
  let out = `[${as}`;
  for (const y of group) if (y !== c.charCodeAt(0)) out += unitEscape(y);
  return out + "]";
}

/** `\uXXXX`: one code unit, whatever it is, in a class or out of one. */
function unitEscape(code: number): string {
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

function isLetter(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}

function other(c: string): string {
  return c >= "a" ? c.toUpperCase() : c.toLowerCase();
}

/**
 * The code units the `i` flag (without `u`) takes for `code` (U+0080 and
 * above), in order, `code` among them: those of the same {@link foldUnit}
 * (never an ASCII one). Made for all 65,536 code units on the first call
 * (a few ms).
 */
function foldGroup(code: number): readonly number[] {
  if (groups === undefined) {
    groups = new Map();
    const by = new Map<number, number[]>();
    for (let x = 0x80; x < 0x10000; x++) {
      const k = foldUnit(x);
      const list = by.get(k);
      if (list === undefined) by.set(k, [x]);
      else list.push(x);
    }
    for (const list of by.values()) {
      if (list.length < 2) continue;
      for (const x of list) groups.set(x, list);
    }
  }
  return groups.get(code) ?? [code];
}

/** {@link foldGroup}'s groups of two or more, by each of their code units. */
let groups: Map<number, readonly number[]> | undefined;
