/**
 * processId() (written digit by digit into one buffer since issue 16) gives
 * the documented form: `{BBBBBBBB-SSSS-SSSS-SSSS-SSSSPPPPPPPP}`, the start as
 * 64-bit two's complement and the pid as 32 bits, checked against an
 * independent BigInt rendering on edge and random values.
 */
import { ForestBuilder } from "../cli/analysis/mod.ts";
import { processId } from "../cli/analysis/process_id.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { assertEquals } from "./_record_helpers.ts";

/** The reference: the same id from BigInt arithmetic. */
function reference(bootHash: string, pid: number, start: number): string {
  const s = BigInt.asUintN(64, BigInt(Math.trunc(start))).toString(16)
    .padStart(16, "0");
  const p = (pid >>> 0).toString(16).padStart(8, "0");
  return `{${bootHash}-${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}-${
    s.slice(12, 16)
  }${p}}`;
}

Deno.test("processId() renders start and pid as the BigInt reference does, at the edges and at random", () => {
  const boot = processId("boot-a", 0, 0).slice(1, 9);
  const starts = [
    0,
    1,
    -1,
    1.9,
    -1.9,
    2 ** 31,
    -(2 ** 31),
    2 ** 32 - 1,
    2 ** 32,
    -(2 ** 32),
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    1_700_000_000_000_000_000 / 1000,
  ];
  const pids = [0, 1, 0xffff, 0x10000, 2 ** 22, 2 ** 32 - 1, -1];
  for (const s of starts) {
    for (const p of pids) {
      assertEquals(processId("boot-a", p, s), reference(boot, p, s));
    }
  }
  let x = 12345;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < 50_000; i++) {
    const s = Math.floor((rnd() - 0.5) * 2 ** 53);
    const p = Math.floor(rnd() * 2 ** 32);
    assertEquals(processId("boot-a", p, s), reference(boot, p, s));
  }
  // the boot hash differs between boots
  if (processId("boot-b", 1, 1) === processId("boot-a", 1, 1)) {
    throw new Error("boot ids not told apart");
  }
});

Deno.test("ForestBuilder keeps both processes of a duplicate identity (#2, #3), whatever the order and the pids' spelling", () => {
  const create = (pid: number, start: number): ProcEvent => ({
    kind: "process_create",
    t: start,
    pid,
    tid: pid,
    ppid: 1,
    ptid: 1,
    creatorPid: 1,
    creatorTid: 1,
    start,
  });
  const exit = (pid: number, t: number): ProcEvent => ({
    kind: "process_exit",
    t,
    pid,
    tid: pid,
    status: 0,
  });
  const ids = (events: ProcEvent[]) => {
    const b = new ForestBuilder({ os: "linux", bootId: "b" });
    for (const e of events) b.add(e);
    const f = b.finish();
    assertEquals(f.byId.size, f.processes.length);
    return f.processes.map((n) =>
      `${n.pid} ${n.id.replace(/^\{[^}]*\}/, "X")}`
    );
  };
  // the same pid and start three times
  assertEquals(
    ids([
      create(7, 5),
      exit(7, 6),
      create(7, 5),
      exit(7, 6),
      create(7, 5),
    ]),
    ["7 X", "7 X#2", "7 X#3"],
  );
  // pids equal as 32 bits (-1 and 4294967295; 8 and 2^32 + 8), in both
  // orders; the forest is in (start, pid, id) order
  assertEquals(ids([create(0xffffffff, 5), create(-1, 5)]), [
    "-1 X#2",
    "4294967295 X",
  ]);
  assertEquals(ids([create(-1, 5), create(0xffffffff, 5)]), [
    "-1 X",
    "4294967295 X#2",
  ]);
  assertEquals(ids([create(8, 5), create(2 ** 32 + 8, 5)]), [
    "8 X",
    "4294967304 X#2",
  ]);
  assertEquals(ids([create(2 ** 32 + 8, 5), create(8, 5)]), [
    "8 X#2",
    "4294967304 X",
  ]);
  assertEquals(ids([create(-1, 9), create(8, 5), create(2 ** 32 + 8, 5)]), [
    "8 X",
    "4294967304 X#2",
    "-1 X",
  ]);
  // a process first seen without its creation, then created with that start
  assertEquals(
    ids([
      { kind: "comm", t: 5, pid: 7, tid: 7, comm: "x" },
      exit(7, 6),
      create(7, 5),
    ]),
    ["7 X", "7 X#2"],
  );
});
