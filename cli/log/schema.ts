/**
 * The recording format, version {@link FORMAT_VERSION}, in code. Every field
 * is documented in `SCHEMA.md` beside this file; a change to either is a
 * change to both and bumps the version.
 *
 * @module
 */
import type {
  DecisionTextField,
  EventKind,
  InfoField,
  ProcessInfo,
  ProcEvent,
  Provenance,
} from "../events/types.ts";
import { EVENT_KINDS } from "../events/types.ts";
import type { RedactionRule } from "../redact/redaction_rules.ts";

/** Name in the header of every recording. */
export const FORMAT_NAME = "procrec";
/** Version the writer writes. */
export const FORMAT_VERSION = 9;
/**
 * Versions the reader accepts: 1 (before the identity fields of `info`,
 * which it simply lacks), 2 (before the header field `segment` and the lost
 * reasons of segment mode), 3 (before the exec rule decisions
 * `exec_denied` and `exec_audited`), 4 (before `image_hash` events), 5
 * (before a decision's `byContent`), 6 (before `info.from`'s
 * {@link NOT_UTF8}), 7 (before a decision's `notUtf8`) and 8 (before a
 * process exit's `inferred`).
 */
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9];
/** CBOR self-describe tag that starts every recording. */
export const SELF_DESCRIBE_TAG = 55799;
/** Events per chunk at most. */
export const MAX_CHUNK_EVENTS = 4096;
/**
 * A chunk's events are cut at this many encoded bytes too (a chunk may pass it
 * by one event), far below {@link MAX_ITEM_BYTES}.
 */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;
/** A chunk is written at least this often while events arrive. */
export const FLUSH_INTERVAL_MS = 250;
/** No item of a recording may be larger than this. */
export const MAX_ITEM_BYTES = 64 * 1024 * 1024;

/** The header: the first item of a recording, under tag 55799. */
export interface RecordingHeader {
  format: typeof FORMAT_NAME;
  version: number;
  /** Host name. */
  host: string;
  os: "linux" | "windows";
  /** Kernel release (`uname -r`) or Windows build. */
  kernel: string;
  /** Boot id (Linux /proc/sys/kernel/random/boot_id); part of process identity. */
  bootId: string;
  /** t = 0 of every event: the source clock and UTC at the same instant. */
  timeBase: { monoNs: bigint; utcNs: bigint };
  /** How the source's clock maps to UTC: utc = mono + monoToUtcNs. */
  clock: { source: string; monoToUtcNs: bigint };
  tool: { name: string; version: string };
  /** Which event source recorded it and why that one. */
  source: { name: string; reason: string };
  /** Options the recorder ran with. */
  options: Record<string, unknown>;
  /** The command recorded with `record -- CMD`, when any. */
  command?: { argv: string[]; pid?: number; onlyCommand?: boolean };
  /** Where imported evidence came from. */
  import?: ImportInfo;
  /** How secrets in command lines were redacted, when they were. */
  redaction?: RedactionInfo;
  /** Segment mode (`record -o DIR/ --rotate`): this segment's place in the chain. */
  segment?: SegmentInfo;
}

/** The header's `redaction`: rules and which key, never the key itself. */
export interface RedactionInfo {
  /** `"HMAC-SHA-256"`. */
  hmac: string;
  /** Names the key (an HMAC of a fixed text); reveals nothing of it. */
  keyId: string;
  /** How a marker looks: `[redacted:RULE:HMAC-SHA-256 hex]`. */
  marker: string;
  rules: RedactionRule[];
  /**
   * The recording this one was redacted from (`procrec redact`); also the
   * one `export --redact` and `report --redact` read when it was already
   * redacted, which holds its redaction (not hashed there: `sha256` empty,
   * `bytes` 0 and no keyed hashes).
   */
  source?: RedactionSource;
}

/** The recording a redacted copy was made from: its chain of custody. */
export interface RedactionSource {
  /** The path it was read from. */
  path: string;
  /**
   * HMAC-SHA-256 under the redaction key of {@link SOURCE_HASH_PREFIX} and
   * the SHA-256 (hex) of its bytes (of the bundle, for a bundle member): a
   * key holder checks a file against it (`procrec redact COPY
   * --check-source FILE`). A plain hash would let anyone test guesses at
   * the secrets, by rebuilding the source from the copy and a guess.
   */
  sha256Hmac?: string;
  /** The same of its trailer's final hash (hex), when it was complete. */
  finalHashHmac?: string;
  /**
   * Copies written before the keyed hashes: the plain SHA-256 (hex), size
   * and final hash of the source. A copy written now has `sha256` empty and
   * `bytes` 0 (readers before the keyed hashes require them), no
   * `finalHash`.
   */
  sha256?: string;
  bytes?: number;
  finalHash?: string;
  /** It was complete and its chain intact. */
  complete: boolean;
  host: string;
  bootId: string;
  /** Its time base in UTC ns: when it started. */
  startUtcNs: bigint;
  /** Its own redaction, when it was already redacted. */
  redaction?: RedactionInfo;
}

/** Where imported evidence came from (a header's `import`). */
export interface ImportInfo {
  /** `sysmon` or `jsonl`. */
  format: string;
  files: ImportedFile[];
  /**
   * `jsonl` (version 9): the integrity of the recording the export was made
   * from, as the export's end line gives it (JSON lines version 2); an
   * export of version 2 that lacks its end line was cut short, and says so
   * here. Absent: a version 1 export, which tells nothing of it.
   */
  integrity?: ImportedIntegrity;
}

/** What an export said of the recording it was made from. */
export interface ImportedIntegrity {
  /** It had a trailer that matched its chunks. */
  complete: boolean;
  /** Its chunks verified against their digests and the hash chain. */
  chainIntact: boolean;
  /** What its reader found, as the export's warnings said it. */
  problems: string[];
}

/**
 * A file of imported evidence: its name and SHA-256 (hex), or, when the
 * import was redacted, the keyed hash of it ({@link RedactionSource.sha256Hmac})
 * and an empty `sha256` (which readers before the keyed hashes require).
 */
export interface ImportedFile {
  name: string;
  sha256?: string;
  sha256Hmac?: string;
}

/**
 * What a source's SHA-256 (hex) is prefixed with before it is keyed
 * ({@link RedactionSource.sha256Hmac}): a keyed hash of a file never equals
 * a marker's.
 */
export const SOURCE_HASH_PREFIX = "procrec source sha256:";

/** A segment named in another segment's header. */
export interface SegmentLink {
  /** File name in the directory. */
  name: string;
  /** Its {@link SegmentInfo.id}. */
  id: string;
  /** Its final chain hash (of its last complete chunk when it was not closed). */
  finalHash: Uint8Array;
}

/** A segment that retention deleted. */
export interface DeletedSegment extends SegmentLink {
  /** UTC ns of its start and end. */
  startUtcNs: bigint;
  endUtcNs: bigint;
  /** Events it held. */
  events: number;
}

/**
 * The header field of a segment: a complete recording that is one piece of a
 * directory's chain. Every segment of one recorder run shares the run's time
 * base, so events encode identically whichever segment holds them.
 */
export interface SegmentInfo {
  /** This recording's id (random, hex). */
  id: string;
  /** The recorder run's id; each run starts at index 0. */
  run: string;
  /** Index of the segment in its run. */
  index: number;
  /** UTC ns at which the segment begins. */
  startUtcNs: bigint;
  /** The segment before it in the directory (of this run or the previous one). */
  previous?: SegmentLink & {
    /** It was closed with a trailer; false: its recorder died (an unclean end). */
    closed: boolean;
    /** Why it was not closed, when the recorder knows: `disk` (the loss is this segment's first event). */
    reason?: "disk";
  };
  /** Segments retention deleted since the previous segment began, oldest first. */
  deleted?: DeletedSegment[];
  /**
   * Events in all the segments of the chain that retention deleted before
   * this segment began (those of `deleted` included, and those named in
   * headers retention deleted since): the running total a reader gives as
   * the loss before the oldest segment there. Absent when unknown (and in
   * segments of recorders that predate it, which readers ignore).
   */
  deletedEvents?: number;
  /**
   * What stands at the segment's start, as encoded events: the latest
   * `accounts`, then each process alive as a `process_snapshot`, followed
   * by its image's `image_hash` when it had come (`execT` the snapshot's
   * `t`). Readers that predate the accounts and hashes skip them.
   */
  alive: unknown[];
}

/** The last item of a cleanly closed recording. */
export interface RecordingTrailer {
  chunks: number;
  events: number;
  counts: Partial<Record<EventKind, number>>;
  lost: Record<string, number>;
  /** UTC ns at close. */
  endUtcNs: bigint;
  /** SHA-256 of the last chunk item (of the header when there is none). */
  finalHash: Uint8Array;
  /** Publishing figures when the recording was published (`record --publish`). */
  publish?: PublishCounts;
}

/**
 * Pieces of a recording published to NATS when its trailer was sealed (the
 * trailer itself not counted): sent at least once, acknowledged by the
 * stream, and not yet acknowledged.
 */
export interface PublishCounts {
  published: number;
  acked: number;
  pending: number;
}

/** Provenance of each code in an encoded `info.from` (0: not said). */
export const PROVENANCE: (Provenance | undefined)[] = [
  undefined,
  "kernel",
  "proc",
  "gone",
  "denied",
  "import",
];
/**
 * Added to a field's provenance code in an encoded `info.from` when the
 * field's bytes were not UTF-8 (version 7): {@link ProcessInfo.notUtf8}.
 */
export const NOT_UTF8 = 8;

/**
 * The fields whose provenance code may carry {@link NOT_UTF8}: those of text
 * (`cred`: the user), and only with a value (provenance 0, 1, 2 or 5).
 */
export const TEXT_INFO_FIELDS: readonly InfoField[] = [
  "image",
  "argv",
  "comm",
  "cwd",
  "cred",
  "cgroup",
];

/**
 * The texts of an exec rule's decision its `notUtf8` may name (version 8),
 * in the order it names them.
 */
export const DECISION_TEXT_FIELDS: readonly DecisionTextField[] = [
  "image",
  "argv",
  "parentImage",
  "cgroup",
];

/** The info keys holding the text of each of {@link TEXT_INFO_FIELDS}. */
const NOT_UTF8_TEXT: Partial<Record<InfoField, readonly string[]>> = {
  image: ["image"],
  argv: ["argv", "cmdline"],
  comm: ["comm"],
  cwd: ["cwd"],
  cred: ["user"],
  cgroup: ["cgroup"],
};

/** The field each position of an encoded `info.from` is about. */
export const INFO_FIELDS: InfoField[] = [
  "image",
  "argv",
  "comm",
  "cwd",
  "cred",
  "file",
  "ns",
  "cgroup",
];

/** Order of the namespace numbers in the encoded `ns`. */
export const NS_NAMES = ["pid", "mnt", "net", "user", "cgroup"] as const;

/** How a positional field is encoded and checked. */
export type FieldType =
  | "uint"
  | "int"
  | "num"
  | "str"
  | "bool"
  | "info"
  | "strs"
  | "ns"
  | "idnames";
/** One positional field: name, type, whether it may be absent. */
export type Field = readonly [
  name: string,
  type: FieldType,
  optional?: boolean,
];

/** The fields of `exec_denied` and `exec_audited` (version 4). */
const DECISION_LAYOUT: readonly Field[] = [
  ["rule", "str"],
  ["image", "str"],
  ["ppid", "uint"],
  ["uid", "uint"],
  ["euid", "uint"],
  ["argv", "strs", true],
  ["argvTruncated", "bool", true],
  ["parentImage", "str", true],
  ["dev", "uint", true],
  ["ino", "uint", true],
  ["cgroup", "str", true],
];

/** Positional layout of each kind after `[code, t, pid, tid]`. */
export const LAYOUT: Record<EventKind, readonly Field[]> = {
  process_create: [
    ["ppid", "uint"],
    ["ptid", "uint"],
    ["creatorPid", "uint"],
    ["creatorTid", "uint"],
    ["start", "int"],
    ["info", "info", true],
    ["denied", "bool", true],
    ["guid", "str", true],
    ["parentGuid", "str", true],
  ],
  exec: [["info", "info"]],
  process_exit: [
    ["status", "uint"],
    ["guid", "str", true],
    ["statusUnknown", "bool", true],
    ["inferred", "bool", true],
  ],
  thread_create: [
    ["creatorPid", "uint"],
    ["creatorTid", "uint"],
    ["remote", "bool", true],
  ],
  thread_exit: [["status", "uint"], ["processExiting", "bool", true]],
  comm: [["comm", "str"], ["notUtf8", "bool", true]],
  lost: [
    ["reason", "str"],
    ["count", "uint"],
    ["countUnknown", "bool", true],
    ["cpu", "uint", true],
  ],
  process_snapshot: [
    ["ppid", "uint"],
    ["start", "int"],
    ["info", "info", true],
    ["guid", "str", true],
  ],
  image_load: [
    ["image", "str"],
    ["base", "uint"],
    ["size", "uint"],
    ["notUtf8", "bool", true],
  ],
  accounts: [["users", "idnames"], ["groups", "idnames"]],
  exec_denied: [
    ...DECISION_LAYOUT,
    ["byContent", "bool", true],
    ["notUtf8", "strs", true],
  ],
  exec_audited: [
    ...DECISION_LAYOUT,
    ["exempt", "bool", true],
    ["byContent", "bool", true],
    ["notUtf8", "strs", true],
  ],
  image_hash: [
    ["execT", "int"],
    ["status", "str"],
    ["sha256", "str", true],
    ["cached", "bool", true],
    ["via", "str", true],
    ["reason", "str", true],
    ["size", "uint", true],
  ],
};

/**
 * Layout of a process description: `[image, argv, comm, cwd, uid, gid, from,
 * argvTruncated, cmdline, user]`, then (version 2) the identity fields from
 * `euid` on.
 */
export const INFO_LAYOUT: readonly Field[] = [
  ["image", "str", true],
  ["argv", "strs", true],
  ["comm", "str", true],
  ["cwd", "str", true],
  ["uid", "uint", true],
  ["gid", "uint", true],
  ["from", "strs", true], // encoded as small ints, see encodeInfo
  ["argvTruncated", "bool", true],
  ["cmdline", "str", true],
  ["user", "str", true],
  // version 2
  ["euid", "uint", true],
  ["egid", "uint", true],
  ["loginUid", "uint", true],
  ["sessionId", "uint", true],
  ["dev", "uint", true],
  ["ino", "uint", true],
  ["fileless", "bool", true],
  ["deletedImage", "bool", true],
  ["cgroupId", "uint", true],
  ["cgroup", "str", true],
  ["ns", "ns", true], // [pid, mnt, net, user, cgroup], 0 unknown
  ["integrityLevel", "str", true],
  ["sha256", "str", true],
  ["hashes", "str", true],
  ["originalFileName", "str", true],
  ["description", "str", true],
  ["product", "str", true],
  ["company", "str", true],
  ["logonId", "str", true],
  ["logonGuid", "str", true],
];

/**
 * Encodes one event as the positional CBOR array of the schema.
 *
 * @example
 * ```ts
 * import { decodeEvent, encodeEvent } from "./schema.ts";
 * const e = { kind: "comm", t: 5, pid: 1, tid: 1, comm: "sh" } as const;
 * const back = decodeEvent(encodeEvent(e));
 * if (back.kind !== "comm" || back.comm !== "sh") throw new Error("round trip");
 * ```
 */
export function encodeEvent(event: ProcEvent): unknown[] {
  return encodeEventInto(event, []);
}

/**
 * {@link encodeEvent} into `out`, which it empties first and returns: a
 * writer reuses one array for every event (an `info` is still a new array).
 *
 * @example
 * ```ts
 * import { encodeEventInto } from "./schema.ts";
 * const out: unknown[] = ["stale", 1, 2, 3, 4, 5, 6, 7];
 * encodeEventInto({ kind: "thread_exit", t: 9, pid: 1, tid: 2, status: 0 }, out);
 * if (out.join() !== "5,9,1,2,0") throw new Error(out.join());
 * ```
 */
export function encodeEventInto(event: ProcEvent, out: unknown[]): unknown[] {
  out.length = 0;
  // the two kinds a thread storm is made of, without the generic walk
  if (event.kind === "thread_create") {
    out.push(4, event.t, event.pid, event.tid);
    out.push(
      event.creatorPid ?? null,
      event.creatorTid ?? null,
      event.remote ?? null,
    );
    return trimNulls(out);
  }
  if (event.kind === "thread_exit") {
    out.push(5, event.t, event.pid, event.tid);
    out.push(event.status ?? null, event.processExiting ?? null);
    return trimNulls(out);
  }
  out.push(KIND_CODES.get(event.kind) ?? 0, event.t, event.pid, event.tid);
  const rec = event as unknown as Record<string, unknown>;
  for (const [name, type] of LAYOUT[event.kind]) {
    const v = rec[name];
    if (v === undefined) out.push(null);
    else if (type === "info") out.push(encodeInfo(v as ProcessInfo));
    else out.push(v);
  }
  return trimNulls(out);
}

/** Where {@link encodeEventTo} writes (an `EventBodyEncoder`). */
export interface EventSink {
  /** One event array (a whole item). */
  add(item: unknown): void;
  /** One event array of `n` values, which follow through {@link value}. */
  addArray(n: number): void;
  value(v: unknown): void;
}

/**
 * Writes the encoding of {@link encodeEvent} to `sink`: thread events (most
 * of a storm) value by value without an array, others as one array built in
 * `scratch` (reused).
 *
 * @example
 * ```ts
 * import { encodeEventTo } from "./schema.ts";
 * const got: unknown[] = [];
 * encodeEventTo({ kind: "thread_exit", t: 9, pid: 1, tid: 2, status: 0 }, {
 *   add: (a) => got.push(a),
 *   addArray: (n) => got.push(`array ${n}`),
 *   value: (v) => got.push(v),
 * }, []);
 * if (got.join() !== "array 5,5,9,1,2,0") throw new Error(got.join());
 * ```
 */
export function encodeEventTo(
  event: ProcEvent,
  sink: EventSink,
  scratch: unknown[],
): void {
  // as encodeEvent's fast paths, when no field is absent (then trailing
  // fields would be trimmed, which the generic path does)
  if (
    event.kind === "thread_create" && event.creatorPid !== undefined &&
    event.creatorTid !== undefined && event.creatorTid !== null
  ) {
    const remote = event.remote;
    const withRemote = remote !== undefined && remote !== null;
    sink.addArray(withRemote ? 7 : 6);
    sink.value(4);
    sink.value(event.t);
    sink.value(event.pid);
    sink.value(event.tid);
    sink.value(event.creatorPid);
    sink.value(event.creatorTid);
    if (withRemote) sink.value(remote);
    return;
  }
  if (event.kind === "thread_exit" && event.status !== undefined) {
    const exiting = event.processExiting;
    const withFlag = exiting !== undefined && exiting !== null;
    if (withFlag || event.status !== null) {
      sink.addArray(withFlag ? 6 : 5);
      sink.value(5);
      sink.value(event.t);
      sink.value(event.pid);
      sink.value(event.tid);
      sink.value(event.status);
      if (withFlag) sink.value(exiting);
      return;
    }
  }
  sink.add(encodeEventInto(event, scratch));
}

/** Code of each kind (1 + its index in `EVENT_KINDS`; 4 and 5 above). */
const KIND_CODES: ReadonlyMap<string, number> = new Map(
  EVENT_KINDS.map((k, i) => [k, i + 1]),
);

function encodeInfo(info: ProcessInfo): unknown[] {
  const out: unknown[] = [];
  for (const [name] of INFO_LAYOUT) {
    if (name === "from") {
      const bad = info.notUtf8;
      const codes = INFO_FIELDS.map((f) => {
        const p = info.from[f];
        return (p === undefined ? 0 : PROVENANCE.indexOf(p)) |
          (bad !== undefined && bad.includes(f) ? NOT_UTF8 : 0);
      });
      out.push(codes.every((c) => c === 0) ? null : trimZeros(codes));
    } else if (name === "ns") {
      const ns = info.ns;
      out.push(ns === undefined ? null : NS_NAMES.map((n) => ns[n] ?? 0));
    } else {
      const v = (info as unknown as Record<string, unknown>)[name];
      out.push(v === undefined ? null : v);
    }
  }
  return trimNulls(out);
}

/** Provenance codes without trailing zeros (a version 1 `from` has five). */
function trimZeros(a: number[]): number[] {
  let n = a.length;
  while (n > 5 && a[n - 1] === 0) n--;
  a.length = n;
  return a;
}

function trimNulls(a: unknown[]): unknown[] {
  let n = a.length;
  while (n > 0 && a[n - 1] === null) n--;
  a.length = n;
  return a;
}

/**
 * Decodes and validates one event array; throws a `SyntaxError` naming the
 * field and what was expected.
 */
export function decodeEvent(value: unknown): ProcEvent {
  if (!Array.isArray(value) || value.length < 4) {
    throw new SyntaxError(
      `event is ${describe(value)}, expected an array of at least 4 items`,
    );
  }
  const code = value[0];
  if (typeof code !== "number" || !Number.isInteger(code)) {
    throw new SyntaxError(`event kind is ${describe(code)}, expected a code`);
  }
  const kind = EVENT_KINDS[code - 1];
  if (kind === undefined) {
    throw new SyntaxError(
      `event kind code ${code} is unknown, expected 1 to ${EVENT_KINDS.length}`,
    );
  }
  const ev: Record<string, unknown> = {
    kind,
    t: check(value[1], "int", "t", kind),
    pid: check(value[2], "uint", "pid", kind),
    tid: check(value[3], "uint", "tid", kind),
  };
  const layout = LAYOUT[kind];
  for (let i = 0; i < layout.length; i++) {
    const [name, type, optional] = layout[i];
    const v = value[4 + i];
    if (v === undefined || v === null) {
      if (!optional) {
        throw new SyntaxError(`${kind} event lacks required field "${name}"`);
      }
      continue;
    }
    ev[name] = type === "info"
      ? decodeInfo(v, kind)
      : check(v, type, name, kind);
  }
  // (true or absent: false is not a form any writer makes)
  if ((kind === "comm" || kind === "image_load") && ev.notUtf8 === false) {
    throw new SyntaxError(
      `${kind} event field "notUtf8" is false, expected true or no field`,
    );
  }
  if (
    (kind === "exec_denied" || kind === "exec_audited") &&
    ev.notUtf8 !== undefined
  ) checkDecisionNotUtf8(ev.notUtf8 as string[], kind, ev);
  return ev as unknown as ProcEvent;
}

function decodeInfo(value: unknown, kind: string): ProcessInfo {
  if (!Array.isArray(value)) {
    throw new SyntaxError(
      `${kind} event field "info" is ${describe(value)}, expected an array`,
    );
  }
  const info: Record<string, unknown> = { from: {} };
  const notUtf8: InfoField[] = [];
  for (let i = 0; i < INFO_LAYOUT.length; i++) {
    const [name, type] = INFO_LAYOUT[i];
    const v = value[i];
    if (v === undefined || v === null) continue;
    if (name === "from") {
      if (!Array.isArray(v)) {
        throw new SyntaxError(
          `${kind} event field "info.from" is ${
            describe(v)
          }, expected an array`,
        );
      }
      const from: Record<string, Provenance> = {};
      v.forEach((c, j) => {
        const ok = Number.isInteger(c) && c >= 0 && c < 2 * NOT_UTF8;
        const code = ok ? c & ~NOT_UTF8 : -1;
        const p = PROVENANCE[code];
        // (not UTF-8: only a text's, and only one that has a value)
        const flagOk = !(c & NOT_UTF8) ||
          (TEXT_INFO_FIELDS.includes(INFO_FIELDS[j]) &&
            p !== "gone" && p !== "denied");
        if (
          c !== 0 &&
          ((code !== 0 && p === undefined) || INFO_FIELDS[j] === undefined ||
            !flagOk)
        ) {
          throw new SyntaxError(
            `${kind} event field "info.from[${j}]" is ${
              describe(c)
            }, expected a provenance code 0-5 (plus 8 when its text was not UTF-8: ${
              TEXT_INFO_FIELDS.join(", ")
            }, with 0, 1, 2 or 5)`,
          );
        }
        if (p) from[INFO_FIELDS[j]] = p;
        if (c & NOT_UTF8) notUtf8.push(INFO_FIELDS[j]);
      });
      info.from = from;
    } else if (name === "ns") {
      if (
        !Array.isArray(v) || v.length !== NS_NAMES.length ||
        !v.every((x) =>
          typeof x === "number" && Number.isSafeInteger(x) && x >= 0
        )
      ) {
        throw new SyntaxError(
          `${kind} event field "info.ns" is ${
            describe(v)
          }, expected an array of 5 unsigned integers`,
        );
      }
      const ns: Record<string, number> = {};
      NS_NAMES.forEach((n, j) => {
        if (v[j] !== 0) ns[n] = v[j];
      });
      info.ns = ns;
    } else info[name] = check(v, type, `info.${name}`, kind);
  }
  // (a text said not to be UTF-8 is there: no writer flags a text it did
  // not write)
  for (const f of notUtf8) {
    if (NOT_UTF8_TEXT[f]!.every((k) => info[k] === undefined)) {
      throw new SyntaxError(
        `${kind} event field "info.from[${
          INFO_FIELDS.indexOf(f)
        }]" says the ${f} was not UTF-8, expected info.${
          NOT_UTF8_TEXT[f]!.join(" or info.")
        } (absent)`,
      );
    }
  }
  // (last: the key a fast decoder never makes comes after the others)
  if (notUtf8.length > 0) info.notUtf8 = notUtf8;
  return info as unknown as ProcessInfo;
}

/**
 * A decision's `notUtf8`: some of {@link DECISION_TEXT_FIELDS}, each once,
 * in that order, each a text the event has (what both encoders write); an
 * empty list is no form a writer makes either.
 */
function checkDecisionNotUtf8(
  names: string[],
  kind: string,
  ev: Record<string, unknown>,
): void {
  let last = -1;
  for (const name of names) {
    const at = DECISION_TEXT_FIELDS.indexOf(name as DecisionTextField);
    if (at <= last) {
      last = -2;
      break;
    }
    last = at;
  }
  if (names.length === 0 || last < 0) {
    throw new SyntaxError(
      `${kind} event field "notUtf8" is ${
        JSON.stringify(names).slice(0, 80)
      }, expected some of ${
        DECISION_TEXT_FIELDS.join(", ")
      }, each once, in that order`,
    );
  }
  // (a text that is not there had no bytes to be flawed)
  const absent = names.find((n) => ev[n] === undefined || ev[n] === "");
  if (absent !== undefined) {
    throw new SyntaxError(
      `${kind} event field "notUtf8" names "${absent}", which the event does not have`,
    );
  }
}

function check(v: unknown, type: FieldType, name: string, kind: string) {
  let ok: boolean;
  switch (type) {
    case "uint":
      ok = typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
      break;
    case "int":
      ok = typeof v === "number" && Number.isSafeInteger(v);
      break;
    case "num":
      ok = typeof v === "number" && Number.isFinite(v);
      break;
    case "str":
      ok = typeof v === "string";
      break;
    case "bool":
      ok = typeof v === "boolean";
      break;
    case "strs":
      ok = Array.isArray(v) && v.every((s) => typeof s === "string");
      break;
    case "idnames":
      ok = Array.isArray(v) &&
        v.every((p) =>
          Array.isArray(p) && p.length === 2 &&
          typeof p[0] === "number" && Number.isSafeInteger(p[0]) &&
          p[0] >= 0 && typeof p[1] === "string"
        );
      break;
    default:
      ok = false;
  }
  if (!ok) {
    throw new SyntaxError(
      `${kind} event field "${name}" is ${describe(v)}, expected ${
        EXPECTED[type]
      }`,
    );
  }
  return v;
}

const EXPECTED: Record<FieldType, string> = {
  uint: "an unsigned integer",
  int: "an integer",
  num: "a number",
  str: "a text string",
  bool: "a boolean",
  strs: "an array of text strings",
  info: "an array",
  ns: "an array of 5 unsigned integers",
  idnames: "an array of [id, name] pairs",
};

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Uint8Array) return `a byte string of ${v.length}`;
  if (typeof v === "string") {
    return `the string ${JSON.stringify(v.slice(0, 40))}`;
  }
  return `${typeof v} ${String(v).slice(0, 40)}`;
}
