/**
 * An open native event source: the handle of `procrec_open` with typed
 * methods. Needs `--allow-ffi` and the privilege of the source (root, or
 * CAP_NET_ADMIN for the proc connector, CAP_BPF and CAP_PERFMON for eBPF).
 *
 * @module
 */
import { ABI_LAYOUT } from "./abi_layout.ts";
import {
  cString,
  loadLibrary,
  type NativeLibrary,
  SOURCE_PRIVILEGE,
  statusError,
} from "./ffi.ts";

/** Which kernel mechanism to record from (`enum pr_source`). */
export type SourceName = "auto" | "netlink" | "ebpf" | "windows";

/** `enum pr_source` (index = code). */
export const SOURCE_CODES: SourceName[] = [
  "auto",
  "netlink",
  "ebpf",
  "windows",
];

/** `PR_OPT_*` flags. */
export const OPT_NO_SNAPSHOT = 0x1;
/** Do not read /proc for exec events. */
export const OPT_NO_ENRICH = 0x2;
/** Enforce exec rules (`PR_OPT_EXEC_RULES`; the rules come by {@link Control.EXEC_RULES}). */
export const OPT_EXEC_RULES = 0x8;
/** Do not hash exec'd images (ABI 4): no `image_hash` events. */
export const OPT_NO_HASH = 0x10;

/** `enum pr_control`. */
export const Control = {
  PAUSE_READER: 1,
  RESUME_READER: 2,
  INJECT: 3,
  EXEC_RULES: 5,
  /** Tests: the image hash worker waits (jobs queue) until resumed. */
  PAUSE_HASHER: 6,
  RESUME_HASHER: 7,
  /** Linux, before start: load the image hash cache file (arg: its path). */
  HASH_CACHE_LOAD: 8,
  /** Linux, after stop: save the image hash cache file (arg: its path). */
  HASH_CACHE_SAVE: 9,
} as const;

/** Options of {@link EventSource.open} (`struct procrec_options`). */
export interface SourceOptions {
  source?: SourceName;
  /** `PR_OPT_*` flags. */
  flags?: number;
  /** The library's ring in bytes (0: its default). */
  ringBytes?: number;
  /** Netlink receive buffer in bytes (0: its default). */
  rcvbufBytes?: number;
  /** BPF ring buffer in bytes (0: its default). */
  bpfRingBytes?: number;
  /** Per-string byte limit (0: 4096). */
  maxString?: number;
}

/** `struct procrec_stats`. */
export interface SourceStats {
  records: bigint;
  bytes: bigint;
  lostTotal: bigint;
  lostEnobufs: bigint;
  lostSeqGap: bigint;
  lostRing: bigint;
  lostBpf: bigint;
  lostDriver: bigint;
  ringUsed: bigint;
  ringSize: bigint;
  enrichOk: bigint;
  enrichGone: bigint;
  kernelMsgs: bigint;
  /** Image files read and hashed. */
  hashRead: bigint;
  /** Image hashes taken from the cache. */
  hashCached: bigint;
  /** Bytes read for hashing. */
  hashBytes: bigint;
  /** Hash jobs not attempted (queue full, or left at stop). */
  hashSkipped: bigint;
  /** Files the exec rules hashed: their size was a `file:` rule's (ABI 5). */
  execHashed: bigint;
  /** ... whose hash came from the enforcer's cache. */
  execHashCached: bigint;
}

/** Each {@link SourceStats} field and its `struct procrec_stats` field. */
export const STATS_FIELDS: [keyof SourceStats, string][] = [
  ["records", "records"],
  ["bytes", "bytes"],
  ["lostTotal", "lost_total"],
  ["lostEnobufs", "lost_enobufs"],
  ["lostSeqGap", "lost_seq_gap"],
  ["lostRing", "lost_ring"],
  ["lostBpf", "lost_bpf"],
  ["lostDriver", "lost_driver"],
  ["ringUsed", "ring_used"],
  ["ringSize", "ring_size"],
  ["enrichOk", "enrich_ok"],
  ["enrichGone", "enrich_gone"],
  ["kernelMsgs", "kernel_msgs"],
  ["hashRead", "hash_read"],
  ["hashCached", "hash_cached"],
  ["hashBytes", "hash_bytes"],
  ["hashSkipped", "hash_skipped"],
  ["execHashed", "exec_hashed"],
  ["execHashCached", "exec_hash_cached"],
];
const OPTIONS = ABI_LAYOUT.structs.procrec_options;
const STATS = ABI_LAYOUT.structs.procrec_stats;

/** Encodes `struct procrec_options` (little-endian, by `ABI_LAYOUT`). */
export function encodeOptions(o: SourceOptions): Uint8Array<ArrayBuffer> {
  const buf = new Uint8Array(OPTIONS.size);
  const v = new DataView(buf.buffer);
  const src = SOURCE_CODES.indexOf(o.source ?? "auto");
  const fields: [keyof typeof OPTIONS.fields, number][] = [
    ["size", OPTIONS.size],
    ["source", src],
    ["flags", o.flags ?? 0],
    ["ring_bytes", o.ringBytes ?? 0],
    ["rcvbuf_bytes", o.rcvbufBytes ?? 0],
    ["bpf_ring_bytes", o.bpfRingBytes ?? 0],
    ["max_string", o.maxString ?? 0],
  ];
  for (const [name, x] of fields) {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) {
      throw new RangeError(
        `Cannot open the event source: option ${name} is ${x}, expected 0 to 4294967295`,
      );
    }
    v.setUint32(OPTIONS.fields[name], x, true);
  }
  return buf;
}

/**
 * A native event source, opened and not yet started.
 *
 * ```ts ignore
 * const src = EventSource.open({ source: "netlink" });
 * src.start();
 * const buf = new Uint8Array(1 << 20);
 * const n = await src.read(buf, 100);
 * src.close();
 * ```
 */
export class EventSource {
  #lib: NativeLibrary;
  #h: Deno.PointerValue;
  #closed = false;
  #reading: Promise<number> | undefined;

  private constructor(
    lib: NativeLibrary,
    h: Deno.PointerValue,
    readonly requested: SourceName,
  ) {
    this.#lib = lib;
    this.#h = h;
  }

  /** Opens a source; throws a typed error (privilege, support, ABI). */
  static open(options: SourceOptions = {}, libPath?: string): EventSource {
    const lib = loadLibrary(libPath);
    const out = new BigUint64Array(1);
    const rc = lib.procrec_open(
      encodeOptions(options),
      new Uint8Array(out.buffer),
    );
    const requested = options.source ?? "auto";
    if (rc < 0 || out[0] === 0n) {
      const msg = lastError(lib, null);
      throw statusError(
        rc < 0 ? rc : -5,
        `open the ${requested} event source`,
        msg,
        SOURCE_PRIVILEGE[requested],
      );
    }
    return new EventSource(lib, Deno.UnsafePointer.create(out[0]), requested);
  }

  #check(rc: number, action: string): number {
    if (rc < 0) {
      throw statusError(
        rc,
        action,
        lastError(this.#lib, this.#h),
        SOURCE_PRIVILEGE[this.requested],
      );
    }
    return rc;
  }

  /** Starts delivering events (snapshot first, unless disabled). */
  start(): void {
    this.#check(this.#lib.procrec_start(this.#h), "start the event source");
  }

  /** The source in use and why it was chosen (`procrec_source`). */
  info(): { name: SourceName; reason: string } {
    const buf = new Uint8Array(512);
    const code = this.#lib.procrec_source(this.#h, buf, buf.length);
    const text = cString(buf);
    const name = SOURCE_CODES[code] ?? "auto";
    const reason = text.startsWith(`${name}:`)
      ? text.slice(name.length + 1).trim()
      : text;
    return { name, reason };
  }

  /**
   * Reads whole records into `buf` without blocking the event loop; resolves
   * to the byte count (0 on timeout). One read at a time.
   */
  async read(buf: Uint8Array<ArrayBuffer>, timeoutMs: number): Promise<number> {
    if (this.#reading) {
      throw new Error("Cannot read the event source: a read is under way");
    }
    this.#reading = this.#lib.procrec_read(
      this.#h,
      buf,
      buf.length,
      timeoutMs,
    );
    try {
      return this.#check(await this.#reading, "read the event source");
    } finally {
      this.#reading = undefined;
    }
  }

  /** The library's counters. */
  stats(): SourceStats {
    const buf = new Uint8Array(STATS.size);
    this.#check(
      this.#lib.procrec_stats(this.#h, buf),
      "read the event source's statistics",
    );
    const v = new DataView(buf.buffer);
    const s = {} as SourceStats;
    for (const [k, c] of STATS_FIELDS) {
      s[k] = v.getBigUint64(
        STATS.fields[c as keyof typeof STATS.fields],
        true,
      );
    }
    return s;
  }

  /** Sends a control (`enum pr_control`), e.g. pausing the reader in tests. */
  control(op: number, arg: Uint8Array<ArrayBuffer> = new Uint8Array(0)): void {
    this.#check(
      this.#lib.procrec_control(this.#h, op, arg, arg.length),
      `control the event source (op ${op})`,
    );
  }

  /**
   * Loads (before {@link start}) or saves (after {@link stop}) the image
   * hash cache kept between runs (`PR_CTL_HASH_CACHE_LOAD` / `SAVE`,
   * driver/linux/hash_cache_file.h). Returns the entries loaded or written
   * (0 when there is no file yet), or the library's warning when it refused
   * the file (its owner, mode, directory, boot or contents; the text names
   * the file and, when malformed, the offset and field): the recording goes
   * on without it.
   *
   * ```ts ignore
   * const r = src.hashCacheFile("load", "/var/cache/procrec/image-hashes");
   * if (typeof r !== "number") console.error(r.warning);
   * ```
   */
  hashCacheFile(
    op: "load" | "save",
    path: string,
  ): number | { warning: string } {
    const arg = new TextEncoder().encode(path);
    const rc = this.#lib.procrec_control(
      this.#h,
      op === "load" ? Control.HASH_CACHE_LOAD : Control.HASH_CACHE_SAVE,
      arg,
      arg.length,
    );
    if (rc >= 0) return rc;
    return { warning: lastError(this.#lib, this.#h) };
  }

  /** Stops the kernel side; records already queued can still be read. */
  stop(): void {
    this.#check(this.#lib.procrec_stop(this.#h), "stop the event source");
  }

  /** Frees the handle (waits for a read under way first). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reading) await this.#reading.catch(() => 0);
    this.#lib.procrec_close(this.#h);
  }
}

function lastError(lib: NativeLibrary, h: Deno.PointerValue): string {
  const buf = new Uint8Array(1024);
  lib.procrec_last_error(h, buf, buf.length);
  return cString(buf);
}
