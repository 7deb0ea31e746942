/**
 * The diff of two canonical trees (siblings paired run by run, issue 16)
 * equals a plain reference written from the documented rules
 * (`_diff_reference.ts`) on every pair of fixtures, on build storms of many
 * concurrent jobs, and on random trees with random changes (added, removed
 * and moved subtrees, other exits, arguments and thread counts), in every
 * normalization mode.
 */
import { analyze, commandText, type Forest } from "../cli/analysis/mod.ts";
import {
  canonicalize,
  type CNode,
  NormalizeMemo,
  Shapes,
  viewOf,
} from "../cli/diff/_canonical_tree.ts";
import { diffForests, type DiffOptions, renderDiff } from "../cli/diff/mod.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import { workload } from "../bench/replay_bench.ts";
import { referenceDiff } from "./_diff_reference.ts";
import { fixtureFiles } from "./_frame_by_frame.ts";
import { Sim } from "./fixtures_gen.ts";
import { assertEquals } from "./_record_helpers.ts";
import { xorshift } from "./_xorshift.ts";

const OPTIONS: DiffOptions[] = [
  {},
  { volatile: false },
  { ignoreArgv: [/[0-9]+/g] },
];

/** Checks `diffForests(a, b)` against the reference, as data and as text. */
function check(a: Forest, b: Forest, options: DiffOptions, what: string) {
  const memo = new NormalizeMemo(options);
  const shapes = new Shapes();
  const ra = canonicalize(a, memo, shapes);
  const rb = canonicalize(b, memo, shapes);
  shownAsRecorded(a, ra, what);
  shownAsRecorded(b, rb, what);
  const want = referenceDiff(ra, rb);
  const got = diffForests(a, b, options);
  assertEquals(JSON.stringify(got), JSON.stringify(want), what);
  assertEquals(renderDiff(got, "a", "b"), renderDiff(want, "a", "b"), what);
  return got;
}

/**
 * Every canonical node shows its own process as recorded (image, command),
 * though nodes of one command share their list of arguments.
 */
function shownAsRecorded(f: Forest, roots: CNode[], what: string) {
  const stack = [...roots];
  let n = 0;
  while (stack.length > 0) {
    const c = stack.pop()!;
    const p = f.byId.get(c.id)!;
    const shown = viewOf(c);
    assertEquals(
      [shown.image, shown.command],
      [p.image, commandText(p)],
      `${what}: ${c.id}`,
    );
    stack.push(...c.children);
    n++;
  }
  assertEquals(n, f.processes.length, what);
}

async function forestOf(path: string): Promise<Forest> {
  const r = await RecordingReader.open(path);
  return await analyze(r.events(), {
    os: r.header.os,
    bootId: r.header.bootId,
  });
}

Deno.test("the diff equals the reference diff on every pair of fixtures", async () => {
  const files = await fixtureFiles();
  const forests = await Promise.all(files.map(forestOf));
  let differ = 0;
  for (let i = 0; i < forests.length; i++) {
    for (let j = 0; j < forests.length; j++) {
      for (const o of OPTIONS) {
        const d = check(forests[i], forests[j], o, `${files[i]} ${files[j]}`);
        if (!d.same) differ++;
      }
    }
  }
  // (the pairs are mostly different: the check saw real diffs)
  assertEquals(differ > forests.length * forests.length, true);
});

Deno.test("the diff equals the reference diff on build storms of 8 concurrent jobs", async () => {
  const meta = { os: "linux" as const, bootId: "storm" };
  const a = await analyze(workload(20_000, 1000, 0), meta);
  // other pids and times, other jobs failing
  const b = await analyze(workload(20_000, 400_000, 0, 89), meta);
  // fewer jobs: subtrees removed
  const c = await analyze(workload(15_000, 7000, 0, 89), meta);
  for (const o of OPTIONS) {
    const d = check(a, b, o, "a b");
    assertEquals(d.changed.length > 0, true);
    assertEquals(check(c, a, o, "c a").added.length > 0, true);
    assertEquals(check(a, c, o, "a c").removed.length > 0, true);
  }
});

/** A random process tree. */
interface Spec {
  image: number;
  args: number[];
  exit: number;
  threads: number;
  children: Spec[];
}

function randomTree(rand: () => number, depth: number): Spec[] {
  const n = depth > 3 ? 0 : Math.floor(rand() * (depth === 0 ? 5 : 4));
  const out: Spec[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      image: Math.floor(rand() * 4),
      args: Array.from(
        { length: Math.floor(rand() * 3) },
        () => Math.floor(rand() * ARGS.length),
      ),
      exit: rand() < 0.8 ? 0 : 1 + Math.floor(rand() * 2),
      threads: rand() < 0.7 ? 0 : 1 + Math.floor(rand() * 2),
      children: randomTree(rand, depth + 1),
    });
  }
  return out;
}

/** A copy with random changes; some subtrees swapped to another place. */
function changed(rand: () => number, specs: Spec[], p: number): Spec[] {
  const out: Spec[] = [];
  for (const s of specs) {
    const r = rand();
    if (r < p) continue; // removed
    const c = {
      ...s,
      args: [...s.args],
      children: changed(rand, s.children, p),
    };
    if (rand() < p) c.exit = (c.exit + 1) % 3;
    if (rand() < p) c.args.push(Math.floor(rand() * ARGS.length));
    if (rand() < p) c.threads = (c.threads + 1) % 3;
    if (rand() < p) c.image = (c.image + 1) % 4;
    out.push(c);
    if (rand() < p) out.push(...randomTree(rand, 3)); // added
  }
  if (out.length > 1 && rand() < p) out.reverse();
  return out;
}

const IMAGES = ["/bin/sh", "/usr/bin/cc", "/usr/bin/ld", "/tmp/tmp.x1y2/run"];
// (pairs that normalize alike: other texts of one command)
const ARGS = [
  "-c",
  "a.c",
  "--seed=12345",
  "--seed=67890",
  "/tmp/tmp.q1w2e3/o",
  "/tmp/tmp.z9y8x7/o",
];

async function forestOfSpecs(
  specs: Spec[],
  os: "linux" | "windows",
  seed: number,
): Promise<Forest> {
  const s = new Sim(os, {
    pidBase: 100 + seed * 7,
    t0: seed,
    seed,
    jitter: 1000,
  });
  const root = s.snapshot(1, { image: "/init", argv: ["init"] });
  const run = (spec: Spec, parent: typeof root) => {
    const image = IMAGES[spec.image];
    const p = s.run(parent, image, [
      image.split("/").pop()!,
      ...spec.args.map((a) => ARGS[a]),
    ]);
    for (let k = 0; k < spec.threads; k++) s.thread(p);
    for (const c of spec.children) run(c, p);
    s.exit(p, os === "linux" ? spec.exit << 8 : spec.exit);
  };
  for (const spec of specs) run(spec, root);
  return await analyze(s.events, { os, bootId: "random" });
}

Deno.test("the diff equals the reference diff on random trees with random changes", async () => {
  let reported = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const rand = xorshift(Math.imul(seed, 0x9e3779b1));
    for (let k = 0; k < 4; k++) rand();
    const os = seed % 4 === 0 ? "windows" : "linux";
    const specs = randomTree(rand, 0);
    const a = await forestOfSpecs(specs, os, seed);
    const b = await forestOfSpecs(changed(rand, specs, 0.15), os, seed + 1000);
    for (const o of OPTIONS) {
      const d = check(a, b, o, `seed ${seed}`);
      reported += d.added.length + d.removed.length + d.changed.length;
    }
  }
  assertEquals(reported > 300, true, `${reported} reported`);
});
