/**
 * A plain reference of the diff of two canonical trees, written from the
 * rules `diffForests` documents, for tests to compare the real one with
 * (issue 16): siblings grouped by key with a search for the first unused
 * partner, nodes sorted with full sorts, the tree walked by recursion. Slow
 * (quadratic in the siblings of one key), for small trees.
 *
 * @module
 */
import type {
  DiffChange,
  DiffLine,
  DiffSubtree,
  ForestDiff,
} from "../cli/diff/mod.ts";
import { type CNode, viewOf } from "../cli/diff/_canonical_tree.ts";

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byStartPidId = (x: CNode, y: CNode) =>
  x.start - y.start || x.pid - y.pid || text(x.id, y.id);

type Pair = [CNode | undefined, CNode | undefined];

/** The fields a change reports: what is compared, what is shown. */
const FIELDS: [
  DiffChange["field"],
  (n: CNode) => unknown,
  (n: CNode) => string | number,
][] = [
  ["argv", (n) => n.cmd, (n) => viewOf(n).command],
  ["exit", (n) => n.exit, (n) => n.exit],
  ["threads", (n) => n.threads, (n) => n.threads],
];

/** The pairs of two sibling lists, in output order. */
function pairsOf(as: CNode[], bs: CNode[]): Pair[] {
  const keys = [...new Set([...as, ...bs].map((n) => n.key))].sort(text);
  // kind: 0 matched, 1 removed, 2 added; each pair under the key of its a (else b)
  const out: { key: number; kind: number; pair: Pair }[] = [];
  const leftA: CNode[] = [], leftB: CNode[] = [];
  keys.forEach((key, k) => {
    const ga = as.filter((n) => n.key === key);
    const gb = bs.filter((n) => n.key === key);
    const used = new Set<CNode>();
    const matched: Pair[] = [];
    const restA: CNode[] = [];
    for (const a of ga) {
      const b = gb.find((n) => !used.has(n) && n.shape === a.shape);
      if (b) {
        used.add(b);
        matched.push([a, b]);
      } else restA.push(a);
    }
    const restB = gb.filter((n) => !used.has(n));
    restA.sort(byStartPidId);
    restB.sort(byStartPidId);
    const n = Math.min(restA.length, restB.length);
    for (let i = 0; i < n; i++) matched.push([restA[i], restB[i]]);
    leftA.push(...restA.slice(n));
    leftB.push(...restB.slice(n));
    matched.sort((x, y) => x[0]!.start - y[0]!.start || x[0]!.pid - y[0]!.pid);
    for (const pair of matched) out.push({ key: k, kind: 0, pair });
  });
  leftA.sort(byStartPidId);
  leftB.sort(byStartPidId);
  const keyOf = (n: CNode) => keys.indexOf(n.key);
  const used = new Set<CNode>();
  const removed: CNode[] = [];
  for (const a of leftA) {
    const b = leftB.find((n) => !used.has(n) && n.nimage === a.nimage);
    if (b) {
      used.add(b);
      out.push({ key: keyOf(a), kind: 0, pair: [a, b] });
    } else removed.push(a);
  }
  for (const a of removed) {
    out.push({ key: keyOf(a), kind: 1, pair: [a, undefined] });
  }
  for (const b of leftB) {
    if (!used.has(b)) {
      out.push({ key: keyOf(b), kind: 2, pair: [undefined, b] });
    }
  }
  // a stable sort: key, then kind
  return out.sort((x, y) => x.key - y.key || x.kind - y.kind).map((x) =>
    x.pair
  );
}

/** The nested view of a subtree on one side, and its lines. */
function subtreeOf(
  n: CNode,
  op: "+" | "-",
  depth: number,
  root: boolean,
  lines: DiffLine[],
): DiffSubtree {
  lines.push({ op, depth, process: viewOf(n), root });
  return {
    ...viewOf(n),
    children: n.children.map((c) => subtreeOf(c, op, depth + 1, false, lines)),
  };
}

const size = (t: DiffSubtree): number =>
  t.children.reduce((s, c) => s + 1 + size(c), 0);

/** The diff of two canonical trees (their roots), by the documented rules. */
export function referenceDiff(ra: CNode[], rb: CNode[]): ForestDiff {
  const out = { same: true } as ForestDiff;
  for (const k of ["added", "removed", "changed", "lines"] as const) {
    out[k] = [];
  }
  // the ancestors on the current path: a line to write before anything
  // reported below them, once
  const pending: { line: DiffLine; written: boolean }[] = [];
  const writeAncestors = () => {
    for (const p of pending) {
      if (!p.written) out.lines.push(p.line);
      p.written = true;
    }
  };
  const walk = (as: CNode[], bs: CNode[], path: string[]) => {
    const depth = path.length;
    for (const [a, b] of pairsOf(as, bs)) {
      const shownPath = path.slice(-64);
      if (a && b) {
        const changes = FIELDS.filter(([, of]) => of(a) !== of(b)).map((
          [field, , shown],
        ) => ({ field, a: shown(a), b: shown(b) }));
        const pair = { a: viewOf(a), b: viewOf(b), changes };
        let entry: { line: DiffLine; written: boolean };
        if (changes.length > 0) {
          writeAncestors();
          out.changed.push({ path: shownPath, depth, ...pair });
          entry = { line: { op: "~", depth, ...pair }, written: true };
          out.lines.push(entry.line);
        } else {
          entry = {
            line: { op: " ", depth, process: viewOf(b) },
            written: false,
          };
        }
        if (a.shape !== b.shape) {
          pending.push(entry);
          walk(a.children, b.children, [...path, viewOf(b).command]);
          pending.pop();
        }
      } else {
        writeAncestors();
        const n = (a ?? b)!;
        const process = subtreeOf(n, a ? "-" : "+", depth, true, out.lines);
        (a ? out.removed : out.added).push({
          path: shownPath,
          depth,
          process,
          descendants: size(process),
        });
      }
    }
  };
  walk(ra, rb, []);
  out.same = out.added.length + out.removed.length + out.changed.length === 0;
  return out;
}
