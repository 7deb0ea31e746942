/**
 * A Sigma value with wildcards, matched without backtracking. A RegExp of
 * the form `^[\s\S]*a[\s\S]*b[\s\S]*c$` backtracks: its time grows with a
 * power of the text's length (a rule value `*a*b*c` took over a minute on a
 * command line of 16 KB, and a command line is what anyone on the host
 * writes). Here the value is cut at its stars into pieces of fixed length;
 * the first piece must start the text, the last must end it, and each one
 * between is found at its leftmost place after the one before: at most the
 * text's length times the value's. Internal to the engine.
 *
 * @module
 */
import { foldUnit } from "./_fold_unit.ts";
import { DASH, ONE, type Part, STAR } from "./_value_parts.ts";

/** In a piece: any one code unit (`?`). */
const ANY = -1;
/** In a piece: one of the dashes of `windash`. */
const DASHES = -2;

/** A piece between stars: code units, {@link ANY} or {@link DASHES}. */
interface Piece {
  units: Int32Array;
  /** The piece as text when it has no wildcard (found with indexOf). */
  literal: string | undefined;
}

function isDash(c: number): boolean {
  // -, /, en dash, em dash, horizontal bar
  return c === 0x2d || c === 0x2f || c === 0x2013 || c === 0x2014 ||
    c === 0x2015;
}

function pieceOf(parts: Part[]): Piece {
  let n = 0;
  for (const p of parts) n += typeof p === "string" ? p.length : 1;
  const units = new Int32Array(n);
  let k = 0, literal = true;
  for (const p of parts) {
    if (typeof p === "string") {
      for (let i = 0; i < p.length; i++) units[k++] = p.charCodeAt(i);
    } else {
      units[k++] = p === DASH ? DASHES : ANY;
      literal = false;
    }
  }
  return {
    units,
    literal: literal ? (parts as string[]).join("") : undefined,
  };
}

/** Whether `piece` is in `s` at `at` (which leaves room for it). */
function isAt(s: string, at: number, piece: Piece): boolean {
  const u = piece.units;
  for (let i = 0; i < u.length; i++) {
    const want = u[i];
    if (want === ANY) continue;
    const c = s.charCodeAt(at + i);
    if (want === DASHES ? !isDash(c) : c !== want) return false;
  }
  return true;
}

/** The leftmost place of `piece` in `s` from `from`, ending by `end`; or -1. */
function find(s: string, piece: Piece, from: number, end: number): number {
  const n = piece.units.length;
  if (piece.literal !== undefined) {
    const i = s.indexOf(piece.literal, from);
    return i >= 0 && i + n <= end ? i : -1;
  }
  for (let at = from; at + n <= end; at++) if (isAt(s, at, piece)) return at;
  return -1;
}

/**
 * A test of a whole text against `parts` (literal text, `STAR`, `ONE`,
 * {@link DASH}), compared code unit by code unit, except that `ONE` is one
 * character (a code point: a surrogate pair is one): a caller matching
 * without case gives parts and text through {@link caseFolded}.
 *
 * @example
 * ```ts
 * import { globTest } from "./_glob.ts";
 * import { ONE, STAR } from "./_value_parts.ts";
 * const t = globTest([STAR, "a", STAR, "b", ONE, "c"]);
 * if (!t("xxaxxbyc") || t("xxbxxayc") || t("abc")) throw new Error();
 * const one = globTest(["e", ONE, "f"]);
 * if (!one("e\u{1F600}f") || globTest(["e", ONE, ONE, "f"])("e\u{1F600}f")) throw new Error();
 * ```
 */
export function globTest(parts: Part[]): (text: string) => boolean {
  const byUnit = unitTest(parts);
  if (!parts.includes(ONE)) return byUnit;
  // `?` is one character, and a character above U+FFFF is two code units
  // (a surrogate pair): a text that holds one is matched by code points
  // (found by review: "e?f" missed "e😀f" and "e??f" matched it)
  const byPoint = pointTest(parts);
  return (s) => SURROGATE.test(s) ? byPoint(s) : byUnit(s);
}

/** Any UTF-16 surrogate, paired or not. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** {@link globTest} over the text's code units, each `?` one unit. */
function unitTest(parts: Part[]): (text: string) => boolean {
  const pieces: Piece[] = [];
  let run: Part[] = [];
  for (const p of parts) {
    if (p === STAR) {
      pieces.push(pieceOf(run));
      run = [];
    } else run.push(p);
  }
  pieces.push(pieceOf(run));
  if (pieces.length === 1) {
    const only = pieces[0];
    return (s) => s.length === only.units.length && isAt(s, 0, only);
  }
  const first = pieces[0], last = pieces[pieces.length - 1];
  const middle = pieces.slice(1, -1);
  const fixed = first.units.length + last.units.length;
  // (a piece without wildcards is compared by the string's own methods)
  const starts = first.literal !== undefined
    ? (s: string) => s.startsWith(first.literal!)
    : (s: string) => isAt(s, 0, first);
  const ends = last.literal !== undefined
    ? (s: string) => s.endsWith(last.literal!)
    : (s: string) => isAt(s, s.length - last.units.length, last);
  return (s) => {
    if (s.length < fixed) return false;
    const end = s.length - last.units.length;
    if (!starts(s) || !ends(s)) return false;
    let at = first.units.length;
    for (let i = 0; i < middle.length; i++) {
      const found = find(s, middle[i], at, end);
      if (found < 0) return false;
      at = found + middle[i].units.length;
    }
    return true;
  };
}

/** A text's code points, a lone surrogate one of its own. */
function codePoints(s: string): Int32Array {
  const out = new Int32Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    out[n++] = c;
    if (c > 0xffff) i++;
  }
  return out.subarray(0, n);
}

/**
 * {@link globTest} over the text's code points, each `?` one of them: the
 * same walk as {@link unitTest}, on arrays (a piece of fixed length in code
 * points is found at its leftmost place as there).
 */
function pointTest(parts: Part[]): (text: string) => boolean {
  const pieces: Int32Array[] = [];
  let run: number[] = [];
  for (const p of parts) {
    if (p === STAR) {
      pieces.push(Int32Array.from(run));
      run = [];
    } else if (typeof p === "string") run.push(...codePoints(p));
    else run.push(p === DASH ? DASHES : ANY);
  }
  pieces.push(Int32Array.from(run));
  const at = (s: Int32Array, i: number, piece: Int32Array) => {
    for (let k = 0; k < piece.length; k++) {
      const want = piece[k];
      if (want === ANY) continue;
      if (want === DASHES ? !isDash(s[i + k]) : s[i + k] !== want) return false;
    }
    return true;
  };
  const first = pieces[0], last = pieces[pieces.length - 1];
  const middle = pieces.slice(1, -1);
  return (text) => {
    const s = codePoints(text);
    if (pieces.length === 1) {
      return s.length === first.length && at(s, 0, first);
    }
    if (s.length < first.length + last.length) return false;
    const end = s.length - last.length;
    if (!at(s, 0, first) || !at(s, end, last)) return false;
    let i = first.length;
    for (const piece of middle) {
      while (i + piece.length <= end && !at(s, i, piece)) i++;
      if (i + piece.length > end) return false;
      i += piece.length;
    }
    return true;
  };
}

/** Whether every unit of `s` is ASCII. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
let lastText = "";
let lastFolded = "";

/**
 * `s` with each code unit folded as a RegExp's `i` flag compares them: the
 * same length, one unit for one (`toLowerCase` of a whole text is not: "İ"
 * becomes two units, a final "Σ" another letter than "σ"). The last text
 * asked for is kept (the rules of an event test the same fields).
 *
 * @example
 * ```ts
 * import { caseFolded } from "./_glob.ts";
 * if (caseFolded("aİb") !== "AİB" || caseFolded("ς") !== caseFolded("Σ")) throw new Error();
 * if (caseFolded("\u212a") === "K") throw new Error("the Kelvin sign stays");
 * ```
 */
export function caseFolded(s: string): string {
  if (s === lastText) return lastFolded;
  let out: string;
  if (isAscii(s)) out = s.toUpperCase();
  else {
    const units = new Array<number>(s.length);
    for (let i = 0; i < s.length; i++) units[i] = foldUnit(s.charCodeAt(i));
    out = "";
    // (in slices: a call takes only so many arguments)
    for (let i = 0; i < units.length; i += 8192) {
      out += String.fromCharCode(...units.slice(i, i + 8192));
    }
  }
  lastText = s;
  lastFolded = out;
  return out;
}
