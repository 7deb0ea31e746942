/**
 * Property-based tests (fast-check) of the analysis and the diff: permuting
 * independent concurrent events changes neither the tree nor the diff, and
 * one injected change (an extra child, a changed exit code, a changed
 * argument, a removed subtree) is reported exactly once, whatever the pids
 * and times of the two runs.
 */
import fc from "fast-check";
import {
  analyze,
  type Forest,
  forestToJson,
  renderSummary,
  renderTree,
  summarize,
} from "../cli/analysis/mod.ts";
import { diffForests, renderDiff } from "../cli/diff/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { Sim, type SimProcess, type Variant } from "./fixtures_gen.ts";

/** A process of a generated workload. */
interface Spec {
  image: string;
  args: string[];
  exit: number;
  threads: number;
  children: Spec[];
}

const IMAGES = ["sh", "cc", "ld", "ls", "make", "python3"];
const ARGS = [
  "-c",
  "a.c",
  "b.c",
  "-O2",
  "x",
  "y",
  "--flag",
  "/tmp/tmp.q1w2e3/o",
];

const specArb: fc.Arbitrary<Spec> = fc.letrec<{ node: Spec }>((tie) => ({
  node: fc.record({
    image: fc.constantFrom(...IMAGES),
    args: fc.array(fc.constantFrom(...ARGS), { maxLength: 3 }),
    exit: fc.constantFrom(0, 0, 0, 1, 2),
    threads: fc.nat({ max: 2 }),
    children: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constant<Spec[]>([]),
      fc.array(tie("node"), { maxLength: 3 }),
    ),
  }),
})).node;

const forestArb = fc.array(specArb, { minLength: 1, maxLength: 3 });
const osArb = fc.constantFrom("linux" as const, "windows" as const);

/** The events of a workload: depth-first, each process with its threads. */
function eventsOf(
  specs: Spec[],
  os: "linux" | "windows",
  v: Variant,
): ProcEvent[] {
  const s = new Sim(os, v);
  const root = s.snapshot(1, { image: "/init", argv: ["init"] });
  const stack: { spec: Spec; parent: SimProcess; p?: SimProcess; i: number }[] =
    specs
      .map((spec) => ({ spec, parent: root, i: 0 })).reverse();
  while (stack.length) {
    const f = stack[stack.length - 1];
    if (!f.p) {
      f.p = s.run(f.parent, `/usr/bin/${f.spec.image}`, [
        f.spec.image,
        ...f.spec.args,
      ]);
      for (let k = 0; k < f.spec.threads; k++) s.thread(f.p);
    }
    if (f.i < f.spec.children.length) {
      stack.push({ spec: f.spec.children[f.i++], parent: f.p, i: 0 });
      continue;
    }
    stack.pop();
    s.exit(f.p, os === "linux" ? f.spec.exit << 8 : f.spec.exit);
  }
  return s.events;
}

function pidsOf(e: ProcEvent): number[] {
  switch (e.kind) {
    case "process_create":
      return [e.pid, e.ppid, e.creatorPid];
    case "process_snapshot":
      return [e.pid, e.ppid];
    case "thread_create":
      return [e.pid, e.creatorPid];
    default:
      return [e.pid];
  }
}

/** Swaps adjacent events that concern disjoint processes; times stay. */
function permute(
  events: ProcEvent[],
  seed: number,
  swaps: number,
): ProcEvent[] {
  const out = [...events];
  let x = seed >>> 0 || 7;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  for (let n = 0; n < swaps && out.length > 1; n++) {
    const i = Math.floor(rand() * (out.length - 1));
    const a = out[i], b = out[i + 1];
    if (a.kind === "lost" || b.kind === "lost") continue;
    const pa = pidsOf(a);
    if (pidsOf(b).some((p) => pa.includes(p))) continue;
    out[i] = b;
    out[i + 1] = a;
  }
  return out;
}

const meta = (os: "linux" | "windows") => ({ os, bootId: "prop" });
const A: Variant = { pidBase: 100, t0: 1000, seed: 5 };
const B: Variant = { pidBase: 7000, t0: 99_000, seed: 11, jitter: 400_000 };

function view(f: Forest): string {
  return renderTree(f) + renderSummary(summarize(f)) +
    JSON.stringify(forestToJson(f));
}

Deno.test("permuting independent concurrent events leaves tree, summary and diff unchanged", async () => {
  await fc.assert(
    fc.asyncProperty(
      forestArb,
      osArb,
      fc.integer(),
      async (specs, os, seed) => {
        const events = eventsOf(specs, os, A);
        const base = await analyze(events, meta(os));
        const perm = await analyze(
          permute(events, seed, events.length * 4),
          meta(os),
        );
        if (view(perm) !== view(base)) {
          throw new Error(
            "the forest changed under permutation",
          );
        }
        const other = await analyze(
          permute(eventsOf(specs, os, B), seed ^ 1, events.length * 4),
          meta(os),
        );
        const d1 = diffForests(base, other);
        const d2 = diffForests(perm, other);
        if (!d1.same) {
          throw new Error(
            `same workload, other pids and times:\n${renderDiff(d1, "a", "b")}`,
          );
        }
        if (
          renderDiff(d1, "a", "b") !== renderDiff(d2, "a", "b")
        ) throw new Error("diff changed");
      },
    ),
    { numRuns: 150 },
  );
});

type Change = "extra-child" | "exit" | "argv" | "remove";

/** Applies one change to the `at`-th process (depth-first) of a copy. */
function inject(
  specs: Spec[],
  change: Change,
  at: number,
  token: string,
): Spec[] | undefined {
  // a JSON copy: fc.constant shares one [] between processes
  const copy: Spec[] = JSON.parse(JSON.stringify(specs));
  const all: { s: Spec; siblings: Spec[] }[] = [];
  const walk = (list: Spec[]) => {
    for (const s of list) {
      all.push({ s, siblings: list });
      walk(s.children);
    }
  };
  walk(copy);
  const target = all[at % all.length];
  switch (change) {
    case "extra-child":
      target.s.children.push({
        image: "ls",
        args: [token],
        exit: 0,
        threads: 0,
        children: [],
      });
      break;
    case "exit":
      target.s.exit = target.s.exit === 0 ? 3 : 0;
      break;
    case "argv":
      target.s.args = [...target.s.args, token];
      break;
    case "remove":
      target.siblings.splice(target.siblings.indexOf(target.s), 1);
      break;
  }
  return copy;
}

Deno.test("one injected change is reported exactly once", async () => {
  await fc.assert(
    fc.asyncProperty(
      forestArb,
      osArb,
      fc.constantFrom<Change>("extra-child", "exit", "argv", "remove"),
      fc.nat(),
      fc.constantFrom("--extra", "z", "-O3"),
      fc.integer(),
      async (specs, os, change, at, token, seed) => {
        const changed = inject(specs, change, at, token)!;
        const a = await analyze(
          permute(eventsOf(specs, os, A), seed, 200),
          meta(os),
        );
        const b = await analyze(
          permute(eventsOf(changed, os, B), seed ^ 3, 200),
          meta(os),
        );
        const d = diffForests(a, b);
        const counts = [d.added.length, d.removed.length, d.changed.length];
        const want = {
          "extra-child": [1, 0, 0],
          "remove": [0, 1, 0],
          "exit": [0, 0, 1],
          "argv": [0, 0, 1],
        }[change];
        if (JSON.stringify(counts) !== JSON.stringify(want)) {
          throw new Error(
            `${change}: counts ${counts}\n${renderDiff(d, "a", "b")}\n${
              renderTree(a)
            }\n${renderTree(b)}`,
          );
        }
        if (change === "exit" || change === "argv") {
          const fields = d.changed[0].changes.map((c) => c.field);
          if (JSON.stringify(fields) !== JSON.stringify([change])) {
            throw new Error(`${change}: fields ${fields}`);
          }
        }
        // and the text is the same on another run
        if (
          renderDiff(d, "a", "b") !== renderDiff(diffForests(a, b), "a", "b")
        ) {
          throw new Error("not deterministic");
        }
      },
    ),
    { numRuns: 300 },
  );
});
