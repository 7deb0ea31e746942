/**
 * Sigma `|re|i` and `(?i)` written without the `i` flag, so that V8's linear
 * engine can take over from one that backtracks: the same answers as the `i`
 * flag (that they end when they backtrack is tested through the launcher in
 * hunt_wildcards_test.ts).
 */
import { caseFreeSource } from "../cli/hunt/_case_free_regex.ts";
import { xorshift as random } from "./_xorshift.ts";

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Atoms of the random patterns: letters, classes, escapes, groups' pieces. */
const ATOMS = [
  "a",
  "B",
  "k",
  "K",
  "s",
  "z",
  "Z",
  "_",
  "1",
  ".",
  "\\d",
  "\\w",
  "\\W",
  "\\s",
  "\\b",
  "\\.",
  "\\-",
  "\\[",
  "\\n",
  "[a-c]",
  "[^xY]",
  "[Z-a]",
  "[a-]",
  "[-b]",
  "[\\w-]",
  "[\\d-z]",
  "[^a-zA-F0-9]",
  "[K\\]]",
  "[]",
  "[^]",
  "[_-k]",
  "\\bK",
  // (found by review: an escaped \ before a final -, a class before -X-Y)
  "[A\\\\-]",
  "[a\\\\-]",
  "[\\s-a-c]",
  "[^\\s-a-z]",
  "[\\d-a-z]",
  "[\\W--Z]",
  "[!--]",
  // characters above U+007F: letters with other cases (one of them ASCII in
  // upper case: \u017f, s; the Kelvin sign: lower case k), their classes
  // and ranges, plain and negated, and characters without other cases
  "\u00e9",
  "\u00c9",
  "\u017f",
  "\u212a",
  "\u00df",
  "\u03c3",
  "\u03c2",
  "\u00b5",
  "\u01c5",
  "\u2603",
  "[\u00e0-\u00ff]",
  "[^\u00e4]",
  "[\u0100-\u017f]",
  "[\u03b1-\u03c9]",
  "[^\u0391-\u03a9a-z]",
  "[\u212ax]",
  "[\u00e9-]",
  // (escapes of one code unit, as a rule writes them: \x41 is A)
  "\\x41",
  "\\x2e",
  "\\u00e9",
  "\\u017F",
  "[\\x41-\\x43]",
  "[^\\u00c0-\\u00de]",
  "[\\x5a-\\x61]",
  // (found by review: an escaped character above U+007F is that character)
  "\\\u00e9",
  "\\\u00b5",
  "\\\u03c3",
  "\\\u017f",
  "\\\u1c90",
  // (wide ranges: their other cases are added as ranges)
  "[\\u0000-\\uffff]",
  "[^\\u0100-\\u2fff]",
  "[\\u0430-\\u044f]",
];
const QUANTIFIERS = ["", "", "", "*", "+", "?", "{1,2}", "*?"];

/** Groups named so far (each name is new). */
let names = 0;

function pattern(next: () => number, depth = 0): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  let out = next() < 0.1 ? "^" : "";
  const n = 1 + Math.floor(next() * 4);
  for (let i = 0; i < n; i++) {
    const r = next();
    let atom: string;
    if (r < 0.12 && depth < 2) {
      // (a group's name is used once in a pattern)
      const open = pick(["(", "(?:", `(?<g${names++}>`, "(?=", "(?!"]);
      atom = `${open}${pattern(next, depth + 1)}${
        next() < 0.3 ? "|" + pattern(next, depth + 1) : ""
      })`;
      if (open.startsWith("(?=") || open.startsWith("(?!")) {
        out += atom;
        continue;
      }
    } else atom = pick(ATOMS);
    out += atom + (atom === "\\b" || atom === "\\bK" ? "" : pick(QUANTIFIERS));
  }
  return out + (next() < 0.1 ? "$" : "");
}

/** Characters of the texts: letters whose case is odd among them. */
const CHARS = [
  ..."aAbBkKsSzZ_[]^`-.1 \n",
  "\u017f", // ſ: upper case S
  "\u212a", // Kelvin sign: lower case k
  "\u00df", // ß
  "\u0130", // İ
  "\u0131", // ı
  "\u00e9",
  "\u00c9",
  "\u00ff",
  "\u0178", // Ÿ: lower case \u00ff
  "\u03a3", // Σ and its two lower cases
  "\u03c3",
  "\u03c2",
  "\u00b5", // micro sign: upper case Greek Mu
  "\u039c",
  "\u03bc",
  "\u01c4", // DŽ, its title case and lower case
  "\u01c5",
  "\u01c6",
  "\u0101",
  "\u2603",
];

Deno.test("hunt: a case-insensitive regex written without the i flag matches exactly what the i flag matches", () => {
  const next = random(3);
  let tried = 0;
  let matched = 0;
  for (let round = 0; round < 3000; round++) {
    const src = pattern(next);
    const free = caseFreeSource(src);
    assert(free !== undefined, src);
    for (const flags of ["i", "im", "is"]) {
      const want = new RegExp(src, flags);
      const got = new RegExp(free, flags.replace("i", ""));
      for (let k = 0; k < 8; k++) {
        let text = "";
        const len = Math.floor(next() * 10);
        for (let j = 0; j < len; j++) {
          text += CHARS[Math.floor(next() * CHARS.length)];
        }
        const w = want.test(text);
        assert(
          got.test(text) === w,
          `${JSON.stringify(src)} (${flags}) as ${JSON.stringify(free)} on ${
            JSON.stringify(text)
          }: want ${w}`,
        );
        tried++;
        if (w) matched++;
      }
    }
  }
  // (both answers are common)
  assert(matched > tried / 10 && matched < tried * 0.9, `${matched}/${tried}`);
});

Deno.test("hunt: every character above U+007F is written as the class of what the i flag matches for it (every BMP code unit with other cases, every 7th other)", () => {
  let all = "";
  for (let x = 0; x < 0x10000; x++) all += String.fromCharCode(x);
  let withCases = 0;
  for (let x = 0x80; x < 0x10000; x++) {
    const c = String.fromCharCode(x);
    const free = caseFreeSource(c);
    assert(free !== undefined, c);
    // (one that has no other case is written as it is; of those, every
    // 7th is checked against the i flag over all code units)
    if (free === c && x % 7 !== 0) continue;
    if (free !== c) withCases++;
    const at = (re: RegExp) => [...all.matchAll(re)].map((m) => m.index).join();
    const esc = `\\u${x.toString(16).padStart(4, "0")}`;
    const want = at(new RegExp(esc, "gi"));
    assert(at(new RegExp(free, "g")) === want, `U+${esc}: ${free} ${want}`);
  }
  // (Latin, Greek, Cyrillic, Armenian, Georgian... letters: well over 1,000)
  assert(withCases > 1000, `${withCases}`);
});

Deno.test("hunt: a wide class's other cases are written as ranges: the expression stays short", () => {
  for (
    const [src, most] of [
      ["[\\u0000-\\uffff]", 60],
      ["[\\u1400-\\uffff]", 800],
      ["[\\u0430-\\u044f]", 60],
      ["[\\u0100-\\u017f]", 40],
    ] as const
  ) {
    const free = caseFreeSource(src);
    assert(free !== undefined && free.length <= most, `${src}: ${free}`);
  }
});

Deno.test("hunt: a regex that holds a back-reference or a letter's escape keeps the i flag", () => {
  for (
    const src of [
      "(a)\\1",
      "\\cJ",
      "\\101",
      "[\\101]",
      "\\x4",
      "\\u004",
      "[\\x]",
      "\\k<n>(?<n>a)",
      "\\p",
      // (found by review: a modifier group sets its own flags)
      "(?i:a)",
      "(?-i:a)b",
      "(?m:^a)",
      "x(?s:.)",
    ]
  ) {
    assert(caseFreeSource(src) === undefined, src);
  }
});
