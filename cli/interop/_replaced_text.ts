/**
 * Counts what a lax text decoder replaces with U+FFFD, so that an import
 * that reads such bytes says so (private to cli/interop). The counts follow
 * the WHATWG Encoding Standard's UTF-8 and UTF-16 decoders, which
 * `TextDecoder` implements: one error per U+FFFD it writes. Pure.
 *
 * @module
 */

/** What an input's decoding replaced: none, or how many and the first. */
export interface Replacements {
  /** `"UTF-8"` or `"UTF-16"`. */
  encoding: string;
  /** U+FFFD written in place of bytes that are not the encoding. */
  count: number;
  /** The first: the input's byte offset of the sequence it replaced (-1 for none). */
  offset: number;
  /** ... and its line (1-based; 0 for none). */
  line: number;
}

/** Counts the errors of a streaming UTF-8 decoding of the chunks given. */
export class Utf8Replacements {
  count = 0;
  offset = -1;
  line = 0;
  /** Bytes read before the current chunk. */
  #at = 0;
  /** The line of the current byte. */
  #line = 1;
  // the decoder's state: continuation bytes still needed, and their bounds
  #needed = 0;
  #seen = 0;
  #lower = 0x80;
  #upper = 0xbf;
  /** Where the sequence under way began, and its line. */
  #leadAt = 0;
  #leadLine = 1;

  /** Takes the next chunk of the input. */
  scan(b: Uint8Array): void {
    const n = b.length;
    let i = 0;
    while (i < n) {
      const c = b[i];
      if (this.#needed === 0) {
        if (c < 0x80) {
          if (c === 0x0a) this.#line++;
          i++;
          continue;
        }
        this.#leadAt = this.#at + i;
        this.#leadLine = this.#line;
        if (c >= 0xc2 && c <= 0xdf) this.#needed = 1;
        else if (c >= 0xe0 && c <= 0xef) {
          if (c === 0xe0) this.#lower = 0xa0;
          if (c === 0xed) this.#upper = 0x9f;
          this.#needed = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
          if (c === 0xf0) this.#lower = 0x90;
          if (c === 0xf4) this.#upper = 0x8f;
          this.#needed = 3;
        } else this.#error();
        i++;
        continue;
      }
      if (c < this.#lower || c > this.#upper) {
        // the sequence is broken: this byte is read again on its own
        this.#reset();
        this.#error();
        continue;
      }
      this.#lower = 0x80;
      this.#upper = 0xbf;
      if (++this.#seen === this.#needed) this.#reset();
      i++;
    }
    this.#at += n;
  }

  /** The end of the input: a sequence cut off there is one more error. */
  end(): Replacements {
    if (this.#needed !== 0) {
      this.#reset();
      this.#error();
    }
    return {
      encoding: "UTF-8",
      count: this.count,
      offset: this.offset,
      line: this.line,
    };
  }

  #reset(): void {
    this.#needed = 0;
    this.#seen = 0;
    this.#lower = 0x80;
    this.#upper = 0xbf;
  }

  #error(): void {
    if (this.count++ === 0) {
      this.offset = this.#leadAt;
      this.line = this.#leadLine;
    }
  }
}

/** Counts the errors of a streaming UTF-16 decoding of the chunks given. */
export class Utf16Replacements {
  count = 0;
  offset = -1;
  line = 0;
  readonly #le: boolean;
  #at = 0;
  #line = 1;
  /** The first byte of a code unit, or -1. */
  #leadByte = -1;
  /** A high surrogate waiting for its low one, or -1; where it began. */
  #high = -1;
  #highAt = 0;
  #highLine = 1;

  constructor(littleEndian: boolean) {
    this.#le = littleEndian;
  }

  /** Takes the next chunk of the input. */
  scan(b: Uint8Array): void {
    for (let i = 0; i < b.length; i++) {
      if (this.#leadByte < 0) {
        this.#leadByte = b[i];
        continue;
      }
      const unit = this.#le
        ? this.#leadByte | (b[i] << 8)
        : (this.#leadByte << 8) | b[i];
      this.#leadByte = -1;
      const at = this.#at + i - 1;
      if (this.#high >= 0) {
        this.#high = -1;
        if (unit >= 0xdc00 && unit <= 0xdfff) continue;
        // a high surrogate alone; this unit is read again on its own
        this.#error(this.#highAt, this.#highLine);
      }
      if (unit >= 0xd800 && unit <= 0xdbff) {
        this.#high = unit;
        this.#highAt = at;
        this.#highLine = this.#line;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        this.#error(at, this.#line);
      } else if (unit === 0x0a) this.#line++;
    }
    this.#at += b.length;
  }

  /** The end of the input: an odd byte or a high surrogate left is one error. */
  end(): Replacements {
    if (this.#high >= 0) this.#error(this.#highAt, this.#highLine);
    else if (this.#leadByte >= 0) this.#error(this.#at - 1, this.#line);
    this.#high = -1;
    this.#leadByte = -1;
    return {
      encoding: "UTF-16",
      count: this.count,
      offset: this.offset,
      line: this.line,
    };
  }

  #error(at: number, line: number): void {
    if (this.count++ === 0) {
      this.offset = at;
      this.line = line;
    }
  }
}
