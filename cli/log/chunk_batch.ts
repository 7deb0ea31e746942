/**
 * Consecutive chunks as a reader verified them, in one object: their events
 * in one array and their index, offset, length, first sequence number and
 * hash in typed arrays. A reader of many small chunks (a long idle
 * recording) hands out one of these per batch instead of one object, one
 * events array and one hash view per chunk; {@link ChunkBatch.chunk} makes
 * the per-chunk view when it is wanted.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import type { ChunkRead } from "./chunk_verifier.ts";

/** Numbers per chunk in the batch's table: index, offset, length, firstSeq, events end. */
const FIELDS = 5;

/**
 * Chunks in file order; {@link events} holds the events of each chunk, one
 * chunk's after the other's (a `lost` event standing for missing chunks
 * comes first in the chunk after the gap, as in {@link ChunkRead.events}),
 * once the batch is sealed ({@link ChunkBatch.seal}: a reader hands out
 * sealed batches).
 *
 * @example
 * ```ts
 * import { ChunkBatch } from "./chunk_batch.ts";
 * const b = new ChunkBatch();
 * const hash = new Uint8Array(32).fill(7);
 * b.push(0, 100, 40, 0, hash, 0, [{ kind: "comm", t: 1, pid: 2, tid: 2, comm: "a" }]);
 * b.push(1, 140, 41, 1, hash, 0, [
 *   { kind: "comm", t: 2, pid: 2, tid: 2, comm: "b" },
 *   { kind: "comm", t: 3, pid: 2, tid: 2, comm: "c" },
 * ]);
 * b.seal();
 * const c = b.chunk(1);
 * if (b.length !== 2 || b.events.length !== 3) throw new Error("batch");
 * if (c.offset !== 140 || c.events.length !== 2 || c.hash[31] !== 7) throw new Error("chunk");
 * ```
 */
export class ChunkBatch {
  /** Chunks in the batch. */
  length = 0;
  /** The events of every chunk of the batch, in order. */
  events: ProcEvent[] = [];
  /**
   * Per chunk, {@link FIELDS} numbers (an array, not a typed array of
   * doubles: the numbers read back stay small integers).
   */
  #table: number[];
  /** Per chunk, its 32-byte SHA-256 (of the chunk item). */
  #hashes: Uint8Array;
  /** {@link events} is the first chunk's own array (not copied yet). */
  #adopted = false;
  /** Events in {@link events} (its length until {@link seal}). */
  #count = 0;
  #eventsHint: number;

  /**
   * A batch with room for `capacity` chunks and `events` events (it grows
   * past them).
   */
  constructor(capacity = 64, events = 256) {
    this.#table = new Array<number>(FIELDS * capacity).fill(0);
    this.#hashes = new Uint8Array(32 * capacity);
    this.#eventsHint = events;
  }

  /** Events of the chunks pushed so far. */
  get eventCount(): number {
    return this.#count;
  }

  /**
   * Ends the pushing: {@link events} holds exactly the chunks' events (it
   * was made with room to spare, not grown event by event).
   */
  seal(): this {
    if (!this.#adopted) this.events.length = this.#count;
    return this;
  }

  /**
   * Where the next chunk's hash goes: {@link hashBytes} at this index
   * (a verifier writes it there before {@link push}ing the chunk).
   */
  get nextHashAt(): number {
    if (32 * (this.length + 1) > this.#hashes.length) this.#grow();
    return 32 * this.length;
  }

  /** The bytes the hashes are in (see {@link hashAt}). */
  get hashBytes(): Uint8Array {
    return this.#hashes;
  }

  /** Where chunk `i`'s hash starts in {@link hashBytes}. */
  hashAt(i: number): number {
    return 32 * i;
  }

  /**
   * Appends a chunk: its numbers, its hash (the 32 bytes of `hash` at
   * `hashAt`; nothing is copied when that is already its place, see
   * {@link nextHashAt}) and its events.
   */
  push(
    index: number,
    offset: number,
    length: number,
    firstSeq: number,
    hash: Uint8Array,
    hashAt: number,
    events: ProcEvent[],
  ): void {
    const at = this.nextHashAt;
    const hashes = this.#hashes;
    if (hash !== hashes || hashAt !== at) {
      for (let i = 0; i < 32; i++) hashes[at + i] = hash[hashAt + i];
    }
    let all = this.events;
    let n = this.#count;
    if (this.length === 0) {
      // a batch of one chunk (a big one) hands its events on uncopied
      all = this.events = events;
      this.#adopted = true;
      n = events.length;
    } else {
      if (this.#adopted || n + events.length > all.length) {
        // room for the batch's events, made once (not grown per push)
        const more = new Array<ProcEvent>(
          Math.max(this.#eventsHint, 2 * (n + events.length)),
        );
        for (let i = 0; i < n; i++) more[i] = all[i];
        all = this.events = more;
        this.#adopted = false;
      }
      for (let i = 0; i < events.length; i++) all[n + i] = events[i];
      n += events.length;
    }
    this.#count = n;
    const t = this.#table;
    const k = FIELDS * this.length++;
    t[k] = index;
    t[k + 1] = offset;
    t[k + 2] = length;
    t[k + 3] = firstSeq;
    t[k + 4] = n;
  }

  /** Appends a chunk read on its own (see {@link push}). */
  add(c: ChunkRead): void {
    this.push(c.index, c.offset, c.length, c.firstSeq, c.hash, 0, c.events);
  }

  /** Chunk `i`'s index in the recording. */
  index(i: number): number {
    return this.#table[FIELDS * i];
  }

  /** Chunk `i`'s offset in the file. */
  offset(i: number): number {
    return this.#table[FIELDS * i + 1];
  }

  /** Where chunk `i`'s events start in {@link events}. */
  eventsStart(i: number): number {
    return i === 0 ? 0 : this.#table[FIELDS * (i - 1) + 4];
  }

  /** Where chunk `i`'s events end in {@link events}. */
  eventsEnd(i: number): number {
    return this.#table[FIELDS * i + 4];
  }

  /** Chunk `i`'s hash (the SHA-256 of its item), as a view of the batch's. */
  hash(i: number): Uint8Array {
    return new Uint8Array(this.#hashes.buffer, 32 * i, 32);
  }

  /** Chunk `i` as a {@link ChunkRead} of its own (its events copied out). */
  chunk(i: number): ChunkRead {
    const t = this.#table;
    const k = FIELDS * i;
    const from = this.eventsStart(i);
    const to = t[k + 4];
    return {
      index: t[k],
      offset: t[k + 1],
      length: t[k + 2],
      firstSeq: t[k + 3],
      hash: this.hash(i),
      events: this.length === 1 ? this.events : this.events.slice(from, to),
    };
  }

  /** Every chunk as a {@link ChunkRead} of its own, in order. */
  chunks(): ChunkRead[] {
    const out: ChunkRead[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.chunk(i);
    return out;
  }

  #grow(): void {
    const table = this.#table;
    for (let i = 0, n = table.length; i < n; i++) table.push(0);
    const hashes = new Uint8Array(2 * this.#hashes.length);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
  }
}
