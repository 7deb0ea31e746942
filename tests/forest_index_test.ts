/**
 * The forest builder's quick paths (issue 16): the pid table, the index of
 * processes by id read back from the ids, the children kept in order as they
 * come, and the parents kept beside the processes for the re-parenting pass
 * give what a plain `Map` and full sorts give, on random event streams with
 * reused pids, duplicate identities, snapshots out of order and odd pids.
 */
import {
  ForestBuilder,
  processId,
  processPosition,
} from "../cli/analysis/mod.ts";
import { PidTable } from "../cli/analysis/_pid_table.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { assertForestLikeReference } from "./_forest_reference.ts";
import { assertEquals } from "./_record_helpers.ts";
import { xorshift as random } from "./_xorshift.ts";

Deno.test("PidTable keeps what a Map keeps, for small, large, negative, fractional, -0 and NaN pids", () => {
  const rnd = random(7);
  const t = new PidTable<number>();
  const ref = new Map<number, number>();
  const odd = [-0, NaN, -1, 0.5, 2 ** 22, 2 ** 22 - 1, 2 ** 32 - 4, 2 ** 40];
  const pid = () =>
    rnd() < 0.1
      ? odd[Math.floor(rnd() * odd.length)]
      : Math.floor(rnd() * (rnd() < 0.5 ? 50 : 200_000));
  for (let i = 0; i < 100_000; i++) {
    const p = pid();
    if (rnd() < 0.5) {
      t.set(p, i);
      ref.set(p, i);
    } else assertEquals(t.get(p), ref.get(p), `get ${p}`);
  }
  assertEquals(
    [...t.values()].sort((a, b) => a - b),
    [...ref.values()].sort((a, b) => a - b),
  );
});

/** A random stream: creations with reused pids and starts out of order, snapshots, exits, odd events. */
function stream(seed: number, n: number, oddPids: boolean): ProcEvent[] {
  const rnd = random(seed);
  const pids = 40;
  const evs: ProcEvent[] = [];
  let t = 1000;
  const pickPid = () => {
    if (oddPids && rnd() < 0.05) return rnd() < 0.5 ? -1 : 2 ** 32 - 1;
    return 2 + Math.floor(rnd() * pids);
  };
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * 3); // equal times happen
    const pid = pickPid();
    const r = rnd();
    const start = rnd() < 0.2 ? t - Math.floor(rnd() * 50) : t;
    if (r < 0.08) {
      evs.push({
        kind: "process_snapshot",
        t,
        pid,
        tid: pid,
        ppid: pickPid(),
        start: -1e9 + Math.floor(rnd() * 4) * 1000 + (rnd() < 0.05 ? 0.5 : 0),
      });
    } else if (r < 0.45) {
      const ppid = pickPid();
      evs.push({
        kind: "process_create",
        t,
        pid,
        tid: pid,
        ppid,
        ptid: ppid,
        creatorPid: ppid,
        creatorTid: ppid,
        start: rnd() < 0.1 ? 5000 : start, // duplicate identities
      });
    } else if (r < 0.75) {
      evs.push({ kind: "process_exit", t, pid, tid: pid, status: 0 });
    } else if (r < 0.85) {
      evs.push({ kind: "comm", t, pid, tid: pid, comm: "c" });
    } else {
      const tid = 1000 + Math.floor(rnd() * 20);
      evs.push(
        rnd() < 0.5
          ? {
            kind: "thread_create",
            t,
            pid,
            tid,
            creatorPid: pid,
            creatorTid: pid,
          }
          : { kind: "thread_exit", t, pid, tid, status: 0 },
      );
    }
  }
  return evs;
}

Deno.test("ForestBuilder's index by id, children order and re-parenting equal the plain reference on random streams", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const b = new ForestBuilder({ os: "linux", bootId: `boot${seed}` });
    for (const e of stream(seed, 3000, seed % 4 === 0)) b.add(e);
    const f = b.finish();
    assertForestLikeReference(f, `seed ${seed}`);
  }
});

Deno.test("processPosition from any place near it finds what it finds from none", () => {
  let found = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const b = new ForestBuilder({ os: "linux", bootId: `near${seed}` });
    for (const e of stream(seed, 2000, seed % 4 === 0)) b.add(e);
    const f = b.finish();
    const rnd = random(seed * 7919);
    const n = f.processes.length;
    // every process and ids that are not there: another start or pid (in
    // the id scheme: the search reads them back), another boot, and a text
    // that is not an id
    const boot = `near${seed}`;
    const ids = [
      ...f.processes.map((p) => p.id),
      ...f.processes.slice(0, 50).flatMap((p) => [
        processId(boot, p.pid, p.start + 7),
        processId(boot, p.pid + 100_000, p.start),
        processId("other", p.pid, p.start),
      ]),
      "{x}",
    ];
    for (const id of ids) {
      const want = processPosition(f, id);
      if (want >= 0) found++;
      const nears = [0, n - 1, n, -1, Math.floor(rnd() * n)];
      if (want >= 0) nears.push(want, want - 1, want + 1, want - 9, want + 9);
      for (const near of nears) {
        assertEquals(processPosition(f, id, near), want, `${id} from ${near}`);
      }
    }
  }
  assertEquals(found > 5000, true, `${found}`);
});
