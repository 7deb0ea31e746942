/**
 * One side of a diff: a forest reduced to what matching and reporting need
 * (normalized key, exit text, thread count, start, pid, id, the command's
 * raw parts), with each subtree numbered by exact content. It keeps no
 * reference to the forest's process nodes, so a command can let the forest
 * go before it analyses the other recording. The shown form of a process
 * ({@link viewOf}) is made only for the processes a diff reports. Pure;
 * private to cli/diff.
 *
 * @module
 */
import type { Forest } from "../analysis/forest.ts";
import { commandText } from "../analysis/command_text.ts";
import type { DiffOptions, DiffProcess } from "./diff_forests.ts";
import { normalizeValue } from "./normalize.ts";

/** A process of a canonical tree. */
export interface CNode {
  /** As recorded (for the shown form). */
  image: string | undefined;
  argv: string[] | undefined;
  cmdline: string | undefined;
  comm: string | undefined;
  /** Normalized image and command: what matching compares. */
  nimage: string;
  cmd: string;
  key: string;
  /** The key's place among the distinct keys of its side (equal keys, equal ranks). */
  rank: number;
  /** The key's number in {@link Shapes} (the same on both sides). */
  keyId: number;
  exit: string;
  threads: number;
  start: number;
  pid: number;
  id: string;
  children: CNode[];
  /**
   * The canonical subtree's number: equal numbers mean equal subtrees, exactly
   * (see {@link Shapes}), so a match never needs a second comparison.
   */
  shape: number;
  /** The shown form, once asked for. */
  view: DiffProcess | undefined;
}

/** The shown form of a process (made once, then shared). */
export function viewOf(c: CNode): DiffProcess {
  if (c.view === undefined) {
    c.view = {
      ...(c.image !== undefined ? { image: c.image } : {}),
      command: commandText(c),
      exit: c.exit,
      threads: c.threads,
    };
  }
  return c.view;
}

/**
 * Numbers canonical subtrees by exact content (hash-consing): a subtree's
 * number stands for its key, exit, thread count and its children's numbers,
 * so two subtrees get the same number only if they are equal all the way
 * down. A fast hash in its place could collide on crafted arguments and hide
 * a difference; here the map compares the whole text on every lookup.
 * Numbers are given in the order subtrees are first seen.
 */
export class Shapes {
  #keys = new Map<string, number>();
  #shapes = new Map<string, number>();
  /** Exit texts by number, for {@link leaves}. */
  #exits = new Map<string, number>();
  /**
   * Shapes of childless subtrees by one number made of key, exit and thread
   * count (each in its own range of bits, so equal numbers mean equal
   * subtrees): no text to make and hash for most processes.
   */
  #leaves = new Map<number, number>();
  /** Shapes numbered so far (in both maps). */
  #count = 0;

  /** The number of a key (the same for both sides). */
  keyId(key: string): number {
    let k = this.#keys.get(key);
    if (k === undefined) {
      k = this.#keys.size;
      this.#keys.set(key, k);
    }
    return k;
  }

  of(keyId: number, exit: string, threads: number, children: CNode[]): number {
    if (children.length === 0 && keyId < 0x1000000 && threads < 0x400) {
      let e = this.#exits.get(exit);
      if (e === undefined) {
        e = this.#exits.size;
        this.#exits.set(exit, e);
      }
      if (e < 0x10000) {
        // key: 24 bits, exit: 16 bits, threads: 10 bits (< 2^53, exact)
        const leaf = (keyId * 0x10000 + e) * 0x400 + threads;
        let n = this.#leaves.get(leaf);
        if (n === undefined) {
          n = this.#count++;
          this.#leaves.set(leaf, n);
        }
        return n;
      }
    }
    let text = `${keyId}\u0001${exit}\u0001${threads}\u0001`;
    for (let i = 0; i < children.length; i++) {
      text += i === 0 ? `${children[i].shape}` : `,${children[i].shape}`;
    }
    let n = this.#shapes.get(text);
    if (n === undefined) {
      n = this.#count++;
      this.#shapes.set(text, n);
    }
    return n;
  }
}

/** Normalizes each distinct string once (arguments repeat a lot). */
export class NormalizeMemo {
  #memo = new Map<string, string>();
  readonly options: DiffOptions;

  constructor(options: DiffOptions) {
    this.options = options;
  }

  of(v: string): string {
    let r = this.#memo.get(v);
    if (r === undefined) {
      r = normalizeValue(v, this.options);
      if (this.#memo.size < 1_000_000) this.#memo.set(v, r);
    }
    return r;
  }
}

/** Builds the canonical tree of a forest: roots and children sorted by key, shape, start. */
export function canonicalize(
  forest: Forest,
  memo: NormalizeMemo,
  shapes: Shapes,
): CNode[] {
  const windows = forest.meta.os === "windows";
  // the distinct keys of this side, ranked once they are all known
  const keyIndex = new Map<string, number>();
  const keys: string[] = [];
  const keyOf: number[] = [];
  const all: CNode[] = [];
  for (const n of forest.processes) {
    let nimage = n.image !== undefined
      ? memo.of(n.image)
      : n.comm !== undefined
      ? `[${n.comm}]`
      : "?";
    if (windows) nimage = nimage.toLowerCase();
    let cmd = "";
    if (n.argv !== undefined) {
      let first = true;
      for (const a of n.argv) {
        const s = memo.of(a);
        // an argument --ignore-argv matched whole is left out
        if (s === "<ignored>" && a !== s) continue;
        cmd = first ? quote(s) : cmd + " " + quote(s);
        first = false;
      }
    } else cmd = memo.of(n.cmdline ?? "");
    // exec rule decisions are part of how a process ended up
    let exit = n.exit?.text ?? "running";
    if (n.decisions !== undefined) {
      for (const d of n.decisions) {
        exit += `; exec ${d.action} ${memo.of(d.image)} by rule ${d.rule}`;
      }
    }
    const key = `${nimage}\u0000${cmd}`;
    let k = keyIndex.get(key);
    if (k === undefined) {
      k = keys.length;
      keyIndex.set(key, k);
      keys.push(key);
    }
    const c: CNode = {
      image: n.image,
      argv: n.argv,
      cmdline: n.cmdline,
      comm: n.comm,
      nimage,
      cmd,
      key: keys[k],
      rank: -1,
      keyId: -1,
      exit,
      threads: n.threads.length,
      start: n.start,
      pid: n.pid,
      id: n.id,
      children: [],
      shape: -1,
      view: undefined,
    };
    keyOf.push(k);
    all.push(c);
  }
  const nodeOf = canonicalNodeOf(forest, all);
  // ranks: the order of the keys as strings
  const sorted = keys.map((_, i) => i).sort((x, y) => cmp(keys[x], keys[y]));
  const rankOf = new Array<number>(keys.length);
  for (let r = 0; r < sorted.length; r++) rankOf[sorted[r]] = r;
  const keyIds = keys.map((k) => shapes.keyId(k));
  for (let i = 0; i < all.length; i++) {
    all[i].rank = rankOf[keyOf[i]];
    all[i].keyId = keyIds[keyOf[i]];
  }
  // children, then shapes bottom-up (processes are in start order; walk an
  // explicit post-order to stay off the call stack)
  const processes = forest.processes;
  for (let i = 0; i < processes.length; i++) {
    const kids = processes[i].children;
    if (kids.length === 0) continue;
    const c = all[i];
    for (const id of kids) {
      const k = nodeOf(id);
      if (k) c.children.push(k);
    }
  }
  const roots = forest.roots.map((id) => nodeOf(id)!).filter((x) => x);
  const order: CNode[] = [];
  const stack = [...roots];
  while (stack.length) {
    const c = stack.pop()!;
    order.push(c);
    for (const k of c.children) stack.push(k);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const c = order[i];
    if (c.children.length > 1) c.children.sort(canonicalOrder);
    c.shape = shapes.of(c.keyId, c.exit, c.threads, c.children);
  }
  roots.sort(canonicalOrder);
  return roots;
}

/**
 * The canonical node of a process id (`all[i]` is made from
 * `forest.processes[i]`). Processes are in the forest's order (start, pid,
 * id), so the process found through `forest.byId` is looked for there by
 * binary search, with no map of its own; a forest not in that order (or an
 * id not among its processes) falls back to a map by id.
 */
function canonicalNodeOf(
  forest: Forest,
  all: CNode[],
): (id: string) => CNode | undefined {
  const processes = forest.processes;
  let byId: Map<string, CNode> | undefined;
  const slow = (id: string) => {
    if (byId === undefined) {
      byId = new Map();
      for (let i = 0; i < processes.length; i++) {
        byId.set(processes[i].id, all[i]);
      }
    }
    return byId.get(id);
  };
  return (id) => {
    const n = forest.byId.get(id);
    if (n === undefined) return slow(id);
    let lo = 0, hi = processes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = processes[mid];
      const c = m.start - n.start || m.pid - n.pid || cmp(m.id, n.id);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return processes[lo] === n ? all[lo] : slow(id);
  };
}

function canonicalOrder(x: CNode, y: CNode): number {
  return x.rank - y.rank || x.shape - y.shape || x.start - y.start ||
    x.pid - y.pid;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const PLAIN = /^[A-Za-z0-9_\-.,/:=@%+^~<>]+$/;

function quote(a: string): string {
  return PLAIN.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}
