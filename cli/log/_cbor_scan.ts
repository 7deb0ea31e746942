/**
 * Finds where one CBOR data item ends without decoding it, so that the reader
 * can cut a CBOR sequence into items, hash each item's exact bytes, and tell a
 * truncated file from a malformed one. Iterative, bounded depth: safe on
 * hostile input.
 *
 * @module
 */

/** The buffer ends inside the item: more bytes are needed. */
export class NeedMoreBytes extends Error {
  constructor(readonly offset: number) {
    super(`item continues past offset ${offset}`);
    this.name = "NeedMoreBytes";
  }
}

const MAX_DEPTH = 64;

/**
 * Returns the offset just past the CBOR item that starts at `start`.
 *
 * @throws {NeedMoreBytes} when `buf` ends before the item does
 * @throws {SyntaxError} when the bytes are not well-formed CBOR
 * @throws {RangeError} when a length exceeds `maxLength`
 *
 * @example
 * ```ts
 * import { scanItem } from "./_cbor_scan.ts";
 * // [1, "ab"] = 0x82 0x01 0x62 0x61 0x62
 * const end = scanItem(new Uint8Array([0x82, 0x01, 0x62, 0x61, 0x62, 0xff]), 0);
 * if (end !== 5) throw new Error("wrong end");
 * ```
 */
export function scanItem(
  buf: Uint8Array,
  start: number,
  maxLength = 256 * 1024 * 1024,
): number {
  let pos = start;
  // Each stack entry: items still expected in an open container;
  // -1 means an indefinite-length container waiting for a break.
  const stack: number[] = [];
  let needed = 1;
  for (;;) {
    if (needed === 0) {
      if (stack.length === 0) return pos;
      needed = stack.pop()!;
      // the finished container is one item of its parent; -1 (indefinite)
      // stays open until its break
      if (needed > 0) needed--;
      if (needed === 0) continue;
    }
    if (pos >= buf.length) throw new NeedMoreBytes(pos);
    const ib = buf[pos];
    if (needed === -1 && ib === 0xff) {
      pos++;
      needed = 0;
      continue;
    }
    const major = ib >> 5;
    const ai = ib & 31;
    pos++;
    let value = 0;
    if (ai < 24) value = ai;
    else if (ai <= 27) {
      const n = 1 << (ai - 24);
      if (pos + n > buf.length) throw new NeedMoreBytes(buf.length);
      value = 0;
      for (let i = 0; i < n; i++) value = value * 256 + buf[pos + i];
      pos += n;
    } else if (ai === 31) {
      if (major === 0 || major === 1 || major === 6) {
        throw new SyntaxError(
          `Cannot read CBOR at offset ${
            pos - 1
          }: indefinite length on major type ${major}`,
        );
      }
      if (major === 7) {
        throw new SyntaxError(
          `Cannot read CBOR at offset ${pos - 1}: unexpected break`,
        );
      }
    } else {
      throw new SyntaxError(
        `Cannot read CBOR at offset ${pos - 1}: reserved additional info ${ai}`,
      );
    }
    const indefinite = ai === 31;
    switch (major) {
      case 0:
      case 1:
        break;
      case 2:
      case 3:
        if (indefinite) {
          if (stack.length >= MAX_DEPTH) throw depthError(pos);
          stack.push(needed);
          needed = -1;
          continue;
        }
        if (value > maxLength) throw lengthError(pos, value, maxLength);
        if (pos + value > buf.length) throw new NeedMoreBytes(buf.length);
        pos += value;
        break;
      case 4:
      case 5: {
        const items = indefinite ? -1 : major === 5 ? value * 2 : value;
        if (items > maxLength) throw lengthError(pos, items, maxLength);
        if (items === 0) break;
        if (stack.length >= MAX_DEPTH) throw depthError(pos);
        stack.push(needed);
        needed = items;
        continue;
      }
      case 6:
        // a tag: the tagged item follows and counts for this one
        continue;
      case 7:
        break;
    }
    if (needed > 0) needed--;
  }
}

function depthError(pos: number): SyntaxError {
  return new SyntaxError(
    `Cannot read CBOR at offset ${pos}: nesting deeper than ${MAX_DEPTH}`,
  );
}

function lengthError(pos: number, value: number, max: number): RangeError {
  return new RangeError(
    `Cannot read CBOR at offset ${pos}: length ${value} exceeds the limit of ${max}`,
  );
}
