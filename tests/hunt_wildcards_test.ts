/**
 * Sigma wildcards without backtracking: the matcher gives the answers of the
 * RegExp it replaced on random values and texts, and a command line anyone
 * can write (16 KB of "ab") no longer holds a hunt for minutes with an
 * ordinary rule value of three stars; nor does a rule's own |re that
 * backtracks (V8's linear engine takes over, by the launcher's flag).
 */
import { compileRule, EventFields, parseRule } from "../cli/hunt/mod.ts";
import { caseFolded, globTest } from "../cli/hunt/_glob.ts";
import { DASH, ONE, type Part, STAR } from "../cli/hunt/_value_parts.ts";
import { exec, processCreate, writeRecording } from "./_recording_helpers.ts";
import { withTempDir } from "./_record_helpers.ts";
import { procrecBounded } from "./_bounded.ts";

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** The RegExp the engine built before, as the reference. */
function reference(parts: Part[], flags = ""): RegExp {
  const src = parts.map((x) =>
    x === STAR
      ? "[\\s\\S]*"
      : x === ONE
      ? "[\\s\\S]"
      : x === DASH
      ? "[-/\u2013\u2014\u2015]"
      : (x as string).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  ).join("");
  return new RegExp(`^${src}$`, flags);
}

/** A small deterministic generator (xorshift32). */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

Deno.test("hunt wildcards: the same answers as the RegExp on 20,000 random values and texts", () => {
  const r = random(7);
  // few characters, so that values and texts often meet
  const chars = ["a", "b", ".", "-", "/", "\u2014", "*"];
  let yes = 0;
  for (let k = 0; k < 20_000; k++) {
    const parts: Part[] = [];
    for (let n = r(7); n > 0; n--) {
      const w = r(10);
      if (w < 3) parts.push(STAR);
      else if (w < 4) parts.push(ONE);
      else if (w < 5) parts.push(DASH);
      else {
        let lit = "";
        for (let m = 1 + r(3); m > 0; m--) lit += chars[r(chars.length)];
        parts.push(lit);
      }
    }
    let text = "";
    for (let m = r(12); m > 0; m--) text += chars[r(chars.length)];
    const want = reference(parts).test(text);
    const got = globTest(parts)(text);
    if (want) yes++;
    assert(
      got === want,
      `${JSON.stringify(parts)} on ${
        JSON.stringify(text)
      }: ${got}, the RegExp ${want}`,
    );
  }
  // (the cases are not all one answer)
  assert(yes > 2_000 && yes < 18_000, `${yes} matches of 20,000`);
});

Deno.test("hunt wildcards: without case, the same answers as the RegExp's i flag on 20,000 random values and texts of letters whose case is odd", () => {
  const r = random(11);
  // dotted and dotless i, final and other sigma, the Kelvin sign, sharp s
  // and its capital, e acute, and plain letters
  const chars = [
    "a",
    "A",
    "i",
    "I",
    "\u0130",
    "\u0131",
    "\u03c3",
    "\u03a3",
    "\u03c2",
    "k",
    "K",
    "\u212a",
    "\u00df",
    "\u1e9e",
    "\u00e9",
    "\u00c9",
    "-",
  ];
  let yes = 0;
  for (let k = 0; k < 20_000; k++) {
    const parts: Part[] = [];
    for (let n = r(6); n > 0; n--) {
      const w = r(10);
      if (w < 3) parts.push(STAR);
      else if (w < 4) parts.push(ONE);
      else {
        let lit = "";
        for (let m = 1 + r(2); m > 0; m--) lit += chars[r(chars.length)];
        parts.push(lit);
      }
    }
    let text = "";
    for (let m = r(8); m > 0; m--) text += chars[r(chars.length)];
    const want = reference(parts, "i").test(text);
    const folded = parts.map((x) => typeof x === "string" ? caseFolded(x) : x);
    const got = globTest(folded)(caseFolded(text));
    if (want) yes++;
    assert(
      got === want,
      `${JSON.stringify(parts)} on ${
        JSON.stringify(text)
      }: ${got}, the RegExp /i ${want}`,
    );
  }
  assert(yes > 1_000 && yes < 19_000, `${yes} matches of 20,000`);
});

/** Whether a Linux rule with this CommandLine value matches `cmdline`. */
function matches(value: string, cmdline: string, modifier = ""): boolean {
  const rule = compileRule(parseRule(
    `title: t\nid: r1\nlevel: high\nlogsource:\n  category: process_creation\n  product: linux\ndetection:\n  sel:\n    CommandLine${modifier}: '${value}'\n  condition: sel\n`,
    "t.yml",
  ));
  return rule.test(
    new EventFields({
      os: "linux",
      host: "h",
      process: { pid: 10, ppid: 5, start: 0, info: { from: {}, cmdline } },
      parent: undefined,
    }),
  );
}

Deno.test("hunt wildcards: without case unless cased, ? one character, windash dashes", () => {
  // (as the RegExp's i flag: "İ" one character, a final sigma the same
  // letter as a capital one, the Kelvin sign not a k)
  assert(matches("a?b*c", "a\u0130bxc"));
  assert(matches("*\u03c3*x?", "\u0391\u03a3 xy"));
  assert(!matches("k*?z", "\u212aaz"));
  assert(matches("*A*b*C", "xxaYYBzzc"));
  assert(!matches("*A*b*C", "xxaYYBzzc", "|cased"));
  assert(matches("*a*b*c", "xxaYYbzzc", "|cased"));
  assert(matches("x?z*", "XYZ and more"));
  assert(!matches("x?z*", "XZ"));
  assert(matches("* -enc *", "powershell \u2013enc AAA", "|windash"));
  assert(!matches("* -enc *", "powershell +enc AAA", "|windash"));
});

Deno.test("hunt wildcards: a 16 KB command line against values of many stars gives its answer at once", () => {
  const long = "sh " + "ab".repeat(8000);
  // each of these took more than a minute as a RegExp
  assert(!matches("*a*b*c", long));
  assert(matches("*a*b*c", long + "c"));
  assert(!matches("*a".repeat(20) + "x", long));
  assert(matches("*a".repeat(20) + "*", long));
  assert(!matches("?*".repeat(2000) + "c", long));
  assert(matches("?*".repeat(2000), long));
  assert(matches("*b*a*b*a*b", long, "|cased"));
});

/**
 * Hunts `rec` with one rule of two |re values (`s` and `t`, `lead` before
 * each) and checks that it ends with 1 hit, within 30 s.
 */
async function huntBacktracking(
  dir: string,
  rec: string,
  re: string,
  lead: string,
  [s, t]: [string, string],
) {
  const rule = `${dir}/r.yml`;
  await Deno.writeTextFile(
    rule,
    `title: backtracks\nid: r\nlevel: high\nlogsource: {category: process_creation, product: linux}\ndetection:\n  s:\n    CommandLine|${re}: '${lead}${s}'\n  t:\n    CommandLine|${re}: '${lead}${t}'\n  condition: s or t\n`,
  );
  // (minutes with V8's backtracking engine alone)
  const r = await procrecBounded(["hunt", "--rules", rule, rec], {
    timeoutMs: 30_000,
    maxRssMiB: 400,
  });
  assert(r.code === 1, `${re} ${lead}${s}: ${r.code} ${r.stdout} ${r.stderr}`);
  assert(r.stdout.includes("1 hit"), r.stdout);
}

Deno.test("hunt: a rule's |re that backtracks for ever ((a+)+$), also with |i or (?i), against a command line of 40 a's and a ! ends at once, through the launcher", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    await writeRecording(rec, [
      processCreate(1000, 4000, 1),
      exec(2000, 4000, "/bin/sh", ["sh", "a".repeat(40) + "!"]),
    ]);
    // (V8's linear engine takes no i flag: |re|i and (?i) are written
    // without it, cli/hunt/_case_free_regex.ts)
    for (const [re, lead] of [["re", ""], ["re|i", ""], ["re", "(?i)"]]) {
      await huntBacktracking(dir, rec, re, lead, ["(a+)+$", "sh (a+)+!$"]);
    }
    // a pattern with a letter above U+007F is written without the i flag too
    // (its letter as the class of its cases): before, it kept the flag, and
    // backtracked for minutes
    const accented = `${dir}/b.cbor`;
    await writeRecording(accented, [
      processCreate(1000, 4000, 1),
      exec(2000, 4000, "/bin/sh", ["sh", "\u00e9" + "a".repeat(40) + "!"]),
    ]);
    for (const [re, lead] of [["re|i", ""], ["re", "(?i)"]]) {
      await huntBacktracking(dir, accented, re, lead, [
        "\u00e9(a+)+$",
        "sh \u00c9(a+)+!$",
      ]);
    }
  });
});
