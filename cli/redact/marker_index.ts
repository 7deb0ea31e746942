/**
 * Where the markers of a recording are, by HMAC: what `procrec redact
 * --check-guess` looks a guess up in. Pure.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { findMarkers } from "./redaction_marker.ts";

/** The markers of one HMAC. */
export interface MarkerSighting {
  rule: string;
  /** How many texts hold it. */
  count: number;
  /** The first event that holds it (`undefined`: the header). */
  first?: { kind: string; pid: number; t: number };
}

/**
 * Markers by HMAC, filled event by event.
 *
 * @example
 * ```ts
 * import { MarkerIndex } from "./marker_index.ts";
 * const ix = new MarkerIndex();
 * ix.addEvent({ kind: "comm", t: 1, pid: 2, tid: 2, comm: `[redacted:a:${"0".repeat(64)}]` });
 * if (ix.get("0".repeat(64))?.count !== 1) throw new Error();
 * ```
 */
export class MarkerIndex {
  readonly #byHmac = new Map<string, MarkerSighting>();

  /** Markers seen. */
  get size(): number {
    let n = 0;
    for (const s of this.#byHmac.values()) n += s.count;
    return n;
  }

  /** Adds the markers of any value (a header); `first` says where. */
  addValue(value: unknown, first?: MarkerSighting["first"]): void {
    const text = JSON.stringify(
      value,
      (_k, v) => typeof v === "bigint" ? String(v) : v,
    );
    if (text === undefined) return;
    for (const m of findMarkers(text)) {
      const s = this.#byHmac.get(m.hmac);
      if (s) s.count++;
      else this.#byHmac.set(m.hmac, { rule: m.rule, count: 1, first });
    }
  }

  /** Adds the markers of one event. */
  addEvent(ev: ProcEvent): void {
    if (
      ev.kind === "thread_create" || ev.kind === "thread_exit" ||
      ev.kind === "lost" || ev.kind === "process_exit"
    ) return;
    this.addValue(ev, { kind: ev.kind, pid: ev.pid, t: ev.t });
  }

  /** The markers of `hmac`, if any. */
  get(hmac: string): MarkerSighting | undefined {
    return this.#byHmac.get(hmac);
  }
}
