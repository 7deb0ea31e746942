/**
 * The diff of two canonical trees ({@link canonicalize}): siblings matched by
 * key and shape, then reported depth-first in output order. Pure; private
 * to cli/diff.
 *
 * @module
 */
import { cmp, type CNode, viewOf } from "./_canonical_tree.ts";
import {
  type DiffChange,
  type DiffLine,
  type DiffSubtree,
  type ForestDiff,
} from "./diff_forests.ts";

/** At most this many nearest ancestors are named in an entry's path. */
export const MAX_PATH = 64;

/** Diffs two canonical trees (their roots, as {@link canonicalize} sorts them). */
export function diffTrees(ra: CNode[], rb: CNode[]): ForestDiff {
  const out: ForestDiff = {
    same: true,
    added: [],
    removed: [],
    changed: [],
    lines: [],
  };
  // depth-first, in output order, on an explicit stack (trees can be deep)
  const stack: {
    pairs: Pair[];
    i: number;
    path: Chain | undefined;
    depth: number;
  }[] = [
    { pairs: matchSiblings(ra, rb), i: 0, path: undefined, depth: 0 },
  ];
  // the current pair at each depth; an unchanged ancestor's line is made
  // and written only once something below it is reported
  const ctx: Context[] = [];
  const emitContext = (depth: number) => {
    for (let d = 0; d < depth; d++) {
      const c = ctx[d];
      if (c && !c.emitted) {
        out.lines.push(
          c.line ?? { op: " ", depth: d, process: viewOf(c.shown!) },
        );
        c.emitted = true;
      }
    }
  };
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i >= f.pairs.length) {
      stack.pop();
      continue;
    }
    const p = f.pairs[f.i++];
    ctx.length = f.depth;
    if (p.a && p.b) {
      const changes: DiffChange[] = [];
      if (p.a.cmd !== p.b.cmd) {
        changes.push({
          field: "argv",
          a: viewOf(p.a).command,
          b: viewOf(p.b).command,
        });
      }
      if (p.a.exit !== p.b.exit) {
        changes.push({ field: "exit", a: p.a.exit, b: p.b.exit });
      }
      if (p.a.threads !== p.b.threads) {
        changes.push({ field: "threads", a: p.a.threads, b: p.b.threads });
      }
      if (changes.length > 0) {
        emitContext(f.depth);
        out.changed.push({
          path: pathOf(f.path),
          depth: f.depth,
          a: viewOf(p.a),
          b: viewOf(p.b),
          changes,
        });
        const line: DiffLine = {
          op: "~",
          depth: f.depth,
          a: viewOf(p.a),
          b: viewOf(p.b),
          changes,
        };
        out.lines.push(line);
        ctx[f.depth] = { line, shown: undefined, emitted: true };
      } else {
        ctx[f.depth] = { line: undefined, shown: p.b, emitted: false };
      }
      // the same shape: nothing differs below
      if (p.a.shape !== p.b.shape) {
        stack.push({
          pairs: matchSiblings(p.a.children, p.b.children),
          i: 0,
          path: { command: viewOf(p.b).command, up: f.path },
          depth: f.depth + 1,
        });
      }
    } else {
      const side = (p.a ?? p.b)!;
      emitContext(f.depth);
      const { tree, count } = subtree(
        side,
        p.a ? "-" : "+",
        f.depth,
        out.lines,
      );
      (p.a ? out.removed : out.added).push({
        path: pathOf(f.path),
        depth: f.depth,
        process: tree,
        descendants: count,
      });
    }
  }
  out.same = out.added.length === 0 && out.removed.length === 0 &&
    out.changed.length === 0;
  return out;
}

/** A pair on the current path: its line, or the unchanged process to show. */
interface Context {
  line: DiffLine | undefined;
  shown: CNode | undefined;
  emitted: boolean;
}

/** Ancestors as a linked list: shared, so deep trees stay linear. */
interface Chain {
  command: string;
  up: Chain | undefined;
}

function pathOf(chain: Chain | undefined): string[] {
  const out: string[] = [];
  for (let c = chain; c && out.length < MAX_PATH; c = c.up) out.push(c.command);
  return out.reverse();
}

/** Candidates in order, with how many were given out and (second pass) counted back. */
interface Queue {
  list: CNode[];
  next: number;
  taken: number;
}

interface Pair {
  a?: CNode;
  b?: CNode;
}

/** Pairs two sibling lists (each sorted by key, shape, start). */
function matchSiblings(as: CNode[], bs: CNode[]): Pair[] {
  const groups = new Map<string, { a: CNode[]; b: CNode[] }>();
  for (const n of as) group(groups, n.key).a.push(n);
  for (const n of bs) group(groups, n.key).b.push(n);
  const keys = [...groups.keys()].sort(cmp);
  const pairs: Pair[] = [];
  const leftA: CNode[] = [];
  const leftB: CNode[] = [];
  for (const k of keys) {
    const g = groups.get(k)!;
    // identical subtrees first (queues with a read index: no O(n) shift)
    const byShape = new Map<number, Queue>();
    for (const n of g.b) {
      const q = byShape.get(n.shape);
      if (q) q.list.push(n);
      else byShape.set(n.shape, { list: [n], next: 0, taken: 0 });
    }
    const restA: CNode[] = [];
    const matched: Pair[] = [];
    for (const n of g.a) {
      const q = byShape.get(n.shape);
      const m = q && q.next < q.list.length ? q.list[q.next++] : undefined;
      if (m) matched.push({ a: n, b: m });
      else restA.push(n);
    }
    // the matched of each queue are its first `next`
    const restB: CNode[] = [];
    for (const q of byShape.values()) {
      for (let i = q.next; i < q.list.length; i++) restB.push(q.list[i]);
    }
    byStart(restA);
    byStart(restB);
    const k2 = Math.min(restA.length, restB.length);
    for (let i = 0; i < k2; i++) matched.push({ a: restA[i], b: restB[i] });
    for (let i = k2; i < restA.length; i++) leftA.push(restA[i]);
    for (let i = k2; i < restB.length; i++) leftB.push(restB[i]);
    matched.sort((x, y) => x.a!.start - y.a!.start || x.a!.pid - y.a!.pid);
    for (const m of matched) pairs.push(m);
  }
  // same image, other arguments: an argv change
  byStart(leftA);
  byStart(leftB);
  const byImage = new Map<string, Queue>();
  for (const n of leftB) {
    const q = byImage.get(n.nimage);
    if (q) q.list.push(n);
    else byImage.set(n.nimage, { list: [n], next: 0, taken: 0 });
  }
  const removed: CNode[] = [];
  for (const n of leftA) {
    const q = byImage.get(n.nimage);
    const m = q && q.next < q.list.length ? q.list[q.next++] : undefined;
    if (m) pairs.push({ a: n, b: m });
    else removed.push(n);
  }
  // the added: those no queue gave out, in leftB's order
  const added: CNode[] = [];
  for (const n of leftB) {
    const q = byImage.get(n.nimage)!;
    if (q.taken < q.next) q.taken++;
    else added.push(n);
  }
  for (const n of removed) pairs.push({ a: n });
  for (const n of added) pairs.push({ b: n });
  // output order: canonical key, then kind (matched, removed, added), then
  // the order made above (a stable sort by key and kind, by buckets)
  const bucket = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) bucket.set(keys[i], i);
  const buckets: Pair[][] = [];
  for (const p of pairs) {
    const b = bucket.get((p.a ?? p.b)!.key)! * 3 + kindRank(p);
    (buckets[b] ??= []).push(p);
  }
  const out: Pair[] = [];
  for (const b of buckets) {
    if (b !== undefined) {
      for (const p of b) out.push(p);
    }
  }
  return out;
}

function kindRank(p: Pair): number {
  return p.a && p.b ? 0 : p.a ? 1 : 2;
}

function byStart(l: CNode[]): void {
  l.sort((x, y) => x.start - y.start || x.pid - y.pid || cmp(x.id, y.id));
}

function group(
  m: Map<string, { a: CNode[]; b: CNode[] }>,
  k: string,
): { a: CNode[]; b: CNode[] } {
  let g = m.get(k);
  if (!g) {
    g = { a: [], b: [] };
    m.set(k, g);
  }
  return g;
}

/** Lines and the nested view of a subtree on one side only. */
function subtree(
  root: CNode,
  op: "+" | "-",
  depth: number,
  lines: DiffLine[],
): { tree: DiffSubtree; count: number } {
  const tree: DiffSubtree = { ...viewOf(root), children: [] };
  let count = 0;
  const stack: { n: CNode; t: DiffSubtree; d: number }[] = [{
    n: root,
    t: tree,
    d: depth,
  }];
  while (stack.length) {
    const { n, t, d } = stack.pop()!;
    lines.push({ op, depth: d, process: viewOf(n), root: n === root });
    const kids = n.children.map((c) => ({
      n: c,
      t: { ...viewOf(c), children: [] } as DiffSubtree,
    }));
    for (const k of kids) t.children.push(k.t);
    count += kids.length;
    for (let i = kids.length - 1; i >= 0; i--) {
      stack.push({ n: kids[i].n, t: kids[i].t, d: d + 1 });
    }
  }
  return { tree, count };
}
