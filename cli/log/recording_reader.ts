/**
 * Reads a recording chunk by chunk, in bounded memory, from a file or any
 * byte stream (a bundle member). Needs `--allow-read` for files.
 *
 * Damage degrades, it does not abort: a truncated tail, a chunk whose digest
 * or chain does not match, or bytes that are not CBOR become entries in
 * {@link RecordingReport.problems} (with chunk index, offset and reason) and a
 * `lost` event of reason `recording` where events are missing; the reader then
 * resynchronizes on the next chunk marker. Only input that is not a procrec
 * recording at all, has another format version, or a header field of
 * another shape than the schema's, throws {@link RecordingFormatError}.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { type ByteSource, ByteWindow } from "./_byte_window.ts";
import { NeedMoreBytes, scanItem } from "./_cbor_scan.ts";
import { newDecoder, Tag } from "./_cbor.ts";
import { sha256, toHex } from "./_hash.ts";
import {
  type ChunkRead,
  ChunkVerifier,
  type RecordingReport,
} from "./chunk_verifier.ts";
import { batchedIterator } from "./_batched_iterator.ts";
import { ChunkBatch } from "./chunk_batch.ts";
import {
  envelopeAt,
  plainChunkEnd,
  plainChunkLength,
} from "./_chunk_envelope.ts";
import {
  hashChunkItemsClaimed,
  hashChunkItemsNative,
  holdSha256Native,
  nativeItemsReady,
  releaseSha256Native,
} from "./_sha256_native.ts";
import { decodedKinds, decodeEventBody } from "./decode_event_body.ts";
import { RecordingFramer } from "./frame_recording.ts";
import { checkHeaderFields } from "./check_header_fields.ts";
import {
  FORMAT_NAME,
  MAX_ITEM_BYTES,
  READABLE_VERSIONS,
  type RecordingHeader,
  SELF_DESCRIBE_TAG,
} from "./schema.ts";

export type { ByteSource, ChunkRead, RecordingReport };
export { ChunkBatch };
export type { ReadProblem } from "./problem_log.ts";

/** The input is not a procrec recording, or not of a version this reader reads. */
export class RecordingFormatError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RecordingFormatError";
  }
}

const READ_BLOCK = 1 << 20;
/** How a recording is read. */
export interface ReaderOptions {
  /**
   * Hash small chunk items on this thread by the system's library where it
   * is to be had (see `VerifierOptions.nativeHash`): default from the
   * 1,024th chunk on, or from the first run of 64 or more small chunks
   * whole in the bytes loaded (a long idle recording); true from the
   * first; false never (JavaScript only).
   * The same chunks, events and report either way.
   */
  nativeHash?: boolean;
  /**
   * Hash big chunks (64 KiB and more) by the procrec library on another
   * thread while this one decodes them, where the library is to be had
   * (see `#take`): default true, and a chunk the other thread has not
   * begun when it is wanted is hashed here (never a wait); `"wait"` takes
   * every hash of the other thread (for tests of them); false (or
   * `nativeHash: false`) hashes them here. The same chunks, events and
   * report either way.
   */
  hashLater?: boolean | "wait";
}
/**
 * Chunks and events read at most in one go (they are held until taken): a
 * batch of small chunks, or one big chunk.
 */
const BATCH_CHUNKS = 1024;
const BATCH_EVENTS = 4096;

/**
 * What an empty `NAME.incomplete` is: the recorder makes it before it knows
 * the header (its source opened, its command started), and writes nothing
 * else first.
 */
export const EMPTY_INCOMPLETE =
  "a recorder stopped (killed, or the host lost power) after making it and before writing its header; nothing was recorded";
/**
 * A recording opened for reading.
 *
 * @example
 * ```ts
 * import { RecordingReader } from "./recording_reader.ts";
 * import { RecordingWriter } from "./recording_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * });
 * w.write({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "x" });
 * await w.close();
 * const r = await RecordingReader.open(`${dir}/a.cbor`);
 * const events = await Array.fromAsync(r.events());
 * await Deno.remove(dir, { recursive: true });
 * if (events.length !== 1 || !r.report.complete) throw new Error("read back");
 * ```
 */
export class RecordingReader {
  #window: ByteWindow;
  #verifier: ChunkVerifier;
  #start: number;
  #used = false;
  #ended = false;
  /** The job scanned, not yet taken whole (see {@link #scan}). */
  #job: HashJob | undefined;
  /** The table of spans of the jobs (one at a time). */
  #spans = newSpans();
  /** Big chunks may be hashed on other threads (see {@link ReaderOptions}). */
  #later: boolean;
  /** Wait for the other thread's hashes of a job (tests). */
  #waitLater: boolean;
  /** This reader holds the procrec library for those hashes. */
  #laterHeld = false;
  /** The stream offset at which the reader last loaded a block ahead. */
  #grownAt = -1;

  private constructor(
    readonly name: string,
    readonly header: RecordingHeader,
    window: ByteWindow,
    start: number,
    /** SHA-256 of the header item: a recording's final hash before any chunk. */
    readonly headerHash: Uint8Array,
    nativeHash: boolean | undefined,
    hashLater: boolean | "wait",
  ) {
    this.#later = hashLater !== false;
    this.#waitLater = hashLater === "wait";
    this.#window = window;
    this.#start = start;
    this.#verifier = new ChunkVerifier(name, headerHash, { nativeHash });
    this.#verifier.report.bytes = start;
  }

  /** What was found so far; complete once iteration has finished. */
  get report(): RecordingReport {
    this.#verifier.flushCounts();
    return this.#verifier.report;
  }

  /** Opens a file, read as `options` say (see {@link ReaderOptions}). */
  static async open(
    path: string,
    options: ReaderOptions = {},
  ): Promise<RecordingReader> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      throw new RecordingFormatError(
        `Cannot read recording "${path}": ${(e as Error).message}`,
        { cause: e },
      );
    }
    return await RecordingReader.fromStream(readBlocks(file), path, options);
  }

  /**
   * Opens a byte stream named `name` (used in messages), read as `options`
   * say (see {@link ReaderOptions}).
   */
  static async fromStream(
    source: ByteSource,
    name: string,
    options: ReaderOptions = {},
  ): Promise<RecordingReader> {
    const window = new ByteWindow(source);
    const fail = async (why: string, cause?: unknown): Promise<never> => {
      await window.close().catch(() => {});
      throw new RecordingFormatError(
        `Cannot read recording "${name}": ${why}`,
        cause !== undefined ? { cause } : undefined,
      );
    };
    try {
      await window.ensure(4096);
    } catch (e) {
      return await fail(
        e instanceof Deno.errors.IsADirectory
          ? "it is a directory"
          : (e as Error).message,
        e,
      );
    }
    if (window.end === 0) {
      return await fail(
        name.endsWith(".incomplete")
          ? `the file is empty: ${EMPTY_INCOMPLETE}`
          : "the file is empty",
      );
    }
    if (
      !(window.at(0) === 0xd9 && window.at(1) === 0xd9 && window.at(2) === 0xf7)
    ) {
      return await fail(
        `not a procrec recording (it does not start with CBOR tag ${SELF_DESCRIBE_TAG}; first bytes ${
          toHex(window.view(0, Math.min(8, window.end)))
        })`,
      );
    }
    let end: number;
    for (;;) {
      try {
        end = scanItem(window.view(0), 0, MAX_ITEM_BYTES);
        break;
      } catch (e) {
        if (e instanceof NeedMoreBytes && !window.eof) {
          await window.ensure(window.end + READ_BLOCK);
          continue;
        }
        return await fail(
          e instanceof NeedMoreBytes
            ? `the header is cut off at offset ${window.end}`
            : (e as Error).message,
        );
      }
    }
    const headerBytes = window.view(0, end);
    let value: unknown;
    try {
      value = newDecoder().decode(headerBytes);
    } catch (e) {
      return await fail(
        `the header at offset 0 does not decode: ${(e as Error).message}`,
        e,
      );
    }
    if (value instanceof Tag) value = value.value;
    let header: RecordingHeader;
    try {
      header = checkHeader(value, name);
    } catch (e) {
      await window.close().catch(() => {});
      throw e;
    }
    return new RecordingReader(
      name,
      header,
      window,
      end,
      sha256(headerBytes),
      options.nativeHash,
      options.nativeHash === false ? false : options.hashLater ?? true,
    );
  }

  /**
   * The events of every readable chunk, in order; gaps become `lost` events,
   * and so does a damaged tail (see {@link tailEvents}).
   */
  async *events(): AsyncGenerator<ProcEvent> {
    for await (const chunk of this.chunks()) yield* chunk.events;
    yield* this.tailEvents();
  }

  /**
   * Once {@link chunks} has ended: the `lost` event (reason `recording`)
   * standing for a damaged tail ({@link RecordingReport.tailLost}), at the
   * trailer's end time when there is a trailer; none when the tail is whole.
   * It is no chunk of the file, so {@link chunks} does not deliver it.
   */
  tailEvents(): ProcEvent[] {
    const r = this.report;
    const tail = r.tailLost;
    if (tail === undefined) return [];
    let t = tail.after;
    if (r.trailer !== undefined) {
      const end = Number(r.trailer.endUtcNs - this.header.timeBase.utcNs);
      if (Number.isSafeInteger(end) && end > t) t = end;
    }
    return [{
      kind: "lost",
      t,
      pid: 0,
      tid: 0,
      reason: "recording",
      count: tail.count,
      ...(tail.countUnknown ? { countUnknown: true } : {}),
    }];
  }

  /**
   * Every readable chunk, in order and once, verified: framing
   * (`frameRecording`) cuts the input into items, the
   * {@link ChunkVerifier} checks them; see {@link report}. The plain chunks
   * whole in the bytes loaded are taken in place, many at a time, without
   * an `await` each; the report is settled when the iteration ends.
   */
  chunks(): AsyncIterableIterator<ChunkRead> {
    const { fill, close } = this.#begin();
    return batchedIterator(
      () => fill().then((b) => b?.chunks()),
      close,
    );
  }

  /**
   * What {@link chunks} gives, in batches: every readable chunk, in order
   * and once, verified alike, one awaited promise and one object per batch
   * (of up to 1,024 chunks or 4,096 events; a bigger chunk alone) rather
   * than per chunk, the events of a batch in one array: the path of a
   * reader that takes many small chunks (a long idle recording), and
   * replay's (`analysisChunks`). No batch is empty; the report's counts
   * include a batch's chunks once it is handed out. A reader is read once,
   * by this or by {@link chunks}.
   *
   * @example
   * ```ts
   * import { RecordingReader } from "./recording_reader.ts";
   * import { RecordingWriter } from "./recording_writer.ts";
   * const dir = await Deno.makeTempDir();
   * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
   *   host: "h", os: "linux", kernel: "6", bootId: "b",
   *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
   *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
   *   options: {},
   * }, { chunkEvents: 1 });
   * for (let t = 1; t <= 3; t++) w.write({ kind: "comm", t, pid: 2, tid: 2, comm: "x" });
   * await w.close();
   * const r = await RecordingReader.open(`${dir}/a.cbor`);
   * const batches = await Array.fromAsync(r.chunkBatches());
   * await Deno.remove(dir, { recursive: true });
   * // three chunks of one event each, in one batch
   * if (batches.length !== 1 || batches[0].length !== 3) throw new Error("batch");
   * if (batches[0].chunk(2).events[0].t !== 3 || !r.report.complete) throw new Error("read");
   * ```
   */
  async *chunkBatches(): AsyncGenerator<ChunkBatch> {
    const { fill, close } = this.#begin();
    let ended = false;
    try {
      for (;;) {
        const batch = await fill();
        if (batch === undefined) break;
        if (batch.length > 0) yield batch;
      }
      ended = true;
    } finally {
      if (ended) await close();
      else await close().catch(() => {});
    }
  }

  /** Starts the one reading of this reader: where batches come from and the end. */
  #begin(): {
    fill: () => Promise<ChunkBatch | undefined>;
    close: () => Promise<void>;
  } {
    if (this.#used) {
      const e = new Error(`Cannot read recording "${this.name}" twice`);
      return { fill: () => Promise.reject(e), close: () => Promise.resolve() };
    }
    this.#used = true;
    const framer = new RecordingFramer(this.#window, this.#start);
    const window = this.#window;
    const verifier = this.#verifier;
    return {
      fill: () => this.#fill(framer),
      close: async () => {
        await this.#endLater();
        verifier.releaseNative();
        return await window.close();
      },
    };
  }

  /**
   * The next chunks read, or `undefined` once the input is read; the
   * report's counts include them.
   */
  async #fill(framer: RecordingFramer): Promise<ChunkBatch | undefined> {
    const out = await this.#read(framer);
    this.#verifier.flushCounts();
    return out?.seal();
  }

  async #read(framer: RecordingFramer): Promise<ChunkBatch | undefined> {
    if (this.#ended) return undefined;
    const window = this.#window;
    const v = this.#verifier;
    const out = new ChunkBatch(BATCH_CHUNKS, BATCH_EVENTS);
    for (;;) {
      // the plain chunks whole in the loaded bytes, read in place, in jobs:
      // the items of a job of many small chunks (a long idle recording), or
      // of any job past the 1,024th chunk, are hashed in one native call
      // (see VerifierOptions.nativeHash); else each chunk is hashed as it
      // is taken
      let job = this.#job;
      if (job === undefined) {
        job = this.#scan(framer);
        if (job !== undefined) {
          if (job.bytes >= LATER_ITEM_BYTES * job.n && this.#hashLater()) {
            // big chunks: hashed on another thread while they are decoded
            // here
            this.#startLater(job);
          } else if (
            (v.hashesNatively ||
              job.n >= SMALL_ITEMS_JOB && v.hashNativelyFromNow()) &&
            nativeItemsReady()
          ) hashJobNatively(job);
          this.#job = job;
        }
      }
      if (job !== undefined) {
        // tests of the other thread's hashes: all of them first
        if (this.#waitLater && job.next === 0) await job.later?.done;
        this.#take(job, out);
        if (job.next === job.n) this.#job = undefined;
        if (out.length > 0) return out;
        continue;
      }
      // the next chunk is cut by the end of the bytes loaded: load the rest
      // of it first (once per position), so that it is read in place like
      // the others rather than as a frame of its own
      if (!window.eof && this.#grownAt !== framer.pos) {
        const at = window.index(framer.pos);
        const end = plainChunkLength(
          window.buffer,
          at,
          window.index(window.end),
        );
        if (end > 0 && end - at <= MAX_ITEM_BYTES) {
          // and a few more after it: fewer, longer jobs
          this.#grownAt = framer.pos;
          window.drop(framer.pos);
          await window.ensure(framer.pos + Math.max(end - at, LOAD_AHEAD));
          continue;
        }
      }
      // anything else (a block's end, damage, a trailer) one frame at a time
      const frame = await framer.next();
      if (frame === undefined) {
        v.finish(window.end);
        this.#ended = true;
        return out;
      }
      const chunk = v.frame(frame);
      if (chunk) out.add(chunk);
      if (v.done) {
        // nothing belongs after the trailer
        const end = frame.offset +
          (frame.kind === "item" ? frame.bytes.length : frame.length);
        window.drop(end);
        if (await window.ensure(end + 1)) {
          v.afterTrailer(end, window.end - end);
        }
        v.finish(window.end);
        this.#ended = true;
        return out;
      }
      // chunks read one frame at a time (not plain, or cut by a block's
      // end) are handed out in batches of the same bounds
      if (out.length >= BATCH_CHUNKS || out.eventCount >= BATCH_EVENTS) {
        return out;
      }
    }
  }

  /**
   * The plain chunks whole in the loaded bytes from the framer's position
   * (up to {@link JOB_CHUNKS} of them or {@link JOB_BYTES}), as a job;
   * `undefined` when there is none. The job's chunks are read from the
   * window's buffer: it stays valid until the window loads more, which
   * happens only once the job is taken (the frame-by-frame reading, or the
   * rest of a chunk cut by the end of the bytes loaded). Jobs are taken one
   * at a time and share one table of spans.
   */
  #scan(framer: RecordingFramer): HashJob | undefined {
    const window = this.#window;
    const buf = window.buffer;
    const end = window.index(window.end);
    const first = window.index(framer.pos);
    let at = first;
    const spans = this.#spans;
    let n = 0;
    while (n < JOB_CHUNKS && at - first < JOB_BYTES) {
      const itemEnd = plainChunkEnd(buf, at, end, MAX_ITEM_BYTES);
      if (itemEnd < 0) break;
      const e = envelopeAt;
      const k = SPAN * n++;
      spans[k] = at;
      spans[k + 1] = itemEnd;
      spans[k + 2] = e.index;
      spans[k + 3] = e.firstSeq;
      spans[k + 4] = e.prevStart;
      spans[k + 5] = e.prevEnd;
      spans[k + 6] = e.digestStart;
      spans[k + 7] = e.digestEnd;
      spans[k + 8] = e.bodyStart;
      at = itemEnd;
    }
    if (n === 0) return undefined;
    const job: HashJob = {
      buf,
      offset: framer.pos,
      spans,
      n,
      bytes: at - first,
      next: 0,
      hashes: undefined,
      later: undefined,
    };
    framer.pos += at - first;
    return job;
  }

  /**
   * Whether the chunks of a job of big ones are hashed on another thread
   * ({@link hashChunkItemsClaimed}): by default where the procrec library is
   * to be had (the reader then holds it until it is closed).
   */
  #hashLater(): boolean {
    if (this.#laterHeld) return true;
    if (!this.#later || !nativeItemsReady()) return false;
    this.#laterHeld = true;
    holdSha256Native();
    return true;
  }

  /**
   * The calls of {@link hashChunkItemsClaimed} not answered yet: the
   * reader's end waits for them (nothing is left running).
   */
  #pendingLater = new Set<Promise<unknown>>();

  /**
   * Starts hashing the chunks of `job` on another thread, in order, unless
   * this thread takes them first (see {@link HashJob.later}).
   */
  #startLater(job: HashJob): void {
    const n = job.n;
    const spans = itemSpans(job);
    const out = new Uint8Array(new SharedArrayBuffer(33 * n));
    const state = new Int32Array(new SharedArrayBuffer(4 * n));
    job.later = { out, state };
    const call = hashChunkItemsClaimed(job.buf, spans, n, out, state);
    if (call === undefined) return;
    job.later.done = call;
    const pending = this.#pendingLater;
    pending.add(call);
    call.finally(() => pending.delete(call));
  }

  /** Waits for the hashes still being computed elsewhere; lets go of the library. */
  async #endLater(): Promise<void> {
    while (this.#pendingLater.size > 0) {
      await Promise.allSettled([...this.#pendingLater]);
    }
    if (this.#laterHeld) {
      this.#laterHeld = false;
      releaseSha256Native();
    }
  }

  /**
   * Verifies and decodes the job's chunks into `out` from where it was left
   * (at most {@link BATCH_CHUNKS} chunks or {@link BATCH_EVENTS} events in
   * `out`), with the job's hashes when they were taken in one call
   * ({@link hashJobNatively}), else hashing each chunk. In a job of big
   * chunks ({@link HashJob.later}) each chunk's events are decoded first,
   * then its hashes are taken from the other thread when it has them (it
   * hashes the chunks in order meanwhile), or the chunk is hashed here when
   * the other thread has not finished it: never a wait. The verifier checks
   * each chunk alike, and events decoded ahead are delivered only if it
   * delivers the chunk.
   */
  #take(job: HashJob, out: ChunkBatch): void {
    const v = this.#verifier;
    const s = job.spans;
    const later = job.later;
    const n = job.n;
    while (
      job.next < n && out.length < BATCH_CHUNKS &&
      out.eventCount < BATCH_EVENTS
    ) {
      const i = job.next++;
      const k = SPAN * i;
      let h = job.hashes;
      let events: ProcEvent[] | undefined;
      let kinds: readonly number[] | undefined;
      if (later !== undefined) {
        events = decodeEventBody(job.buf, s[k + 8], s[k + 1]);
        kinds = decodedKinds();
        // 2: hashed there; 0: not begun there, taken here (3); 1: being
        // hashed there, hashed here too (a wait could last as long as the
        // other thread is kept from running: the machine may be busy)
        if (Atomics.compareExchange(later.state, i, 0, 3) === 2) h = later.out;
      }
      const at = envelopeAt;
      at.index = s[k + 2];
      at.firstSeq = s[k + 3];
      at.prevStart = s[k + 4];
      at.prevEnd = s[k + 5];
      at.digestStart = s[k + 6];
      at.digestEnd = s[k + 7];
      at.bodyStart = s[k + 8];
      v.plainChunkTo(
        out,
        job.offset,
        job.buf,
        s[k],
        s[k + 1],
        at,
        h,
        32 * i,
        h === undefined ? undefined : h[32 * n + i] === 1,
        events,
        kinds,
      );
      job.offset += s[k + 1] - s[k];
    }
  }
}

/**
 * Hashes the job's items in one call to the procrec library
 * (`hashChunkItemsNative`) into {@link HashJob.hashes}; when it cannot, the
 * job's chunks are hashed one by one as they are taken.
 */
function hashJobNatively(job: HashJob): void {
  const n = job.n;
  const out = new Uint8Array(33 * n);
  if (hashChunkItemsNative(job.buf, itemSpans(job), n, out)) job.hashes = out;
}

/**
 * The job's chunks as the procrec library's hash calls take them: per
 * chunk, item start and end, body start, digest start.
 */
function itemSpans(job: HashJob): Int32Array<ArrayBuffer> {
  const n = job.n;
  const s = job.spans;
  const spans = new Int32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const k = SPAN * i;
    spans[4 * i] = s[k];
    spans[4 * i + 1] = s[k + 1];
    spans[4 * i + 2] = s[k + 8];
    spans[4 * i + 3] = s[k + 6];
  }
  return spans;
}

/**
 * A table of {@link HashJob.spans} for a job of {@link JOB_CHUNKS}: an
 * array of small integers (a typed array of doubles would hand the
 * verifier and the decoder heap numbers where they were optimized for
 * small integers, and undo their optimization again and again).
 */
function newSpans(): number[] {
  return new Array<number>(JOB_CHUNKS * SPAN).fill(0);
}

/** Numbers per chunk in {@link HashJob.spans}. */
const SPAN = 9;
/** Chunks and bytes of items at most in one job. */
const JOB_CHUNKS = 1024;
const JOB_BYTES = 4 << 20;
/**
 * Bytes loaded at once when the next chunk is cut by the end of the bytes
 * loaded (see {@link RecordingReader.chunks}), and read from a file at once:
 * a job of big chunks then holds a few dozen of them.
 */
const LOAD_AHEAD = 4 << 20;
/**
 * Chunks in a job, at least, for this thread to hash its items natively
 * before the 1,024th chunk (many small chunks ahead: the library's load
 * pays for itself).
 */
const SMALL_ITEMS_JOB = 64;

/**
 * Consecutive plain chunks, hashed on this thread (in one native call, or
 * each as it is taken) or, big ones, on another thread.
 */
interface HashJob {
  /** The buffer the items are in. */
  buf: Uint8Array;
  /** Stream offset of the next chunk to take. */
  offset: number;
  /**
   * Per chunk, {@link SPAN} numbers: item start and end (in `buf`), index,
   * first sequence number, prev start and end, digest start and end, body
   * start.
   */
  spans: number[];
  n: number;
  /** Bytes of the job's items. */
  bytes: number;
  /** The next chunk to take. */
  next: number;
  /**
   * The items' hashes from one native call ({@link hashJobNatively}): the
   * SHA-256 of chunk i's item at 32 × i (32 bytes), and at 32 × n + i a 1
   * when its body matches its digest.
   */
  hashes: Uint8Array | undefined;
  /**
   * A job of big chunks hashed on another thread
   * ({@link hashChunkItemsClaimed}: its answer and the state of each chunk);
   * see `#take`.
   */
  later: {
    out: Uint8Array;
    state: Int32Array;
    /** When the call is over (see {@link ReaderOptions.hashLater}'s "wait"). */
    done?: Promise<boolean>;
  } | undefined;
}

/**
 * Bytes per chunk item, on average over a job, from which the job's chunks
 * are hashed on another thread (see `#take`): a call there costs some
 * microseconds here, the two hashes of such an item take ~0.1 ms.
 */
const LATER_ITEM_BYTES = 64 * 1024;

function checkHeader(value: unknown, name: string): RecordingHeader {
  const fail = (why: string) =>
    new RecordingFormatError(`Cannot read recording "${name}": ${why}`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("the header is not a map");
  }
  const h = value as Record<string, unknown>;
  if (h.format !== FORMAT_NAME) {
    throw fail(
      `the header names format ${
        JSON.stringify(h.format)
      }, expected "${FORMAT_NAME}"`,
    );
  }
  if (!READABLE_VERSIONS.includes(h.version as number)) {
    throw fail(
      `header version is ${JSON.stringify(h.version)}, expected ${
        READABLE_VERSIONS.join(" or ")
      }`,
    );
  }
  // every other field's shape (the same checks as import jsonl's)
  checkHeaderFields(h, (field, detail) => {
    throw fail(`header field "${field}" ${detail}`);
  });
  // its byte strings copied: decoded, they are views of the whole block
  // read (64 KiB or more), which a header kept for each segment of a
  // directory would keep alive
  detachBytes(h);
  return h as unknown as RecordingHeader;
}

/** Replaces every byte string in `value` (maps and arrays, nested) by a copy. */
function detachBytes(value: unknown, depth = 0): void {
  if (depth > 32 || typeof value !== "object" || value === null) return;
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v instanceof Uint8Array) o[k] = v.slice();
    else detachBytes(v, depth + 1);
  }
}

/**
 * The file's blocks, each a view of a buffer read into again later: the
 * window copies a block before it asks for the next. After a full block,
 * the next one is read into a second buffer while this one is used.
 */
async function* readBlocks(file: Deno.FsFile): AsyncGenerator<Uint8Array> {
  const bufs = [new Uint8Array(LOAD_AHEAD)];
  let next: Promise<number | null> | undefined;
  try {
    let i = 0;
    next = file.read(bufs[0]);
    for (;;) {
      const n = await next;
      next = undefined;
      if (n === null) return;
      const block = bufs[i];
      if (n === block.length) {
        // more to come, likely: read on meanwhile, into the other buffer
        i ^= 1;
        next = file.read(bufs[i] ??= new Uint8Array(LOAD_AHEAD));
      }
      yield block.subarray(0, n);
      next ??= file.read(bufs[i]);
    }
  } finally {
    // a read still out ends before the file is closed
    if (next !== undefined) await next.catch(() => {});
    file.close();
  }
}
