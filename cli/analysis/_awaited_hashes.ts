/**
 * The exec steps whose image hash may still come (private to cli/analysis).
 * Pure.
 *
 * @module
 */

/** One awaited value, in insertion order and under its pid. */
interface Entry<V> {
  pid: number;
  t: number;
  value: V;
  /** The next (older) entry of the same pid, while the pid has a short list. */
  next: Entry<V> | undefined;
  /** Still present (not taken, not forgotten). */
  live: boolean;
}

/** A pid's entries: a short list (newest first), or by time once many. */
type Slot<V> = Entry<V> | Map<number, Entry<V>>;

/** A pid with more entries than this keeps them in a Map by time. */
const LIST_MAX = 16;

/**
 * Values by (pid, time), at most `limit` of them: past the limit the oldest
 * insertion is forgotten first. It keeps exactly what a `BoundedMap` keyed
 * by `` `${pid}:${t}` `` keeps, without making a string per exec: entries
 * are found by pid (a small integer key), then by time among the entries of
 * that pid. Setting a (pid, t) that is present replaces its value and keeps
 * its place.
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
  #byPid = new Map<number, Slot<V>>();
  /** Insertions in order, from `#head` on (gone ones stay until skipped). */
  #order: Entry<V>[] = [];
  #head = 0;
  #size = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Entries present. */
  get size(): number {
    return this.#size;
  }

  /** Sets the value of (pid, t). */
  set(pid: number, t: number, value: V): void {
    const slot = this.#byPid.get(pid);
    let e: Entry<V> | undefined;
    if (slot instanceof Map) {
      e = slot.get(t);
      if (e !== undefined) {
        e.value = value;
        return;
      }
      e = { pid, t, value, next: undefined, live: true };
      slot.set(t, e);
    } else {
      let n = 0;
      for (let x = slot; x !== undefined; x = x.next, n++) {
        if (sameTime(x.t, t)) {
          x.value = value;
          return;
        }
      }
      e = { pid, t, value, next: slot, live: true };
      if (n < LIST_MAX) this.#byPid.set(pid, e);
      else {
        const byT = new Map<number, Entry<V>>();
        for (let x: Entry<V> | undefined = e; x !== undefined;) {
          const next: Entry<V> | undefined = x.next;
          x.next = undefined;
          byT.set(x.t, x);
          x = next;
        }
        this.#byPid.set(pid, byT);
      }
    }
    this.#order.push(e);
    this.#size++;
    if (this.#size > this.limit) this.#forgetOldest();
    else if (this.#order.length - this.#head > 2 * this.#size + 1024) {
      this.#compact();
    }
  }

  /** The value of (pid, t), removed; undefined when absent. */
  take(pid: number, t: number): V | undefined {
    const e = this.#find(pid, t);
    if (e === undefined) return undefined;
    this.#remove(e);
    return e.value;
  }

  #find(pid: number, t: number): Entry<V> | undefined {
    const slot = this.#byPid.get(pid);
    if (slot instanceof Map) return slot.get(t);
    for (let x = slot; x !== undefined; x = x.next) {
      if (sameTime(x.t, t)) return x;
    }
    return undefined;
  }

  #remove(e: Entry<V>): void {
    const slot = this.#byPid.get(e.pid)!;
    if (slot instanceof Map) {
      slot.delete(e.t);
      if (slot.size === 0) this.#byPid.delete(e.pid);
    } else if (slot === e) {
      if (e.next !== undefined) this.#byPid.set(e.pid, e.next);
      else this.#byPid.delete(e.pid);
    } else {
      let prev = slot;
      while (prev.next !== e) prev = prev.next!;
      prev.next = e.next;
    }
    e.next = undefined;
    e.live = false;
    this.#size--;
  }

  /** Forgets the oldest insertion still present. */
  #forgetOldest(): void {
    while (this.#head < this.#order.length) {
      const e = this.#order[this.#head++];
      if (e.live) {
        this.#remove(e);
        break;
      }
    }
    if (this.#head > 4096 && this.#head * 2 > this.#order.length) {
      this.#compact();
    }
  }

  /** Drops the insertions that are gone (bounded memory). */
  #compact(): void {
    const order: Entry<V>[] = [];
    for (let i = this.#head; i < this.#order.length; i++) {
      if (this.#order[i].live) order.push(this.#order[i]);
    }
    this.#order = order;
    this.#head = 0;
  }
}

/**
 * Equal as the keys `${pid}:${t}` would be: equal numbers (0 and -0 both
 * print as "0"), and NaN equals NaN.
 */
function sameTime(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}
