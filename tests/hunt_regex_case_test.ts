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
];
const QUANTIFIERS = ["", "", "", "*", "+", "?", "{1,2}", "*?"];

function pattern(next: () => number, depth = 0): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  let out = next() < 0.1 ? "^" : "";
  const n = 1 + Math.floor(next() * 4);
  for (let i = 0; i < n; i++) {
    const r = next();
    let atom: string;
    if (r < 0.12 && depth < 2) {
      const open = pick(["(", "(?:", "(?<g" + depth + i + ">", "(?=", "(?!"]);
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

Deno.test("hunt: a regex that is not ASCII, or holds a back-reference or a letter's escape, keeps the i flag", () => {
  for (
    const src of [
      "é",
      "(a)\\1",
      "\\x41",
      "\\u0041",
      "\\cJ",
      "[\\x41]",
      "\\101",
      "\\k<n>(?<n>a)",
      "\\p",
    ]
  ) {
    assert(caseFreeSource(src) === undefined, src);
  }
});
