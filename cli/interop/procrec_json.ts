/**
 * procrec's own JSON lines: a first line `{"procrec":"jsonl","version":2,
 * "header":{...}}` with the recording's header, then one event per line as
 * the object `cli/events/types.ts` defines (`{"kind":"process_exit",...}`),
 * then (version 2) an end line `{"procrec":"end",...}`
 * ({@link ProcrecJsonEnd}): how many event lines there are, the recording's
 * end time and what its reader found of its integrity.
 * Big integers (the header's clock fields) are written as
 * `{"$bigint":"123"}`, so no value loses precision. `import jsonl` reads it
 * back into the same events.
 *
 * An export of a span (`--from`) begins with what stands for the events
 * before it ({@link SpanStart}): the processes running at its start as
 * `process_snapshot` events, as a segment's header lists them.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import type { RecordingHeader } from "../log/mod.ts";
import { LiveProcesses } from "../analysis/live_processes.ts";

/** Version of the JSON lines layout, in its first line. */
export const PROCREC_JSONL_VERSION = 2;
/**
 * Versions `import jsonl` reads: 1 (before the end line, which it simply
 * lacks) and 2.
 */
export const PROCREC_JSONL_READABLE: readonly number[] = [1, 2];

/**
 * The last line of an export (version 2): what a reader of the export
 * cannot know from its events. Without it an import took the last event's
 * time for the recording's end (the quiet seconds after it were lost) and
 * an export of a damaged recording read back as whole (found by review).
 */
export interface ProcrecJsonEnd {
  /** Event lines before it (a line removed or added shows). */
  events: number;
  /** UTC ns at which the recording ended (its trailer's, when it had one). */
  endUtcNs?: bigint;
  /** The recording had a trailer that matched its chunks. */
  complete: boolean;
  /** Its chunks verified against their digests and the hash chain. */
  chainIntact: boolean;
  /** What its reader found (the export's warnings). */
  problems: string[];
}

/**
 * The end line of an export.
 *
 * @example
 * ```ts
 * import { procrecEndLine } from "./procrec_json.ts";
 * const line = procrecEndLine({ events: 2, endUtcNs: 5n, complete: true, chainIntact: true, problems: [] });
 * if (line !== '{"procrec":"end","events":2,"endUtcNs":{"$bigint":"5"},"complete":true,"chainIntact":true,"problems":[]}') throw new Error(line);
 * ```
 */
export function procrecEndLine(end: ProcrecJsonEnd): string {
  return toJson({ procrec: "end", ...end });
}

/**
 * JSON text of `value` with big integers as `{"$bigint":"..."}`.
 *
 * @example
 * ```ts
 * import { fromJson, toJson } from "./procrec_json.ts";
 * const text = toJson({ a: 2n ** 70n, b: [1] });
 * if (text !== '{"a":{"$bigint":"1180591620717411303424"},"b":[1]}') throw new Error(text);
 * if ((fromJson(text) as { a: bigint }).a !== 2n ** 70n) throw new Error();
 * ```
 */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => typeof v === "bigint" ? { $bigint: v.toString() } : v,
  );
}

/** Parses JSON text written by {@link toJson}, restoring big integers. */
export function fromJson(text: string): unknown {
  return JSON.parse(text, (_k, v) => {
    if (
      typeof v === "object" && v !== null && !Array.isArray(v) &&
      typeof v.$bigint === "string" && Object.keys(v).length === 1 &&
      /^-?\d+$/.test(v.$bigint)
    ) return BigInt(v.$bigint);
    return v;
  });
}

/**
 * The first line of an export: the recording's header.
 *
 * @example
 * ```ts
 * import { procrecHeaderLine } from "./procrec_json.ts";
 * const line = procrecHeaderLine({ format: "procrec", version: 1, host: "h", os: "linux",
 *   kernel: "6", bootId: "b", timeBase: { monoNs: 0n, utcNs: 1n },
 *   clock: { source: "s", monoToUtcNs: 1n }, tool: { name: "procrec", version: "0" },
 *   source: { name: "test", reason: "doc" }, options: {} });
 * if (!line.startsWith('{"procrec":"jsonl","version":2,"header":{')) throw new Error(line);
 * ```
 */
export function procrecHeaderLine(header: RecordingHeader): string {
  return toJson({
    procrec: "jsonl",
    version: PROCREC_JSONL_VERSION,
    header,
  });
}

/**
 * One event as a line of JSON (no newline).
 *
 * @example
 * ```ts
 * import { procrecEventLine } from "./procrec_json.ts";
 * const line = procrecEventLine({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "sh" });
 * if (line !== '{"kind":"comm","t":1,"pid":2,"tid":2,"comm":"sh"}') throw new Error(line);
 * ```
 */
export function procrecEventLine(event: ProcEvent): string {
  return JSON.stringify(event); // events hold no big integers
}

/** A process running before a span, as {@link SpanStart} keeps it. */

/**
 * What an export of a span writes at the span's start for the events before
 * it, which it leaves out: the latest account names, then each process
 * running then as a `process_snapshot` (its parent, start, image, arguments
 * and ids as the events before had made them; parents first), each followed
 * by its image's hash when it had come. Without them a process started
 * before `--from` and still running in the span had no image, parent or
 * command in the export's import, where `replay --from` of the recording
 * has them (found by review: a segment directory's span lost even the
 * processes its first segment's header lists, their snapshots being at the
 * segment's start, before the span). Memory is the processes running at a
 * time.
 *
 * @example
 * ```ts
 * import { SpanStart } from "./procrec_json.ts";
 * const s = new SpanStart("linux");
 * s.observe({ kind: "process_create", t: 1, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *   creatorPid: 1, creatorTid: 1, start: 1 });
 * s.observe({ kind: "exec", t: 2, pid: 5, tid: 5,
 *   info: { image: "/bin/sleep", argv: ["sleep", "9"], from: { image: "proc" } } });
 * const at = s.events(10);
 * const snap = at[0];
 * if (at.length !== 1 || snap.kind !== "process_snapshot" || snap.t !== 10 ||
 *   snap.start !== 1 || snap.ppid !== 1 || snap.info?.image !== "/bin/sleep") throw new Error();
 * // its hash, come in the span, names the snapshot
 * const h = s.inSpan({ kind: "image_hash", t: 11, pid: 5, tid: 5, execT: 2, status: "ok" });
 * if (h.kind !== "image_hash" || h.execT !== 10) throw new Error();
 * ```
 */
export class SpanStart {
  // (the processes running, as a segment header's alive list has them)
  #live: LiveProcesses;
  /** The `t` each snapshot written stands for, by pid, until its hash comes. */
  #awaited = new Map<number, number>();
  #at = NaN;
  /** The processes written as snapshots by {@link events}. */
  processes = 0;

  /** `os`: the recording's (a Linux fork without exec runs its creator's image). */
  constructor(readonly os: string) {
    this.#live = new LiveProcesses(os);
  }

  /** Takes an event before the span, in the recording's order. */
  observe(e: ProcEvent): void {
    this.#live.add(e);
  }

  /**
   * The events that stand at `t`, the span's start, for those observed:
   * once; the table is emptied.
   */
  events(t: number): ProcEvent[] {
    this.#at = t;
    const out = this.#live.snapshot(t, {
      parentsFirst: true,
      awaiting: this.#awaited,
    });
    this.processes += this.#live.size;
    this.#live = new LiveProcesses(this.os);
    return out;
  }

  /**
   * An event of the span, as it is written: the hash of an image run
   * before the span, come after its start, names the snapshot that stands
   * for that exec (its `execT` the snapshot's `t`).
   */
  inSpan(e: ProcEvent): ProcEvent {
    if (e.kind !== "image_hash" || this.#awaited.get(e.pid) !== e.execT) {
      return e;
    }
    this.#awaited.delete(e.pid);
    return { ...e, execT: this.#at };
  }
}
