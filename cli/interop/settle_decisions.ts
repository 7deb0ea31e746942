/**
 * Holds each exec rule decision back in a stream of events until the kernel
 * source's events have caught up with its time, for exports whose documents
 * are made one event at a time (ECS, OCSF). The enforcer reports a decision
 * at once; the kernel source reports a process's exit a little later. A
 * process that exited, and whose pid a new one took within that lag, still
 * looks alive when the decision about the new one comes: made then, the
 * document would name the wrong process (as the analysis's `finish` mends
 * for trees). Held back, it comes after that exit and that creation, and
 * `ProcessTable.holderAt` finds the process that held the pid at its time.
 *
 * Every other event passes at once. The decisions come out in their order,
 * each just before the first other event at least `lagNs` of event time
 * later, or when more than `maxHeld` wait, or at the end.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";

/** How long (ns of event time) a decision is held by default: 1 s. */
export const SETTLE_LAG_NS = 1_000_000_000;

/**
 * The events of `events`, each decision held back (see the module doc).
 *
 * @example
 * ```ts
 * import { settleDecisions } from "./settle_decisions.ts";
 * async function* events() {
 *   yield { kind: "exec_denied", t: 50, pid: 9, tid: 9, rule: "r",
 *     image: "/tmp/x", ppid: 1, uid: 0, euid: 0 } as const;
 *   // the exit of the pid's last holder, reported after the decision
 *   yield { kind: "process_exit", t: 40, pid: 9, tid: 9, status: 0 } as const;
 *   yield { kind: "process_exit", t: 2_000_000_000, pid: 7, tid: 7, status: 0 } as const;
 * }
 * const order = (await Array.fromAsync(settleDecisions(events()))).map((e) => e.t);
 * if (order.join() !== "40,50,2000000000") throw new Error(order.join());
 * ```
 */
export async function* settleDecisions(
  events: AsyncIterable<ProcEvent>,
  maxHeld = 4096,
  lagNs = SETTLE_LAG_NS,
): AsyncGenerator<ProcEvent> {
  const held: ProcEvent[] = [];
  let head = 0;
  for await (const e of events) {
    if (e.kind === "exec_denied" || e.kind === "exec_audited") {
      held.push(e);
      if (held.length - head > maxHeld) yield held[head++];
    } else {
      // (before it: their times are earlier; a time that does not compare
      // releases nothing)
      while (head < held.length && e.t - held[head].t >= lagNs) {
        yield held[head++];
      }
      yield e;
    }
    if (head > 1024 && head * 2 > held.length) {
      held.splice(0, head);
      head = 0;
    }
  }
  while (head < held.length) yield held[head++];
}
