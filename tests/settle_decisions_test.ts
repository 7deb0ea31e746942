import { assert, assertEquals } from "./import_assert.ts";
import { ecsMapper } from "../cli/interop/ecs_mapper.ts";
import { ocsfMapper } from "../cli/interop/ocsf_mapper.ts";
import { DecisionSettler } from "../cli/interop/settle_decisions.ts";
import {
  MAX_ENDED_KEPT,
  MAX_ENDED_PER_PID,
  ProcessTable,
} from "../cli/interop/process_table.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { processCreate } from "./_recording_helpers.ts";

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
const create = (t: number, pid: number) => processCreate(t, pid, 1);
async function* from(events: ProcEvent[]): AsyncGenerator<ProcEvent> {
  yield* events;
}
const order = async (
  events: ProcEvent[],
  maxHeld?: number,
  lag?: number,
  settler = new DecisionSettler(new ProcessTable("b"), maxHeld, lag),
) =>
  (await Array.fromAsync(settler.settle(from(events)))).map(
    (e: ProcEvent) => `${e.kind === "exec_denied" ? "d" : "e"}${e.t}`,
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

Deno.test("settleDecisions: a decision far ahead in time holds back no other", async () => {
  assertEquals(
    await order([denied(1e15, 5), denied(10, 6), exit(200, 7)], 100, 100),
    ["d10", "e200", "d1000000000000000"],
  );
});

Deno.test("settleDecisions: more than maxHeld waiting lets the earliest go, marked unsettled and counted", async () => {
  const table = new ProcessTable("b");
  const settler = new DecisionSettler(table, 2);
  const events = [denied(3, 3), denied(1, 1), denied(2, 2), exit(4, 4)];
  assertEquals(await order(events, undefined, undefined, settler), [
    "d1",
    "e4",
    "d2",
    "d3",
  ]);
  assertEquals(settler.unsettled, 1);
  assertEquals(events.map((e) => table.unsettled(e)), [
    false,
    true,
    false,
    false,
  ]);
});

Deno.test("ProcessTable.holderAt: the latest holder of the pid started by then, ended or not; the latest to end kept, and every one of a watched pid", () => {
  const table = new ProcessTable("b");
  table.observe(create(10, 5));
  table.observe(exit(20, 5));
  table.observe(create(25, 5));
  const first = table.holderAt(5, 15)!;
  const second = table.holderAt(5, 30)!;
  assertEquals([first.start, second.start], [10, 25]);
  assertEquals(table.holderAt(5, 5), undefined, "none started by then");
  table.watch(5);
  table.observe(exit(40, 5));
  // a time far ahead forgets nothing
  table.observe(exit(1e15, 99));
  // more than the number kept end: the watched pid's are kept
  for (let i = 0; i < MAX_ENDED_KEPT; i++) {
    table.observe(create(50, 1000 + i));
    table.observe(exit(60, 1000 + i));
  }
  assertEquals(table.holderAt(5, 30)?.entityId, second.entityId);
  assertEquals(table.holderAt(1000, 55)?.start, 50, "the latest to end kept");
  // no longer watched: they go as the others went
  table.unwatch(5);
  assertEquals(table.holderAt(5, 30), undefined);
  // one pid's ended processes are bounded
  for (let i = 0; i < MAX_ENDED_PER_PID + 10; i++) {
    table.observe(create(100 + 2 * i, 7));
    table.observe(exit(101 + 2 * i, 7));
  }
  assertEquals(table.holderAt(7, 100), undefined, "the oldest gone");
  const lastStart = 100 + 2 * (MAX_ENDED_PER_PID + 9);
  assertEquals(table.holderAt(7, lastStart)?.start, lastStart);
});

Deno.test("ecs and ocsf: a decision let out unsettled names no process and says so", () => {
  const header = {
    host: "h",
    os: "linux" as const,
    bootId: "b",
    timeBase: { monoNs: 0n, utcNs: 0n },
  };
  for (const format of ["ecs", "ocsf"]) {
    const table = new ProcessTable("b");
    const map = format === "ecs"
      ? ecsMapper(header, table)
      : ocsfMapper(header, table);
    map(create(1, 5));
    const settled = denied(10, 5);
    const early = denied(11, 5);
    table.markUnsettled(early);
    // deno-lint-ignore no-explicit-any
    const [a, b] = [map(settled), map(early)] as any[];
    if (format === "ecs") {
      assert(a.process.entity_id !== undefined);
      assertEquals(a.procrec.decision.unsettled, undefined);
      assertEquals(b.process.entity_id, undefined);
      assertEquals(b.procrec.decision.unsettled, true);
    } else {
      assert(a.process.uid !== undefined);
      assertEquals(a.unmapped.unsettled, undefined);
      assertEquals(b.process.uid, undefined);
      assertEquals(b.actor.process.uid, undefined);
      assertEquals(b.unmapped.unsettled, true);
    }
  }
});
