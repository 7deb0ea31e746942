/**
 * The live summary of an always-on recorder: counters and short top lists in
 * memory proportional to the processes alive, not to the events or the
 * processes ever seen. An exited process leaves it at once (folded into the
 * counters and top lists). Pure; fed event by event.
 *
 * Replay the recording for the full analysis: this summary has no tree,
 * and its top lists rank exited processes and those alive at the end.
 *
 * @module
 */
import type { EventKind, ProcEvent } from "../events/types.ts";
import { decodeExitStatus } from "./decode_exit_status.ts";
import { formatDuration, formatT, oneLine } from "./_format.ts";

interface Live {
  start: number;
  label: string;
  children: number;
  snapshot: boolean;
}

interface Ranked {
  pid: number;
  label: string;
  value: number;
}

/** Keeps the `n` largest by value (ties: the earlier stays). */
function rank(list: Ranked[], item: Ranked, n: number): void {
  if (list.length === n && item.value <= list[n - 1].value) return;
  let i = list.length;
  while (i > 0 && list[i - 1].value < item.value) i--;
  list.splice(i, 0, item);
  if (list.length > n) list.pop();
}

/**
 * A summary in bounded memory.
 *
 * @example
 * ```ts
 * import { BoundedSummary } from "./bounded_summary.ts";
 * const s = new BoundedSummary({ os: "linux" });
 * for (let i = 0; i < 1000; i++) {
 *   s.add({ kind: "process_create", t: i, pid: 100 + i, tid: 100 + i, ppid: 1,
 *     ptid: 1, creatorPid: 1, creatorTid: 1, start: i });
 *   s.add({ kind: "process_exit", t: i + 1, pid: 100 + i, tid: 100 + i, status: 256 });
 * }
 * if (s.liveProcesses !== 0) throw new Error("exited processes stay");
 * if (!s.finish().includes("failures: 1000")) throw new Error(s.finish());
 * ```
 */
export class BoundedSummary {
  readonly top: number;
  #os: "linux" | "windows";
  #counts: Partial<Record<EventKind, number>> = {};
  #events = 0;
  #first: number | undefined;
  #last: number | undefined;
  #live = new Map<number, Live>();
  #processes = 0;
  #exited = 0;
  #existing = 0;
  #threads = 0;
  #lost: Record<string, number> = {};
  #lostEvents = 0;
  #lostSpans = 0;
  #lostUnknown = 0;
  #failures = 0;
  #lastFailures: { pid: number; label: string; exit: string }[] = [];
  #spawners: Ranked[] = [];
  #longest: Ranked[] = [];

  constructor(meta: { os: "linux" | "windows" }, top = 5) {
    this.#os = meta.os;
    this.top = top;
  }

  /** Processes alive now (what the memory is proportional to). */
  get liveProcesses(): number {
    return this.#live.size;
  }

  /** Feeds one event. */
  add(e: ProcEvent): void {
    this.#events++;
    this.#counts[e.kind] = (this.#counts[e.kind] ?? 0) + 1;
    if (this.#first === undefined || e.t < this.#first) this.#first = e.t;
    if (this.#last === undefined || e.t > this.#last) this.#last = e.t;
    switch (e.kind) {
      case "process_create":
      case "process_snapshot": {
        const old = this.#live.get(e.pid);
        if (old) this.#retire(e.pid, old, e.t); // its exit was not seen
        const snapshot = e.kind === "process_snapshot";
        this.#processes++;
        this.#threads++;
        if (snapshot) this.#existing++;
        const parent = this.#live.get(e.ppid);
        if (parent && e.ppid !== e.pid && !snapshot) parent.children++;
        this.#live.set(e.pid, {
          start: e.start,
          label: labelOf(e.info) ?? parent?.label ?? "?",
          children: 0,
          snapshot,
        });
        break;
      }
      case "exec": {
        const p = this.#live.get(e.pid);
        if (p) p.label = labelOf(e.info) ?? p.label;
        break;
      }
      case "thread_create":
        this.#threads++;
        break;
      case "process_exit": {
        this.#exited++;
        const p = this.#live.get(e.pid);
        const exit = decodeExitStatus(e.status, this.#os, e.statusUnknown);
        if (exit.kind !== "unknown" && e.status !== 0) {
          this.#failures++;
          this.#lastFailures.push({
            pid: e.pid,
            label: p?.label ?? "?",
            exit: exit.text,
          });
          if (this.#lastFailures.length > this.top) this.#lastFailures.shift();
        }
        if (p) this.#retire(e.pid, p, e.t);
        break;
      }
      case "lost":
        this.#lostSpans++;
        this.#lostEvents += e.count;
        if (e.countUnknown) this.#lostUnknown++;
        this.#lost[e.reason] = (this.#lost[e.reason] ?? 0) + e.count;
        break;
    }
  }

  #retire(pid: number, p: Live, t: number): void {
    this.#live.delete(pid);
    if (p.children > 0) {
      rank(
        this.#spawners,
        { pid, label: p.label, value: p.children },
        this.top,
      );
    }
    if (!p.snapshot) {
      rank(
        this.#longest,
        { pid, label: p.label, value: t - p.start },
        this.top,
      );
    }
  }

  /** The summary as text (ends with a newline). */
  finish(): string {
    const spawners = [...this.#spawners];
    for (const [pid, p] of this.#live) {
      if (p.children > 0) {
        rank(spawners, { pid, label: p.label, value: p.children }, this.top);
      }
    }
    const out: string[] = [];
    const kinds = Object.entries(this.#counts).sort(([a], [b]) =>
      a < b ? -1 : 1
    ).map(([k, v]) => `${k} ${v}`).join(", ");
    out.push(`events: ${this.#events}${kinds ? ` (${kinds})` : ""}`);
    if (this.#first !== undefined && this.#last !== undefined) {
      out.push(
        `time: ${formatT(this.#first)} to ${formatT(this.#last)} (${
          formatDuration(this.#last - this.#first)
        })`,
      );
    }
    out.push(
      `processes: ${this.#processes} (${this.#exited} exited, ${this.#existing} running before the recording, ${this.#live.size} alive at the end)`,
    );
    out.push(`threads: ${this.#threads}`);
    if (this.#lostSpans === 0) out.push("lost: none");
    else {
      const reasons = Object.entries(this.#lost).map(([k, v]) => `${k} ${v}`)
        .join(", ");
      out.push(
        `lost: ${this.#lostEvents} events in ${this.#lostSpans} spans${
          this.#lostUnknown ? ` (${this.#lostUnknown} of unknown size)` : ""
        } [${reasons}]`,
      );
    }
    if (spawners.length) {
      out.push("top spawners:");
      for (const p of spawners) {
        out.push(
          `  ${p.value} ${p.value === 1 ? "child" : "children"}  ${who(p)}`,
        );
      }
    }
    if (this.#longest.length) {
      out.push("longest-lived (exited):");
      for (const p of this.#longest) {
        out.push(`  ${formatDuration(p.value)}  ${who(p)}`);
      }
    }
    out.push(`failures: ${this.#failures}`);
    for (const f of this.#lastFailures) {
      out.push(`  ${f.exit}  ${who({ pid: f.pid, label: f.label })}`);
    }
    out.push(
      "(live summary in bounded memory; replay the recording for the full analysis)",
    );
    return out.join("\n") + "\n";
  }
}

function labelOf(
  info: { argv?: string[]; image?: string; comm?: string } | undefined,
): string | undefined {
  if (!info) return undefined;
  if (info.argv?.length) return info.argv.join(" ");
  return info.image ?? info.comm;
}

function who(p: { pid: number; label: string }): string {
  const cmd = p.label;
  return oneLine(
    `pid ${p.pid}  ${cmd.length > 120 ? cmd.slice(0, 117) + "..." : cmd}`,
  );
}
