/**
 * The latest value of each pid (private to cli/analysis). Pure.
 *
 * @module
 */

/** Pids below this are kept in a table indexed by pid (Linux's pid_max is at most 2^22). */
const TABLE_PIDS = 1 << 22;

/**
 * A map from pid to value that is quick for the pids an OS gives (small
 * non-negative integers): such a pid indexes a table of slots, and each
 * distinct pid holds one slot of a dense list of values; any other number
 * (a large Windows pid, a negative or fractional one from damaged input) is
 * kept in a `Map`, with the same semantics (`-0` is `0`).
 *
 * @example
 * ```ts
 * import { PidTable } from "./_pid_table.ts";
 * const t = new PidTable<string>();
 * t.set(42, "a");
 * t.set(42, "b");
 * t.set(4_000_000_000, "c");
 * if (t.get(42) !== "b" || t.get(4_000_000_000) !== "c" || t.get(7) !== undefined) {
 *   throw new Error();
 * }
 * if ([...t.values()].join() !== "b,c") throw new Error();
 * ```
 */
export class PidTable<V> {
  /** Slot + 1 of each small pid (0: none). */
  #slotOf = new Int32Array(1024);
  /** Values by slot. */
  #values: V[] = [];
  #other = new Map<number, V>();

  /** The value of a pid, or undefined. */
  get(pid: number): V | undefined {
    if (pid >>> 0 === pid && pid < TABLE_PIDS) {
      const slot = pid < this.#slotOf.length ? this.#slotOf[pid] : 0;
      return slot === 0 ? undefined : this.#values[slot - 1];
    }
    return this.#other.get(pid);
  }

  /** Sets the value of a pid. */
  set(pid: number, value: V): void {
    if (pid >>> 0 === pid && pid < TABLE_PIDS) {
      if (pid >= this.#slotOf.length) this.#grow(pid);
      const slot = this.#slotOf[pid];
      if (slot !== 0) this.#values[slot - 1] = value;
      else {
        this.#values.push(value);
        this.#slotOf[pid] = this.#values.length;
      }
    } else this.#other.set(pid, value);
  }

  /** Every value: the small pids' in the order first set, then the others'. */
  *values(): IterableIterator<V> {
    yield* this.#values;
    yield* this.#other.values();
  }

  #grow(pid: number): void {
    let n = this.#slotOf.length;
    while (n <= pid) n *= 2;
    const slotOf = new Int32Array(Math.min(n, TABLE_PIDS));
    slotOf.set(this.#slotOf);
    this.#slotOf = slotOf;
  }
}
