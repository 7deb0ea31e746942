/** One problem met while reading a recording. */
export interface ReadProblem {
  /** Byte offset in the recording where it was met. */
  offset: number;
  /** Index of the chunk concerned, when known. */
  chunk?: number;
  /**
   * What: `truncated` (the recording stops early: incomplete, not altered),
   * `damaged`, `chain`, `gap` (chunks missing), `order` (a chunk repeated or
   * out of place), `trailer`, `event` (an event that does not decode),
   * `omitted` (the problems past {@link MAX_PROBLEMS}, summarised).
   */
  type:
    | "truncated"
    | "damaged"
    | "chain"
    | "gap"
    | "order"
    | "trailer"
    | "event"
    | "omitted";
  reason: string;
}

/** Problems kept one by one; past these, only counted. */
export const MAX_PROBLEMS = 100;

/**
 * The problems of one read, in bounded memory: the first
 * {@link MAX_PROBLEMS} as they are, then counts per type, summarised by
 * {@link ProblemLog.finish} as one last `omitted` problem.
 *
 * @example
 * ```ts
 * import { ProblemLog } from "./problem_log.ts";
 * const log = new ProblemLog();
 * for (let i = 0; i < 1_000_000; i++) log.add({ offset: i, type: "event", reason: "bad" });
 * log.finish();
 * if (log.problems.length !== 101 || log.total !== 1_000_000) throw new Error();
 * if (!log.problems[100].reason.startsWith("999900 more problems")) throw new Error(log.problems[100].reason);
 * ```
 */
export class ProblemLog {
  /** The problems kept (and, after finish, the summary of the rest). */
  readonly problems: ReadProblem[] = [];
  /** Every problem, per type. */
  readonly counts: Partial<Record<ReadProblem["type"], number>> = {};
  /** Problems added. */
  total = 0;
  #omitted: Partial<Record<ReadProblem["type"], number>> = {};
  #firstOmitted: number | undefined;

  /** Adds one problem. */
  add(p: ReadProblem): void {
    this.total++;
    this.counts[p.type] = (this.counts[p.type] ?? 0) + 1;
    if (this.problems.length < MAX_PROBLEMS) {
      this.problems.push(p);
      return;
    }
    this.#omitted[p.type] = (this.#omitted[p.type] ?? 0) + 1;
    this.#firstOmitted ??= p.offset;
  }

  /** Whether a problem of `type` was added. */
  has(type: ReadProblem["type"]): boolean {
    return (this.counts[type] ?? 0) > 0;
  }

  /** Appends the summary of the problems not kept, if any. */
  finish(): void {
    const n = this.total - Math.min(this.total, MAX_PROBLEMS);
    if (n === 0 || this.problems.length > MAX_PROBLEMS) return;
    const per = Object.entries(this.#omitted).map(([t, k]) => `${t} ${k}`)
      .join(", ");
    this.problems.push({
      offset: this.#firstOmitted ?? 0,
      type: "omitted",
      reason: `${n} more problems from offset ${
        this.#firstOmitted ?? 0
      } on, not listed one by one (${per})`,
    });
  }
}
