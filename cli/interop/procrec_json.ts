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
import type {
  Accounts,
  ImageHash,
  InfoField,
  ProcessInfo,
  ProcEvent,
} from "../events/types.ts";
import type { RecordingHeader } from "../log/mod.ts";

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
interface Running {
  ppid: number;
  start: number;
  info?: ProcessInfo;
  guid?: string;
  /** `t` of the exec, snapshot or creation whose image `info` names: what its hash names. */
  imageT?: number;
  /** The first answer of the hash worker for that image. */
  hash?: ImageHash;
}

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
  #running = new Map<number, Running>();
  #accounts: Accounts | undefined;
  /** The `t` each snapshot written stands for, by pid, until its hash comes. */
  #awaited = new Map<number, number>();
  #at = NaN;
  /** The processes written as snapshots by {@link events}. */
  processes = 0;

  /** `os`: the recording's (a Linux fork without exec runs its creator's image). */
  constructor(readonly os: string) {}

  /** Takes an event before the span, in the recording's order. */
  observe(e: ProcEvent): void {
    switch (e.kind) {
      case "process_create":
      case "process_snapshot": {
        const own = e.info;
        const told = own !== undefined &&
          (own.image !== undefined || own.argv !== undefined ||
            own.cmdline !== undefined);
        let info = own;
        if (!told && e.kind === "process_create" && this.os === "linux") {
          // (as the analysis names it: the creator's image when another
          // process than the parent created it, else the parent's)
          const by = (e.creatorPid !== e.ppid
            ? this.#running.get(e.creatorPid)
            : undefined) ?? this.#running.get(e.ppid);
          info = forkInfo(own, by?.info);
        }
        const p: Running = { ppid: e.ppid, start: e.start };
        if (info !== undefined) p.info = info;
        if (e.guid !== undefined) p.guid = e.guid;
        // (an image a snapshot or a creation names is hashed; a fork's is
        // its parent's, hashed for the parent)
        if (told || (e.kind === "process_snapshot" && own !== undefined)) {
          p.imageT = e.t;
        }
        this.#running.set(e.pid, p);
        break;
      }
      case "exec": {
        const p = this.#running.get(e.pid);
        if (p === undefined) break;
        p.info = e.info;
        p.imageT = e.t;
        delete p.hash;
        break;
      }
      case "comm": {
        // (the process's own name: its main thread's, as /proc/PID/comm)
        const p = this.#running.get(e.pid);
        if (p === undefined || e.tid !== e.pid) break;
        const info: ProcessInfo = {
          ...(p.info ?? { from: {} }),
          comm: e.comm,
        };
        info.from = { ...info.from, comm: "kernel" };
        const flawed = withField(info.notUtf8, "comm", e.notUtf8 === true);
        if (flawed === undefined) delete info.notUtf8;
        else info.notUtf8 = flawed;
        p.info = info;
        break;
      }
      case "image_hash": {
        const p = this.#running.get(e.pid);
        // (the first answer stands, as in the analysis)
        if (p !== undefined && p.imageT === e.execT && p.hash === undefined) {
          p.hash = e;
        }
        break;
      }
      case "process_exit":
        this.#running.delete(e.pid);
        break;
      case "accounts":
        this.#accounts = e;
        break;
    }
  }

  /**
   * The events that stand at `t`, the span's start, for those observed:
   * once; the table is emptied.
   */
  events(t: number): ProcEvent[] {
    this.#at = t;
    const out: ProcEvent[] = [];
    if (this.#accounts !== undefined) out.push({ ...this.#accounts, t });
    // (parents first: a parent starts before its child)
    const running = [...this.#running].sort(([pa, a], [pb, b]) =>
      a.start - b.start || pa - pb
    );
    for (const [pid, p] of running) {
      out.push({
        kind: "process_snapshot",
        t,
        pid,
        tid: pid,
        ppid: p.ppid,
        start: p.start,
        ...(p.info !== undefined ? { info: p.info } : {}),
        ...(p.guid !== undefined ? { guid: p.guid } : {}),
      });
      if (p.hash !== undefined) out.push({ ...p.hash, t, execT: t });
      else if (p.imageT !== undefined) this.#awaited.set(pid, p.imageT);
    }
    this.processes += running.length;
    this.#running.clear();
    this.#accounts = undefined;
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

/** The fields {@link ProcessInfo.notUtf8} lists, in its order. */
const INFO_FIELDS: readonly InfoField[] = [
  "image",
  "argv",
  "comm",
  "cwd",
  "cred",
  "file",
  "ns",
  "cgroup",
];

/** `list` with `field` in it (`on`) or not, in {@link INFO_FIELDS} order; none when empty. */
function withField(
  list: InfoField[] | undefined,
  field: InfoField,
  on: boolean,
): InfoField[] | undefined {
  const set = new Set(list);
  if (on) set.add(field);
  else set.delete(field);
  const out = INFO_FIELDS.filter((f) => set.has(f));
  return out.length > 0 ? out : undefined;
}

/**
 * What a fork that did not exec runs: its own fields, with the image and
 * arguments (and the name, if it has none) of the process it was forked
 * from, their provenance and flaws with them.
 */
function forkInfo(
  own: ProcessInfo | undefined,
  of: ProcessInfo | undefined,
): ProcessInfo | undefined {
  if (of === undefined || (of.image === undefined && of.argv === undefined)) {
    return own;
  }
  const info: ProcessInfo = { ...(own ?? { from: {} }) };
  info.from = { ...info.from };
  let flawed = info.notUtf8;
  const take = (f: "image" | "argv" | "comm") => {
    if (of[f] === undefined) return;
    if (f === "argv") info.argv = of.argv;
    else info[f] = of[f];
    const source = of.from[f];
    if (source !== undefined) info.from[f] = source;
    else delete info.from[f];
    flawed = withField(flawed, f, of.notUtf8?.includes(f) === true);
  };
  take("image");
  take("argv");
  if (info.comm === undefined) take("comm");
  if (flawed === undefined) delete info.notUtf8;
  else info.notUtf8 = flawed;
  return info;
}
