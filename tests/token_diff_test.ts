/**
 * The diff's token diff of very long command lines: a side of 130,000
 * tokens against an empty middle is aligned without a spread of its
 * operations as call arguments (which overflowed the call stack past about
 * 125,000).
 */
import { DIFF_CELLS, tokenDiff } from "../cli/diff/token_diff.ts";
import { renderDiffLines } from "../cli/diff/render_diff.ts";
import { assertEquals } from "./_record_helpers.ts";

Deno.test("token diff of a command of 130,000 arguments against one of none", () => {
  const many = Array.from({ length: 130_000 }, (_, i) => `a${i}`);
  const d = tokenDiff("cmd", ["cmd", ...many].join(" "));
  assertEquals(d.length, 2);
  assertEquals(d[0], { op: "=", tokens: ["cmd"] });
  assertEquals(d[1].op, "+");
  assertEquals(d[1].tokens.length, 130_000);
  assertEquals(d[1].tokens.at(-1), "a129999");
  const back = tokenDiff(["cmd", ...many].join(" "), "cmd");
  assertEquals(back[1].op, "-");
  assertEquals(back[1].tokens.length, 130_000);
});

Deno.test("tokenDiff: a budget shared by a diff's lines bounds the alignment; past it a changed middle is removed then added (found by review: 7 s for 500 long commands)", () => {
  const a = "x " + Array.from({ length: 10 }, (_, i) => `a${i}`).join(" ");
  const b = "x " + Array.from({ length: 10 }, (_, i) => `a${i + 1}`).join(" ");
  const budget = { cells: 150 };
  // 10 x 10 cells: aligned, and spent
  const first = tokenDiff(a, b, budget);
  assertEquals(first.map((p) => p.op).join(""), "=-=+");
  assertEquals(budget.cells, 50);
  // the next line's 100 cells are more than is left: whole, not aligned
  const second = tokenDiff(a, b, budget);
  assertEquals(second.map((p) => p.op).join(""), "=-+");
  assertEquals(budget.cells, 50);
  // without a budget, only the line's own bound applies
  assertEquals(tokenDiff(a, b).map((p) => p.op).join(""), "=-=+");
});

Deno.test("renderDiffLines: the lines of one diff share DIFF_CELLS of alignment", () => {
  const long = (k: number) =>
    "cmd " + Array.from({ length: 1000 }, (_, i) => `t${i + k}`).join(" ");
  // (each changed line needs 1,000 x 1,000 cells: 20 lines spend the budget)
  const n = DIFF_CELLS / 1_000_000 + 5;
  const changed = Array.from({ length: n }, () => ({
    op: "~" as const,
    depth: 0,
    b: { command: long(1), exit: "exit 0", threads: 1 },
    changes: [{ field: "argv" as const, a: long(0), b: long(1) }],
  }));
  const lines = renderDiffLines(
    {
      same: false,
      added: [],
      removed: [],
      changed: [],
      lines: changed,
    } as unknown as Parameters<typeof renderDiffLines>[0],
    "a",
    "b",
  );
  const aligned = lines.filter((l) => l.includes("[-t0-]"));
  const whole = lines.filter((l) => l.includes("[-t0 t1 t2"));
  assertEquals(aligned.length, DIFF_CELLS / 1_000_000);
  assertEquals(whole.length, 5);
});
