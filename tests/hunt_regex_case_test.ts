/**
 * Sigma `|re|i` and `(?i)` written without the `i` flag, so that V8's linear
 * engine can take over from one that backtracks: the same answers as the `i`
 * flag, and an end.
 */
import { caseFreeSource } from "../cli/hunt/_case_free_regex.ts";
import { processCreate, writeRecording } from "./_recording_helpers.ts";
import { withTempDir } from "./_record_helpers.ts";
import { procrecBounded } from "./_bounded.ts";

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    s ^= s >>> 12;
    return (s >>> 0) / 0x100000000;
  };
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

Deno.test("hunt: |re|i and (?i) that backtrack for ever ((a+)+$) against 40 a's and a ! end at once, through the launcher", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    await writeRecording(rec, [
      processCreate(1000, 4000, 1),
      {
        kind: "exec",
        t: 2000,
        pid: 4000,
        tid: 4000,
        info: {
          image: "/bin/sh",
          argv: ["sh", "A".repeat(20) + "a".repeat(20) + "!"],
          from: {},
        },
      },
    ]);
    for (
      const [name, re, lead] of [["i", "re|i", ""], ["lead", "re", "(?i)"]]
    ) {
      const rule = `${dir}/${name}.yml`;
      await Deno.writeTextFile(
        rule,
        `title: backtracks\nid: ${name}\nlevel: high\nlogsource: {category: process_creation, product: linux}\ndetection:\n  s:\n    CommandLine|${re}: '${lead}(a+)+$'\n  t:\n    CommandLine|${re}: '${lead}sh (a+)+!$'\n  condition: s or t\n`,
      );
      // (minutes with the i flag: V8's linear engine does not take it)
      const r = await procrecBounded(["hunt", "--rules", rule, rec], {
        timeoutMs: 30_000,
        maxRssMiB: 400,
      });
      assert(r.code === 1, `${name}: ${r.code} ${r.stdout} ${r.stderr}`);
      assert(r.stdout.includes("1 hit"), r.stdout);
    }
  });
});
