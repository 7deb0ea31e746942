/**
 * The diff's canonical trees: the same diff whatever the order of the
 * forest's process list (the child lookup by binary search falls back to a
 * map), and childless processes with many threads (past the compact numbering
 * of leaf subtrees) still match exactly.
 */
import { assertEquals } from "./_record_helpers.ts";
import { analyze, type Forest } from "../cli/analysis/mod.ts";
import { diffForests, renderDiff } from "../cli/diff/mod.ts";
import { Sim, type Variant } from "./fixtures_gen.ts";

const A: Variant = { pidBase: 100, t0: 1000, seed: 5 };
const B: Variant = { pidBase: 7000, t0: 99_000, seed: 11, jitter: 400_000 };

/**
 * A build: make runs cc jobs (job `failing` fails), each with a child, then
 * `ld` once per entry of `links` (its thread count and exit code).
 */
async function build(
  v: Variant,
  failing: number,
  links: [threads: number, code: number][] = [[1, 0]],
) {
  const s = new Sim("linux", v);
  const root = s.snapshot(1, { image: "/usr/bin/make", argv: ["make"] });
  for (let i = 0; i < 40; i++) {
    const cc = s.run(root, "/usr/bin/cc", ["cc", "-c", `f${i % 7}.c`]);
    const as = s.run(cc, "/usr/bin/as", ["as", `f${i % 7}.s`]);
    s.exit(as, 0);
    s.exit(cc, i === failing ? 1 << 8 : 0);
  }
  for (const [threads, code] of links) {
    const ld = s.run(root, "/usr/bin/ld", ["ld", "-o", "a.out"]);
    for (let i = 1; i < threads; i++) s.thread(ld);
    s.exit(ld, code << 8);
  }
  return await analyze(s.events, { os: "linux", bootId: "canon" });
}

const text = (a: Forest, b: Forest) =>
  JSON.stringify(diffForests(a, b)) + renderDiff(diffForests(a, b), "a", "b");

Deno.test("diffForests() gives the same diff whatever the order of the forest's processes", async () => {
  const a = await build(A, 3);
  const b = await build(B, 18);
  const want = text(a, b);
  assertEquals(want.includes("exit 1"), true);
  const reversed = (f: Forest): Forest => ({
    ...f,
    processes: [...f.processes].reverse(),
  });
  assertEquals(text(reversed(a), reversed(b)), want);
  // processes that are copies of the indexed ones: found by id
  const copied = (f: Forest): Forest => ({
    ...f,
    processes: f.processes.map((p) => ({ ...p })),
  });
  assertEquals(text(copied(a), b), want);
});

Deno.test("diffForests() matches childless processes with more than 1,023 threads exactly", async () => {
  // exit texts are numbered as first seen: "exit 0", then "exit 1" (job 3);
  // a leaf of 1,025 threads must not be taken for one of 1 thread and the
  // next exit text
  const a = await build(A, 3, [[1025, 0]]);
  assertEquals(diffForests(a, await build(B, 3, [[1025, 0]])).same, true);
  const d = diffForests(a, await build(B, 3, [[1, 1], [1025, 0]]));
  assertEquals(d.changed.length, 0);
  assertEquals(d.removed.length, 0);
  assertEquals(d.added.map((x) => [x.process.exit, x.process.threads]), [[
    "exit 1",
    1,
  ]]);
});
