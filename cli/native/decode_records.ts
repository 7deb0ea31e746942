/**
 * Decodes a buffer of C records (`driver/include/procrec_abi.h`, ABI 3) into
 * {@link ProcEvent}s. Pure: no I/O.
 *
 * @module
 */
import type {
  DecisionTextField,
  HashStatus,
  ImageHash,
  InfoField,
  LostReason,
  ProcessInfo,
  ProcEvent,
  Provenance,
  ThreadCreate,
} from "../events/types.ts";

/** Size of `struct pr_rec_header`. */
export const HEADER_BYTES = 40;

/** `enum pr_kind`. */
export const Kind = {
  PROCESS_CREATE: 1,
  EXEC: 2,
  PROCESS_EXIT: 3,
  THREAD_CREATE: 4,
  THREAD_EXIT: 5,
  COMM: 6,
  LOST: 7,
  SNAPSHOT: 8,
  IMAGE_LOAD: 9,
  EXEC_DECISION: 10,
  HASH: 11,
} as const;

/** `PR_F_*` header flags. */
export const Flag = {
  ARGV_TRUNCATED: 0x0001,
  IMAGE_TRUNCATED: 0x0002,
  PROCESS_EXITING: 0x0004,
  DENIED: 0x0008,
  COUNT_UNKNOWN: 0x0010,
  CMDLINE: 0x0020,
  GROUP_DEAD: 0x0040,
  REMOTE: 0x0080,
  EXEMPT: 0x0100,
  BY_CONTENT: 0x0200,
  EXIT_INFERRED: 0x0400,
} as const;

/** Fixed size of each kind, header included (the minimum `size`). */
export const FIXED_BYTES: Record<number, number> = {
  [Kind.PROCESS_CREATE]: 216,
  [Kind.EXEC]: 192,
  [Kind.PROCESS_EXIT]: 56,
  [Kind.THREAD_CREATE]: 56,
  [Kind.THREAD_EXIT]: 48,
  [Kind.COMM]: 48,
  [Kind.LOST]: 56,
  [Kind.SNAPSHOT]: 200,
  [Kind.IMAGE_LOAD]: 64,
  [Kind.EXEC_DECISION]: 120,
  [Kind.HASH]: 144,
};

/** `enum pr_hash_status` (index = code). */
export const HASH_STATUS: (HashStatus | undefined)[] = [
  undefined,
  "ok",
  "changed",
  "gone",
  "error",
  "skipped",
];

/** `PR_H_*` flags of `pr_rec_hash.hash_flags`. */
export const HashFlag = {
  CACHED: 0x1,
  VIA_EXE: 0x2,
  VIA_PATH: 0x4,
} as const;

/** `pr_rec_hash.err` of `changed` and `gone` (driver/linux/hasher.c). */
const HASH_WHY: Record<number, string> = {
  1: "other-file",
  2: "ctime-after-exec",
  3: "changed-while-read",
  4: "no-identity",
  5: "no-path",
  6: "path-missing",
};

/** A few errno names (Linux numbers) for `pr_rec_hash.err` of `error`. */
const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  12: "ENOMEM",
  13: "EACCES",
  20: "ENOTDIR",
  21: "EISDIR",
  40: "ELOOP",
  125: "ECANCELED",
};

/** `enum pr_provenance` (index = code). */
export const PROVENANCE: (Provenance | undefined)[] = [
  undefined,
  "kernel",
  "proc",
  "gone",
  "denied",
];

/** `enum pr_lost_reason` (index = code). */
export const LOST_REASONS: (LostReason | undefined)[] = [
  undefined,
  "enobufs",
  "seq_gap",
  "ring_full",
  "bpf_reserve",
  "driver_queue",
  "decode",
];

/** What {@link decodeRecords} found besides the events. */
export interface DecodeResult {
  events: ProcEvent[];
  /** Records of kinds this decoder does not know, skipped by their size. */
  unknown: number;
  /** Records with bad fields (a `lost` event of reason "decode" stands for each). */
  invalid: number;
  /** Sequence number of the last record, when any. */
  lastSeq?: bigint;
}

/** (a leading byte order mark is kept: it is part of the evidence) */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
/** The same, refusing bytes that are not UTF-8. */
const strictUtf8 = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

/**
 * Decodes whole records from `buf` (as `procrec_read` fills it). `t` of each
 * event is `mono_ns - timeBaseMonoNs`. A record of unknown kind is skipped
 * by its size and counted; a record whose fields are out of bounds becomes a
 * `lost` event of reason "decode"; a record whose size cannot be trusted
 * (not a multiple of 8, below the header, beyond the buffer) throws a
 * `RangeError`, since nothing after it can be framed. Strings are decoded as
 * UTF-8; bytes that are not UTF-8 (possible in Linux paths and arguments)
 * become U+FFFD.
 *
 * @example
 * ```ts
 * import { decodeRecords } from "./decode_records.ts";
 * const buf = new Uint8Array(48);
 * const v = new DataView(buf.buffer);
 * v.setUint16(0, 5, true); // PR_REC_THREAD_EXIT
 * v.setUint32(4, 48, true); // size
 * v.setBigUint64(16, 1_500n, true); // mono_ns
 * v.setUint32(32, 10, true); // pid
 * v.setUint32(36, 11, true); // tid
 * const { events } = decodeRecords(buf, 1_000n);
 * const e = events[0];
 * if (e.kind !== "thread_exit" || e.t !== 500 || e.tid !== 11) throw new Error();
 * ```
 */
export function decodeRecords(
  buf: Uint8Array,
  timeBaseMonoNs: bigint,
  ruleIds: readonly string[] = [],
): DecodeResult {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: DecodeResult = { events: [], unknown: 0, invalid: 0 };
  // times as plain numbers while they are exact (mono_ns below 2^53, some
  // 104 days of uptime), through BigInt beyond
  const baseNum = timeBaseMonoNs >= 0n && timeBaseMonoNs < 2n ** 53n
    ? Number(timeBaseMonoNs)
    : -1;
  let off = 0;
  let lastOff = -1;
  while (off < buf.length) {
    if (buf.length - off < HEADER_BYTES) {
      throw new RangeError(
        `Cannot decode records: ${
          buf.length - off
        } bytes at offset ${off} are less than a record header (${HEADER_BYTES})`,
      );
    }
    const kind = v.getUint16(off, true);
    const size = v.getUint32(off + 4, true);
    if (size < HEADER_BYTES || size % 8 !== 0 || size > buf.length - off) {
      throw new RangeError(
        `Cannot decode records: record at offset ${off} (kind ${kind}) has size ${size}, expected a multiple of 8 from ${HEADER_BYTES} to ${
          buf.length - off
        }`,
      );
    }
    lastOff = off;
    const fixed = FIXED_BYTES[kind];
    if (fixed === undefined) {
      out.unknown++;
    } else {
      const hi = v.getUint32(off + 20, true);
      const t = baseNum >= 0 && hi < 0x200000
        ? hi * 0x100000000 + v.getUint32(off + 16, true) - baseNum
        : Number(v.getBigUint64(off + 16, true) - timeBaseMonoNs);
      let ev: ProcEvent;
      try {
        if (size < fixed) {
          throw new RangeError(
            `size ${size} is less than the ${fixed} bytes of kind ${kind}`,
          );
        }
        ev = decodeOne(v, buf, off, kind, size, t, timeBaseMonoNs, ruleIds);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        out.invalid++;
        ev = { kind: "lost", t, pid: 0, tid: 0, reason: "decode", count: 1 };
      }
      out.events.push(ev);
    }
    off += size;
  }
  if (lastOff >= 0) out.lastSeq = v.getBigUint64(lastOff + 8, true);
  return out;
}

function decodeOne(
  v: DataView,
  buf: Uint8Array,
  off: number,
  kind: number,
  size: number,
  t: number,
  base: bigint,
  ruleIds: readonly string[],
): ProcEvent {
  const flags = v.getUint16(off + 2, true);
  const pid = v.getUint32(off + 32, true);
  const tid = v.getUint32(off + 36, true);
  // the kinds a storm is made of first, without the helpers below
  if (kind === Kind.THREAD_CREATE) {
    const creatorPid = v.getUint32(off + 40, true);
    const ev: ThreadCreate = {
      kind: "thread_create",
      t,
      pid,
      tid,
      creatorPid,
      creatorTid: v.getUint32(off + 44, true),
    };
    // another process made it: the source says whether that is a remote
    // creation or the process's first thread (PR_F_REMOTE)
    if (creatorPid !== pid) ev.remote = (flags & Flag.REMOTE) !== 0;
    return ev;
  }
  if (kind === Kind.THREAD_EXIT) {
    const ev: ProcEvent = {
      kind: "thread_exit",
      t,
      pid,
      tid,
      status: v.getUint32(off + 40, true),
    };
    if (flags & Flag.PROCESS_EXITING) ev.processExiting = true;
    return ev;
  }
  const u32 = (at: number) => v.getUint32(off + at, true);
  const u64 = (at: number) => v.getBigUint64(off + at, true);
  const str = (at: number) => readStr(v, buf, off, size, at);
  /** Start times: 0 means unknown, then the event's own time stands in. */
  const start = (at: number) => {
    const ns = u64(at);
    return ns === 0n ? t : Number(ns - base);
  };
  switch (kind) {
    case Kind.PROCESS_CREATE: {
      const info = readInfo(v, buf, off, size, 72, flags);
      return {
        kind: "process_create",
        t,
        pid,
        tid,
        ppid: u32(40),
        ptid: u32(44),
        creatorPid: u32(48),
        creatorTid: u32(52),
        start: start(56),
        ...(info ? { info } : {}),
        ...(flags & Flag.DENIED ? { denied: true } : {}),
      };
    }
    case Kind.EXEC:
      return {
        kind: "exec",
        t,
        pid,
        tid,
        info: readInfo(v, buf, off, size, 48, flags) ?? { from: {} },
      };
    case Kind.PROCESS_EXIT:
      return flags & Flag.EXIT_INFERRED
        ? { kind: "process_exit", t, pid, tid, status: u32(40), inferred: true }
        : { kind: "process_exit", t, pid, tid, status: u32(40) };
    case Kind.COMM: {
      const comm = str(40) ?? "";
      return wasNotUtf8(
          v,
          buf,
          off,
          40,
          comm,
          v.getUint32(off + 44, true) >= COMM_CUT,
        )
        ? { kind: "comm", t, pid, tid, comm, notUtf8: true }
        : { kind: "comm", t, pid, tid, comm };
    }
    case Kind.LOST: {
      const code = u32(40);
      const cpu = u32(44);
      const unknownCount = (flags & Flag.COUNT_UNKNOWN) !== 0;
      return {
        kind: "lost",
        t,
        pid,
        tid,
        reason: LOST_REASONS[code] ?? "decode",
        count: Number(u64(48)),
        ...(unknownCount ? { countUnknown: true } : {}),
        ...(cpu !== 0xffffffff ? { cpu } : {}),
      };
    }
    case Kind.SNAPSHOT: {
      const info = readInfo(v, buf, off, size, 56, flags);
      return {
        kind: "process_snapshot",
        t,
        pid,
        tid,
        ppid: u32(40),
        start: start(48),
        ...(info ? { info } : {}),
      };
    }
    case Kind.IMAGE_LOAD: {
      const image = str(56) ?? "";
      return {
        kind: "image_load",
        t,
        pid,
        tid,
        image,
        base: Number(u64(40)),
        size: Number(u64(48)),
        // (the DLL writes an unpaired surrogate as its value: bytes that
        // are not UTF-8, format 8)
        ...(wasNotUtf8(v, buf, off, 56, image) ? { notUtf8: true } : {}),
      };
    }
    case Kind.EXEC_DECISION: {
      const index = u32(40);
      const action = u32(44);
      if (action !== 1 && action !== 2) {
        throw new RangeError(`exec decision action ${action}, expected 1 or 2`);
      }
      const argv = str(96);
      const parentImage = str(104);
      const cgroup = str(112);
      const dev = u64(64), ino = u64(72);
      const base = {
        t,
        pid,
        tid,
        rule: ruleIds[index] ?? `#${index}`,
        image: str(88) ?? "",
        ...(argv !== undefined ? { argv: argv.split("\0") } : {}),
        ...(flags & Flag.ARGV_TRUNCATED ? { argvTruncated: true } : {}),
        ppid: u32(48),
        uid: u32(52),
        euid: u32(56),
        ...(parentImage ? { parentImage } : {}),
        ...(dev || ino ? { dev: Number(dev), ino: Number(ino) } : {}),
        ...(cgroup ? { cgroup } : {}),
      };
      const how = flags & Flag.BY_CONTENT ? { byContent: true } : {};
      // the texts whose bytes were not UTF-8 (format 8), in
      // DECISION_TEXT_FIELDS order, as the library's encoder finds them
      // (the arguments cut at the limit: a sequence cut short at their end
      // does not count)
      const image = base.image;
      const bad: DecisionTextField[] = [];
      if (wasNotUtf8(v, buf, off, 88, image)) bad.push("image");
      if (
        argv !== undefined &&
        wasNotUtf8(v, buf, off, 96, argv, (flags & Flag.ARGV_TRUNCATED) !== 0)
      ) bad.push("argv");
      if (parentImage && wasNotUtf8(v, buf, off, 104, parentImage)) {
        bad.push("parentImage");
      }
      if (cgroup && wasNotUtf8(v, buf, off, 112, cgroup)) bad.push("cgroup");
      const inexact = bad.length > 0 ? { notUtf8: bad } : {};
      return action === 1
        ? { kind: "exec_denied", ...base, ...how, ...inexact }
        : {
          kind: "exec_audited",
          ...base,
          ...(flags & Flag.EXEMPT ? { exempt: true } : {}),
          ...how,
          ...inexact,
        };
    }
    case Kind.HASH:
      return decodeHash(v, buf, off, t, pid, tid, base);
  }
  throw new RangeError(`kind ${kind} has no decoder`);
}

/** Decodes a `struct pr_rec_hash` into an `image_hash` event. */
function decodeHash(
  v: DataView,
  buf: Uint8Array,
  off: number,
  t: number,
  pid: number,
  tid: number,
  base: bigint,
): ProcEvent {
  const code = v.getUint32(off + 56, true);
  const status = HASH_STATUS[code];
  if (status === undefined) {
    throw new RangeError(`hash status ${code} is unknown, expected 1 to 5`);
  }
  const flags = v.getUint32(off + 60, true);
  const err = v.getUint32(off + 64, true);
  const execNs = v.getBigUint64(off + 48, true);
  const ino = v.getBigUint64(off + 80, true);
  const ev: ImageHash = {
    kind: "image_hash",
    t,
    pid,
    tid,
    execT: Number(execNs - base),
    status,
  };
  if (status === "ok") {
    let hex = "";
    for (let i = 0; i < 32; i++) {
      hex += buf[off + 112 + i].toString(16).padStart(2, "0");
    }
    ev.sha256 = hex;
  }
  if (flags & HashFlag.CACHED) ev.cached = true;
  if (flags & HashFlag.VIA_EXE) ev.via = "exe";
  else if (flags & HashFlag.VIA_PATH) ev.via = "path";
  if (status === "changed" || status === "gone") {
    if (HASH_WHY[err]) ev.reason = HASH_WHY[err];
  } else if (status === "skipped") {
    ev.reason = err === 125
      ? "stopped"
      : err === 27
      ? "too-large"
      : "queue-full";
  } else if (status === "error") {
    ev.reason = ERRNO[err] ?? `errno ${err}`;
  }
  if (ino !== 0n) ev.size = Number(v.getBigUint64(off + 88, true));
  return ev;
}

/** Reads a `struct pr_str` at record offset `at`; undefined when absent. */
function readStr(
  v: DataView,
  buf: Uint8Array,
  off: number,
  size: number,
  at: number,
): string | undefined {
  const so = v.getUint32(off + at, true);
  const sl = v.getUint32(off + at + 4, true);
  if (sl === 0) return so === 0 ? undefined : "";
  if (so < HEADER_BYTES || so > size || sl > size - so) {
    throw new RangeError(
      `string at record offset ${at} spans ${so}+${sl}, beyond the record's ${size} bytes`,
    );
  }
  return utf8.decode(buf.subarray(off + so, off + so + sl));
}

/**
 * Whether the `struct pr_str` at record offset `at`, read by {@link readStr}
 * as `text`, held bytes that are not UTF-8 (read as U+FFFD): only a text
 * with U+FFFD in it is decoded again, strictly. Of a text cut at capture
 * (`cut`), a sequence its end cuts short does not count (the bytes were
 * UTF-8 up to the cut): a streaming decoder keeps such an end for later.
 */
function wasNotUtf8(
  v: DataView,
  buf: Uint8Array,
  off: number,
  at: number,
  text: string | undefined,
  cut = false,
): boolean {
  if (text === undefined || !text.includes("\uFFFD")) return false;
  const so = v.getUint32(off + at, true);
  const sl = v.getUint32(off + at + 4, true);
  const bytes = buf.subarray(off + so, off + so + sl);
  try {
    if (cut) {
      new TextDecoder("utf-8", { ignoreBOM: true, fatal: true }).decode(
        bytes,
        { stream: true },
      );
    } else strictUtf8.decode(bytes);
    return false;
  } catch {
    return true;
  }
}

/** A comm this long may be cut (the kernel keeps TASK_COMM_LEN - 1 bytes). */
const COMM_CUT = 15;

const INFO_PROV: [InfoField, number][] = [
  ["image", 8],
  ["argv", 9],
  ["comm", 10],
  ["cwd", 11],
  ["cred", 12],
  ["file", 13],
  ["ns", 14],
  ["cgroup", 15],
];

/** `PR_I_*` of `pr_proc_info.image_flags`. */
export const ImageFlag = {
  FILELESS: 0x1,
  DELETED: 0x2,
  CGROUP_TRUNCATED: 0x4,
} as const;

/** `PR_ID_UNSET`: an audit id never set. */
const ID_UNSET = 0xffffffff;

/** `PR_INTEGRITY_KNOWN`: set in `integrity` with a RID. */
const INTEGRITY_KNOWN = 0x80000000;

/** Windows mandatory-label RIDs and their names. */
const INTEGRITY: Record<number, string> = {
  0x0000: "Untrusted",
  0x1000: "Low",
  0x2000: "Medium",
  0x2100: "MediumPlus",
  0x3000: "High",
  0x4000: "System",
  0x5000: "Protected",
};

/**
 * Reads a `struct pr_proc_info` at record offset `at`. A value is kept only
 * when its provenance says it was read (kernel or /proc) or says nothing;
 * "gone" and "denied" fields carry no value, never a guess.
 */
function readInfo(
  v: DataView,
  buf: Uint8Array,
  off: number,
  size: number,
  at: number,
  flags: number,
): ProcessInfo | undefined {
  const from: ProcessInfo["from"] = {};
  const prov: Partial<Record<InfoField, number>> = {};
  for (const [field, o] of INFO_PROV) {
    const code = v.getUint8(off + at + o);
    if (code >= PROVENANCE.length) {
      throw new RangeError(`provenance code ${code} of ${field} is unknown`);
    }
    prov[field] = code;
    const p = PROVENANCE[code];
    if (p) from[field] = p;
  }
  const usable = (f: InfoField) =>
    prov[f] === 0 || prov[f] === 1 || prov[f] === 2;
  const info: ProcessInfo = { from };
  let any = Object.keys(from).length > 0;
  const image = readStr(v, buf, off, size, at + 24);
  const argv = readStr(v, buf, off, size, at + 32);
  const comm = readStr(v, buf, off, size, at + 40);
  const cwd = readStr(v, buf, off, size, at + 48);
  if (image !== undefined && usable("image")) (info.image = image), any = true;
  if (argv !== undefined && usable("argv")) {
    if (flags & Flag.CMDLINE) info.cmdline = argv;
    else info.argv = splitArgv(argv, v.getUint32(off + at + 20, true));
    any = true;
  }
  if (comm !== undefined && usable("comm")) (info.comm = comm), any = true;
  if (cwd !== undefined && usable("cwd")) (info.cwd = cwd), any = true;
  const u32 = (o: number) => v.getUint32(off + at + o, true);
  const u64 = (o: number) => Number(v.getBigUint64(off + at + o, true));
  if (prov.cred === 1 || prov.cred === 2) {
    info.uid = u32(0);
    info.gid = u32(4);
    info.euid = u32(56);
    info.egid = u32(60);
    if (u32(64) !== ID_UNSET) info.loginUid = u32(64);
    if (u32(68) !== ID_UNSET) info.sessionId = u32(68);
    const integrity = u32(76);
    if (integrity & INTEGRITY_KNOWN) {
      const rid = integrity & 0xffff;
      info.integrityLevel = INTEGRITY[rid] ?? `0x${rid.toString(16)}`;
    }
    const user = readStr(v, buf, off, size, at + 136);
    if (user !== undefined) info.user = user;
  }
  const imageFlags = u32(72);
  if (prov.file === 1 || prov.file === 2) {
    info.dev = u64(80);
    info.ino = u64(88);
    if (imageFlags & ImageFlag.FILELESS) info.fileless = true;
    if (imageFlags & ImageFlag.DELETED) info.deletedImage = true;
    any = true;
  }
  if (prov.cgroup === 1 || prov.cgroup === 2) {
    const id = u64(96);
    if (id !== 0) info.cgroupId = id;
    const cg = readStr(v, buf, off, size, at + 128);
    if (cg !== undefined) info.cgroup = cg;
    any = true;
  }
  if (prov.ns === 1 || prov.ns === 2) {
    const ns: NonNullable<ProcessInfo["ns"]> = {};
    const names = ["pid", "mnt", "net", "user", "cgroup"] as const;
    names.forEach((n, i) => {
      const x = u32(104 + 4 * i);
      if (x !== 0) ns[n] = x;
    });
    info.ns = ns;
    any = true;
  }
  if (flags & Flag.ARGV_TRUNCATED) info.argvTruncated = true;
  // the texts whose bytes were not UTF-8, in InfoField order (as the
  // library's encoder finds them)
  // (cut at capture: an image or arguments past the limit, a cgroup path
  // past it, a comm at the kernel's 15 bytes)
  const bad: InfoField[] = [];
  if (
    info.image !== undefined &&
    wasNotUtf8(
      v,
      buf,
      off,
      at + 24,
      image,
      (flags & Flag.IMAGE_TRUNCATED) !== 0,
    )
  ) bad.push("image");
  if (
    (info.argv !== undefined || info.cmdline !== undefined) &&
    wasNotUtf8(v, buf, off, at + 32, argv, (flags & Flag.ARGV_TRUNCATED) !== 0)
  ) bad.push("argv");
  if (
    info.comm !== undefined &&
    wasNotUtf8(
      v,
      buf,
      off,
      at + 40,
      comm,
      v.getUint32(off + at + 44, true) >= COMM_CUT,
    )
  ) bad.push("comm");
  if (info.cwd !== undefined && wasNotUtf8(v, buf, off, at + 48, cwd)) {
    bad.push("cwd");
  }
  if (
    info.user !== undefined && wasNotUtf8(v, buf, off, at + 136, info.user)
  ) bad.push("cred");
  if (
    info.cgroup !== undefined &&
    wasNotUtf8(
      v,
      buf,
      off,
      at + 128,
      info.cgroup,
      (imageFlags & ImageFlag.CGROUP_TRUNCATED) !== 0,
    )
  ) bad.push("cgroup");
  if (bad.length > 0) info.notUtf8 = bad;
  return any ? info : undefined;
}

/**
 * Splits NUL-joined arguments. A trailing NUL (as in `/proc/PID/cmdline`) is
 * a terminator unless `argc` says the last argument is empty.
 *
 * @example
 * ```ts
 * import { splitArgv } from "./decode_records.ts";
 * const a = splitArgv("sh\0-c\0", 2);
 * if (a.length !== 2 || a[1] !== "-c") throw new Error(String(a));
 * const b = splitArgv("x\0", 2); // argc 2: the second argument is empty
 * if (b.length !== 2 || b[1] !== "") throw new Error(String(b));
 * ```
 */
export function splitArgv(joined: string, argc: number): string[] {
  if (joined === "") return argc > 0 ? [""] : [];
  const parts = joined.split("\0");
  if (
    parts.length > 1 && parts[parts.length - 1] === "" &&
    (argc === 0 || parts.length === argc + 1)
  ) {
    parts.pop();
  }
  return parts;
}
