/**
 * The fast path of chunk decoding: reads a chunk body (the CBOR array of
 * event arrays) straight into events, driven by the schema's positional
 * layouts, without building the intermediate arrays a generic CBOR decoder
 * makes and {@link decodeEvent} then walks.
 *
 * It takes only the well-formed case. Anything else — a value of an
 * unexpected type, a half or single float, a 64-bit integer, a tag, an indefinite length, a text that is not
 * valid UTF-8, an unknown kind, a missing field, extra items, bytes after
 * the array — makes it
 * return `undefined`, and the caller decodes the chunk the generic way,
 * which gives the same events and the error messages. So the two paths
 * cannot disagree on what a chunk holds; tests/fast_decode_test.ts checks
 * it on every fixture and a recorded storm.
 *
 * @module
 */
import { EVENT_KINDS, type ProcEvent } from "../events/types.ts";
import {
  type Field,
  INFO_FIELDS,
  INFO_LAYOUT,
  LAYOUT,
  NS_NAMES,
  PROVENANCE,
} from "./schema.ts";

/** Thrown inside, caught at the top: "not the simple case". */
const GIVE_UP = Symbol("give up");

/** The layouts by kind code (1-based, as encoded). */
const BY_CODE: (readonly Field[] | undefined)[] = [
  undefined,
  ...EVENT_KINDS.map((k) => LAYOUT[k]),
];

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

let buf: Uint8Array = new Uint8Array(0);
/** A float64 read big-endian through these (no DataView per body). */
const F64 = new Float64Array(1);
const F64_WORDS = new Uint32Array(F64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The places in {@link F64_WORDS} of the float's high and low 32 bits. */
const HI = LITTLE ? 1 : 0;
const LO = 1 - HI;

/** The big-endian float64 whose 8 bytes begin at `p` in {@link buf}. */
function f64At(p: number): number {
  const b = buf;
  F64_WORDS[HI] = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) |
    b[p + 3];
  F64_WORDS[LO] = (b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) |
    b[p + 7];
  return F64[0];
}
let pos = 0;
/** Where the body being decoded ends in {@link buf}. */
let limit = 0;
/**
 * Major type and argument of the head just read by {@link head}; a float64
 * (how the writer encodes integers past 32 bits) is major {@link FLOAT} with
 * its value in `arg`.
 */
let major = 0;
let arg = 0;
const FLOAT = 8;

/**
 * The events of a chunk body, or `undefined` when it is not the plain case
 * (see the module's documentation): decode it the generic way then.
 *
 * @example
 * ```ts
 * import { decodeEventBody } from "./decode_event_body.ts";
 * import { newEncoder } from "./_cbor.ts";
 * import { encodeEvent } from "./schema.ts";
 * const body = newEncoder().encode([
 *   encodeEvent({ kind: "thread_exit", t: 9, pid: 1, tid: 2, status: 0 }),
 * ]);
 * const events = decodeEventBody(body);
 * if (events?.[0].kind !== "thread_exit" || events[0].tid !== 2) throw new Error();
 * // a half float where an integer belongs: not the plain case
 * if (decodeEventBody(new Uint8Array([0x81, 0x84, 0x05, 0xf9, 0x3c, 0x00, 1, 2])) !== undefined) {
 *   throw new Error("half float taken");
 * }
 * ```
 */
export function decodeEventBody(
  body: Uint8Array,
  start = 0,
  end = body.length,
): ProcEvent[] | undefined {
  buf = body;
  pos = start;
  limit = end;
  kindsSeen = 0;
  try {
    head();
    if (major !== 4) return undefined;
    const n = arg;
    // no more events than bytes: a hostile count allocates nothing
    if (n > end - start) return undefined;
    const events: ProcEvent[] = new Array(n);
    for (let i = 0; i < n; i++) {
      events[i] = event();
      // counted by kind code here, where the code is at hand (the kind
      // string read back from events of many shapes is a slow lookup)
      if (KIND_COUNT[lastCode]++ === 0) KIND_ORDER[kindsSeen++] = lastCode;
    }
    if (pos !== end) return undefined;
    return events;
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  } finally {
    buf = EMPTY;
    takeKinds();
  }
}

/** Per kind code, the events of the body being decoded. */
const KIND_COUNT = new Int32Array(EVENT_KINDS.length + 1);
/** The kind codes of the body being decoded, in order of first appearance. */
const KIND_ORDER = new Int32Array(EVENT_KINDS.length + 1);
let kindsSeen = 0;
let lastCode = 0;
/**
 * The events per kind of the last body {@link decodeEventBody} decoded
 * whole: kind code and count, pairs in order of first appearance.
 */
let lastKinds: number[] = [];
const NO_KINDS: number[] = [];

function takeKinds(): void {
  if (kindsSeen === 0) {
    lastKinds = NO_KINDS;
    return;
  }
  const out: number[] = new Array(2 * kindsSeen);
  for (let i = 0; i < kindsSeen; i++) {
    const code = KIND_ORDER[i];
    out[2 * i] = code;
    out[2 * i + 1] = KIND_COUNT[code];
    KIND_COUNT[code] = 0;
  }
  lastKinds = out;
}

/**
 * The events per kind of the body the last call of {@link decodeEventBody}
 * returned (kind code, count: pairs in order of first appearance), for
 * counting them without reading each event's kind back. Valid until the next
 * call.
 *
 * @example
 * ```ts
 * import { decodeEventBody, decodedKinds } from "./decode_event_body.ts";
 * import { newEncoder } from "./_cbor.ts";
 * import { encodeEvent } from "./schema.ts";
 * const body = newEncoder().encode([
 *   encodeEvent({ kind: "thread_exit", t: 9, pid: 1, tid: 2, status: 0 }),
 *   encodeEvent({ kind: "comm", t: 9, pid: 1, tid: 2, comm: "x" }),
 *   encodeEvent({ kind: "thread_exit", t: 9, pid: 1, tid: 3, status: 0 }),
 * ]);
 * decodeEventBody(body);
 * const k = decodedKinds();
 * if (k.length !== 4 || k[1] !== 2 || k[3] !== 1) throw new Error(`${k}`);
 * ```
 */
export function decodedKinds(): readonly number[] {
  return lastKinds;
}

const EMPTY = new Uint8Array(0);

function event(): ProcEvent {
  if (head() !== 4 || arg < 4) throw GIVE_UP;
  const items = arg;
  if (head() !== 0) throw GIVE_UP;
  const code = arg;
  const layout = BY_CODE[code];
  if (layout === undefined || items - 4 > layout.length) throw GIVE_UP;
  const kind = EVENT_KINDS[code - 1];
  lastCode = code;
  const t = int(), pid = uint(), tid = uint();
  // the kinds a storm or a build is made of, as literals of one shape each
  // (what the generic path below makes of them, key for key, in order)
  switch (code) {
    case THREAD_CREATE:
      if (items !== 6) break;
      return {
        kind,
        t,
        pid,
        tid,
        creatorPid: uint(),
        creatorTid: uint(),
      } as ProcEvent;
    case THREAD_EXIT:
    case PROCESS_EXIT:
      if (items !== 5) break;
      return { kind, t, pid, tid, status: uint() } as ProcEvent;
    case PROCESS_CREATE: {
      if (items !== 9 && items !== 10) break;
      const ppid = uint(), ptid = uint(), creatorPid = uint();
      const creatorTid = uint(), start = int();
      // with its description (a Windows creation, an import): one shape too
      if (items === 10 && !(head() === 7 && (arg === 22 || arg === 23))) {
        return {
          kind,
          t,
          pid,
          tid,
          ppid,
          ptid,
          creatorPid,
          creatorTid,
          start,
          info: infoHere(),
        } as ProcEvent;
      }
      return {
        kind,
        t,
        pid,
        tid,
        ppid,
        ptid,
        creatorPid,
        creatorTid,
        start,
      } as ProcEvent;
    }
    case EXEC:
      if (items !== 5) break;
      // info is required: null goes the generic way
      if (head() !== 4) throw GIVE_UP;
      return { kind, t, pid, tid, info: infoHere() } as unknown as ProcEvent;
    case COMM:
      // (with notUtf8: the generic way, which takes only true)
      if (items !== 5) throw GIVE_UP;
      head();
      return { kind, t, pid, tid, comm: strHere() } as ProcEvent;
  }
  // (a decision or an image load with notUtf8: the generic way, which
  // checks it)
  if (items - 4 === layout.length && LAST_CHECKED[code] === 1) throw GIVE_UP;
  const ev: Record<string, unknown> = { kind, t, pid, tid };
  fields(ev, layout, items - 4);
  return ev as unknown as ProcEvent;
}

const THREAD_CREATE = EVENT_KINDS.indexOf("thread_create") + 1;
const THREAD_EXIT = EVENT_KINDS.indexOf("thread_exit") + 1;
const PROCESS_EXIT = EVENT_KINDS.indexOf("process_exit") + 1;
const PROCESS_CREATE = EVENT_KINDS.indexOf("process_create") + 1;
const EXEC = EVENT_KINDS.indexOf("exec") + 1;
const COMM = EVENT_KINDS.indexOf("comm") + 1;
/**
 * 1 at the codes of the kinds whose last field is a `notUtf8` that the
 * generic decoder checks (exec rule decisions, image loads).
 */
const LAST_CHECKED = new Uint8Array(EVENT_KINDS.length + 1);
for (const k of ["exec_denied", "exec_audited", "image_load"] as const) {
  LAST_CHECKED[EVENT_KINDS.indexOf(k) + 1] = 1;
}

/** Reads `present` of `layout`'s fields into `into`; the rest are absent. */
function fields(
  into: Record<string, unknown>,
  layout: readonly Field[],
  present: number,
): void {
  for (let i = 0; i < layout.length; i++) {
    const [name, type, optional] = layout[i];
    if (i >= present) {
      if (!optional) throw GIVE_UP;
      continue;
    }
    head();
    if (major === 7 && (arg === 22 || arg === 23)) {
      // null or undefined: absent
      if (!optional) throw GIVE_UP;
      continue;
    }
    switch (type) {
      case "uint":
        into[name] = uintHere();
        break;
      case "int":
        into[name] = intHere();
        break;
      case "num":
        into[name] = numHere();
        break;
      case "str":
        into[name] = strHere();
        break;
      case "bool":
        into[name] = boolHere();
        break;
      case "strs":
        into[name] = strsHere();
        break;
      case "info":
        into[name] = infoHere();
        break;
      case "idnames":
        into[name] = idNamesHere();
        break;
      default:
        // ns only inside info
        throw GIVE_UP;
    }
  }
}

/**
 * The field names of {@link infoHere}'s cases, in order: if the schema's
 * INFO_LAYOUT ever differs, every info goes the generic way (and the fast
 * path test notices).
 */
const INFO_CASES =
  "image,argv,comm,cwd,uid,gid,from,argvTruncated,cmdline,user,euid,egid,loginUid,sessionId,dev,ino,fileless,deletedImage,cgroupId,cgroup,ns,integrityLevel,sha256,hashes,originalFileName,description,product,company,logonId,logonGuid";
const INFO_MATCHES = INFO_LAYOUT.map(([name]) => name).join() === INFO_CASES &&
  INFO_FIELDS[0] === "image" && INFO_FIELDS[1] === "argv";

function infoHere(): Record<string, unknown> {
  if (major !== 4 || arg > INFO_LAYOUT.length || !INFO_MATCHES) throw GIVE_UP;
  const present = arg;
  if (present === 7) {
    // image, argv and where they came from (what an exec's description
    // mostly is): one object of its three keys, in the order the general
    // case below gives them
    const start = pos;
    if (head() === 3) {
      const image = strHere();
      if (head() === 4) {
        const argv = strsHere();
        if (
          pos + 4 < limit && buf[pos] === NULL && buf[pos + 1] === NULL &&
          buf[pos + 2] === NULL && buf[pos + 3] === NULL
        ) {
          pos += 4;
          // (a null there: no provenance, as below)
          const from = head() === 7 && (arg === 22 || arg === 23)
            ? NO_FROM
            : fromHere();
          return { from, image, argv };
        }
      }
    }
    pos = start;
  }
  const info: Record<string, unknown> = { from: {} };
  // one named store per field (not a store by computed name)
  for (let i = 0; i < present; i++) {
    if (head() === 7 && (arg === 22 || arg === 23)) continue;
    switch (i) {
      case 0:
        info.image = strHere();
        break;
      case 1:
        info.argv = strsHere();
        break;
      case 2:
        info.comm = strHere();
        break;
      case 3:
        info.cwd = strHere();
        break;
      case 4:
        info.uid = uintHere();
        break;
      case 5:
        info.gid = uintHere();
        break;
      case 6:
        info.from = fromHere();
        break;
      case 7:
        info.argvTruncated = boolHere();
        break;
      case 8:
        info.cmdline = strHere();
        break;
      case 9:
        info.user = strHere();
        break;
      case 10:
        info.euid = uintHere();
        break;
      case 11:
        info.egid = uintHere();
        break;
      case 12:
        info.loginUid = uintHere();
        break;
      case 13:
        info.sessionId = uintHere();
        break;
      case 14:
        info.dev = uintHere();
        break;
      case 15:
        info.ino = uintHere();
        break;
      case 16:
        info.fileless = boolHere();
        break;
      case 17:
        info.deletedImage = boolHere();
        break;
      case 18:
        info.cgroupId = uintHere();
        break;
      case 19:
        info.cgroup = strHere();
        break;
      case 20:
        info.ns = nsHere();
        break;
      case 21:
        info.integrityLevel = strHere();
        break;
      case 22:
        info.sha256 = strHere();
        break;
      case 23:
        info.hashes = strHere();
        break;
      case 24:
        info.originalFileName = strHere();
        break;
      case 25:
        info.description = strHere();
        break;
      case 26:
        info.product = strHere();
        break;
      case 27:
        info.company = strHere();
        break;
      case 28:
        info.logonId = strHere();
        break;
      case 29:
        info.logonGuid = strHere();
        break;
    }
  }
  return info;
}

/** The CBOR byte of null. */
const NULL = 0xf6;

function fromHere(): Record<string, string> {
  if (major !== 4) throw GIVE_UP;
  const n = arg;
  if (n === 5 && pos + 5 <= limit) {
    // the image's and argv's provenance only: one object of both keys
    const a = buf[pos], b = buf[pos + 1];
    if (
      a > 0 && a < 24 && b > 0 && b < 24 && (buf[pos + 2] | buf[pos + 3] |
          buf[pos + 4]) === 0
    ) {
      const image = PROVENANCE[a], argv = PROVENANCE[b];
      if (image !== undefined && argv !== undefined) {
        pos += 5;
        // one frozen object per pair of codes, shared by every exec
        return FROM_PAIRS[a * 24 + b] ??= Object.freeze({ image, argv });
      }
    }
  }
  const from: Record<string, string> = {};
  for (let j = 0; j < n; j++) {
    if (head() !== 0) throw GIVE_UP;
    if (arg === 0) continue;
    const p = PROVENANCE[arg];
    if (p === undefined || j >= INFO_FIELDS.length) throw GIVE_UP;
    if (j === 0) from.image = p;
    else if (j === 1) from.argv = p;
    else from[INFO_FIELDS[j]] = p;
  }
  return from;
}

function nsHere(): Record<string, number> {
  if (major !== 4 || arg !== NS_NAMES.length) throw GIVE_UP;
  const ns: Record<string, number> = {};
  for (let j = 0; j < NS_NAMES.length; j++) {
    head();
    const v = uintHere();
    if (v !== 0) ns[NS_NAMES[j]] = v;
  }
  return ns;
}

/**
 * The provenance of an exec's image and argv (`info.from` of nearly every
 * exec) by their two codes (each under 24): one frozen object per pair,
 * shared by every event that has it, instead of one object per exec (a
 * forest keeps one per exec step). Frozen: a reader that changed one would
 * change every event's; none does, and a write would throw.
 */
const FROM_PAIRS: (Record<string, string> | undefined)[] = new Array(24 * 24);
/** `info.from` of an exec with no provenance recorded (null), shared. */
const NO_FROM: Record<string, string> = Object.freeze({});

function strsHere(): string[] {
  if (major !== 4 || arg > limit - pos) throw GIVE_UP;
  const n = arg;
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    head();
    out[i] = strHere();
  }
  return out;
}

/** `[[id, name], ...]` (the account tables). */
function idNamesHere(): [number, string][] {
  if (major !== 4 || arg > limit - pos) throw GIVE_UP;
  const n = arg;
  const out: [number, string][] = new Array(n);
  for (let i = 0; i < n; i++) {
    if (head() !== 4 || arg !== 2) throw GIVE_UP;
    const id = uint();
    head();
    out[i] = [id, strHere()];
  }
  return out;
}

function boolHere(): boolean {
  if (major !== 7 || (arg !== 20 && arg !== 21)) throw GIVE_UP;
  return arg === 21;
}

function int(): number {
  const ib = buf[pos];
  // the usual heads in line: an unsigned integer of up to 32 bits, and a
  // float64 that is a safe integer (how the writer encodes times past 32
  // bits: every time of a real recording)
  if (ib <= 0x1a && pos + 5 <= limit) return uintAt(ib);
  if (ib === 0xfb && pos + 9 <= limit) {
    const v = f64At(pos + 1);
    if (Number.isSafeInteger(v)) {
      pos += 9;
      return v;
    }
  }
  head();
  return intHere();
}

function uint(): number {
  const ib = buf[pos];
  if (ib <= 0x1a && pos + 5 <= limit) return uintAt(ib);
  // (pids, tids and statuses fit 32 bits: the rest out of line)
  head();
  return uintHere();
}

/**
 * The unsigned integer whose head `ib` (0x00-0x1a) is at {@link pos}, with
 * at least 5 bytes left.
 */
function uintAt(ib: number): number {
  if (ib < 0x18) {
    pos += 1;
    return ib;
  }
  if (ib === 0x19) {
    const v = (buf[pos + 1] << 8) | buf[pos + 2];
    pos += 3;
    return v;
  }
  if (ib === 0x1a) {
    const v = ((buf[pos + 1] << 24) >>> 0) + (buf[pos + 2] << 16) +
      (buf[pos + 3] << 8) + buf[pos + 4];
    pos += 5;
    return v;
  }
  const v = buf[pos + 1];
  pos += 2;
  return v;
}

function uintHere(): number {
  if (major === 0) return arg;
  if (major === FLOAT && Number.isSafeInteger(arg) && arg >= 0) return arg;
  throw GIVE_UP;
}

function intHere(): number {
  if (major === 0) return arg;
  if (major === 1) return -1 - arg;
  if (major === FLOAT && Number.isSafeInteger(arg)) return arg;
  throw GIVE_UP;
}

function numHere(): number {
  if (major !== FLOAT) return intHere();
  if (!Number.isFinite(arg)) throw GIVE_UP;
  return arg;
}

/**
 * Short ASCII texts decoded lately, by a hash of their bytes: recordings
 * repeat images, command lines and users massively, and a repeated text
 * then costs no allocation and is one string object wherever it recurs
 * (whose hash V8 keeps: a Map lookup by it costs no rehash). Texts of more
 * than 12 characters are made flat (one piece), never by adding characters
 * one by one: V8 would chain the pieces, and each later use of the string
 * as a Map key or a search would first copy it flat. Texts of up to 12
 * characters have a table of their own (see {@link SHORT}), compared by
 * numbers, not by characters (comparing the characters with a string seen
 * before cost more than making a new string).
 */
const SEEN_MASK = (1 << 14) - 1;
const SEEN: (string | undefined)[] = new Array(SEEN_MASK + 1);

/**
 * ASCII texts of up to 12 characters decoded lately (argv words, short
 * images, users, comms), by a hash of their bytes: per slot the length and
 * the bytes packed into three 32-bit numbers (in {@link SHORT_KEYS}), and
 * the string (in {@link SHORT}). A repeated short text then costs four
 * numbers compared instead of a new string (making it was the decoder's
 * biggest cost on the bench recording); an empty slot holds the key of the
 * empty text, and the empty text.
 */
const SHORT_MASK = (1 << 14) - 1;
const SHORT_KEYS = new Int32Array(4 * (SHORT_MASK + 1));
const SHORT: string[] = new Array<string>(SHORT_MASK + 1).fill("");

function strHere(): string {
  if (major !== 3) throw GIVE_UP;
  const n = arg;
  const end = pos + n;
  if (end > limit) throw GIVE_UP;
  if (n <= 12) {
    // its bytes packed into three numbers, with the length the key of a
    // table of the short texts decoded lately (see SHORT): a text seen
    // before is the same string again, four numbers compared
    let w0 = 0, w1 = 0, w2 = 0, any = 0;
    const a = pos;
    const m0 = n < 4 ? end : a + 4;
    for (let i = a; i < m0; i++) {
      const c = buf[i];
      any |= c;
      w0 = (w0 << 8) | c;
    }
    const m1 = n < 8 ? end : a + 8;
    for (let i = a + 4; i < m1; i++) {
      const c = buf[i];
      any |= c;
      w1 = (w1 << 8) | c;
    }
    for (let i = a + 8; i < end; i++) {
      const c = buf[i];
      any |= c;
      w2 = (w2 << 8) | c;
    }
    if (any >= 0x80) {
      const s = utf8Here(end);
      pos = end;
      return s;
    }
    let h = Math.imul(w0 ^ n, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca6b) ^
      Math.imul(w2, 0xc2b2ae35);
    h ^= h >>> 15;
    const slot = h & SHORT_MASK;
    const k = 4 * slot;
    const keys = SHORT_KEYS;
    pos = end;
    if (
      keys[k] === n && keys[k + 1] === w0 && keys[k + 2] === w1 &&
      keys[k + 3] === w2
    ) return SHORT[slot];
    // made in one call from its characters: one string, where adding the
    // characters one by one made a new string per character
    const s = shortAscii(buf, a, n);
    keys[k] = n;
    keys[k + 1] = w0;
    keys[k + 2] = w1;
    keys[k + 3] = w2;
    SHORT[slot] = s;
    return s;
  }
  if (n <= 64) {
    // short and ASCII (nearly every text): no decoder call, and a text seen
    // lately is the same string again (see SEEN)
    let h = n;
    for (let i = pos; i < end; i++) {
      const c = buf[i];
      if (c >= 0x80) {
        const s = utf8Here(end);
        pos = end;
        return s;
      }
      h = (Math.imul(h, 31) + c) | 0;
    }
    const slot = (h ^ (h >>> 15)) & SEEN_MASK;
    const old = SEEN[slot];
    if (old !== undefined && old.length === n) {
      let i = 0;
      while (i < n && old.charCodeAt(i) === buf[pos + i]) i++;
      if (i === n) {
        pos = end;
        return old;
      }
    }
    const s = utf8Here(end);
    SEEN[slot] = s;
    pos = end;
    return s;
  }
  const s = utf8Here(end);
  pos = end;
  return s;
}

/**
 * The `n` (at most 12) ASCII characters of `b` at `at`, as one string made
 * in one call.
 */
function shortAscii(b: Uint8Array, at: number, n: number): string {
  const f = String.fromCharCode;
  switch (n) {
    case 0:
      return "";
    case 1:
      return f(b[at]);
    case 2:
      return f(b[at], b[at + 1]);
    case 3:
      return f(b[at], b[at + 1], b[at + 2]);
    case 4:
      return f(b[at], b[at + 1], b[at + 2], b[at + 3]);
    case 5:
      return f(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4]);
    case 6:
      return f(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5]);
    case 7:
      return f(
        b[at],
        b[at + 1],
        b[at + 2],
        b[at + 3],
        b[at + 4],
        b[at + 5],
        b[at + 6],
      );
    case 8:
      return f(
        b[at],
        b[at + 1],
        b[at + 2],
        b[at + 3],
        b[at + 4],
        b[at + 5],
        b[at + 6],
        b[at + 7],
      );
    case 9:
      return f(
        b[at],
        b[at + 1],
        b[at + 2],
        b[at + 3],
        b[at + 4],
        b[at + 5],
        b[at + 6],
        b[at + 7],
        b[at + 8],
      );
    case 10:
      return f(
        b[at],
        b[at + 1],
        b[at + 2],
        b[at + 3],
        b[at + 4],
        b[at + 5],
        b[at + 6],
        b[at + 7],
        b[at + 8],
        b[at + 9],
      );
    case 11:
      return f(
        b[at],
        b[at + 1],
        b[at + 2],
        b[at + 3],
        b[at + 4],
        b[at + 5],
        b[at + 6],
        b[at + 7],
        b[at + 8],
        b[at + 9],
        b[at + 10],
      );
    case 12:
      return f(
        b[at],
        b[at + 1],
        b[at + 2],
        b[at + 3],
        b[at + 4],
        b[at + 5],
        b[at + 6],
        b[at + 7],
        b[at + 8],
        b[at + 9],
        b[at + 10],
        b[at + 11],
      );
    default: {
      let s = "";
      for (let i = at; i < at + n; i++) s += f(b[i]);
      return s;
    }
  }
}

function utf8Here(end: number): string {
  try {
    return utf8.decode(buf.subarray(pos, end));
  } catch {
    // not valid UTF-8: the generic decoder says what it makes of it
    throw GIVE_UP;
  }
}

/**
 * Reads one head into {@link major} and {@link arg}; gives up on what the
 * plain case never holds (indefinite lengths, tags, floats, integers past
 * 32 bits, a head cut off).
 */
function head(): number {
  if (pos >= limit) throw GIVE_UP;
  const ib = buf[pos++];
  major = ib >> 5;
  const ai = ib & 31;
  if (major === 6) throw GIVE_UP;
  if (ai < 24) {
    arg = ai;
    return major;
  }
  if (major === 7) {
    // a float64 (how the writer encodes numbers past 32 bits); half and
    // single floats, simple values past 23 and a break: the generic way
    if (ai !== 27 || pos + 8 > limit) throw GIVE_UP;
    major = FLOAT;
    arg = f64At(pos);
    pos += 8;
    return major;
  }
  switch (ai) {
    case 24:
      if (pos + 1 > limit) throw GIVE_UP;
      arg = buf[pos];
      pos += 1;
      return major;
    case 25:
      if (pos + 2 > limit) throw GIVE_UP;
      arg = (buf[pos] << 8) | buf[pos + 1];
      pos += 2;
      return major;
    case 26:
      if (pos + 4 > limit) throw GIVE_UP;
      arg = ((buf[pos] << 24) >>> 0) + (buf[pos + 1] << 16) +
        (buf[pos + 2] << 8) + buf[pos + 3];
      pos += 4;
      return major;
    default:
      // 27: a 64-bit integer, which the generic decoder makes a BigInt
      // (refused where a number belongs); 28-31: indefinite or reserved
      throw GIVE_UP;
  }
}
