/**
 * A small CBOR encoder for a chunk's body (SCHEMA.md, "Chunk"): a definite
 * array of event arrays, appended one event at a time into one growing
 * buffer, so that the recorder does not keep an array per event until the
 * chunk is written nor walk them all again with a general encoder.
 *
 * It writes exactly the bytes cbor-x's `Encoder` (as `newEncoder()` in
 * `_cbor.ts` configures it) writes for the same values: the shortest heads,
 * integers up to 32 bits as CBOR integers and other numbers as float64,
 * strings under 64 UTF-16 units encoded by hand (a lone surrogate as its
 * 3 bytes) and longer ones by `TextEncoder` (a lone surrogate as U+FFFD).
 * Values of any other type (never found in an event) are encoded by cbor-x
 * itself. tests/event_body_encoder_test.ts compares the two byte for byte.
 *
 * @module
 */
import { newEncoder } from "./_cbor.ts";

const utf8 = new TextEncoder();
const INITIAL_BYTES = 1 << 16;
/**
 * Room kept before the first item for {@link EventBodyEncoder.finishFramed}:
 * the array head and a chunk item's prefix (at most 86 bytes) fit in it.
 */
const FRONT = 128;

function arrayHeadLength(n: number): number {
  return n < 0x18 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/**
 * Appends event arrays and yields the CBOR encoding of the array of them.
 *
 * @example
 * ```ts
 * import { EventBodyEncoder } from "./event_body_encoder.ts";
 * const e = new EventBodyEncoder();
 * e.add([6, 1, 2, 2, "sh"]);
 * const body = e.finish();
 * // array(1) [array(5) [6, 1, 2, 2, text(2) "sh"]]
 * const want = [0x81, 0x85, 6, 1, 2, 2, 0x62, 0x73, 0x68];
 * if (body.join() !== want.join()) throw new Error(body.join());
 * if (e.count !== 0) throw new Error("finish starts a new body");
 * ```
 */
export class EventBodyEncoder {
  #buf = new Uint8Array(INITIAL_BYTES);
  #view = new DataView(this.#buf.buffer);
  /** Where the next byte goes; items begin at {@link FRONT}. */
  #pos = FRONT;
  #count = 0;

  /** Items added since the last {@link finish}. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the items added since the last {@link finish}. */
  get bytes(): number {
    return this.#pos - FRONT;
  }

  /** Appends one item (an event array). */
  add(item: unknown): void {
    this.#value(item);
    this.#count++;
  }

  /**
   * Appends one item that is an array of `n` values, given one by one with
   * {@link value} right after: an event encoded without building its array.
   */
  addArray(n: number): void {
    this.#room(9);
    this.#head(0x80, n);
    this.#count++;
  }

  /**
   * Appends `count` items already encoded (the CBOR of each, one after
   * another, as the library's chunk encoder writes them).
   *
   * @example
   * ```ts
   * import { EventBodyEncoder } from "./event_body_encoder.ts";
   * const e = new EventBodyEncoder();
   * e.addEncoded(new Uint8Array([0x81, 1, 0x81, 2]), 2);
   * if (e.finish().join() !== [0x82, 0x81, 1, 0x81, 2].join()) throw new Error();
   * ```
   */
  addEncoded(bytes: Uint8Array, count: number): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
    this.#count += count;
  }

  /** Appends one value inside the array begun by {@link addArray}. */
  value(v: unknown): void {
    this.#value(v);
  }

  /**
   * The array of the items added so far, as one CBOR item (a fresh copy);
   * then starts empty again.
   */
  finish(): Uint8Array<ArrayBuffer> {
    const start = this.#arrayHead();
    const out = this.#buf.slice(start, this.#pos);
    this.#reset();
    return out;
  }

  /**
   * The array of the items added so far, as one CBOR item, preceded by the
   * bytes `prefixOf` gives for it (which it may compute from the body, such
   * as its digest); then starts empty again. The result is a view into the
   * encoder's own buffer, valid until the next {@link add}: a writer that
   * writes one chunk after another allocates no memory per chunk (an
   * always-on recorder's memory must not drift with the chunks it wrote).
   *
   * @example
   * ```ts
   * import { EventBodyEncoder } from "./event_body_encoder.ts";
   * const e = new EventBodyEncoder();
   * e.add([1]);
   * // a prefix that ends in the body's length as a byte-string head
   * const item = e.finishFramed((body) => new Uint8Array([0x82, 0x40 + body.length]));
   * // then the body: array(1) [array(1) [1]]
   * if (item.join() !== [0x82, 0x43, 0x81, 0x81, 1].join()) throw new Error(item.join());
   * ```
   */
  finishFramed(prefixOf: (body: Uint8Array) => Uint8Array): Uint8Array {
    const start = this.#arrayHead();
    const body = this.#buf.subarray(start, this.#pos);
    const prefix = prefixOf(body);
    let item: Uint8Array;
    if (prefix.length <= start) {
      this.#buf.set(prefix, start - prefix.length);
      item = this.#buf.subarray(start - prefix.length, this.#pos);
    } else {
      item = new Uint8Array(prefix.length + body.length);
      item.set(prefix);
      item.set(body, prefix.length);
    }
    this.#reset();
    return item;
  }

  /** Writes the array head just before the items; returns where it begins. */
  #arrayHead(): number {
    const n = this.#count;
    const start = FRONT - arrayHeadLength(n);
    const b = this.#buf;
    if (n < 0x18) b[start] = 0x80 | n;
    else if (n < 0x100) (b[start] = 0x98), (b[start + 1] = n);
    else if (n < 0x10000) (b[start] = 0x99), this.#view.setUint16(start + 1, n);
    else (b[start] = 0x9a), this.#view.setUint32(start + 1, n);
    return start;
  }

  #reset(): void {
    this.#pos = FRONT;
    this.#count = 0;
  }

  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** A head of major type `major` (0 to 7, shifted) with argument `n` (uint32). */
  #head(major: number, n: number): void {
    const b = this.#buf;
    if (n < 0x18) b[this.#pos++] = major | n;
    else if (n < 0x100) {
      b[this.#pos++] = major | 0x18;
      b[this.#pos++] = n;
    } else if (n < 0x10000) {
      b[this.#pos++] = major | 0x19;
      this.#view.setUint16(this.#pos, n);
      this.#pos += 2;
    } else {
      b[this.#pos++] = major | 0x1a;
      this.#view.setUint32(this.#pos, n);
      this.#pos += 4;
    }
  }

  #value(value: unknown): void {
    this.#room(9);
    switch (typeof value) {
      case "number":
        return this.#number(value);
      case "string":
        return this.#string(value);
      case "boolean":
        this.#buf[this.#pos++] = value ? 0xf5 : 0xf4;
        return;
      case "object":
        if (value === null) {
          this.#buf[this.#pos++] = 0xf6;
          return;
        }
        if (Array.isArray(value) && value.constructor === Array) {
          const n = value.length;
          this.#head(0x80, n);
          for (let i = 0; i < n; i++) this.#value(value[i]);
          return;
        }
    }
    // anything else: cbor-x's own encoding of it
    const bytes = newEncoder().encode(value);
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  #number(v: number): void {
    if (v >>> 0 === v) return this.#head(0x00, v);
    if (v >> 0 === v) return this.#head(0x20, -1 - v); // negative int32
    if (v < 0 && v >= -0x100000000 && Math.floor(v) === v) {
      this.#buf[this.#pos++] = 0x3a;
      this.#view.setUint32(this.#pos, -1 - v);
      this.#pos += 4;
      return;
    }
    this.#buf[this.#pos++] = 0xfb;
    this.#view.setFloat64(this.#pos, v);
    this.#pos += 8;
  }

  #string(s: string): void {
    const n = s.length;
    if (n < 0x40) {
      // by hand, as cbor-x does for short strings: the head is 1 byte when
      // the string has fewer than 24 bytes, which most have
      this.#room(2 + n * 3);
      const b = this.#buf;
      const head = n < 0x18 ? 1 : 2;
      const start = this.#pos;
      let p = start + head;
      for (let i = 0; i < n; i++) {
        let c = s.charCodeAt(i);
        if (c < 0x80) b[p++] = c;
        else if (c < 0x800) {
          b[p++] = (c >> 6) | 0xc0;
          b[p++] = (c & 0x3f) | 0x80;
        } else if (
          (c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
        ) {
          c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
          b[p++] = (c >> 18) | 0xf0;
          b[p++] = ((c >> 12) & 0x3f) | 0x80;
          b[p++] = ((c >> 6) & 0x3f) | 0x80;
          b[p++] = (c & 0x3f) | 0x80;
        } else {
          b[p++] = (c >> 12) | 0xe0;
          b[p++] = ((c >> 6) & 0x3f) | 0x80;
          b[p++] = (c & 0x3f) | 0x80;
        }
      }
      const len = p - start - head;
      const need = len < 0x18 ? 1 : 2; // 63 units make at most 189 bytes
      if (need !== head) b.copyWithin(start + need, start + head, p);
      this.#pos = start;
      this.#head(0x60, len);
      this.#pos = start + need + len;
      return;
    }
    const bytes = utf8.encode(s);
    this.#room(5 + bytes.length);
    this.#head(0x60, bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }
}
