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
import { type Forest, threadCount } from "../analysis/forest.ts";
import { commandText } from "../analysis/command_text.ts";
import { processPosition } from "../analysis/process_position.ts";
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
  /** The exit text looked up last and its number. */
  #lastExit: string | undefined;
  #lastExitNumber = 0;
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
      // (most processes share an exit text with the one before)
      let e = exit === this.#lastExit ? this.#lastExitNumber : undefined;
      if (e === undefined) {
        e = this.#exits.get(exit);
        if (e === undefined) {
          e = this.#exits.size;
          this.#exits.set(exit, e);
        }
        this.#lastExit = exit;
        this.#lastExitNumber = e;
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
  /** Arguments as recorded: their numbers (see {@link lastRaw}). */
  #argIds = new Map<string, number>();
  /** The numbers of arguments' texts in a command (normalized, quoted). */
  #textIds = new Map<string, number>();
  /** Arguments' texts in a command, by number (the same for both sides). */
  readonly argTexts: string[] = [];

  /** At most this many distinct argument texts are numbered (then commands are made as text). */
  readonly maxArgTexts: number;

  constructor(options: DiffOptions, maxArgTexts = MAX_ARG_TEXTS) {
    this.options = options;
    this.maxArgTexts = maxArgTexts;
  }

  of(v: string): string {
    let r = this.#memo.get(v);
    if (r === undefined) {
      r = normalizeValue(v, this.options);
      if (this.#memo.size < 1_000_000) this.#memo.set(v, r);
    }
    return r;
  }

  /**
   * The number of an argument's text in a command (normalized, then quoted
   * as the shell would need): equal numbers, equal texts. {@link LEFT_OUT}
   * for an argument `--ignore-argv` matched whole; {@link NO_NUMBER} once
   * too many distinct texts were numbered. Sets {@link lastRaw}.
   */
  argId(a: string): number {
    const raw = this.#argIds.get(a);
    if (raw !== undefined) {
      this.lastRaw = raw;
      return this.#textOfRaw[raw];
    }
    this.lastRaw = -1;
    let id: number | undefined;
    // (an argument numbered here is looked up by #argIds from then on, so
    // the memo would hold it for nothing; past the numbered ones, it does;
    // one refused past the numbered texts is not kept: canonicalize then
    // makes the command as text, through the memo)
    const numbering = this.#argIds.size < MAX_RAW_ARGS;
    const s = numbering ? normalizeValue(a, this.options) : this.of(a);
    if (s === "<ignored>" && a !== s) id = LEFT_OUT;
    else {
      const q = quote(s);
      id = this.#textIds.get(q);
      if (id === undefined) {
        if (this.argTexts.length >= this.maxArgTexts) return NO_NUMBER;
        id = this.argTexts.length;
        this.argTexts.push(q);
        this.#textIds.set(q, id);
      }
    }
    const r = this.#argIds.size;
    if (numbering) {
      if (r === this.#textOfRaw.length) {
        const grown = new Int32Array(r * 2);
        grown.set(this.#textOfRaw);
        this.#textOfRaw = grown;
      }
      this.#argIds.set(a, r);
      this.#textOfRaw[r] = id;
      this.lastRaw = r;
    }
    return id;
  }

  /**
   * The number of the argument as recorded that {@link argId} looked up
   * last (equal numbers, equal arguments), or -1 when it has none (past the
   * {@link MAX_RAW_ARGS} numbered).
   */
  lastRaw = -1;
  /** The text's number of each argument as recorded, by its number. */
  #textOfRaw = new Int32Array(1024);
}

/** Arguments as recorded that {@link NormalizeMemo.argId} numbers at most. */
const MAX_RAW_ARGS = 1_000_000;
/** {@link NormalizeMemo.argId} of an argument left out of the command. */
const LEFT_OUT = -1;
/** {@link NormalizeMemo.argId} past {@link MAX_ARG_TEXTS}. */
const NO_NUMBER = -2;
/** Distinct argument texts numbered at most (then commands are made as text). */
const MAX_ARG_TEXTS = 4_000_000;

/**
 * Entries found by a list of numbers in an open-addressing table: the entry
 * of `tuple[0..n)` is its place in the order added.
 */
class TupleTable {
  /** Numbers of each entry, one after the other. */
  #pool = new Int32Array(4096);
  #poolLen = 0;
  #start: number[] = [];
  #len: number[] = [];
  /** Entry + 1 by hash (0: empty). */
  #slots = new Int32Array(1024);

  /** Entries added. */
  get size(): number {
    return this.#start.length;
  }

  /** The entry of the numbers `tuple[0..n)` (hash `h`), or -1 (then {@link add} it). */
  find(tuple: Int32Array, n: number, h: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const pool = this.#pool;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const e = slots[i] - 1;
      if (e < 0) return -1;
      if (this.#len[e] !== n) continue;
      const at = this.#start[e];
      let j = 0;
      while (j < n && pool[at + j] === tuple[j]) j++;
      if (j === n) return e;
    }
  }

  /** Adds the numbers `tuple[0..n)` (not there; hash `h`): its entry. */
  add(tuple: Int32Array, n: number, h: number): number {
    if (this.#poolLen + n > this.#pool.length) {
      let size = this.#pool.length * 2;
      while (size < this.#poolLen + n) size *= 2;
      const pool = new Int32Array(size);
      pool.set(this.#pool.subarray(0, this.#poolLen));
      this.#pool = pool;
    }
    const e = this.#start.length;
    this.#pool.set(tuple.subarray(0, n), this.#poolLen);
    this.#start.push(this.#poolLen);
    this.#len.push(n);
    this.#poolLen += n;
    if ((e + 1) * 2 > this.#slots.length) this.#rehash();
    else this.#place(e, h);
    return e;
  }

  #place(e: number, h: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = e + 1;
  }

  #rehash(): void {
    this.#slots = new Int32Array(this.#slots.length * 2);
    for (let e = 0; e < this.#start.length; e++) {
      this.#place(e, hashInts(this.#pool, this.#start[e], this.#len[e]));
    }
  }
}

/**
 * The (image, command) keys of one side, found by a list of numbers (the
 * image's, then each argument's, or a command line's), so that the
 * command's text and the key are made once per distinct key and shared, not
 * once per process.
 */
class KeyTable extends TupleTable {
  /** Per entry: the key's place among the side's keys, the image and command texts. */
  readonly k: number[] = [];
  readonly nimage: string[] = [];
  readonly cmd: string[] = [];
  /**
   * The arguments as recorded of the first process of each entry: a later
   * process whose arguments are the same texts shares this list (the side
   * then keeps one list per distinct command, not one per process, once the
   * forest is let go).
   */
  readonly argv: (string[] | undefined)[] = [];

  addKey(
    tuple: Int32Array,
    n: number,
    h: number,
    k: number,
    nimage: string,
    cmd: string,
    argv: string[] | undefined,
  ): void {
    this.add(tuple, n, h);
    this.k.push(k);
    this.nimage.push(nimage);
    this.cmd.push(cmd);
    this.argv.push(argv);
  }
}

/**
 * Lists of arguments by the numbers of the arguments as recorded
 * ({@link NormalizeMemo.lastRaw}), so that the processes of one command as
 * recorded share one list (the side keeps them once the forest is let go;
 * normalization makes one key of many commands, src/f1234.c and
 * src/f5678.c, so the first list of a key does not cover them).
 */
class SharedArgvs extends TupleTable {
  #lists: string[][] = [];

  /** The list of the arguments numbered `raw[0..n)` seen first, else `argv`. */
  of(raw: Int32Array, n: number, argv: string[]): string[] {
    const h = hashInts(raw, 0, n);
    const e = this.find(raw, n, h);
    if (e >= 0) return this.#lists[e];
    if (this.size < MAX_SHARED_ARGVS) {
      this.add(raw, n, h);
      this.#lists.push(argv);
    }
    return argv;
  }
}

/** Distinct lists of arguments {@link SharedArgvs} keeps at most. */
const MAX_SHARED_ARGVS = 1_000_000;

/** A hash of `n` numbers of `a` from `at`. */
function hashInts(a: Int32Array, at: number, n: number): number {
  let h = 0x811c9dc5 ^ n;
  for (let i = at; i < at + n; i++) {
    h = Math.imul(h ^ a[i], 0x01000193);
    h ^= h >>> 13;
  }
  return h >>> 0;
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
  // a process's key found by numbers: its image's, then its arguments' (or
  // its command line's); the texts are made once per distinct key
  const table = new KeyTable();
  const imageIds = new Map<string, number>();
  const cmdlineIds = new Map<string, number>();
  let tuple = new Int32Array(64);
  // (the numbers of the arguments as recorded, to share their lists)
  let raw = new Int32Array(64);
  const argvs = new SharedArgvs();
  const keyNumber = (nimage: string, cmd: string) => {
    const key = `${nimage}\u0000${cmd}`;
    let k = keyIndex.get(key);
    if (k === undefined) {
      k = keys.length;
      keyIndex.set(key, k);
      keys.push(key);
    }
    return k;
  };
  // the image's number by the image as recorded (most processes have one)
  const rawImageIds = new Map<string, number>();
  const imageTexts: string[] = [];
  const imageNumber = (nimage: string) => {
    let id = imageIds.get(nimage);
    if (id === undefined) {
      id = imageTexts.length;
      imageIds.set(nimage, id);
      imageTexts.push(nimage);
    }
    return id;
  };
  for (const n of forest.processes) {
    let nimage: string;
    let imageId: number | undefined;
    if (n.image !== undefined) {
      imageId = rawImageIds.get(n.image);
      if (imageId === undefined) {
        nimage = memo.of(n.image);
        if (windows) nimage = nimage.toLowerCase();
        imageId = imageNumber(nimage);
        rawImageIds.set(n.image, imageId);
      } else nimage = imageTexts[imageId];
    } else {
      nimage = n.comm !== undefined ? `[${n.comm}]` : "?";
      if (windows) nimage = nimage.toLowerCase();
      imageId = imageNumber(nimage);
    }
    const argv = n.argv;
    let len = 2;
    let numbered = true;
    let rawNumbered = true;
    if (argv !== undefined) {
      if (argv.length + 2 > tuple.length) {
        tuple = new Int32Array(argv.length * 2 + 2);
        raw = new Int32Array(argv.length * 2 + 2);
      }
      tuple[1] = -1;
      for (let i = 0; i < argv.length; i++) {
        const id = memo.argId(argv[i]);
        raw[i] = memo.lastRaw;
        if (memo.lastRaw < 0) rawNumbered = false;
        if (id === LEFT_OUT) continue;
        if (id === NO_NUMBER) {
          numbered = false;
          break;
        }
        tuple[len++] = id;
      }
    } else {
      const line = memo.of(n.cmdline ?? "");
      let id = cmdlineIds.get(line);
      if (id === undefined) {
        id = cmdlineIds.size;
        cmdlineIds.set(line, id);
      }
      tuple[1] = -2;
      tuple[len++] = id;
    }
    tuple[0] = imageId;
    let k: number;
    let cmd: string;
    let rawArgv = argv;
    if (numbered) {
      const h = hashInts(tuple, 0, len);
      let e = table.find(tuple, len, h);
      if (e < 0) {
        cmd = argv !== undefined
          ? commandOf(tuple, len, memo.argTexts)
          : memo.of(n.cmdline ?? "");
        table.addKey(tuple, len, h, keyNumber(nimage, cmd), nimage, cmd, argv);
        e = table.k.length - 1;
      }
      k = table.k[e];
      nimage = table.nimage[e];
      cmd = table.cmd[e];
      const first = table.argv[e];
      if (first !== undefined && argv !== undefined) {
        // (most often the first's; else any earlier process's with the
        // same arguments: normalization makes one key of many commands)
        rawArgv = sameTexts(first, argv)
          ? first
          : rawNumbered
          ? argvs.of(raw, argv.length, argv)
          : argv;
      }
    } else {
      // (past the numbered texts: the command made as text)
      cmd = "";
      let first = true;
      for (const a of argv!) {
        const s = memo.of(a);
        // an argument --ignore-argv matched whole is left out
        if (s === "<ignored>" && a !== s) continue;
        cmd = first ? quote(s) : cmd + " " + quote(s);
        first = false;
      }
      k = keyNumber(nimage, cmd);
    }
    // exec rule decisions are part of how a process ended up
    let exit = n.exit?.text ?? "running";
    if (n.decisions !== undefined) {
      for (const d of n.decisions) {
        exit += `; exec ${d.action} ${memo.of(d.image)} by rule ${d.rule}`;
      }
    }
    const c: CNode = {
      image: n.image,
      argv: rawArgv,
      cmdline: n.cmdline,
      comm: n.comm,
      nimage,
      cmd,
      key: keys[k],
      rank: -1,
      keyId: -1,
      exit,
      threads: threadCount(n),
      start: n.start,
      pid: n.pid,
      id: n.id,
      children: NO_CHILDREN,
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
      if (k) {
        if (c.children === NO_CHILDREN) c.children = [k];
        else c.children.push(k);
      }
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
    if (c.children.length > 1) sortCanonical(c.children);
    c.shape = shapes.of(c.keyId, c.exit, c.threads, c.children);
  }
  roots.sort(canonicalOrder);
  return roots;
}

/**
 * The canonical node of a process id (`all[i]` is made from
 * `forest.processes[i]`): at the place {@link processPosition} gives, else
 * (a forest the builder did not index) the process found through
 * `forest.byId` is looked for in the forest's order (start, pid, id) by
 * binary search; a forest not in that order (or an id not among its
 * processes) falls back to a map by id.
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
  // (the place found last: children come in the forest's order, so the
  // next is most often close after it)
  let last = -1;
  return (id) => {
    // (the builder's index gives the place in the forest's order at once)
    const at = processPosition(forest, id, last);
    if (at >= 0) {
      last = at;
      return all[at];
    }
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

/** Whether two lists hold the same texts. */
function sameTexts(a: string[], b: string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The children of a childless node: one shared, frozen empty list. */
const NO_CHILDREN = Object.freeze([]) as unknown as CNode[];

/** The command of an argv: its arguments' texts `tuple[2..len)`, by a space. */
function commandOf(tuple: Int32Array, len: number, texts: string[]): string {
  let cmd = "";
  for (let i = 2; i < len; i++) {
    cmd = i === 2 ? texts[tuple[i]] : cmd + " " + texts[tuple[i]];
  }
  return cmd;
}

/**
 * Sorts siblings, given in the forest's order (start, pid, id), into
 * {@link canonicalOrder}. A long list (a build's thousands of jobs under
 * one make) goes by two stable counting passes, by shape then by rank: with
 * the forest's order kept among equals, that is the canonical order, with
 * ties left in the forest's order as the comparison sort leaves them.
 */
function sortCanonical(list: CNode[]): void {
  const n = list.length;
  if (n < COUNTING_SORT_MIN) {
    list.sort(canonicalOrder);
    return;
  }
  let maxShape = 0, maxRank = 0, inOrder = true;
  for (let i = 0; i < n; i++) {
    const c = list[i];
    if (c.shape > maxShape) maxShape = c.shape;
    if (c.rank > maxRank) maxRank = c.rank;
    // (the passes keep the given order among equals: it must be the
    // forest's, by start then pid, each a number that compares)
    if (
      !Number.isFinite(c.start) || !Number.isFinite(c.pid) ||
      (i > 0 && (c.start - list[i - 1].start || c.pid - list[i - 1].pid) < 0)
    ) inOrder = false;
  }
  // (not in that order, or key ranges far beyond the list: the comparison)
  if (!inOrder || maxShape + maxRank > 8 * n) {
    list.sort(canonicalOrder);
    return;
  }
  const byShape = countingPass(list, maxShape, (c) => c.shape);
  const sorted = countingPass(byShape, maxRank, (c) => c.rank);
  for (let i = 0; i < n; i++) list[i] = sorted[i];
}

/** `list` stably ordered by `key` (integers from 0 to `max`). */
function countingPass(
  list: CNode[],
  max: number,
  key: (c: CNode) => number,
): CNode[] {
  const starts = new Int32Array(max + 2);
  for (let i = 0; i < list.length; i++) starts[key(list[i]) + 1]++;
  for (let k = 1; k < starts.length; k++) starts[k] += starts[k - 1];
  const out = new Array<CNode>(list.length);
  for (let i = 0; i < list.length; i++) out[starts[key(list[i])]++] = list[i];
  return out;
}

/** Siblings from this many on are sorted by {@link sortCanonical}'s counting passes. */
const COUNTING_SORT_MIN = 256;

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
