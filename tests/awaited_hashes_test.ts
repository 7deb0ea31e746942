/**
 * The analysis's awaited image hashes (by pid and exec time) keep and forget
 * exactly what the bounded map keyed by `${pid}:${t}` keeps and forgets,
 * whatever mix of sets, resets and takes it sees, with few or many entries
 * per pid.
 */
import { assertEquals } from "./_record_helpers.ts";
import { AwaitedHashes } from "../cli/analysis/_awaited_hashes.ts";
import { BoundedMap } from "../cli/analysis/_bounded_map.ts";
import { xorshift as random } from "./_xorshift.ts";

Deno.test("AwaitedHashes keeps and forgets what a BoundedMap keyed by pid:t does, under random sets, resets and takes", () => {
  for (
    const [limit, pids, times, ops, seed] of [
      [1, 2, 3, 2_000, 1],
      [4, 3, 10, 20_000, 2],
      [64, 2, 200, 50_000, 3], // long lists: a pid's entries move to a Map
      [64, 50, 40, 50_000, 4],
      [1000, 30, 60, 50_000, 5], // rarely full: most are taken first
      [100, 5_000, 100, 30_000, 6], // always full: fresh keys
      [3000, 100_000, 50, 40_000, 7], // the kept entries outgrow their arrays
    ]
  ) {
    const rnd = random(seed);
    const ref = new BoundedMap<string, number>(limit);
    const m = new AwaitedHashes<number>(limit);
    // a few odd numbers among the times: -0 and 0 are one key, NaN is one
    const time = (k: number) =>
      k === 0 ? (rnd() < 0.5 ? 0 : -0) : k === 1 ? NaN : k * 1e9;
    for (let i = 0; i < ops; i++) {
      const pid = Math.floor(rnd() * pids);
      const t = time(Math.floor(rnd() * times));
      const key = `${pid}:${t}`;
      if (rnd() < 0.35) {
        const want = ref.get(key);
        ref.delete(key);
        assertEquals(m.take(pid, t), want, `take ${key}`);
      } else {
        m.set(pid, t, i);
        ref.set(key, i);
      }
      assertEquals(m.size, ref.size);
    }
    for (let pid = 0; pid < pids && pid < 2_000; pid++) {
      for (let k = 0; k < times; k++) {
        const t = time(k);
        assertEquals(m.take(pid, t), ref.get(`${pid}:${t}`), `${pid}:${t}`);
      }
    }
  }
});
