/**
 * Holds each exec rule decision back in a stream of events until the kernel
 * source's events have caught up with its time, for exports whose documents
 * are made one event at a time (ECS, OCSF). The enforcer reports a decision
 * at once; the kernel source reports a process's exit a little later. A
 * process that exited, and whose pid a new one took within that lag, still
 * looks alive when the decision about the new one comes: made then, the
 * document would name the wrong process (as the analysis's `finish` mends
 * for trees). Held back, it comes after that exit and that creation, and
 * `ProcessTable.holderAt` finds the process that held the pid at its time:
 * the pids of the decisions held (and of their parents) are watched, so
 * that their processes are remembered after their end, however many others
 * end meanwhile.
 *
 * Every other event passes at once. A decision comes out just before the
 * first other event at least `lagNs` of event time after it (the earliest
 * first; one with a time far ahead holds back no other), or at the end.
 * When more than `maxHeld` wait, the earliest comes out at once, marked
 * unsettled (`ProcessTable.markUnsettled`): its document names no process,
 * and {@link DecisionSettler.unsettled} counts it.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import type { ProcessTable } from "./process_table.ts";

/** How long (ns of event time) a decision is held by default: 1 s. */
export const SETTLE_LAG_NS = 1_000_000_000;
/** How many decisions are held at most by default. */
export const MAX_HELD_DECISIONS = 16384;

type Decision = Extract<ProcEvent, { kind: "exec_denied" | "exec_audited" }>;

interface Held {
  event: Decision;
  /** Its time, -Infinity when it does not compare (it goes first). */
  t: number;
  /** The order it came in (ties of time in that order). */
  seq: number;
}

const before = (a: Held, b: Held) =>
  a.t < b.t || (a.t === b.t && a.seq < b.seq);

/**
 * Holds decisions back for a {@link ProcessTable} (see the module doc).
 *
 * @example
 * ```ts
 * import { DecisionSettler } from "./settle_decisions.ts";
 * import { ProcessTable } from "./process_table.ts";
 * async function* events() {
 *   yield { kind: "exec_denied", t: 50, pid: 9, tid: 9, rule: "r",
 *     image: "/tmp/x", ppid: 1, uid: 0, euid: 0 } as const;
 *   // the exit of the pid's last holder, reported after the decision
 *   yield { kind: "process_exit", t: 40, pid: 9, tid: 9, status: 0 } as const;
 *   yield { kind: "process_exit", t: 2_000_000_000, pid: 7, tid: 7, status: 0 } as const;
 * }
 * const settler = new DecisionSettler(new ProcessTable("b"));
 * const order = (await Array.fromAsync(settler.settle(events()))).map((e) => e.t);
 * if (order.join() !== "40,50,2000000000") throw new Error(order.join());
 * ```
 */
export class DecisionSettler {
  /** Decisions let out before their time (more than `maxHeld` waited). */
  unsettled = 0;
  /** A binary heap, earliest first. */
  #heap: Held[] = [];
  #seq = 0;

  constructor(
    readonly table: ProcessTable,
    readonly maxHeld = MAX_HELD_DECISIONS,
    readonly lagNs = SETTLE_LAG_NS,
  ) {}

  /** The events of `events`, each decision held back. */
  async *settle(events: AsyncIterable<ProcEvent>): AsyncGenerator<ProcEvent> {
    for await (const e of events) {
      if (e.kind === "exec_denied" || e.kind === "exec_audited") {
        this.table.watch(e.pid);
        this.table.watch(e.ppid);
        this.#push({
          event: e,
          t: e.t === e.t ? e.t : -Infinity,
          seq: this.#seq++,
        });
        if (this.#heap.length > this.maxHeld) {
          const early = this.#pop();
          this.table.markUnsettled(early);
          this.unsettled++;
          yield early;
          this.#unwatch(early);
        }
        continue;
      }
      // (before it: their times are earlier)
      while (this.#heap.length > 0 && e.t - this.#heap[0].t >= this.lagNs) {
        const d = this.#pop();
        yield d;
        this.#unwatch(d);
      }
      yield e;
    }
    while (this.#heap.length > 0) {
      const d = this.#pop();
      yield d;
      this.#unwatch(d);
    }
  }

  /** Its pids no longer watched for it (once its document is made). */
  #unwatch(d: Decision): void {
    this.table.unwatch(d.pid);
    this.table.unwatch(d.ppid);
  }

  #push(h: Held): void {
    const a = this.#heap;
    let i = a.push(h) - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!before(h, a[up])) break;
      a[i] = a[up];
      i = up;
    }
    a[i] = h;
  }

  /** The earliest decision, out of the heap. */
  #pop(): Decision {
    const a = this.#heap;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && before(a[l + 1], a[l]) ? l + 1 : l;
        if (!before(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top.event;
  }
}
