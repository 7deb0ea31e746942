/**
 * A moving window over a byte stream, addressed by stream offset: bytes are
 * loaded block by block and forgotten once read, and neither costs a copy of
 * what remains (the buffer grows geometrically and is compacted only when a
 * new block does not fit), so reading many small items is linear.
 *
 * @module
 */

/**
 * Where a reader takes its bytes from: blocks in stream order. The window
 * copies each block before it asks for the next, so a source may reuse its
 * buffer.
 */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** The bytes of a stream from {@link ByteWindow.base} to {@link ByteWindow.end}. */
export class ByteWindow {
  #it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  #buf = new Uint8Array(0);
  /** The buffer before {@link #buf}, reused by the next compaction. */
  #spare = new Uint8Array(0);
  /** Index in #buf of the byte at stream offset {@link base}. */
  #start = 0;
  /** Index in #buf past the last loaded byte. */
  #len = 0;
  /** Stream offset of the first byte kept. */
  base = 0;
  /** The stream has ended. */
  eof = false;

  constructor(source: ByteSource) {
    this.#it = Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : source[Symbol.iterator]();
  }

  /** Stream offset past the last loaded byte. */
  get end(): number {
    return this.base + this.#len - this.#start;
  }

  /**
   * Loads blocks until stream offset `end` is loaded or the stream ends;
   * true when it is loaded.
   */
  async ensure(end: number): Promise<boolean> {
    while (this.end < end && !this.eof) {
      const r = await this.#it.next();
      if (r.done) {
        this.eof = true;
        break;
      }
      this.#append(r.value);
    }
    return this.end >= end;
  }

  /** Forgets the bytes before stream offset `pos`. */
  drop(pos: number): void {
    const n = Math.min(pos, this.end) - this.base;
    if (n <= 0) return;
    this.#start += n;
    this.base += n;
  }

  /** The byte at stream offset `pos` (loaded), else -1. */
  at(pos: number): number {
    return pos >= this.base && pos < this.end
      ? this.#buf[this.#start + pos - this.base]
      : -1;
  }

  /**
   * The loaded bytes from stream offset `from` (at least {@link base}) to
   * `to` (at most {@link end}), as a view: valid until the window loads more.
   */
  view(from: number, to = this.end): Uint8Array {
    return this.#buf.subarray(
      this.#start + from - this.base,
      this.#start + to - this.base,
    );
  }

  /**
   * The buffer that holds the loaded bytes, for reading them in place: the
   * byte at stream offset `pos` is at `buffer[index(pos)]`. Valid until the
   * window loads more.
   */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** The index in {@link buffer} of stream offset `pos`. */
  index(pos: number): number {
    return this.#start + pos - this.base;
  }

  /** Ends the stream early. */
  async close(): Promise<void> {
    await this.#it.return?.();
  }

  #append(block: Uint8Array): void {
    const kept = this.#len - this.#start;
    if (this.#len + block.length <= this.#buf.length) {
      this.#buf.set(block, this.#len);
      this.#len += block.length;
      return;
    }
    // another buffer (views of this one stay valid until the next time):
    // the spare one when it is big enough, else a new one, twice what is
    // needed
    let next = this.#spare;
    if (next.length < kept + block.length) {
      next = new Uint8Array(Math.max(2 * (kept + block.length), 1 << 16));
    }
    next.set(this.#buf.subarray(this.#start, this.#len));
    next.set(block, kept);
    this.#spare = this.#buf;
    this.#buf = next;
    this.#start = 0;
    this.#len = kept + block.length;
  }
}
