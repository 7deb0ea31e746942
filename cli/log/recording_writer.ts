/**
 * Writes a recording. Needs `--allow-write` for the output directory.
 *
 * Crash-safe protocol: the file is written as `NAME.incomplete`, created
 * exclusively by the output opener (`cli/io/open_output.ts`: never through a
 * link, mode 0600 or a group's 0640, a second writer of the same output
 * refused); every chunk
 * is a complete CBOR item written with one `write` call, at least every
 * {@link FLUSH_INTERVAL_MS} while events arrive, so a killed recorder leaves
 * every chunk it had flushed readable; `close()` writes the trailer, syncs the
 * file and only then renames it to `NAME`. A reader never needs the trailer to
 * read the chunks; it needs it to call the recording complete. Chunks are cut
 * at {@link MAX_CHUNK_EVENTS} events or {@link MAX_CHUNK_BYTES} bytes, so no
 * chunk reaches the reader's item limit whatever the events hold.
 *
 * @module
 */
import type { EventKind, ProcEvent } from "../events/types.ts";
import { newEncoder, Tag } from "./_cbor.ts";
import { EventCounts } from "../events/event_counts.ts";
import { EventBodyEncoder } from "./event_body_encoder.ts";
import { chunkItemPrefix } from "./_chunk_item.ts";
import { sha256, toHex } from "./_hash.ts";
import {
  encodeEventTo,
  FLUSH_INTERVAL_MS,
  FORMAT_NAME,
  FORMAT_VERSION,
  MAX_CHUNK_BYTES,
  MAX_CHUNK_EVENTS,
  type PublishCounts,
  type RecordingHeader,
  type RecordingTrailer,
  SELF_DESCRIBE_TAG,
} from "./schema.ts";
import { openOutput, type OutputFile, type OutputMode } from "../io/mod.ts";

/** The header fields a caller gives; the writer adds format and version. */
export type HeaderInit = Omit<RecordingHeader, "format" | "version">;

/** Options of {@link RecordingWriter.create}. */
export interface WriterOptions {
  /** Events per chunk at most (default {@link MAX_CHUNK_EVENTS}). */
  chunkEvents?: number;
  /** Event bytes per chunk at most, give or take one event (default {@link MAX_CHUNK_BYTES}). */
  chunkBytes?: number;
  /** Flush period in ms (default {@link FLUSH_INTERVAL_MS}); 0 disables the timer. */
  flushIntervalMs?: number;
  /** Replace an existing output file. */
  overwrite?: boolean;
  /** Who may read the recording (default 0600). */
  mode?: OutputMode;
  /**
   * Called once per sealed piece (header, each chunk, the trailer) right
   * after its bytes were written to the local file; must not throw or block.
   */
  onPiece?: (piece: SealedPiece) => void;
  /**
   * Publishing figures of this recording (by its id) for the trailer (see
   * `SCHEMA.md`), asked at close.
   */
  publishCounts?: (recordingId: string) => PublishCounts;
}

/**
 * Events already encoded as the CBOR arrays of a chunk body (by the
 * library's chunk encoder), with their counts: what
 * {@link RecordingWriter.writeEncoded} takes.
 */
export interface EncodedEvents {
  /** The events' CBOR arrays, one after another. */
  bytes: Uint8Array;
  /** `ends[i]`: end offset in `bytes` of event i. */
  ends: Uint32Array;
  events: number;
  /** Events per kind, in the order of each kind's first event. */
  kinds: readonly { key: EventKind; count: number }[];
  /** Lost events' counts per reason, in the order of each reason's first event. */
  lost: readonly { key: string; count: number }[];
  /** `lost` events whose count is unknown. */
  lostCountUnknown: number;
}

/** One sealed item of a recording: the exact bytes written to the file. */
export interface SealedPiece {
  /** 0 for the header, chunk index + 1 for a chunk, chunks + 1 for the trailer. */
  index: number;
  kind: "header" | "chunk" | "trailer";
  bytes: Uint8Array;
  /** SHA-256 of `bytes`: the chain hash the next chunk names. */
  hash: Uint8Array;
  /** Offset of the piece in the file. */
  offset: number;
  /** The file being written (`NAME.incomplete`) and its final name. */
  tempPath: string;
  path: string;
}

/**
 * Appends events to a recording, chunk by chunk, with a hash chain.
 *
 * @example
 * ```ts
 * import { RecordingWriter } from "./recording_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * });
 * w.write({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "x" });
 * const path = await w.close();
 * await Deno.remove(dir, { recursive: true });
 * if (!path.endsWith("a.cbor")) throw new Error(path);
 * ```
 */
export class RecordingWriter {
  #file: OutputFile;
  #pending = new EventBodyEncoder();
  #scratch: unknown[] = [];
  #chunkIndex = 0;
  #seq = 0;
  #prevHash: Uint8Array;
  #counts = new EventCounts();
  #timer: number | undefined;
  #closed = false;
  /** A failure of the periodic flush, thrown by the next write or close. */
  #failed: Error | undefined;
  #bytes = 0;
  #lastFlush = Date.now();
  #onPiece: ((piece: SealedPiece) => void) | undefined;
  #publishCounts: ((recordingId: string) => PublishCounts) | undefined;
  #id = "";
  /** Events lost by a failed chunk write. */
  #unwritten = 0;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    file: OutputFile,
    headerHash: Uint8Array,
    readonly chunkEvents: number,
    readonly chunkBytes: number,
    headerBytes: number,
  ) {
    this.#file = file;
    this.#prevHash = headerHash;
    this.#bytes = headerBytes;
  }

  /**
   * Opens the recording: the output opener creates `path + ".incomplete"`
   * exclusively (an existing one, or an existing `path` without `overwrite`,
   * is refused), then the header is written.
   */
  static async create(
    path: string,
    header: HeaderInit,
    options: WriterOptions = {},
  ): Promise<RecordingWriter> {
    const out = await RecordingWriter.reserve(path, options);
    try {
      return RecordingWriter.start(out, header, options);
    } catch (e) {
      out.discard();
      throw e;
    }
  }

  /**
   * Creates `path + ".incomplete"` before the header is known (a recorder
   * reserves its output before it starts a command); give the result to
   * {@link start}.
   */
  static reserve(
    path: string,
    options: WriterOptions = {},
  ): Promise<OutputFile> {
    return openOutput(path, {
      force: options.overwrite,
      mode: options.mode,
      incomplete: true,
      what: "recording",
    });
  }

  /** Writes the header into a reserved output. */
  static start(
    out: OutputFile,
    header: HeaderInit,
    options: WriterOptions = {},
  ): RecordingWriter {
    const full: RecordingHeader = {
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      ...header,
    };
    const bytes = newEncoder().encode(new Tag(full, SELF_DESCRIBE_TAG));
    out.writeSync(bytes);
    const headerHash = sha256(bytes);
    const w = new RecordingWriter(
      out.path,
      out.tempPath,
      out,
      headerHash,
      options.chunkEvents ?? MAX_CHUNK_EVENTS,
      options.chunkBytes ?? MAX_CHUNK_BYTES,
      bytes.length,
    );
    w.#onPiece = options.onPiece;
    w.#publishCounts = options.publishCounts;
    w.#sealed("header", 0, bytes, headerHash, 0);
    const period = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    if (period > 0) {
      w.#timer = setInterval(() => {
        if (Date.now() - w.#lastFlush < period) return;
        // a failure here (a full disk) would be an uncaught error that ends
        // the process: keep it for the next write or close to throw
        try {
          w.flush();
        } catch (e) {
          w.#failed = e as Error;
          clearInterval(w.#timer);
        }
      }, Math.max(10, Math.floor(period / 2)));
    }
    return w;
  }

  /** Events written so far. */
  get events(): number {
    return this.#seq + this.#pending.count;
  }

  /** Bytes in the file so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes of the events not yet written (about the next chunk's size). */
  get pendingBytes(): number {
    return this.#pending.bytes;
  }

  /**
   * Events given to {@link write} that are not in the file: pending, or in a
   * chunk whose write failed.
   */
  get unwritten(): number {
    return this.#unwritten + this.#pending.count;
  }

  /** Hash of the last item written whole (the header's before any chunk). */
  get lastHash(): Uint8Array {
    return this.#prevHash;
  }

  /** Counts per kind so far. */
  get counts(): Readonly<Partial<Record<EventKind, number>>> {
    return this.#counts.kinds;
  }

  /** Adds one event; a full chunk is written at once. */
  write(event: ProcEvent): void {
    if (this.#closed) {
      throw new Error(`Cannot write to recording "${this.path}": it is closed`);
    }
    if (this.#failed) throw this.#failed;
    encodeEventTo(event, this.#pending, this.#scratch);
    this.#counts.add(event);
    if (
      this.#pending.count >= this.chunkEvents ||
      this.#pending.bytes >= this.chunkBytes
    ) this.flush();
  }

  /**
   * Adds events already encoded (the library's chunk encoder): the same
   * chunks, counts and trailer as {@link write} of each of them, without an
   * object per event. Chunks are cut where {@link write} cuts them.
   */
  writeEncoded(batch: EncodedEvents): void {
    if (this.#closed) {
      throw new Error(`Cannot write to recording "${this.path}": it is closed`);
    }
    if (this.#failed) throw this.#failed;
    for (const k of batch.kinds) this.#counts.addKind(k.key, k.count);
    for (const l of batch.lost) this.#counts.addLost(l.key, l.count);
    this.#counts.lostCountUnknown += batch.lostCountUnknown;
    const { bytes, ends, events: n } = batch;
    let i = 0, start = 0;
    while (i < n) {
      // as write(): a chunk is full at chunkEvents events, or once its bytes
      // reach chunkBytes (with the event that reaches them)
      let j = Math.min(n, i + this.chunkEvents - this.#pending.count);
      const limit = this.chunkBytes - this.#pending.bytes;
      if (ends[j - 1] - start >= limit) {
        let lo = i, hi = j - 1; // the first event whose end reaches the limit
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (ends[mid] - start >= limit) hi = mid;
          else lo = mid + 1;
        }
        j = lo + 1;
      }
      this.#pending.addEncoded(bytes.subarray(start, ends[j - 1]), j - i);
      start = ends[j - 1];
      i = j;
      if (
        this.#pending.count >= this.chunkEvents ||
        this.#pending.bytes >= this.chunkBytes
      ) this.flush();
    }
  }

  /** Writes the pending events as one chunk. */
  flush(): void {
    this.#lastFlush = Date.now();
    if (this.#pending.count === 0 || this.#closed) return;
    const events = this.#pending.count;
    // the item is built in place in the body encoder's buffer (a view, valid
    // until the next write): no allocation of a chunk's size per chunk, so
    // an always-on recorder's memory does not drift with the chunks written
    const item = this.#pending.finishFramed((body) =>
      chunkItemPrefix(
        this.#chunkIndex,
        this.#seq,
        this.#prevHash,
        sha256(body).subarray(0, 16),
        body.length,
      )
    );
    try {
      this.#file.writeSync(item); // its error names the recording
    } catch (e) {
      // the file may now end in part of this chunk: nothing more goes after it
      this.#unwritten += events;
      this.#failed = e as Error;
      throw e;
    }
    const offset = this.#bytes;
    this.#bytes += item.length;
    this.#prevHash = sha256(item);
    this.#sealed("chunk", this.#chunkIndex + 1, item, this.#prevHash, offset);
    this.#chunkIndex++;
    this.#seq += events;
  }

  /**
   * Flushes, writes the trailer, syncs and renames; returns the final path.
   * The trailer's end time is now, or `endUtcNs` (an import ends at its
   * last event, not at the time of the import).
   */
  async close(opts: { endUtcNs?: bigint } = {}): Promise<string> {
    if (this.#closed) return this.path;
    if (this.#failed) throw this.#failed;
    this.flush();
    clearInterval(this.#timer);
    this.#closed = true;
    const trailer: RecordingTrailer = {
      chunks: this.#chunkIndex,
      events: this.#seq,
      counts: this.#counts.kinds,
      lost: this.#counts.lost,
      endUtcNs: opts.endUtcNs ?? BigInt(Date.now()) * 1_000_000n,
      finalHash: this.#prevHash,
    };
    const fields: unknown[] = [
      "trailer",
      trailer.chunks,
      trailer.events,
      trailer.counts,
      trailer.lost,
      trailer.endUtcNs,
      trailer.finalHash,
    ];
    if (this.#publishCounts) fields.push(this.#publishCounts(this.#id));
    const item = newEncoder().encode(fields);
    try {
      this.#file.writeSync(item);
    } catch (e) {
      this.#closed = false; // abandon() still closes the file
      this.#failed = e as Error;
      throw e;
    }
    const offset = this.#bytes;
    this.#bytes += item.length;
    this.#sealed("trailer", this.#chunkIndex + 1, item, sha256(item), offset);
    // syncs, closes and renames; a failed rename names both paths and says
    // the complete recording is in NAME.incomplete
    return await this.#file.commit();
  }

  /** Recording id: hex of the first 16 bytes of the header's SHA-256. */
  get id(): string {
    return this.#id;
  }

  #sealed(
    kind: SealedPiece["kind"],
    index: number,
    bytes: Uint8Array,
    hash: Uint8Array,
    offset: number,
  ): void {
    if (kind === "header") this.#id = recordingId(hash);
    this.#onPiece?.({
      index,
      kind,
      // a chunk's bytes are a view into a buffer the next chunk reuses
      bytes: kind === "chunk" ? bytes.slice() : bytes,
      hash,
      offset,
      tempPath: this.tempPath,
      path: this.path,
    });
  }

  /**
   * Stops without a trailer, leaving `NAME.incomplete` as a crash would;
   * never throws (the pending events are lost when they cannot be written).
   */
  abandon(): void {
    if (this.#closed) return;
    clearInterval(this.#timer);
    try {
      if (!this.#failed) this.flush();
    } catch {
      // a full disk: the chunks written before stay readable, as after a crash
    }
    this.#closed = true;
    this.#file.abandon();
  }
}

/**
 * A recording's id: lower-case hex of the first 16 bytes of the SHA-256 of
 * its header item.
 *
 * @example
 * ```ts
 * import { recordingId } from "./recording_writer.ts";
 * if (recordingId(new Uint8Array(32).fill(0xab)) !== "ab".repeat(16)) throw new Error();
 * ```
 */
export function recordingId(headerHash: Uint8Array): string {
  return toHex(headerHash.subarray(0, 16));
}
