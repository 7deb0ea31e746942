/**
 * The exec steps whose image hash may still come (private to cli/analysis).
 * Pure.
 *
 * @module
 */

/** Slot states of the index (else: a position in the insertion order). */
const EMPTY = -1;
const GONE = -2;

/**
 * Values by (pid, time), at most `limit` of them: past the limit the oldest
 * insertion is forgotten first. It keeps exactly what a `BoundedMap` keyed
 * by `` `${pid}:${t}` `` keeps, without making a string or an object per
 * exec: the insertions are kept in order in typed arrays (pid, time, still
 * present) beside the values, and found through an open-addressing index of
 * their positions hashed on (pid, time). Setting a (pid, t) that is present
 * replaces its value and keeps its place.
 *
 * @example
 * ```ts
 * import { AwaitedHashes } from "./_awaited_hashes.ts";
 * const m = new AwaitedHashes<string>(2);
 * m.set(10, 1, "a");
 * m.set(11, 2, "b");
 * m.set(10, 1, "a2"); // keeps its place: still the oldest
 * m.set(12, 3, "c"); // forgets (10, 1)
 * if (m.take(10, 1) !== undefined || m.take(11, 2) !== "b" || m.size !== 1) {
 *   throw new Error();
 * }
 * ```
 */
export class AwaitedHashes<V> {
  readonly limit: number;
  /** Insertions in order, from `#head` to `#tail` (gone ones stay until compacted). */
  #pid = new Float64Array(1024);
  #t = new Float64Array(1024);
  #live = new Uint8Array(1024);
  #values: (V | undefined)[] = [];
  #head = 0;
  #tail = 0;
  #size = 0;
  /** Positions in the order by hash of (pid, t); EMPTY or GONE otherwise. */
  #index = new Int32Array(2048).fill(EMPTY);
  /** Slots of the index that are not EMPTY (positions and GONE marks). */
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Entries present. */
  get size(): number {
    return this.#size;
  }

  /** Sets the value of (pid, t). */
  set(pid: number, t: number, value: V): void {
    pid = canonical(pid);
    t = canonical(t);
    const found = this.#find(pid, t);
    if (found >= 0) {
      this.#values[this.#index[found]] = value;
      return;
    }
    if (this.#tail === this.#pid.length) this.#makeRoom();
    if ((this.#used + 1) * 2 > this.#index.length) this.#reindex();
    const at = this.#tail++;
    this.#pid[at] = pid;
    this.#t[at] = t;
    this.#live[at] = 1;
    this.#values[at] = value;
    this.#insert(pid, t, at);
    this.#size++;
    if (this.#size > this.limit) this.#forgetOldest();
  }

  /** The value of (pid, t), removed; undefined when absent. */
  take(pid: number, t: number): V | undefined {
    if (this.#size === 0) return undefined;
    const slot = this.#find(canonical(pid), canonical(t));
    if (slot < 0) return undefined;
    const at = this.#index[slot];
    const value = this.#values[at];
    this.#removeAt(slot, at);
    return value;
  }

  /** The index slot holding (pid, t), or -1. */
  #find(pid: number, t: number): number {
    const index = this.#index;
    const mask = index.length - 1;
    for (let i = hash(pid, t) & mask;; i = (i + 1) & mask) {
      const at = index[i];
      if (at === EMPTY) return -1;
      if (at >= 0 && same(this.#pid[at], pid) && same(this.#t[at], t)) {
        return i;
      }
    }
  }

  #insert(pid: number, t: number, at: number): void {
    const index = this.#index;
    const mask = index.length - 1;
    let i = hash(pid, t) & mask;
    while (index[i] !== EMPTY) i = (i + 1) & mask;
    index[i] = at;
    this.#used++;
  }

  #removeAt(slot: number, at: number): void {
    this.#index[slot] = GONE;
    this.#live[at] = 0;
    this.#values[at] = undefined;
    this.#size--;
  }

  /** Forgets the oldest insertion still present. */
  #forgetOldest(): void {
    while (this.#head < this.#tail) {
      const at = this.#head++;
      if (this.#live[at] === 1) {
        this.#removeAt(this.#find(this.#pid[at], this.#t[at]), at);
        break;
      }
    }
  }

  /**
   * At the end of the arrays: moves the present insertions to the front,
   * growing the arrays when they are more than half full of them.
   */
  #makeRoom(): void {
    const n = this.#size;
    const cap = this.#pid.length;
    const size = n * 2 > cap ? cap * 2 : cap;
    const pid = size === cap ? this.#pid : new Float64Array(size);
    const t = size === cap ? this.#t : new Float64Array(size);
    const live = size === cap ? this.#live : new Uint8Array(size);
    const values: (V | undefined)[] = [];
    let k = 0;
    for (let i = this.#head; i < this.#tail; i++) {
      if (this.#live[i] !== 1) continue;
      pid[k] = this.#pid[i];
      t[k] = this.#t[i];
      values.push(this.#values[i]);
      k++;
    }
    live.fill(0);
    live.fill(1, 0, k);
    this.#pid = pid;
    this.#t = t;
    this.#live = live;
    this.#values = values;
    this.#head = 0;
    this.#tail = k;
    this.#reindex();
  }

  /** Builds the index again from the present insertions (no GONE marks). */
  #reindex(): void {
    let len = this.#index.length;
    while (len < 4 * (this.#size + 1)) len *= 2;
    while (len > 2048 && len > 8 * (this.#size + 1)) len /= 2;
    this.#index = new Int32Array(len).fill(EMPTY);
    this.#used = 0;
    for (let i = this.#head; i < this.#tail; i++) {
      if (this.#live[i] === 1) this.#insert(this.#pid[i], this.#t[i], i);
    }
  }
}

/** -0 as 0 and every NaN as one (the keys `${pid}:${t}` print them so). */
function canonical(x: number): number {
  return x === 0 ? 0 : x !== x ? NaN : x;
}

/** Equal as canonical numbers. */
function same(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** A hash of a canonical (pid, t). */
function hash(pid: number, t: number): number {
  let h: number;
  if ((pid | 0) === pid) h = pid;
  else {
    F64[0] = pid;
    h = U32[0] ^ U32[1];
  }
  h = Math.imul(h, 0x9e3779b1);
  F64[0] = t;
  h ^= Math.imul(U32[0] ^ Math.imul(U32[1], 31), 0x85ebca6b);
  return (h ^ (h >>> 15)) >>> 0;
}
