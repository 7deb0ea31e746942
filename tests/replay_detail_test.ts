/**
 * What `procrec replay` asks the analysis to keep for what it prints
 * (`replayDetail`): every thread for the forest as JSON, only the tree for
 * the summary of a whole recording, the processes (ended processes'
 * threads counted) for everything else. tests/forest_tree_detail_test.ts
 * shows that each level gives its readers what the full forest gives; this
 * shows which readers get which level.
 */
import { assertEquals } from "./_record_helpers.ts";
import { replayDetail, type ReplayFlags } from "../cli/commands/replay.ts";

const RULES = ["rules.yml"];

const cases: [string, ReplayFlags, unknown, "full" | "processes" | "tree"][] = [
  // the forest as JSON prints every thread of every process
  ["--json", { json: true }, undefined, "full"],
  [
    "--json --ids --wide",
    { json: true, ids: true, wide: true },
    undefined,
    "full",
  ],
  // the tree view and the timeline read exec steps, not ended threads
  ["(the tree)", {}, undefined, "processes"],
  ["--wide --ids", { wide: true, ids: true }, undefined, "processes"],
  ["--events", { events: true }, undefined, "processes"],
  ["--events --json", { events: true, json: true }, undefined, "processes"],
  [
    "--events --summary",
    { events: true, summary: true },
    undefined,
    "processes",
  ],
  ["--pid 5", { pid: "5" }, undefined, "processes"],
  ["--json --pid 5", { json: true, pid: "5" }, undefined, "full"],
  // the summary of the whole recording reads the tree alone
  ["--summary", { summary: true }, undefined, "tree"],
  ["--summary --json", { summary: true, json: true }, undefined, "tree"],
  ["--summary --all", { summary: true, all: true }, undefined, "tree"],
  ["--summary --wide", { summary: true, wide: true }, undefined, "tree"],
  // a filtered summary may look at exec steps (--image, --cmdline match
  // any exec of a process); rules read every exec
  ["--summary --pid 5", { summary: true, pid: "5" }, undefined, "processes"],
  [
    "--summary --image sh",
    { summary: true, image: ["sh"] },
    undefined,
    "processes",
  ],
  [
    "--summary --cmdline x",
    { summary: true, cmdline: ["x"] },
    undefined,
    "processes",
  ],
  [
    "--summary --failed",
    { summary: true, failed: true },
    undefined,
    "processes",
  ],
  [
    "--summary --exclude-kthreads",
    { summary: true, excludeKthreads: true },
    undefined,
    "processes",
  ],
  [
    "--summary --subtree ID",
    { summary: true, subtree: "{x}" },
    undefined,
    "processes",
  ],
  [
    "--summary --from 2s",
    { summary: true, from: "2s" },
    undefined,
    "processes",
  ],
  ["--summary --to 2s", { summary: true, to: "2s" }, undefined, "processes"],
  ["--summary --at 2s", { summary: true, at: "2s" }, undefined, "processes"],
  [
    "--summary --alive-in 1s..2s",
    { summary: true, aliveIn: "1s..2s" },
    undefined,
    "processes",
  ],
  ["--summary --rules", { summary: true }, RULES, "processes"],
  [
    "--summary --json --rules",
    { summary: true, json: true },
    RULES,
    "processes",
  ],
  // a filter that does not parse counts as one (the command then names it)
  [
    "--summary --from nonsense",
    { summary: true, from: "nonsense" },
    undefined,
    "processes",
  ],
  [
    "--summary --at and --from",
    { summary: true, at: "1s", from: "2s" },
    undefined,
    "processes",
  ],
];

Deno.test("replay keeps every thread for --json, the tree for a whole recording's summary, the processes for the rest", () => {
  for (const [name, flags, rules, want] of cases) {
    assertEquals(replayDetail(flags, rules), want, name);
  }
});
