/**
 * An `argv` rule's regex means the same to `--dry-run` (JavaScript) and to
 * the enforcer (POSIX ERE, glibc, C locale): the rule file refuses every
 * construct the two read differently, naming the file, the line, the rule,
 * the construct and what to write instead; and every accepted expression
 * matches the same texts in both (the enforcer's own matching,
 * `pr_ere_compile`/`pr_ere_match` of driver/linux/exec_match.c, through
 * driver/linux/tests/ere_match_helper.c). No root needed.
 */
import {
  checkArgvRegex,
  parseExecRules,
  ruleMatches,
} from "../cli/rules/mod.ts";
import {
  assert,
  assertEquals,
  procrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

/** Builds the helper that runs the enforcer's regex matching. */
async function buildHelper(dir: string): Promise<string> {
  const out = `${dir}/ere_match_helper`;
  const r = await new Deno.Command("gcc", {
    args: [
      "-std=gnu11",
      "-D_GNU_SOURCE",
      "-O1",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-o",
      out,
      `${ROOT}driver/linux/tests/ere_match_helper.c`,
      `${ROOT}driver/linux/exec_match.c`,
    ],
    stderr: "piped",
  }).output();
  assert(r.success, `gcc: ${new TextDecoder().decode(r.stderr)}`);
  return out;
}

/** The enforcer's answer for each [expression, text]: "1", "0" or "E". */
async function enforcerMatches(
  helper: string,
  pairs: [string, string][],
): Promise<string> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [re, text] of pairs) {
    for (const s of [re, text]) {
      const b = enc.encode(s);
      const n = new Uint8Array(4);
      new DataView(n.buffer).setUint32(0, b.length, true);
      parts.push(n, b);
    }
  }
  const child = new Deno.Command(helper, {
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  for (const p of parts) await w.write(p);
  await w.close();
  const o = await child.output();
  assert(o.success, "the helper ran");
  return new TextDecoder().decode(o.stdout);
}

/** --dry-run's answer, through the rule matching it uses. */
function dryRunMatches(re: string, text: string): boolean {
  return ruleMatches(
    { id: "r", action: "audit", line: 1, argv: { regex: re } },
    { argv: [text] },
  );
}

const ACCEPTED = [
  "-o +[^ ]+",
  "^/usr/bin/curl .*-o",
  "a.b",
  "^a.b$",
  "^.{3}$",
  "x(ab|cd)+y",
  "[0-9]{2,4}",
  "[a-]x",
  "[-a]x",
  "[^a-z]",
  "colou?r",
  "a{0}b",
  "\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/",
  "(^|[^A-Za-z0-9_])rm( |$)",
  "é+",
  "[é]",
  "[a-é]",
  "]",
  "[[]",
  "(a|b)$|^c",
];

const SAMPLES = [
  "",
  "curl -o out",
  "/usr/bin/curl -s -o x",
  "a\nb",
  "a\u00ffb",
  "aéb",
  "abc",
  "xababy",
  "xy",
  "x12345",
  "a-x",
  "zx",
  "color colour",
  "b",
  ".*+?()[]{}|^$\\/",
  "sudo rm -rf /",
  "farm x",
  "éé",
  "e",
  "\u00c3",
  "]",
  "[",
  "c",
  "xa",
];

Deno.test("every accepted argv regex matches the same texts in --dry-run and in the enforcer", async () => {
  await withTempDir(async (dir) => {
    const helper = await buildHelper(dir);
    const pairs: [string, string][] = [];
    for (const re of ACCEPTED) {
      assertEquals(checkArgvRegex(re), undefined, `accepted: ${re}`);
      for (const s of SAMPLES) pairs.push([re, s]);
    }
    const c = await enforcerMatches(helper, pairs);
    const differ: string[] = [];
    let matches = 0;
    pairs.forEach(([re, s], i) => {
      const js = dryRunMatches(re, s) ? "1" : "0";
      if (c[i] === "1") matches++;
      if (js !== c[i]) {
        differ.push(
          `${JSON.stringify(re)} on ${
            JSON.stringify(s)
          }: dry run ${js}, enforcer ${c[i]}`,
        );
      }
    });
    assertEquals(differ, [], "the two engines agree");
    assert(matches > 40, `the samples exercise matches (${matches})`);
  });
});

Deno.test("the constructs the two engines read differently are refused, with what to write instead", async () => {
  await withTempDir(async (dir) => {
    const helper = await buildHelper(dir);
    const refused: [string, string][] = [
      ["-p\\d+", "[0-9]"],
      ["\\w+", "[A-Za-z0-9_]"],
      ["a\\sb", '" "'],
      ["\\brm\\b", "(^|[^A-Za-z0-9_])"],
      ["a\\nb", "the character itself"],
      ["(a)\\1", "back-reference"],
      ["a*?", "lazy"],
      ["a+?b", "lazy"],
      ["(?:ab)+", "plain group"],
      ["a(?=b)", "look-around"],
      ["a(?!b)", "look-around"],
      ["[\\d]", "backslash"],
      ["[[:digit:]]", "0-9"],
      ["[]a]", '"]" first'],
      ["a**", "quantifier after a quantifier"],
      ["*a", "nothing to repeat"],
      ["a{,3}", "bound"],
      ["a{1000}", "at most 255"],
      ["a|", "empty alternative"],
      ["(|a)", "empty"],
      ["a}", "\\}"],
      ["[a-c-e]", '"-"'],
    ];
    for (const [re, want] of refused) {
      const why = checkArgvRegex(re);
      assert(
        why !== undefined && why.includes(want),
        `${re}: ${why} lacks ${want}`,
      );
    }
    // why: the same expressions, where both compile, answer differently
    const c = await enforcerMatches(helper, [
      ["-p\\d+", "mysql -p123"],
      ["a.b", "a\nb"],
      ["[\\d]", "\\"],
    ]);
    assertEquals(c, "011", "the enforcer on -p\\d+, a.b, [\\d]");
    assert(
      new RegExp("-p\\d+").test("mysql -p123") &&
        !new RegExp("a.b").test("a\nb") && !new RegExp("[\\d]").test("\\"),
      "JavaScript answers the opposite",
    );
  });
});

Deno.test("record --rules refuses an argv regex outside the common subset, naming the file, line, rule, construct and replacement", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/rules.yaml`,
      'rules:\n  - id: ok\n    action: deny\n    path: /x\n  - id: no-password\n    action: deny\n    argv: {regex: "-p\\\\d+"}\n',
    );
    const r = await procrec([
      "record",
      "--rules",
      `${dir}/rules.yaml`,
      "--dry-run",
    ]);
    assertEquals(r.code, 2, r.stderr);
    assert(
      r.stderr.includes(
        `rules.yaml:7: field argv: regex "-p\\\\d+" of rule "no-password": "\\d"`,
      ) && r.stderr.includes("write [0-9]"),
      r.stderr,
    );
    // the same rule written portably loads
    assertEquals(
      parseExecRules(
        'rules:\n  - id: no-password\n    action: deny\n    argv: {regex: "-p[0-9]+"}\n',
        "r.yaml",
      )[0].argv,
      { regex: "-p[0-9]+" },
    );
  });
});
