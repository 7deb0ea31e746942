/**
 * A UTF-16 code unit as a regular expression with the `i` flag (and without
 * `u`) compares it (private to cli/hunt): ECMA-262's Canonicalize. Pure.
 *
 * @module
 */

/** Each code unit's fold, once asked for; -1: not yet. */
let folds: Int32Array | undefined;

/**
 * The unit's upper case when that is one unit, unless it takes a unit
 * above U+007F to ASCII (then, as for every unit without one, the unit
 * itself): two units match each other under the `i` flag exactly when
 * their folds are equal.
 *
 * @example
 * ```ts
 * import { foldUnit } from "./_fold_unit.ts";
 * if (foldUnit(0x61) !== 0x41) throw new Error("a");
 * if (foldUnit(0x17f) !== 0x17f) throw new Error("long s: S is ASCII");
 * if (foldUnit(0x3c2) !== 0x3a3) throw new Error("final sigma");
 * ```
 */
export function foldUnit(c: number): number {
  folds ??= new Int32Array(65536).fill(-1);
  let f = folds[c];
  if (f < 0) {
    const u = String.fromCharCode(c).toUpperCase();
    f = u.length !== 1 ? c : u.charCodeAt(0);
    if (c >= 128 && f < 128) f = c;
    folds[c] = f;
  }
  return f;
}

/**
 * `s` in lower case for comparing without case: `toLowerCase`, but with
 * the final sigma (ς, which `toLowerCase` makes of Σ at the end of a word
 * only) as σ, so that a text lowered alone and within a longer one agree
 * (found by review: "ΑΡΧΕΙΟΣ" did not match in "ΑΡΧΕΙΟΣΗ"). The other
 * mappings of `toLowerCase` do not depend on the context.
 *
 * @example
 * ```ts
 * import { lowerText } from "./_fold_unit.ts";
 * if (!lowerText("ΑΡΧΕΙΟΣΗ").includes(lowerText("ΑΡΧΕΙΟΣ"))) throw new Error();
 * if (lowerText("ABC") !== "abc") throw new Error();
 * ```
 */
export function lowerText(s: string): string {
  const low = s.toLowerCase();
  return low.includes("\u03c2") ? low.replaceAll("\u03c2", "\u03c3") : low;
}
