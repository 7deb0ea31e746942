import type { EventKind, ProcEvent } from "./types.ts";

/**
 * Counts events per kind and lost events per reason: the one place procrec
 * counts them (the writer's trailer, the reader's check of that trailer, the
 * bundle manifest, verify and the analysis all use it). Pure.
 *
 * @example
 * ```ts
 * import { EventCounts } from "./event_counts.ts";
 * const c = new EventCounts();
 * c.add({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "x" });
 * c.add({ kind: "lost", t: 2, pid: 0, tid: 0, reason: "ring_full", count: 5 });
 * c.add({ kind: "lost", t: 3, pid: 0, tid: 0, reason: "ring_full", count: 0, countUnknown: true });
 * if (c.events !== 3 || c.kinds.lost !== 2 || c.lost.ring_full !== 5) throw new Error();
 * if (c.lostCountUnknown !== 1) throw new Error();
 * if (JSON.stringify(c.sortedKinds()) !== '{"comm":1,"lost":2}') throw new Error();
 * ```
 */
export class EventCounts {
  /** Events per kind. */
  readonly kinds: Partial<Record<EventKind, number>> = {};
  /** Events lost per reason (the sum of the `lost` events' counts). */
  readonly lost: Record<string, number> = {};
  /** `lost` events whose count is not known (a lower bound). */
  lostCountUnknown = 0;
  /** Events counted. */
  events = 0;

  /** Counts one event. */
  add(event: ProcEvent): void {
    this.events++;
    this.kinds[event.kind] = (this.kinds[event.kind] ?? 0) + 1;
    if (event.kind === "lost") {
      this.lost[event.reason] = (this.lost[event.reason] ?? 0) + event.count;
      if (event.countUnknown) this.lostCountUnknown++;
    }
  }

  /**
   * Counts `n` events of one kind at once (a batch the library counted);
   * their lost counts go to {@link addLost}.
   *
   * @example
   * ```ts
   * import { EventCounts } from "./event_counts.ts";
   * const c = new EventCounts();
   * c.addKind("lost", 2);
   * c.addLost("ring_full", 7, 1);
   * if (c.events !== 2 || c.lost.ring_full !== 7 || c.lostCountUnknown !== 1) throw new Error();
   * ```
   */
  addKind(kind: EventKind, n: number): void {
    this.events += n;
    this.kinds[kind] = (this.kinds[kind] ?? 0) + n;
  }

  /** Adds lost events' counts of one reason, `unknown` of them without a known count. */
  addLost(reason: string, count: number, unknown = 0): void {
    this.lost[reason] = (this.lost[reason] ?? 0) + count;
    this.lostCountUnknown += unknown;
  }

  /** Counts every event of `events`. */
  addAll(events: Iterable<ProcEvent>): void {
    for (const e of events) this.add(e);
  }

  /** {@link kinds} with its keys in order (stable text). */
  sortedKinds(): Partial<Record<EventKind, number>> {
    return sortKeys(this.kinds);
  }

  /** {@link lost} with its keys in order (stable text). */
  sortedLost(): Record<string, number> {
    return sortKeys(this.lost) as Record<string, number>;
  }
}

function sortKeys<K extends string>(
  o: Partial<Record<K, number>>,
): Partial<Record<K, number>> {
  return Object.fromEntries(
    Object.entries(o).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  ) as Partial<Record<K, number>>;
}
