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
    pairs: Pairs;
    i: number;
    path: Chain | undefined;
    depth: number;
  }[] = [
    { pairs: matchSiblings(ra, rb), i: 0, path: undefined, depth: 0 },
  ];
  // the current pair at each depth: its line, or the unchanged process to
  // show (made and written only once something below it is reported)
  const ctxLine: (DiffLine | undefined)[] = [];
  const ctxShown: (CNode | undefined)[] = [];
  const ctxEmitted: boolean[] = [];
  const emitContext = (depth: number) => {
    for (let d = 0; d < depth; d++) {
      if (!ctxEmitted[d]) {
        out.lines.push(
          ctxLine[d] ?? { op: " ", depth: d, process: viewOf(ctxShown[d]!) },
        );
        ctxEmitted[d] = true;
      }
    }
  };
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i >= f.pairs.a.length) {
      stack.pop();
      continue;
    }
    const a = f.pairs.a[f.i], b = f.pairs.b[f.i];
    f.i++;
    const depth = f.depth;
    if (a !== undefined && b !== undefined) {
      if (a.shape === b.shape && a.cmd === b.cmd) {
        // equal subtrees (equal key, exit and threads): nothing to report
        ctxLine[depth] = undefined;
        ctxShown[depth] = b;
        ctxEmitted[depth] = false;
        continue;
      }
      const changes: DiffChange[] = [];
      if (a.cmd !== b.cmd) {
        changes.push({
          field: "argv",
          a: viewOf(a).command,
          b: viewOf(b).command,
        });
      }
      if (a.exit !== b.exit) {
        changes.push({ field: "exit", a: a.exit, b: b.exit });
      }
      if (a.threads !== b.threads) {
        changes.push({ field: "threads", a: a.threads, b: b.threads });
      }
      if (changes.length > 0) {
        emitContext(depth);
        out.changed.push({
          path: pathOf(f.path),
          depth,
          a: viewOf(a),
          b: viewOf(b),
          changes,
        });
        const line: DiffLine = {
          op: "~",
          depth,
          a: viewOf(a),
          b: viewOf(b),
          changes,
        };
        out.lines.push(line);
        ctxLine[depth] = line;
        ctxShown[depth] = undefined;
        ctxEmitted[depth] = true;
      } else {
        ctxLine[depth] = undefined;
        ctxShown[depth] = b;
        ctxEmitted[depth] = false;
      }
      // the same shape: nothing differs below
      if (a.shape !== b.shape) {
        stack.push({
          pairs: matchSiblings(a.children, b.children),
          i: 0,
          path: { command: viewOf(b).command, up: f.path },
          depth: depth + 1,
        });
      }
    } else {
      const side = (a ?? b)!;
      emitContext(depth);
      const { tree, count } = subtree(
        side,
        a ? "-" : "+",
        depth,
        out.lines,
      );
      (a ? out.removed : out.added).push({
        path: pathOf(f.path),
        depth,
        process: tree,
        descendants: count,
      });
    }
  }
  out.same = out.added.length === 0 && out.removed.length === 0 &&
    out.changed.length === 0;
  return out;
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

/** Pairs of siblings, in output order: `a[i]` and `b[i]` (one may be absent). */
interface Pairs {
  a: (CNode | undefined)[];
  b: (CNode | undefined)[];
}

/**
 * Pairs two sibling lists, each sorted as {@link canonicalize} sorts them:
 * by key (in the keys' text order), shape, start, pid. Siblings of one key
 * are therefore a run on each side, and of one shape a run within it: the
 * two lists are walked together, run by run, with no map of keys or shapes.
 * Within a key, identical subtrees pair first (in order), then the rest in
 * start order; leftovers with the same image pair as an argv change. Output
 * order: key, then kind (matched, removed, added), then the order made here.
 */
function matchSiblings(as: CNode[], bs: CNode[]): Pairs {
  const out: Pairs = { a: [], b: [] };
  const leftA: CNode[] = [];
  const leftB: CNode[] = [];
  /** The group (key run) of each leftover. */
  const groupOf = new Map<CNode, number>();
  /** Where each group's pairs matched within their key end in `out`. */
  const ends: number[] = [];
  const restA: CNode[] = [];
  const restB: CNode[] = [];
  let i = 0, j = 0;
  for (let g = 0; i < as.length || j < bs.length; g++) {
    // the next key: the smaller of the two sides' next
    let i2 = i, j2 = j;
    const x = i < as.length ? as[i] : undefined;
    const y = j < bs.length ? bs[j] : undefined;
    const c = x === undefined
      ? 1
      : y === undefined
      ? -1
      : x.keyId === y.keyId
      ? 0
      : cmp(x.key, y.key);
    if (c <= 0) { while (i2 < as.length && as[i2].keyId === x!.keyId) i2++; }
    if (c >= 0) { while (j2 < bs.length && bs[j2].keyId === y!.keyId) j2++; }
    // identical subtrees first: runs of one shape, paired in order
    const from = out.a.length;
    restA.length = 0;
    restB.length = 0;
    let p = i, q = j;
    while (p < i2 || q < j2) {
      const sa = p < i2 ? as[p].shape : Infinity;
      const sb = q < j2 ? bs[q].shape : Infinity;
      if (sa === sb) {
        out.a.push(as[p++]);
        out.b.push(bs[q++]);
      } else if (sa < sb) restA.push(as[p++]);
      else restB.push(bs[q++]);
    }
    if (restA.length > 0 && restB.length > 0) {
      byStart(restA);
      byStart(restB);
    }
    const k2 = Math.min(restA.length, restB.length);
    for (let k = 0; k < k2; k++) {
      out.a.push(restA[k]);
      out.b.push(restB[k]);
    }
    for (let k = k2; k < restA.length; k++) {
      leftA.push(restA[k]);
      groupOf.set(restA[k], g);
    }
    for (let k = k2; k < restB.length; k++) {
      leftB.push(restB[k]);
      groupOf.set(restB[k], g);
    }
    byStartOfA(out, from);
    ends.push(out.a.length);
    i = i2;
    j = j2;
  }
  if (leftA.length === 0 && leftB.length === 0) return out;
  // same image, other arguments: an argv change; these pairs (few) go in
  // with their group, by kind: at group * 3 + kind
  const extra = new Map<number, Pairs>();
  const add = (g: number, a: CNode | undefined, b: CNode | undefined) => {
    let e = extra.get(g);
    if (e === undefined) extra.set(g, e = { a: [], b: [] });
    e.a.push(a);
    e.b.push(b);
  };
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
    if (m) add(groupOf.get(n)! * 3, n, m);
    else removed.push(n);
  }
  for (const n of removed) add(groupOf.get(n)! * 3 + 1, n, undefined);
  // the added: those no queue gave out, in leftB's order
  for (const n of leftB) {
    const q = byImage.get(n.nimage)!;
    if (q.taken < q.next) q.taken++;
    else add(groupOf.get(n)! * 3 + 2, undefined, n);
  }
  // each group's pairs matched within their key, then its extra pairs by kind
  const merged: Pairs = { a: [], b: [] };
  let from = 0;
  for (let g = 0; g < ends.length; g++) {
    for (let k = from; k < ends[g]; k++) {
      merged.a.push(out.a[k]);
      merged.b.push(out.b[k]);
    }
    from = ends[g];
    for (let kind = 0; kind < 3; kind++) {
      const e = extra.get(g * 3 + kind);
      if (e === undefined) continue;
      for (let k = 0; k < e.a.length; k++) {
        merged.a.push(e.a[k]);
        merged.b.push(e.b[k]);
      }
    }
  }
  return merged;
}

/** Sorts the pairs of `p` from `from` on by their a's start, then pid (stably). */
function byStartOfA(p: Pairs, from: number): void {
  const a = p.a as CNode[], b = p.b as CNode[];
  let sorted = true;
  for (let k = from + 1; k < a.length && sorted; k++) {
    sorted = a[k - 1].start < a[k].start ||
      (a[k - 1].start === a[k].start && a[k - 1].pid <= a[k].pid);
  }
  if (sorted) return;
  const order: number[] = [];
  for (let k = from; k < a.length; k++) order.push(k);
  order.sort((x, y) => a[x].start - a[y].start || a[x].pid - a[y].pid);
  const sa = order.map((k) => a[k]), sb = order.map((k) => b[k]);
  for (let k = 0; k < order.length; k++) {
    a[from + k] = sa[k];
    b[from + k] = sb[k];
  }
}

function byStart(l: CNode[]): void {
  l.sort((x, y) => x.start - y.start || x.pid - y.pid || cmp(x.id, y.id));
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
