/**
 * The analysis's bounded map (the execs awaiting their image hash) forgets
 * exactly what a `Map` that drops its first key past the limit forgets, in
 * the same order, whatever mix of sets, resets and deletes it sees.
 */
import { assertEquals } from "./_record_helpers.ts";
import { BoundedMap } from "../cli/analysis/_bounded_map.ts";
import { xorshift as random } from "./_xorshift.ts";

/** The reference: a Map whose first key goes when it grows past the limit. */
class ReferenceMap<K, V> {
  map = new Map<K, V>();
  constructor(readonly limit: number) {}
  set(k: K, v: V): void {
    this.map.set(k, v);
    if (this.map.size > this.limit) {
      this.map.delete(this.map.keys().next().value as K);
    }
  }
}

Deno.test("BoundedMap forgets the oldest insertion as a Map would, under random sets, resets and deletes", () => {
  for (
    const [limit, keys, ops, seed] of [
      [1, 3, 2_000, 1],
      [4, 10, 20_000, 2],
      [64, 200, 50_000, 3],
      [1000, 900, 50_000, 4], // rarely full: most keys are deleted first
      [100, 100_000, 30_000, 5], // always full: fresh keys
    ]
  ) {
    const rnd = random(seed);
    const ref = new ReferenceMap<number, number>(limit);
    const m = new BoundedMap<number, number>(limit);
    for (let i = 0; i < ops; i++) {
      const k = Math.floor(rnd() * keys);
      if (rnd() < 0.35) {
        assertEquals(m.delete(k), ref.map.delete(k));
      } else {
        m.set(k, i);
        ref.set(k, i);
      }
      assertEquals(m.size, ref.map.size);
      if (i % 97 === 0) {
        for (let j = 0; j < keys && j < 2_000; j++) {
          assertEquals(m.get(j), ref.map.get(j), `limit ${limit}, key ${j}`);
        }
      }
    }
    for (let j = 0; j < keys && j < 100_000; j++) {
      assertEquals(m.get(j), ref.map.get(j), `limit ${limit}, key ${j}`);
    }
  }
});
