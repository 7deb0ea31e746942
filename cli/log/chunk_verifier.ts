/**
 * Verification: checks the frames of a recording one by one (each chunk
 * against its digest, the hash chain, chunk order and sequence numbers, the
 * trailer against everything read) and says which chunks to deliver. Pure:
 * it decodes bytes it is given and never reads anything.
 *
 * @module
 */
import { EVENT_KINDS, type ProcEvent } from "../events/types.ts";
import { EventCounts } from "../events/event_counts.ts";
import { newDecoder } from "./_cbor.ts";
import { digestMatchesAt, sha256, sha256Into } from "./_hash.ts";
import type { ChunkBatch } from "./chunk_batch.ts";
import type { Frame } from "./frame_recording.ts";
import { ProblemLog, type ReadProblem } from "./problem_log.ts";
import { chunkEnvelope } from "./_chunk_envelope.ts";
import { holdSha256Native, releaseSha256Native } from "./_sha256_native.ts";
import { decodedKinds, decodeEventBody } from "./decode_event_body.ts";
import { decodeEvent, type RecordingTrailer } from "./schema.ts";

/** What the reader found, complete once iteration has finished. */
export interface RecordingReport {
  name: string;
  /** Bytes read. */
  bytes: number;
  /** Chunks whose events were delivered. */
  chunks: number;
  /** Events delivered (with the `lost` events standing for missing chunks). */
  events: number;
  /** The trailer was found and matched every chunk. */
  complete: boolean;
  /**
   * Every chunk read verified against its digest and the hash chain, in
   * order, none missing or repeated (a recording cut short can be intact).
   */
  chainIntact: boolean;
  trailer?: RecordingTrailer;
  /** Where a truncated recording stopped. */
  truncatedAt?: number;
  /** Events known missing because chunks were skipped (the tail's too). */
  eventsMissing: number;
  /**
   * Events are missing after the last chunk read: chunks at the end were
   * damaged (not merely cut short by a crash). `count` comes from the
   * trailer, when one was read; `after` is the time of the last event read.
   */
  tailLost?: { count: number; countUnknown: boolean; after: number };
  /**
   * The events of the delivered chunks as the recording holds them (the
   * `lost` events standing for missing chunks are in {@link eventsMissing}).
   */
  counts: EventCounts;
  /** The first problems one by one, then a summary (see {@link ProblemLog}). */
  problems: ReadProblem[];
  /** Every problem, per type. */
  problemCounts: Partial<Record<ReadProblem["type"], number>>;
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

/** How a {@link ChunkVerifier} hashes. */
export interface VerifierOptions {
  /**
   * Hash the small items of plain chunks by the system's library
   * (`_sha256_native.ts`, the CPU's SHA instructions) where it is to be
   * had, else in JavaScript: the same hashes, the same checks. Default:
   * from the {@link NATIVE_AFTER_CHUNKS}th chunk on (a short read does not
   * pay for loading the library), or from when the reader finds many small
   * chunks ahead ({@link ChunkVerifier.hashNativelyFromNow}); true: from
   * the first; false: never.
   */
  nativeHash?: boolean;
}

/** The kind code of `lost` events. */
const LOST_CODE = EVENT_KINDS.indexOf("lost") + 1;

/**
 * Chunks read, by default, before their items are hashed natively: loading
 * the library costs a few milliseconds, about what hashing 1,000 small
 * chunks in JavaScript costs; a long idle recording has 100,000s of them.
 */
export const NATIVE_AFTER_CHUNKS = 1024;

/**
 * Checks frames in file order; {@link ChunkVerifier.frame} returns the
 * chunk to deliver, if any, and {@link ChunkVerifier.finish} settles the
 * report once the input has ended.
 *
 * @example
 * ```ts
 * import { ChunkVerifier } from "./chunk_verifier.ts";
 * const v = new ChunkVerifier("x.cbor", new Uint8Array(32));
 * v.frame({ kind: "damaged", offset: 100, length: 4096, zeros: true, atEnd: true, reason: "" });
 * v.finish(4196);
 * // a zero tail is what a crash leaves: incomplete, not damaged
 * if (v.report.problems[0].type !== "truncated" || !v.report.chainIntact) throw new Error();
 * ```
 */
export class ChunkVerifier {
  readonly report: RecordingReport;
  #log = new ProblemLog();
  /** The hash of the last chunk delivered: 32 bytes of this at {@link #prevHashAt}. */
  #prevHash: Uint8Array;
  #prevHashAt = 0;
  /** The previous frame was a chunk read whole, right before this one. */
  #prevAdjacent = true;
  #nextIndex = 0;
  #nextSeq = 0;
  #lastT = 0;
  /** Chunk indexes skipped as missing: [from, to) ranges, in order. */
  #gaps: [number, number][] = [];
  /**
   * Index and offset of each delivered chunk, in turn, indexes rising (for
   * messages): two numbers pushed per chunk cost less than a map's entry.
   */
  #offsets: number[] = [];
  #trailerSeen = false;
  /** Damage was met since the last chunk delivered. */
  #damageSinceChunk = false;
  /** Chunks read before small items are hashed natively (see options). */
  #nativeAfter: number;
  /** This verifier holds the native library (see {@link releaseNative}). */
  #nativeHeld = false;
  /** Events per kind code not yet in the report's counts; their codes. */
  #pendingKinds = new Float64Array(EVENT_KINDS.length + 1);
  #pendingCodes: number[] = [];

  constructor(
    name: string,
    headerHash: Uint8Array,
    options: VerifierOptions = {},
  ) {
    const native = options.nativeHash;
    this.#nativeAfter = native === undefined
      ? NATIVE_AFTER_CHUNKS
      : native
      ? 0
      : Infinity;
    this.#prevHash = headerHash;
    this.report = {
      name,
      bytes: 0,
      chunks: 0,
      events: 0,
      complete: false,
      chainIntact: true,
      eventsMissing: 0,
      counts: new EventCounts(),
      problems: this.#log.problems,
      problemCounts: this.#log.counts,
    };
  }

  /** A trailer was read: nothing after it belongs to the recording. */
  get done(): boolean {
    return this.#trailerSeen;
  }

  /** Checks one frame; returns the chunk to deliver, if any. */
  frame(f: Frame): ChunkRead | undefined {
    this.flushCounts();
    const r = this.report;
    if (f.kind === "truncated") {
      r.bytes = f.offset + f.length;
      r.truncatedAt = f.offset;
      this.#problem(
        f.offset,
        "truncated",
        `truncated at offset ${f.offset}: ${f.item} ${
          f.item === "chunk" ? this.#nextIndex + " " : ""
        }is incomplete (${f.length} bytes of it present)`,
        this.#nextIndex,
      );
      return undefined;
    }
    if (f.kind === "damaged") {
      r.bytes = f.offset + f.length;
      this.#prevAdjacent = false;
      if (f.zeros && f.atEnd) {
        // a crash or a power cut leaves zeros after the last write
        r.truncatedAt = f.offset;
        this.#problem(
          f.offset,
          "truncated",
          `truncated at offset ${f.offset}: ${f.length} zero bytes to the end of the file after chunk ${
            this.#nextIndex - 1
          } (what a crash or power cut leaves; the recorder did not close the recording)`,
          this.#nextIndex,
        );
        return undefined;
      }
      r.chainIntact = false;
      this.#damageSinceChunk = true;
      this.#problem(
        f.offset,
        "damaged",
        `${f.length} ${
          f.zeros ? "zero bytes" : "bytes"
        } at offset ${f.offset} are not a chunk: ${f.reason}; skipped to ${
          f.atEnd ? "the end" : `offset ${f.offset + f.length}`
        }`,
        this.#nextIndex,
      );
      return undefined;
    }
    const end = f.offset + f.bytes.length;
    r.bytes = end;
    // a chunk's envelope read in place; anything else the generic way
    let item: unknown = f.item === "chunk" ? chunkEnvelope(f.bytes) : undefined;
    if (item === undefined) {
      try {
        item = newDecoder().decode(f.bytes);
      } catch (e) {
        return this.#damaged(
          f.offset,
          `item at offset ${f.offset} does not decode: ${(e as Error).message}`,
        );
      }
    }
    const hash = sha256(f.bytes);
    if (!Array.isArray(item)) {
      return this.#damaged(f.offset, `item at offset ${f.offset} is no array`);
    }
    if (f.item === "trailer") {
      this.#trailer(item, f.offset);
      this.#trailerSeen = true;
      return undefined;
    }
    const [, index, firstSeq, prev, digest, body] = item;
    if (
      item.length !== 6 || !isUint(index) || !isUint(firstSeq) ||
      !(prev instanceof Uint8Array) || !(digest instanceof Uint8Array) ||
      !(body instanceof Uint8Array)
    ) {
      return this.#damaged(
        f.offset,
        `chunk at offset ${f.offset} has the wrong shape (expected ["chunk", index, firstSeq, prev, digest, body])`,
      );
    }
    const events = this.#chunk(
      index,
      firstSeq,
      prev,
      0,
      prev.length,
      digest,
      0,
      digest.length,
      body,
      0,
      body.length,
      f.offset,
      hash,
      0,
    );
    if (events === undefined) return undefined;
    return {
      index,
      offset: f.offset,
      length: f.bytes.length,
      firstSeq,
      hash,
      events,
    };
  }

  /**
   * Checks a chunk item whose plain envelope the reader has read in place
   * (`plainChunkEnd`) and appends it to `batch` when it is to be delivered
   * (true): what {@link frame} does for its frame, without reading the
   * envelope again nor making views of its parts or an object for the
   * chunk: the item is `bytes` from `start` to `end`, the envelope's parts at
   * the offsets in `bytes` that `at` gives. When the item's hash was
   * computed elsewhere, it is the 32 bytes of `hashes` at `hashesAt`, and
   * `digestOk` says whether the body matches its digest. `decoded`: the
   * body's events as {@link decodeEventBody} gave them (decoded ahead, while
   * the hashes were computed elsewhere) and `kinds` what
   * {@link decodedKinds} said then; used only if the chunk is to be
   * delivered (the same events as decoding it here: the checks do not
   * depend on them).
   */
  plainChunkTo(
    batch: ChunkBatch,
    offset: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    at: {
      index: number;
      firstSeq: number;
      prevStart: number;
      prevEnd: number;
      digestStart: number;
      digestEnd: number;
      bodyStart: number;
    },
    hashes?: Uint8Array,
    hashesAt = 0,
    digestOk?: boolean,
    decoded?: ProcEvent[],
    kinds?: readonly number[],
  ): boolean {
    this.report.bytes = offset + end - start;
    const native = this.report.chunks >= this.#nativeAfter;
    if (native && !this.#nativeHeld) {
      this.#nativeHeld = true;
      holdSha256Native();
    }
    // the item's hash goes where the batch keeps it
    const hashAt = batch.nextHashAt;
    const hb = batch.hashBytes;
    if (hashes === undefined) sha256Into(bytes, start, end, hb, hashAt, native);
    else for (let i = 0; i < 32; i++) hb[hashAt + i] = hashes[hashesAt + i];
    const index = at.index, firstSeq = at.firstSeq;
    const events = this.#chunk(
      index,
      firstSeq,
      bytes,
      at.prevStart,
      at.prevEnd,
      bytes,
      at.digestStart,
      at.digestEnd,
      bytes,
      at.bodyStart,
      end,
      offset,
      hb,
      hashAt,
      digestOk,
      native,
      decoded,
      kinds,
    );
    if (events === undefined) return false;
    batch.push(index, offset, end - start, firstSeq, hb, hashAt, events);
    return true;
  }

  /**
   * Counts the events {@link decodeEventBody} just decoded by their kind
   * codes, per code here until {@link flushCounts} adds them to the
   * report's counts in the order the kinds were first met (what
   * `counts.addAll(events)` does, the kinds in the same order): a keyed
   * store into the counts per kind and chunk cost ~0.16 µs a chunk of an
   * idle recording. Lost events' reasons are counted at once.
   */
  #addDecodedKinds(events: ProcEvent[], kinds: readonly number[]): void {
    const pending = this.#pendingKinds;
    for (let i = 0; i < kinds.length; i += 2) {
      const code = kinds[i];
      if (pending[code] === 0) this.#pendingCodes.push(code);
      pending[code] += kinds[i + 1];
      if (code === LOST_CODE) {
        const counts = this.report.counts;
        for (const e of events) {
          if (e.kind === "lost") {
            counts.addLost(e.reason, e.count, e.countUnknown ? 1 : 0);
          }
        }
      }
    }
  }

  /**
   * Adds the kinds counted since the last call to the report's counts:
   * the reader calls it before it hands out the chunks it verified, and
   * before it shows its report; every frame, generic decoding and
   * {@link finish} calls it first.
   */
  flushCounts(): void {
    const codes = this.#pendingCodes;
    if (codes.length === 0) return;
    const pending = this.#pendingKinds;
    const counts = this.report.counts;
    for (const code of codes) {
      counts.addKind(EVENT_KINDS[code - 1], pending[code]);
      pending[code] = 0;
    }
    codes.length = 0;
  }

  /** Small items are hashed natively from now on (see the options). */
  get hashesNatively(): boolean {
    return this.report.chunks >= this.#nativeAfter;
  }

  /**
   * Many small chunks lie ahead (the reader found a run of them whole in
   * its bytes): by default they are hashed natively from now on, not from
   * the {@link NATIVE_AFTER_CHUNKS}th chunk; true when they are (false
   * when `nativeHash` is false).
   */
  hashNativelyFromNow(): boolean {
    if (this.#nativeAfter !== NATIVE_AFTER_CHUNKS) {
      return this.#nativeAfter !== Infinity;
    }
    this.#nativeAfter = 0;
    return true;
  }

  /**
   * Lets go of the native library once the reading is over (see
   * `holdSha256Native`); reading on hashes in JavaScript.
   */
  releaseNative(): void {
    if (!this.#nativeHeld) return;
    this.#nativeHeld = false;
    this.#nativeAfter = Infinity;
    releaseSha256Native();
  }

  /** Bytes follow the trailer (from `offset`, at least `length`). */
  afterTrailer(offset: number, length: number): void {
    this.report.complete = false;
    this.#problem(
      offset,
      "trailer",
      `${length}+ bytes follow the trailer at offset ${offset}`,
    );
  }

  /** Settles the report once the input ended at `end`. */
  finish(end: number): void {
    this.flushCounts();
    const r = this.report;
    if (!this.#trailerSeen && r.truncatedAt === undefined) {
      r.truncatedAt = end;
      this.#problem(
        end,
        "truncated",
        `truncated at offset ${end}: no trailer after ${
          this.#nextIndex === 0
            ? "the header (no chunk either)"
            : `chunk ${this.#nextIndex - 1}`
        } (the recorder did not close the recording)`,
        this.#nextIndex,
      );
    }
    if (r.bytes < end) r.bytes = end;
    // the tail: the trailer counts events no chunk delivered, or chunks
    // after the last one read were damaged (a crash's cut is no damage)
    const said = r.trailer?.events;
    if (said !== undefined && said > this.#nextSeq) {
      const count = said - this.#nextSeq;
      r.eventsMissing += count;
      r.tailLost = { count, countUnknown: false, after: this.#lastT };
    } else if (this.#damageSinceChunk && said === undefined) {
      r.tailLost = { count: 0, countUnknown: true, after: this.#lastT };
    }
    // the `lost` event standing for the tail is delivered too (events())
    if (r.tailLost !== undefined) r.events++;
    if (this.#log.total > 0) r.complete = false;
    this.#log.finish();
  }

  #problem(
    offset: number,
    type: ReadProblem["type"],
    reason: string,
    chunk?: number,
  ): void {
    this.#log.add({
      offset,
      ...(chunk !== undefined ? { chunk } : {}),
      type,
      reason,
    });
  }

  #damaged(offset: number, reason: string, chunk?: number): undefined {
    this.report.chainIntact = false;
    this.#damageSinceChunk = true;
    this.#prevAdjacent = false;
    this.#problem(offset, "damaged", reason, chunk ?? this.#nextIndex);
    return undefined;
  }

  #chunk(
    index: number,
    firstSeq: number,
    prevBytes: Uint8Array,
    prevStart: number,
    prevEnd: number,
    digestBytes: Uint8Array,
    digestStart: number,
    digestEnd: number,
    bodyBytes: Uint8Array,
    bodyStart: number,
    bodyEnd: number,
    pos: number,
    hashBytes: Uint8Array,
    hashAt: number,
    digestOk?: boolean,
    native = false,
    decoded?: ProcEvent[],
    decodedKindsOf?: readonly number[],
  ): ProcEvent[] | undefined {
    const r = this.report;
    if (
      digestOk === false || digestEnd - digestStart !== 16 ||
      digestOk === undefined && !digestMatchesAt(
          bodyBytes,
          bodyStart,
          bodyEnd,
          digestBytes,
          digestStart,
          16,
          native,
        )
    ) {
      return this.#damaged(
        pos,
        `chunk ${index} at offset ${pos} is damaged: its body does not match its digest`,
        index,
      );
    }
    if (index < this.#nextIndex) {
      // already delivered, or skipped as missing and found later: either
      // way out of place, and never delivered (a second time)
      r.chainIntact = false;
      const earlier = offsetOf(this.#offsets, index);
      const skipped = this.#gaps.some(([a, b]) => index >= a && index < b);
      this.#problem(
        pos,
        "order",
        skipped
          ? `chunk ${index} at offset ${pos} is out of order: it comes after chunk ${
            this.#nextIndex - 1
          } (its ${firstSeq}+ events are counted as missing where it belonged)`
          : `chunk ${index} at offset ${pos} repeats chunk ${index}${
            earlier !== undefined ? ` (offset ${earlier})` : ""
          }; not read again`,
        index,
      );
      this.#prevAdjacent = false;
      return undefined;
    }
    if (
      this.#prevAdjacent &&
      !equalBytesAt(
        prevBytes,
        prevStart,
        prevEnd,
        this.#prevHash,
        this.#prevHashAt,
      )
    ) {
      r.chainIntact = false;
      this.#problem(
        pos,
        "chain",
        `chunk ${index} at offset ${pos} does not follow the item before it (hash chain broken: the previous item was altered)`,
        index,
      );
    }
    // the schema-specialised decoder takes the plain case; anything else
    // (damage included) the generic decoder, which says what is wrong
    let events = decoded;
    let kinds = decodedKindsOf;
    if (events === undefined || kinds === undefined) {
      events = decodeEventBody(bodyBytes, bodyStart, bodyEnd);
      kinds = decodedKinds();
    }
    let items: number;
    if (events !== undefined) {
      items = events.length;
      this.#addDecodedKinds(events, kinds);
    } else {
      const generic = this.#decodeGeneric(
        bodyBytes.subarray(bodyStart, bodyEnd),
        index,
        pos,
        firstSeq,
      );
      if (generic === undefined) return undefined;
      ({ events, items } = generic);
      this.flushCounts();
      r.counts.addAll(events);
    }
    if (index !== this.#nextIndex || firstSeq !== this.#nextSeq) {
      const missing = firstSeq - this.#nextSeq;
      r.chainIntact = false;
      this.#gaps.push([this.#nextIndex, index]);
      this.#problem(
        pos,
        "gap",
        index > this.#nextIndex
          ? `chunks ${this.#nextIndex} to ${
            index - 1
          } are missing before offset ${pos} (${
            missing > 0 ? missing : "an unknown number of"
          } events)`
          : `chunk ${index} at offset ${pos} starts at event ${firstSeq}, expected ${this.#nextSeq}`,
        index,
      );
      if (missing > 0) {
        r.eventsMissing += missing;
        // the loss lies between the last event read and this chunk's first
        // (the analysis spans it from the event before it to its time)
        events.unshift({
          kind: "lost",
          t: events.length > 0
            ? Math.max(events[0].t, this.#lastT)
            : this.#lastT,
          pid: 0,
          tid: 0,
          reason: "recording",
          count: missing,
        });
      }
    }
    this.#prevAdjacent = true;
    this.#damageSinceChunk = false;
    this.#prevHash = hashBytes;
    this.#prevHashAt = hashAt;
    this.#offsets.push(index, pos);
    this.#nextIndex = index + 1;
    this.#nextSeq = firstSeq + items;
    if (events.length > 0) this.#lastT = events[events.length - 1].t;
    r.chunks++;
    r.events += events.length;
    return events;
  }

  /**
   * The events of a chunk body decoded the generic way (CBOR, then each
   * event checked), with a problem for each event that does not decode;
   * `undefined` when the body is no array of events (the chunk is damaged).
   */
  #decodeGeneric(
    body: Uint8Array,
    index: number,
    pos: number,
    firstSeq: number,
  ): { events: ProcEvent[]; items: number } | undefined {
    let raw: unknown;
    try {
      raw = newDecoder().decode(body);
    } catch (e) {
      return this.#damaged(
        pos,
        `chunk ${index} at offset ${pos}: events do not decode: ${
          (e as Error).message
        }`,
        index,
      );
    }
    if (!Array.isArray(raw)) {
      return this.#damaged(
        pos,
        `chunk ${index} at offset ${pos}: events are not an array`,
        index,
      );
    }
    const events: ProcEvent[] = [];
    for (let i = 0; i < raw.length; i++) {
      const e = raw[i];
      // the usual garbage (not an event array, an unknown kind) is told
      // apart without a throw: a chunk of a million of them stays cheap
      const why = !Array.isArray(e) || e.length < 4
        ? "not an event array"
        : EVENT_KINDS[e[0] - 1] === undefined
        ? `event kind code ${String(e[0]).slice(0, 20)} is unknown`
        : undefined;
      if (why === undefined) {
        try {
          events.push(decodeEvent(e));
          continue;
        } catch (err) {
          this.#eventProblem(index, pos, i, firstSeq, (err as Error).message);
          continue;
        }
      }
      this.#eventProblem(index, pos, i, firstSeq, why);
    }
    return { events, items: raw.length };
  }

  #eventProblem(
    index: number,
    pos: number,
    i: number,
    firstSeq: number,
    why: string,
  ): void {
    this.#problem(
      pos,
      "event",
      `chunk ${index} at offset ${pos}, event ${i} (seq ${
        firstSeq + i
      }): ${why}`,
      index,
    );
  }

  #trailer(item: unknown[], pos: number): void {
    const r = this.report;
    const [, nChunks, nEvents, counts, lost, endUtcNs, finalHash] = item;
    if (
      !isUint(nChunks) || !isUint(nEvents) || !isMap(counts) ||
      !isMap(lost) || !(finalHash instanceof Uint8Array) ||
      !(typeof endUtcNs === "bigint" || Number.isSafeInteger(endUtcNs))
    ) {
      r.chainIntact = false;
      this.#problem(
        pos,
        "trailer",
        `trailer at offset ${pos} has the wrong shape`,
      );
      return;
    }
    r.trailer = {
      chunks: nChunks,
      events: nEvents,
      counts: counts as RecordingTrailer["counts"],
      lost: lost as Record<string, number>,
      endUtcNs: BigInt(endUtcNs as number | bigint),
      // (a copy: the decoded bytes are a view of the whole block read, which
      // the report would keep alive, 64 KiB or more per segment)
      finalHash: finalHash.slice(),
    };
    const problems: string[] = [];
    if (
      !this.#prevAdjacent ||
      !equalBytesAt(
        finalHash,
        0,
        finalHash.length,
        this.#prevHash,
        this.#prevHashAt,
      )
    ) {
      problems.push("its final hash does not match the last chunk");
    }
    if (nChunks !== this.#nextIndex) {
      problems.push(`it counts ${nChunks} chunks, read ${this.#nextIndex}`);
    }
    if (nEvents !== this.#nextSeq) {
      problems.push(`it counts ${nEvents} events, read ${this.#nextSeq}`);
    }
    // the counts are outside the hash chain: check them against the events
    for (
      const [said, read, what] of [
        [counts, r.counts.kinds as Record<string, number>, "events"],
        [lost, r.counts.lost, "events lost"],
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
      r.chainIntact = false;
      this.#problem(
        pos,
        "trailer",
        `trailer at offset ${pos}: ${problems.join("; ")}`,
      );
      return;
    }
    r.complete = this.#log.total === 0;
  }
}

/**
 * The offset of chunk `index` in `offsets` (index and offset in turn,
 * indexes rising), or `undefined`.
 */
function offsetOf(offsets: number[], index: number): number | undefined {
  let lo = 0;
  let hi = offsets.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = offsets[2 * mid];
    if (at === index) return offsets[2 * mid + 1];
    if (at < index) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

/** Whether `bytes` from `start` to `end` equal the 32-byte hash in `hash` at `at`. */
function equalBytesAt(
  bytes: Uint8Array,
  start: number,
  end: number,
  hash: Uint8Array,
  at: number,
): boolean {
  if (end - start !== 32) return false;
  for (let i = 0; i < 32; i++) {
    if (bytes[start + i] !== hash[at + i]) return false;
  }
  return true;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    !(v instanceof Uint8Array);
}

function isUint(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}
