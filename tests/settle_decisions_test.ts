import { assertEquals } from "./import_assert.ts";
import { settleDecisions } from "../cli/interop/settle_decisions.ts";
import {
  ENDED_KEPT_NS,
  MAX_ENDED_KEPT,
  ProcessTable,
} from "../cli/interop/process_table.ts";
import type { ProcEvent } from "../cli/events/types.ts";

const denied = (t: number, pid: number): ProcEvent => ({
  kind: "exec_denied",
  t,
  pid,
  tid: pid,
  rule: "r",
  image: "/tmp/x",
  ppid: 1,
  uid: 0,
  euid: 0,
});
const exit = (t: number, pid: number): ProcEvent => ({
  kind: "process_exit",
  t,
  pid,
  tid: pid,
  status: 0,
});
const create = (t: number, pid: number): ProcEvent => ({
  kind: "process_create",
  t,
  pid,
  tid: pid,
  ppid: 1,
  ptid: 1,
  creatorPid: 1,
  creatorTid: 1,
  start: t,
});
async function* from(events: ProcEvent[]): AsyncGenerator<ProcEvent> {
  yield* events;
}
const order = async (events: ProcEvent[], maxHeld?: number, lag?: number) =>
  (await Array.fromAsync(settleDecisions(from(events), maxHeld, lag))).map(
    (e) => `${e.kind === "exec_denied" ? "d" : "e"}${e.t}`,
  );

Deno.test("settleDecisions: a decision comes out just before the first other event a lag later, in order; the rest at the end", async () => {
  assertEquals(
    await order(
      [denied(10, 5), denied(12, 6), exit(11, 5), exit(110, 7), exit(113, 8)],
      100,
      100,
    ),
    ["e11", "d10", "e110", "d12", "e113"],
  );
  assertEquals(await order([denied(10, 5), exit(11, 5)], 100, 100), [
    "e11",
    "d10",
  ]);
  // an event time that does not compare releases nothing
  assertEquals(await order([denied(10, 5), exit(NaN, 5)], 100, 100), [
    "eNaN",
    "d10",
  ]);
});

Deno.test("settleDecisions: more than maxHeld waiting lets the oldest go", async () => {
  assertEquals(
    await order([denied(1, 1), denied(2, 2), denied(3, 3), exit(4, 4)], 2),
    ["d1", "e4", "d2", "d3"],
  );
});

Deno.test("ProcessTable.holderAt: the latest holder of the pid started by then, ended or not; ended ones kept for a while and a number", () => {
  const table = new ProcessTable("b");
  table.observe(create(10, 5));
  table.observe(exit(20, 5));
  table.observe(create(25, 5));
  const first = table.holderAt(5, 15)!;
  const second = table.holderAt(5, 30)!;
  assertEquals([first.start, second.start], [10, 25]);
  assertEquals(table.holderAt(5, 5), undefined, "none started by then");
  table.observe(exit(40, 5));
  assertEquals(
    table.holderAt(5, 30)?.entityId,
    second.entityId,
    "ended since, still found",
  );
  // past the time kept: forgotten
  table.observe(exit(40 + ENDED_KEPT_NS + 1, 99));
  assertEquals(table.holderAt(5, 30), undefined);
  // past the number kept: the oldest forgotten
  const t = 50 + ENDED_KEPT_NS;
  table.observe(create(t, 6));
  table.observe(exit(t + 1, 6));
  for (let i = 0; i < MAX_ENDED_KEPT; i++) {
    table.observe(create(t + 2, 1000 + i));
    table.observe(exit(t + 3, 1000 + i));
  }
  assertEquals(table.holderAt(6, t), undefined);
  assertEquals(table.holderAt(1000, t + 2)?.start, t + 2);
});
