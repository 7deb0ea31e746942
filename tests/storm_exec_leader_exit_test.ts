/**
 * leaderExitsUnderExecTid (tests/_storm.ts): the two-source storm test moves
 * exactly the old leader's exit that the proc connector named by the exec'ing
 * thread's tid, and nothing else.
 */
import { assertEquals } from "./_record_helpers.ts";
import { leaderExitsUnderExecTid } from "./_storm.ts";

const m = (o: Record<string, number>) => new Map(Object.entries(o));
const sorted = (x: Map<string, number>) => JSON.stringify([...x].sort());

Deno.test("the old leader's exit under the exec'ing thread's tid counts as the leader's (a failed CI run's keys)", () => {
  // tests/record_sources_test.ts under load: 18060's thread 18062 exec'd
  const ebpf = m({ "17049/18175": 1, "17061/17061": 1, "18060/18060": 1 });
  const netlink = m({ "17049/18175": 1, "17061/17061": 1, "18060/18062": 1 });
  const execThreads = m({ "17061/17063": 1, "18060/18062": 1 });
  const r = leaderExitsUnderExecTid(netlink, ebpf, execThreads);
  assertEquals(sorted(r.exits), sorted(ebpf));
  assertEquals(r.moved, ["18060/18062"]);
  assertEquals(
    sorted(netlink),
    sorted(m({ "17049/18175": 1, "17061/17061": 1, "18060/18062": 1 })),
    "input unchanged",
  );
});

Deno.test("no other difference in thread exits is moved", () => {
  const execThreads = m({ "18060/18062": 1 });
  const ebpf = m({ "18060/18060": 1 });
  // another tid of that process: not the exec'ing thread
  let r = leaderExitsUnderExecTid(m({ "18060/18063": 1 }), ebpf, execThreads);
  assertEquals(sorted(r.exits), sorted(m({ "18060/18063": 1 })));
  assertEquals(r.moved, []);
  // a thread that did not exec (a T line of the truth, not a C line)
  r = leaderExitsUnderExecTid(
    m({ "17049/18175": 1 }),
    m({ "17049/17049": 1 }),
    execThreads,
  );
  assertEquals(r.moved, []);
  // eBPF has an exit under the exec'ing thread's tid too: not this case
  r = leaderExitsUnderExecTid(
    m({ "18060/18062": 1 }),
    m({ "18060/18062": 1 }),
    execThreads,
  );
  assertEquals(sorted(r.exits), sorted(m({ "18060/18062": 1 })));
  // two exits under the tid of one exec'ing thread: one is moved, one stays
  r = leaderExitsUnderExecTid(m({ "18060/18062": 2 }), ebpf, execThreads);
  assertEquals(
    sorted(r.exits),
    sorted(m({ "18060/18060": 1, "18060/18062": 1 })),
  );
  // the leader's exit reported twice (under both tids): still a difference
  r = leaderExitsUnderExecTid(
    m({ "18060/18060": 1, "18060/18062": 1 }),
    ebpf,
    execThreads,
  );
  assertEquals(sorted(r.exits), sorted(m({ "18060/18060": 2 })));
});
