/**
 * The canonical order of many siblings (a build's jobs under one make),
 * sorted by counting passes past a few hundred: the same order as the
 * comparison (key rank, subtree shape, start, pid; ties in the forest's
 * order), on random builds.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { analyze } from "../cli/analysis/mod.ts";
import {
  canonicalize,
  type CNode,
  NormalizeMemo,
  Shapes,
} from "../cli/diff/_canonical_tree.ts";
import { assert, assertEquals } from "./_record_helpers.ts";
import { processCreate } from "./_recording_helpers.ts";

/** A make with `jobs` children of a few commands and exits, some with a child of their own. */
function build(jobs: number, seed: number): ProcEvent[] {
  let s = seed;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const events: ProcEvent[] = [{
    kind: "process_snapshot",
    t: 0,
    pid: 100,
    tid: 100,
    ppid: 1,
    start: -5,
    info: { image: "/usr/bin/make", argv: ["make"], from: {} },
  }];
  let t = 1, pid = 1000;
  for (let j = 0; j < jobs; j++) {
    const p = pid++;
    // equal starts for some: the pid then decides
    const start = rnd(4) === 0 ? t : ++t;
    events.push(processCreate(start, p, 100, {
      info: {
        image: "/usr/bin/cc",
        argv: ["cc", "-c", `f${rnd(3)}.c`],
        from: {},
      },
    } as Partial<ProcEvent>));
    if (rnd(5) === 0) {
      const q = pid++;
      events.push(processCreate(++t, q, p, {
        info: { image: "/usr/bin/as", argv: ["as"], from: {} },
      } as Partial<ProcEvent>));
      events.push({ kind: "process_exit", t: ++t, pid: q, tid: q, status: 0 });
    }
    if (rnd(3) !== 0) {
      events.push({
        kind: "process_exit",
        t: ++t,
        pid: p,
        tid: p,
        status: rnd(2) << 8,
      });
    }
  }
  return events;
}

function comparisonOrder(x: CNode, y: CNode): number {
  return x.rank - y.rank || x.shape - y.shape || x.start - y.start ||
    x.pid - y.pid;
}

Deno.test("many siblings are put in the canonical order, ties in the forest's order, as by the comparison", async () => {
  for (const [jobs, seed] of [[300, 1], [1000, 2], [5000, 3], [255, 4]]) {
    const f = await analyze(build(jobs, seed), {
      os: "linux",
      bootId: "b",
    }, { detail: "tree" });
    const [make] = canonicalize(f, new NormalizeMemo({}), new Shapes());
    const kids = make.children;
    assertEquals(kids.length, jobs);
    // the comparison sort of the same siblings taken in the forest's order
    const inForestOrder = make.children.slice().sort((x, y) =>
      x.start - y.start || x.pid - y.pid || (x.id < y.id ? -1 : 1)
    );
    const expected = inForestOrder.slice().sort(comparisonOrder);
    assertEquals(
      kids.map((c) => c.pid),
      expected.map((c) => c.pid),
      `${jobs} jobs`,
    );
    assert(
      new Set(kids.map((c) => c.shape)).size > 1 &&
        new Set(kids.map((c) => c.rank)).size > 1,
      "keys and shapes differ among the siblings",
    );
  }
});

Deno.test("siblings the builder let through out of order (a start that is not a number, given through the API) go by the comparison, as before", async () => {
  const job = (pid: number, start: number, image: string, t: number) =>
    processCreate(t, pid, 1, {
      start,
      info: { image, argv: [image], from: {} },
    } as Partial<ProcEvent>);
  const events: ProcEvent[] = [
    job(1, 0, "make", 0),
    job(5, 2, "x", 10),
    job(6, NaN, "y", 11),
    job(7, 1, "x", 12),
  ];
  events[0] = { ...events[0], ppid: 0, ptid: 0 } as ProcEvent;
  for (let i = 0; i < 253; i++) events.push(job(100 + i, 3 + i, "z", 13 + i));
  const f = await analyze(events, { os: "linux", bootId: "b" }, {
    detail: "tree",
  });
  const [make] = canonicalize(f, new NormalizeMemo({}), new Shapes());
  // the comparison sort of the children in the order the forest lists them
  const byPid = new Map(make.children.map((c) => [c.pid, c]));
  const expected = f.byId.get(f.roots[0])!.children.map((id) =>
    byPid.get(f.byId.get(id)!.pid)!
  ).sort(comparisonOrder);
  assertEquals(
    make.children.slice(0, 3).map((c) => c.pid),
    expected.slice(0, 3).map((c) => c.pid),
  );
  assertEquals(make.children.slice(0, 3).map((c) => c.pid), [7, 5, 6]);
});
