import type { Forest, ProcessNode } from "../analysis/forest.ts";
import { commandText } from "../analysis/command_text.ts";
import { type NormalizeOptions, normalizeValue } from "./normalize.ts";

/** A process as the diff shows it: no pid, no time. */
export interface DiffProcess {
  image?: string;
  /** The command as recorded (argv quoted, or the command line). */
  command: string;
  /** Exit status text, or `running`; then each exec rule decision (`exec denied IMAGE by rule R`). */
  exit: string;
  threads: number;
}

/** A process with its descendants (for added and removed subtrees). */
export interface DiffSubtree extends DiffProcess {
  children: DiffSubtree[];
}

/** A process and its whole subtree present on one side only. */
export interface DiffAddRemove {
  /** Commands of the ancestors, root first (at most the {@link MAX_PATH} nearest). */
  path: string[];
  /** Number of ancestors. */
  depth: number;
  process: DiffSubtree;
  /** Number of processes in the subtree below it. */
  descendants: number;
}

/** One field that differs between two matched processes. */
export interface DiffChange {
  field: "exit" | "argv" | "threads";
  a: string | number;
  b: string | number;
}

/** A process present on both sides that differs. */
export interface DiffChanged {
  /** Commands of the ancestors, root first (at most the {@link MAX_PATH} nearest). */
  path: string[];
  /** Number of ancestors. */
  depth: number;
  a: DiffProcess;
  b: DiffProcess;
  changes: DiffChange[];
}

/** One line of the tree diff, in output order. */
export type DiffLine =
  | { op: " "; depth: number; process: DiffProcess }
  | { op: "+" | "-"; depth: number; process: DiffProcess; root: boolean }
  | {
    op: "~";
    depth: number;
    a: DiffProcess;
    b: DiffProcess;
    changes: DiffChange[];
  };

/** The difference of two forests. */
export interface ForestDiff {
  same: boolean;
  added: DiffAddRemove[];
  removed: DiffAddRemove[];
  changed: DiffChanged[];
  /** Every reported process with just the ancestors needed to place it. */
  lines: DiffLine[];
}

/** Options of {@link diffForests}. */
export type DiffOptions = NormalizeOptions;

interface CNode {
  n: ProcessNode;
  /** Normalized image and command: what matching compares. */
  image: string;
  cmd: string;
  key: string;
  exit: string;
  threads: number;
  children: CNode[];
  /**
   * The canonical subtree's number: equal numbers mean equal subtrees, exactly
   * (see {@link Shapes}), so a match never needs a second comparison.
   */
  shape: number;
  view: DiffProcess;
}

/**
 * Diffs two process forests. Processes match by canonical path: normalized
 * image and argv under matched parents; never by pid or time. Among
 * siblings with the same key, identical subtrees pair first, then the rest
 * in start order; leftovers with the same image pair as an argv change.
 * Each difference is reported once: a whole added or removed subtree as one
 * entry, a matched process whose exit status, argv or thread count differs
 * as one entry with every changed field. Children that differ show up as
 * their own added or removed entries, not as a change of the parent.
 *
 * @example
 * ```ts
 * import { analyze } from "../analysis/mod.ts";
 * import { diffForests } from "./diff_forests.ts";
 * const run = (code: number, pid: number) => analyze([
 *   { kind: "process_create", t: 0, pid, tid: pid, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: pid,
 *     info: { image: "/bin/false", argv: ["false"], from: {} } },
 *   { kind: "process_exit", t: 5, pid, tid: pid, status: code << 8 },
 * ], { os: "linux", bootId: "b" });
 * const d = diffForests(await run(1, 10), await run(2, 99));
 * if (d.changed.length !== 1 || d.changed[0].changes[0].field !== "exit") throw new Error();
 * if (!diffForests(await run(1, 10), await run(1, 99)).same) throw new Error();
 * ```
 */
export function diffForests(
  a: Forest,
  b: Forest,
  options: DiffOptions = {},
): ForestDiff {
  // one numbering for both sides: equal numbers are equal subtrees
  const shapes = new Shapes();
  const ra = canonicalize(a, options, shapes);
  const rb = canonicalize(b, options, shapes);
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
  // the line of the current pair at each depth; an unchanged ancestor's line
  // is written only once something below it is reported
  const ctx: { line: DiffLine; emitted: boolean }[] = [];
  const emitContext = (depth: number) => {
    for (let d = 0; d < depth; d++) {
      const c = ctx[d];
      if (c && !c.emitted) {
        out.lines.push(c.line);
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
          a: p.a.view.command,
          b: p.b.view.command,
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
          a: p.a.view,
          b: p.b.view,
          changes,
        });
        const line: DiffLine = {
          op: "~",
          depth: f.depth,
          a: p.a.view,
          b: p.b.view,
          changes,
        };
        out.lines.push(line);
        ctx[f.depth] = { line, emitted: true };
      } else {
        ctx[f.depth] = {
          line: { op: " ", depth: f.depth, process: p.b.view },
          emitted: false,
        };
      }
      // the same shape: nothing differs below
      if (p.a.shape !== p.b.shape) {
        stack.push({
          pairs: matchSiblings(p.a.children, p.b.children),
          i: 0,
          path: { command: p.b.view.command, up: f.path },
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

/** Ancestors as a linked list: shared, so deep trees stay linear. */
interface Chain {
  command: string;
  up: Chain | undefined;
}

/** At most this many nearest ancestors are named in an entry's path. */
export const MAX_PATH = 64;

function pathOf(chain: Chain | undefined): string[] {
  const out: string[] = [];
  for (let c = chain; c && out.length < MAX_PATH; c = c.up) out.push(c.command);
  return out.reverse();
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
    const byShape = new Map<number, { list: CNode[]; next: number }>();
    for (const n of g.b) {
      const q = byShape.get(n.shape);
      if (q) q.list.push(n);
      else byShape.set(n.shape, { list: [n], next: 0 });
    }
    const restA: CNode[] = [];
    const used = new Set<CNode>();
    const matched: Pair[] = [];
    for (const n of g.a) {
      const q = byShape.get(n.shape);
      const m = q && q.next < q.list.length ? q.list[q.next++] : undefined;
      if (m) {
        used.add(m);
        matched.push({ a: n, b: m });
      } else restA.push(n);
    }
    const restB = g.b.filter((n) => !used.has(n));
    byStart(restA);
    byStart(restB);
    const k2 = Math.min(restA.length, restB.length);
    for (let i = 0; i < k2; i++) matched.push({ a: restA[i], b: restB[i] });
    for (let i = k2; i < restA.length; i++) leftA.push(restA[i]);
    for (let i = k2; i < restB.length; i++) leftB.push(restB[i]);
    matched.sort((x, y) =>
      x.a!.n.start - y.a!.n.start || x.a!.n.pid - y.a!.n.pid
    );
    for (const m of matched) pairs.push(m);
  }
  // same image, other arguments: an argv change
  byStart(leftA);
  byStart(leftB);
  const usedB = new Set<CNode>();
  const byImage = new Map<string, { list: CNode[]; next: number }>();
  for (const n of leftB) {
    const q = byImage.get(n.image);
    if (q) q.list.push(n);
    else byImage.set(n.image, { list: [n], next: 0 });
  }
  const removed: CNode[] = [];
  for (const n of leftA) {
    const q = byImage.get(n.image);
    const m = q && q.next < q.list.length ? q.list[q.next++] : undefined;
    if (m) {
      usedB.add(m);
      pairs.push({ a: n, b: m });
    } else removed.push(n);
  }
  const added = leftB.filter((n) => !usedB.has(n));
  for (const n of removed) pairs.push({ a: n });
  for (const n of added) pairs.push({ b: n });
  // output order: canonical key, then start order within a key
  const keyOf = (p: Pair) => (p.a ?? p.b)!.key;
  const rank = new Map<Pair, number>(pairs.map((p, i) => [p, i]));
  return pairs.sort((x, y) =>
    cmp(keyOf(x), keyOf(y)) || kindRank(x) - kindRank(y) ||
    rank.get(x)! - rank.get(y)!
  );
}

function kindRank(p: Pair): number {
  return p.a && p.b ? 0 : p.a ? 1 : 2;
}

function byStart(l: CNode[]): void {
  l.sort((x, y) =>
    x.n.start - y.n.start || x.n.pid - y.n.pid || cmp(x.n.id, y.n.id)
  );
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

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Lines and the nested view of a subtree on one side only. */
function subtree(
  root: CNode,
  op: "+" | "-",
  depth: number,
  lines: DiffLine[],
): { tree: DiffSubtree; count: number } {
  const tree: DiffSubtree = { ...root.view, children: [] };
  let count = 0;
  const stack: { n: CNode; t: DiffSubtree; d: number }[] = [{
    n: root,
    t: tree,
    d: depth,
  }];
  while (stack.length) {
    const { n, t, d } = stack.pop()!;
    lines.push({ op, depth: d, process: n.view, root: n === root });
    const kids = n.children.map((c) => ({
      n: c,
      t: { ...c.view, children: [] } as DiffSubtree,
    }));
    for (const k of kids) t.children.push(k.t);
    count += kids.length;
    for (let i = kids.length - 1; i >= 0; i--) {
      stack.push({ n: kids[i].n, t: kids[i].t, d: d + 1 });
    }
  }
  return { tree, count };
}

/**
 * Numbers canonical subtrees by exact content (hash-consing): a subtree's
 * number stands for its key, exit, thread count and its children's numbers,
 * so two subtrees get the same number only if they are equal all the way
 * down. A fast hash in its place could collide on crafted arguments and hide
 * a difference; here the map compares the whole text on every lookup.
 */
class Shapes {
  #keys = new Map<string, number>();
  #shapes = new Map<string, number>();

  of(key: string, exit: string, threads: number, children: CNode[]): number {
    let k = this.#keys.get(key);
    if (k === undefined) {
      k = this.#keys.size;
      this.#keys.set(key, k);
    }
    let text = `${k}\u0001${exit}\u0001${threads}\u0001`;
    for (let i = 0; i < children.length; i++) {
      text += i === 0 ? `${children[i].shape}` : `,${children[i].shape}`;
    }
    let n = this.#shapes.get(text);
    if (n === undefined) {
      n = this.#shapes.size;
      this.#shapes.set(text, n);
    }
    return n;
  }
}

/** Builds the canonical tree of a forest, children sorted by key, shape, start. */
function canonicalize(
  forest: Forest,
  options: DiffOptions,
  shapes: Shapes,
): CNode[] {
  const windows = forest.meta.os === "windows";
  const nodes = new Map<string, CNode>();
  // arguments repeat a lot: normalize each distinct string once
  const memo = new Map<string, string>();
  const normalize = (v: string): string => {
    let r = memo.get(v);
    if (r === undefined) {
      r = normalizeValue(v, options);
      if (memo.size < 1_000_000) memo.set(v, r);
    }
    return r;
  };
  for (const n of forest.processes) {
    let image = n.image !== undefined
      ? normalize(n.image)
      : n.comm !== undefined
      ? `[${n.comm}]`
      : "?";
    if (windows) image = image.toLowerCase();
    const cmd = n.argv !== undefined
      ? n.argv.map(normalize)
        // an argument --ignore-argv matched whole is left out
        .filter((s, i) => !(s === "<ignored>" && n.argv![i] !== s))
        .map(quote).join(" ")
      : normalize(n.cmdline ?? "");
    // exec rule decisions are part of how a process ended up
    const exit = [
      n.exit?.text ?? "running",
      ...(n.decisions ?? []).map((d) =>
        `exec ${d.action} ${normalize(d.image)} by rule ${d.rule}`
      ),
    ].join("; ");
    const view: DiffProcess = {
      ...(n.image !== undefined ? { image: n.image } : {}),
      command: commandText(n),
      exit,
      threads: n.threads.length,
    };
    nodes.set(n.id, {
      n,
      image,
      cmd,
      key: `${image}\u0000${cmd}`,
      exit,
      threads: n.threads.length,
      children: [],
      shape: -1,
      view,
    });
  }
  // children, then shapes bottom-up (processes are in start order; walk an
  // explicit post-order to stay off the call stack)
  for (const n of forest.processes) {
    const c = nodes.get(n.id)!;
    for (const id of n.children) {
      const k = nodes.get(id);
      if (k) c.children.push(k);
    }
  }
  const roots = forest.roots.map((id) => nodes.get(id)!).filter((x) => x);
  const order: CNode[] = [];
  const stack = [...roots];
  while (stack.length) {
    const c = stack.pop()!;
    order.push(c);
    for (const k of c.children) stack.push(k);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const c = order[i];
    c.children.sort(canonicalOrder);
    c.shape = shapes.of(c.key, c.exit, c.threads, c.children);
  }
  roots.sort(canonicalOrder);
  return roots;
}

function canonicalOrder(x: CNode, y: CNode): number {
  return cmp(x.key, y.key) || x.shape - y.shape || x.n.start - y.n.start ||
    x.n.pid - y.n.pid;
}

const PLAIN = /^[A-Za-z0-9_\-.,/:=@%+^~<>]+$/;

function quote(a: string): string {
  return PLAIN.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}
