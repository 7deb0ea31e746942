/**
 * Reads a recording chunk by chunk, in bounded memory, from a file or any
 * byte stream (a bundle member). Needs `--allow-read` for files.
 *
 * Damage degrades, it does not abort: a truncated tail, a chunk whose digest
 * or chain does not match, or bytes that are not CBOR become entries in
 * {@link RecordingReport.problems} (with chunk index, offset and reason) and a
 * `lost` event of reason `recording` where events are missing; the reader then
 * resynchronizes on the next chunk marker. Only input that is not a procrec
 * recording at all, or has another format version, throws
 * {@link RecordingFormatError}.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { NeedMoreBytes, scanItem } from "./_cbor_scan.ts";
import { newDecoder, Tag } from "./_cbor.ts";
import { equalBytes, sha256, toHex } from "./_hash.ts";
import {
  decodeEvent,
  FORMAT_NAME,
  MAX_ITEM_BYTES,
  READABLE_VERSIONS,
  type RecordingHeader,
  type RecordingTrailer,
  SELF_DESCRIBE_TAG,
} from "./schema.ts";

/** The input is not a procrec recording, or not of a version this reader reads. */
export class RecordingFormatError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RecordingFormatError";
  }
}

/** One problem met while reading. */
export interface ReadProblem {
  /** Byte offset in the recording where it was met. */
  offset: number;
  /** Index of the chunk concerned, when known. */
  chunk?: number;
  /** What: "truncated", "damaged", "chain", "gap", "trailer", "event". */
  type: "truncated" | "damaged" | "chain" | "gap" | "trailer" | "event";
  reason: string;
}

/** What the reader found, complete once iteration has finished. */
export interface RecordingReport {
  name: string;
  /** Bytes read. */
  bytes: number;
  /** Chunks whose events were delivered. */
  chunks: number;
  events: number;
  /** The trailer was found and matched every chunk. */
  complete: boolean;
  /** Every chunk verified against its digest and the hash chain. */
  chainIntact: boolean;
  trailer?: RecordingTrailer;
  /** Where a truncated recording stopped. */
  truncatedAt?: number;
  /** Events known missing because chunks were skipped. */
  eventsMissing: number;
  problems: ReadProblem[];
}

/** One chunk as read. */
export interface ChunkRead {
  index: number;
  offset: number;
  length: number;
  firstSeq: number;
  /** SHA-256 of the chunk item (the next chunk's `prev`). */
  hash: Uint8Array;
  events: ProcEvent[];
}

const CHUNK_MARKER = new Uint8Array([
  0x86, // array(6)
  0x65, // text(5)
  ...new TextEncoder().encode("chunk"),
]);
const READ_BLOCK = 1 << 20;

/** Where a reader takes its bytes from. */
export type ByteSource = AsyncIterable<Uint8Array>;

class Bytes {
  buf = new Uint8Array(0);
  /** File offset of buf[0]. */
  base = 0;
  eof = false;
  #it: AsyncIterator<Uint8Array>;
  constructor(source: ByteSource) {
    this.#it = source[Symbol.asyncIterator]();
  }
  /** Loads until `end` (file offset) is in the buffer or EOF; false at EOF. */
  async ensure(end: number): Promise<boolean> {
    while (this.base + this.buf.length < end && !this.eof) {
      const r = await this.#it.next();
      if (r.done) {
        this.eof = true;
        break;
      }
      const next = new Uint8Array(this.buf.length + r.value.length);
      next.set(this.buf);
      next.set(r.value, this.buf.length);
      this.buf = next;
    }
    return this.base + this.buf.length >= end;
  }
  /** Forgets bytes before file offset `pos`. */
  drop(pos: number): void {
    const n = pos - this.base;
    if (n <= 0) return;
    this.buf = this.buf.slice(Math.min(n, this.buf.length));
    this.base = pos;
  }
  get end(): number {
    return this.base + this.buf.length;
  }
  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

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
  readonly report: RecordingReport;
  #bytes: Bytes;
  #pos: number;
  #prevHash: Uint8Array;
  #used = false;
  /** Events read per kind, for the trailer's counts. */
  #kindCounts: Record<string, number> = {};
  #lostCounts: Record<string, number> = {};

  private constructor(
    readonly name: string,
    readonly header: RecordingHeader,
    bytes: Bytes,
    pos: number,
    headerHash: Uint8Array,
  ) {
    this.#bytes = bytes;
    this.#pos = pos;
    this.#prevHash = headerHash;
    this.report = {
      name,
      bytes: pos,
      chunks: 0,
      events: 0,
      complete: false,
      chainIntact: true,
      eventsMissing: 0,
      problems: [],
    };
  }

  /** Opens a file. */
  static async open(path: string): Promise<RecordingReader> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      throw new RecordingFormatError(
        `Cannot read recording "${path}": ${(e as Error).message}`,
        { cause: e },
      );
    }
    return await RecordingReader.fromStream(
      readBlocks(file),
      path,
    );
  }

  /** Opens a byte stream named `name` (used in messages). */
  static async fromStream(
    source: ByteSource,
    name: string,
  ): Promise<RecordingReader> {
    const bytes = new Bytes(source);
    try {
      await bytes.ensure(4096);
    } catch (e) {
      await bytes.close().catch(() => {});
      const why = e instanceof Deno.errors.IsADirectory
        ? "it is a directory"
        : (e as Error).message;
      throw new RecordingFormatError(
        `Cannot read recording "${name}": ${why}`,
        { cause: e },
      );
    }
    if (bytes.buf.length === 0) {
      await bytes.close();
      throw new RecordingFormatError(
        `Cannot read recording "${name}": the file is empty`,
      );
    }
    const b = bytes.buf;
    if (!(b[0] === 0xd9 && b[1] === 0xd9 && b[2] === 0xf7)) {
      await bytes.close();
      throw new RecordingFormatError(
        `Cannot read recording "${name}": not a procrec recording (it does not start with CBOR tag ${SELF_DESCRIBE_TAG}; first bytes ${
          toHex(b.subarray(0, 8))
        })`,
      );
    }
    let end: number;
    for (;;) {
      try {
        end = scanItem(bytes.buf, 0, MAX_ITEM_BYTES);
        break;
      } catch (e) {
        if (e instanceof NeedMoreBytes && !bytes.eof) {
          await bytes.ensure(bytes.end + READ_BLOCK);
          continue;
        }
        await bytes.close();
        const why = e instanceof NeedMoreBytes
          ? `the header is cut off at offset ${bytes.end}`
          : (e as Error).message;
        throw new RecordingFormatError(
          `Cannot read recording "${name}": ${why}`,
        );
      }
    }
    const headerBytes = bytes.buf.slice(0, end);
    let value: unknown;
    try {
      value = newDecoder().decode(headerBytes);
    } catch (e) {
      await bytes.close();
      throw new RecordingFormatError(
        `Cannot read recording "${name}": the header at offset 0 does not decode: ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
    if (value instanceof Tag) value = value.value;
    const header = checkHeader(value, name);
    return new RecordingReader(name, header, bytes, end, sha256(headerBytes));
  }

  /** The events of every readable chunk, in order; gaps become `lost` events. */
  async *events(): AsyncGenerator<ProcEvent> {
    for await (const chunk of this.chunks()) yield* chunk.events;
  }

  /** Every readable chunk, in order, verified; see {@link report}. */
  async *chunks(): AsyncGenerator<ChunkRead> {
    if (this.#used) {
      throw new Error(`Cannot read recording "${this.name}" twice`);
    }
    this.#used = true;
    const r = this.report;
    const bytes = this.#bytes;
    let nextIndex = 0;
    let nextSeq = 0;
    let lastT = 0;
    let prevAdjacent = true; // the previous item was read whole, right before
    try {
      for (;;) {
        const pos = this.#pos;
        bytes.drop(pos);
        if (!(await bytes.ensure(pos + 1))) {
          // end of input on an item boundary, but no trailer: not closed
          r.truncatedAt = pos;
          r.problems.push({
            offset: pos,
            chunk: nextIndex,
            type: "truncated",
            reason: `truncated at offset ${pos}: no trailer after chunk ${
              nextIndex - 1
            } (the recorder did not close the recording)`,
          });
          break;
        }
        let end: number;
        try {
          end = await this.#scan(pos);
        } catch (e) {
          if (e instanceof NeedMoreBytes) {
            r.truncatedAt = pos;
            r.problems.push({
              offset: pos,
              chunk: nextIndex,
              type: "truncated",
              reason:
                `truncated at offset ${pos}: chunk ${nextIndex} is incomplete (${
                  bytes.end - pos
                } bytes of it present)`,
            });
            r.bytes = bytes.end;
            break;
          }
          r.problems.push({
            offset: pos,
            chunk: nextIndex,
            type: "damaged",
            reason: `bytes at offset ${pos} are not a well-formed item: ${
              (e as Error).message
            }`,
          });
          r.chainIntact = false;
          prevAdjacent = false;
          if (!(await this.#resync(pos + 1))) break;
          continue;
        }
        const itemBytes = bytes.buf.slice(pos - bytes.base, end - bytes.base);
        this.#pos = end;
        r.bytes = end;
        let item: unknown;
        try {
          item = newDecoder().decode(itemBytes);
        } catch (e) {
          r.problems.push({
            offset: pos,
            chunk: nextIndex,
            type: "damaged",
            reason: `item at offset ${pos} does not decode: ${
              (e as Error).message
            }`,
          });
          r.chainIntact = false;
          prevAdjacent = false;
          continue;
        }
        const hash = sha256(itemBytes);
        if (Array.isArray(item) && item[0] === "chunk") {
          const c = this.#checkChunk(item, pos, prevAdjacent);
          prevAdjacent = true;
          this.#prevHash = hash;
          if (c === undefined) {
            prevAdjacent = false;
            continue;
          }
          for (const e of c.events) {
            this.#kindCounts[e.kind] = (this.#kindCounts[e.kind] ?? 0) + 1;
            if (e.kind === "lost") {
              this.#lostCounts[e.reason] = (this.#lostCounts[e.reason] ?? 0) +
                e.count;
            }
          }
          if (c.index !== nextIndex || c.firstSeq !== nextSeq) {
            const missing = c.firstSeq - nextSeq;
            r.problems.push({
              offset: pos,
              chunk: c.index,
              type: "gap",
              reason: `chunks ${nextIndex} to ${
                c.index - 1
              } are missing before offset ${pos} (${missing} events)`,
            });
            r.chainIntact = false;
            if (missing > 0) {
              r.eventsMissing += missing;
              c.events.unshift({
                kind: "lost",
                t: lastT,
                pid: 0,
                tid: 0,
                reason: "recording",
                count: missing,
              });
            }
          }
          nextIndex = c.index + 1;
          nextSeq = c.firstSeq + c.count;
          if (c.events.length > 0) lastT = c.events[c.events.length - 1].t;
          r.chunks++;
          r.events += c.events.length;
          yield {
            index: c.index,
            offset: pos,
            length: end - pos,
            firstSeq: c.firstSeq,
            hash,
            events: c.events,
          };
        } else if (Array.isArray(item) && item[0] === "trailer") {
          this.#checkTrailer(item, pos, prevAdjacent, nextIndex, nextSeq);
          bytes.drop(end);
          if (await bytes.ensure(end + 1)) {
            r.complete = false;
            r.problems.push({
              offset: end,
              type: "trailer",
              reason: `${
                bytes.end - end
              }+ bytes follow the trailer at offset ${end}`,
            });
          }
          break;
        } else {
          r.problems.push({
            offset: pos,
            chunk: nextIndex,
            type: "damaged",
            reason: `item at offset ${pos} is neither a chunk nor a trailer`,
          });
          r.chainIntact = false;
          prevAdjacent = false;
        }
      }
    } finally {
      await bytes.close();
    }
    if (!r.complete) r.chainIntact = false;
  }

  async #scan(pos: number): Promise<number> {
    const bytes = this.#bytes;
    for (;;) {
      try {
        return scanItem(
          bytes.buf.subarray(pos - bytes.base),
          0,
          MAX_ITEM_BYTES,
        ) + pos;
      } catch (e) {
        if (e instanceof NeedMoreBytes && !bytes.eof) {
          if (bytes.end - pos > MAX_ITEM_BYTES) {
            throw new RangeError(`item exceeds ${MAX_ITEM_BYTES} bytes`);
          }
          await bytes.ensure(bytes.end + READ_BLOCK);
          continue;
        }
        throw e;
      }
    }
  }

  /** Moves to the next chunk marker at or after `from`; false at EOF. */
  async #resync(from: number): Promise<boolean> {
    const bytes = this.#bytes;
    let at = from;
    for (;;) {
      const i = indexOf(bytes.buf, CHUNK_MARKER, at - bytes.base);
      if (i >= 0) {
        this.#pos = bytes.base + i;
        return true;
      }
      if (bytes.eof) {
        this.#pos = bytes.end;
        this.report.bytes = bytes.end;
        return false;
      }
      at = Math.max(at, bytes.end - CHUNK_MARKER.length + 1);
      bytes.drop(at);
      await bytes.ensure(bytes.end + READ_BLOCK);
    }
  }

  #checkChunk(
    item: unknown[],
    pos: number,
    prevAdjacent: boolean,
  ):
    | { index: number; firstSeq: number; count: number; events: ProcEvent[] }
    | undefined {
    const r = this.report;
    const [, index, firstSeq, prev, digest, body] = item;
    if (
      item.length !== 6 || !isUint(index) || !isUint(firstSeq) ||
      !(prev instanceof Uint8Array) || !(digest instanceof Uint8Array) ||
      !(body instanceof Uint8Array)
    ) {
      r.problems.push({
        offset: pos,
        type: "damaged",
        reason:
          `chunk at offset ${pos} has the wrong shape (expected ["chunk", index, firstSeq, prev, digest, body])`,
      });
      r.chainIntact = false;
      return undefined;
    }
    if (!equalBytes(sha256(body).subarray(0, 16), digest)) {
      r.problems.push({
        offset: pos,
        chunk: index,
        type: "damaged",
        reason:
          `chunk ${index} at offset ${pos} is damaged: its body does not match its digest`,
      });
      r.chainIntact = false;
      return undefined;
    }
    if (prevAdjacent && !equalBytes(prev, this.#prevHash)) {
      r.problems.push({
        offset: pos,
        chunk: index,
        type: "chain",
        reason:
          `chunk ${index} at offset ${pos} does not follow the item before it (hash chain broken: the previous item was altered)`,
      });
      r.chainIntact = false;
    }
    let raw: unknown;
    try {
      raw = newDecoder().decode(body);
    } catch (e) {
      r.problems.push({
        offset: pos,
        chunk: index,
        type: "damaged",
        reason: `chunk ${index} at offset ${pos}: events do not decode: ${
          (e as Error).message
        }`,
      });
      r.chainIntact = false;
      return undefined;
    }
    if (!Array.isArray(raw)) {
      r.problems.push({
        offset: pos,
        chunk: index,
        type: "damaged",
        reason: `chunk ${index} at offset ${pos}: events are not an array`,
      });
      return undefined;
    }
    const events: ProcEvent[] = [];
    raw.forEach((e, i) => {
      try {
        events.push(decodeEvent(e));
      } catch (err) {
        r.problems.push({
          offset: pos,
          chunk: index,
          type: "event",
          reason: `chunk ${index} at offset ${pos}, event ${i} (seq ${
            firstSeq + i
          }): ${(err as Error).message}`,
        });
      }
    });
    return { index, firstSeq, count: raw.length, events };
  }

  #checkTrailer(
    item: unknown[],
    pos: number,
    prevAdjacent: boolean,
    chunks: number,
    events: number,
  ): void {
    const r = this.report;
    const [, nChunks, nEvents, counts, lost, endUtcNs, finalHash] = item;
    if (
      !isUint(nChunks) || !isUint(nEvents) || !isMap(counts) ||
      !isMap(lost) || !(finalHash instanceof Uint8Array) ||
      !(typeof endUtcNs === "bigint" || Number.isSafeInteger(endUtcNs))
    ) {
      r.problems.push({
        offset: pos,
        type: "trailer",
        reason: `trailer at offset ${pos} has the wrong shape`,
      });
      return;
    }
    r.trailer = {
      chunks: nChunks,
      events: nEvents,
      counts: counts as RecordingTrailer["counts"],
      lost: lost as Record<string, number>,
      endUtcNs: BigInt(endUtcNs as number | bigint),
      finalHash,
    };
    const problems: string[] = [];
    if (!prevAdjacent || !equalBytes(finalHash, this.#prevHash)) {
      problems.push("its final hash does not match the last chunk");
    }
    if (nChunks !== chunks) {
      problems.push(`it counts ${nChunks} chunks, read ${chunks}`);
    }
    if (nEvents !== events) {
      problems.push(`it counts ${nEvents} events, read ${events}`);
    }
    // the counts are outside the hash chain: check them against the events
    for (
      const [said, read, what] of [
        [counts, this.#kindCounts, "events"],
        [lost, this.#lostCounts, "events lost"],
      ] as const
    ) {
      for (const k of new Set([...Object.keys(said), ...Object.keys(read)])) {
        const n = said[k] ?? 0;
        if (n !== (read[k] ?? 0)) {
          problems.push(
            `it counts ${JSON.stringify(n)} ${k} ${what}, read ${read[k] ?? 0}`,
          );
        }
      }
    }
    if (problems.length) {
      r.problems.push({
        offset: pos,
        type: "trailer",
        reason: `trailer at offset ${pos}: ${problems.join("; ")}`,
      });
      r.chainIntact = false;
      return;
    }
    r.complete = r.problems.length === 0;
  }
}

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
  for (const k of ["host", "os", "kernel", "bootId"]) {
    if (typeof h[k] !== "string") {
      throw fail(`header field "${k}" is missing or not a string`);
    }
  }
  const tb = h.timeBase as Record<string, unknown> | undefined;
  const clock = h.clock as Record<string, unknown> | undefined;
  if (
    typeof tb !== "object" || tb === null || typeof clock !== "object" ||
    clock === null
  ) {
    throw fail(`header fields "timeBase" and "clock" must be maps`);
  }
  try {
    tb.monoNs = BigInt(tb.monoNs as bigint);
    tb.utcNs = BigInt(tb.utcNs as bigint);
    clock.monoToUtcNs = BigInt(clock.monoToUtcNs as bigint);
  } catch {
    throw fail(`header time base is not made of integers`);
  }
  return h as unknown as RecordingHeader;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    !(v instanceof Uint8Array);
}

function isUint(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const last = hay.length - needle.length;
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

async function* readBlocks(file: Deno.FsFile): AsyncGenerator<Uint8Array> {
  try {
    const buf = new Uint8Array(READ_BLOCK);
    for (;;) {
      const n = await file.read(buf);
      if (n === null) return;
      yield buf.slice(0, n);
    }
  } finally {
    file.close();
  }
}
