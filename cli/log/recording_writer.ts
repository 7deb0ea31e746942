/**
 * Writes a recording. Needs `--allow-write` for the output directory.
 *
 * Crash-safe protocol: the file is written as `NAME.incomplete`; every chunk
 * is a complete CBOR item written with one `write` call, at least every
 * {@link FLUSH_INTERVAL_MS} while events arrive, so a killed recorder leaves
 * every chunk it had flushed readable; `close()` writes the trailer, syncs the
 * file and only then renames it to `NAME`. A reader never needs the trailer to
 * read the chunks; it needs it to call the recording complete.
 *
 * @module
 */
import type { EventKind, ProcEvent } from "../events/types.ts";
import { newEncoder, Tag } from "./_cbor.ts";
import { EventBodyEncoder } from "./event_body_encoder.ts";
import { sha256 } from "./_hash.ts";
import {
  encodeEventTo,
  FLUSH_INTERVAL_MS,
  FORMAT_NAME,
  FORMAT_VERSION,
  MAX_CHUNK_EVENTS,
  type RecordingHeader,
  type RecordingTrailer,
  SELF_DESCRIBE_TAG,
} from "./schema.ts";
import { pathExists } from "../path_exists.ts";

/** The header fields a caller gives; the writer adds format and version. */
export type HeaderInit = Omit<RecordingHeader, "format" | "version">;

/** Options of {@link RecordingWriter.create}. */
export interface WriterOptions {
  /** Events per chunk at most (default {@link MAX_CHUNK_EVENTS}). */
  chunkEvents?: number;
  /** Flush period in ms (default {@link FLUSH_INTERVAL_MS}); 0 disables the timer. */
  flushIntervalMs?: number;
  /** Replace an existing output file. */
  overwrite?: boolean;
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
  #file: Deno.FsFile;
  #pending = new EventBodyEncoder();
  #scratch: unknown[] = [];
  #chunkIndex = 0;
  #seq = 0;
  #prevHash: Uint8Array;
  #counts: Partial<Record<EventKind, number>> = {};
  #lost: Record<string, number> = {};
  #timer: number | undefined;
  #closed = false;
  /** A failure of the periodic flush, thrown by the next write or close. */
  #failed: Error | undefined;
  #bytes = 0;
  #lastFlush = Date.now();

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    file: Deno.FsFile,
    headerHash: Uint8Array,
    readonly chunkEvents: number,
    headerBytes: number,
  ) {
    this.#file = file;
    this.#prevHash = headerHash;
    this.#bytes = headerBytes;
  }

  /** Opens `path + ".incomplete"` and writes the header. */
  static async create(
    path: string,
    header: HeaderInit,
    options: WriterOptions = {},
  ): Promise<RecordingWriter> {
    const tempPath = `${path}.incomplete`;
    if (!options.overwrite) {
      for (const p of [path, tempPath]) {
        if (await pathExists(p)) {
          throw new Deno.errors.AlreadyExists(
            `Cannot create recording "${p}": the file exists`,
          );
        }
      }
    }
    const full: RecordingHeader = {
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      ...header,
    };
    const bytes = newEncoder().encode(new Tag(full, SELF_DESCRIBE_TAG));
    const file = await Deno.open(tempPath, {
      write: true,
      create: true,
      truncate: true,
    });
    writeAll(file, bytes);
    const w = new RecordingWriter(
      path,
      tempPath,
      file,
      sha256(bytes),
      options.chunkEvents ?? MAX_CHUNK_EVENTS,
      bytes.length,
    );
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

  /** Counts per kind so far. */
  get counts(): Readonly<Partial<Record<EventKind, number>>> {
    return this.#counts;
  }

  /** Adds one event; a full chunk is written at once. */
  write(event: ProcEvent): void {
    if (this.#closed) {
      throw new Error(`Cannot write to recording "${this.path}": it is closed`);
    }
    if (this.#failed) throw this.#failed;
    encodeEventTo(event, this.#pending, this.#scratch);
    this.#counts[event.kind] = (this.#counts[event.kind] ?? 0) + 1;
    if (event.kind === "lost") {
      this.#lost[event.reason] = (this.#lost[event.reason] ?? 0) + event.count;
    }
    if (this.#pending.count >= this.chunkEvents) this.flush();
  }

  /** Writes the pending events as one chunk. */
  flush(): void {
    this.#lastFlush = Date.now();
    if (this.#pending.count === 0 || this.#closed) return;
    const events = this.#pending.count;
    const body = this.#pending.finish();
    const item = newEncoder().encode([
      "chunk",
      this.#chunkIndex,
      this.#seq,
      this.#prevHash,
      sha256(body).subarray(0, 16),
      body,
    ]);
    try {
      writeAll(this.#file, item);
    } catch (e) {
      throw new Error(
        `Cannot write recording "${this.tempPath}": ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.#bytes += item.length;
    this.#prevHash = sha256(item);
    this.#chunkIndex++;
    this.#seq += events;
  }

  /** Flushes, writes the trailer, syncs and renames; returns the final path. */
  async close(): Promise<string> {
    if (this.#closed) return this.path;
    if (this.#failed) throw this.#failed;
    this.flush();
    clearInterval(this.#timer);
    this.#closed = true;
    const trailer: RecordingTrailer = {
      chunks: this.#chunkIndex,
      events: this.#seq,
      counts: this.#counts,
      lost: this.#lost,
      endUtcNs: BigInt(Date.now()) * 1_000_000n,
      finalHash: this.#prevHash,
    };
    const item = newEncoder().encode([
      "trailer",
      trailer.chunks,
      trailer.events,
      trailer.counts,
      trailer.lost,
      trailer.endUtcNs,
      trailer.finalHash,
    ]);
    writeAll(this.#file, item);
    this.#bytes += item.length;
    await this.#file.sync();
    this.#file.close();
    await Deno.rename(this.tempPath, this.path).catch((e) => {
      throw new Error(
        `Cannot rename recording "${this.tempPath}" to "${this.path}": ${
          (e as Error).message
        }; the complete recording is in "${this.tempPath}"`,
      );
    });
    return this.path;
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
    this.#file.close();
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}
