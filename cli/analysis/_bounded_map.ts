/**
 * A map of at most `limit` entries that forgets the oldest insertion first,
 * like a `Map` whose first key is deleted whenever it grows past the limit,
 * in amortised O(1). (`map.keys().next()` after many deletions is not O(1):
 * V8 keeps deleted entries as holes at the front of the table until it
 * rehashes, and each such call skips over all of them.) Setting a key that
 * is present keeps its place, as in a `Map`. Pure; private to cli/analysis.
 *
 * @example
 * ```ts
 * import { BoundedMap } from "./_bounded_map.ts";
 * const m = new BoundedMap<string, number>(2);
 * m.set("a", 1);
 * m.set("b", 2);
 * m.set("a", 3); // keeps its place: still the oldest
 * m.set("c", 4); // forgets "a"
 * if (m.get("a") !== undefined || m.get("b") !== 2 || m.size !== 2) throw new Error();
 * ```
 */
export class BoundedMap<K, V> {
  readonly limit: number;
  /** The entries, each with the number of its insertion. */
  #map = new Map<K, { value: V; seq: number }>();
  /** Insertions in order (key and number), from `#head` on. */
  #keys: K[] = [];
  #seqs: number[] = [];
  #head = 0;
  #seq = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  set(key: K, value: V): void {
    const e = this.#map.get(key);
    if (e !== undefined) {
      e.value = value;
      return;
    }
    const seq = this.#seq++;
    this.#map.set(key, { value, seq });
    this.#keys.push(key);
    this.#seqs.push(seq);
    if (this.#map.size > this.limit) this.#forgetOldest();
    else if (this.#keys.length - this.#head > 2 * this.#map.size + 1024) {
      this.#compact();
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Deletes the oldest insertion still present. */
  #forgetOldest(): void {
    while (this.#head < this.#keys.length) {
      const key = this.#keys[this.#head];
      const seq = this.#seqs[this.#head++];
      // an insertion whose key was deleted (and maybe set again) since is gone
      if (this.#map.get(key)?.seq === seq) {
        this.#map.delete(key);
        break;
      }
    }
    if (this.#head > 4096 && this.#head * 2 > this.#keys.length) {
      this.#compact();
    }
  }

  /**
   * Drops the insertions that are gone (bounded memory when most keys are
   * deleted before they would be forgotten).
   */
  #compact(): void {
    const keys: K[] = [];
    const seqs: number[] = [];
    for (let i = this.#head; i < this.#keys.length; i++) {
      const key = this.#keys[i];
      if (this.#map.get(key)?.seq === this.#seqs[i]) {
        keys.push(key);
        seqs.push(this.#seqs[i]);
      }
    }
    this.#keys = keys;
    this.#seqs = seqs;
    this.#head = 0;
  }
}
