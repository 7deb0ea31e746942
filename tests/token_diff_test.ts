/**
 * The diff's token diff of very long command lines: a side of 130,000
 * tokens against an empty middle is aligned without a spread of its
 * operations as call arguments (which overflowed the call stack past about
 * 125,000).
 */
import { tokenDiff } from "../cli/diff/token_diff.ts";
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
