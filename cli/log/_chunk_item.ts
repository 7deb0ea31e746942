/**
 * Encodes a chunk item (`["chunk", index, firstSeq, prev, digest, body]`)
 * by hand: the same bytes cbor-x writes (smallest integer heads, byte
 * strings). cbor-x's encoder grows a scratch buffer for each big item, and
 * an always-on recorder writing chunk after chunk saw its resident memory
 * grow by about 0.5 MiB per chunk (bench/live_memory_bench.ts); the writer
 * now puts {@link chunkItemPrefix} in front of the body it already holds
 * (`EventBodyEncoder.finishFramed`), with no allocation of the chunk's size.
 *
 * @module
 */
import { concatBytes } from "../io/concat_bytes.ts";

/** The bytes of a CBOR head of major type `major` (0-7) with argument `n` (an unsigned integer beyond 32 bits: a float64, as cbor-x writes it). */
function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  if (n < 0x100000000) {
    return [
      m | 26,
      (n >>> 24) & 0xff,
      (n >>> 16) & 0xff,
      (n >>> 8) & 0xff,
      n & 0xff,
    ];
  }
  // beyond 32 bits cbor-x writes a float64: the same here, byte for byte
  const f = new Uint8Array(9);
  f[0] = 0xfb;
  new DataView(f.buffer).setFloat64(1, n);
  return [...f];
}

const CHUNK_START = [0x86, 0x65, ...new TextEncoder().encode("chunk")];

/**
 * The CBOR bytes of `["chunk", index, firstSeq, prev, digest, body]`.
 *
 * @example
 * ```ts
 * import { encodeChunkItem } from "./_chunk_item.ts";
 * import { newEncoder } from "./_cbor.ts";
 * const prev = new Uint8Array(32).fill(7), digest = new Uint8Array(16).fill(9);
 * const body = new Uint8Array(300).fill(1);
 * const mine = encodeChunkItem(70000, 5_000_000_000, prev, digest, body);
 * const theirs = newEncoder().encode(["chunk", 70000, 5_000_000_000, prev, digest, body]);
 * if (mine.join() !== Array.from(theirs).join()) throw new Error("differs from cbor-x");
 * ```
 */
export function encodeChunkItem(
  index: number,
  firstSeq: number,
  prev: Uint8Array,
  digest: Uint8Array,
  body: Uint8Array,
): Uint8Array {
  const pre = chunkItemPrefix(index, firstSeq, prev, digest, body.length);
  const out = new Uint8Array(pre.length + body.length);
  out.set(pre);
  out.set(body, pre.length);
  return out;
}

/**
 * The bytes of a chunk item that come before its body (the body's
 * byte-string head included): with the body right after them, the item
 * {@link encodeChunkItem} writes. A writer puts them in front of a body it
 * already holds, so a chunk costs no new buffer of its size.
 *
 * @example
 * ```ts
 * import { chunkItemPrefix, encodeChunkItem } from "./_chunk_item.ts";
 * const prev = new Uint8Array(32), digest = new Uint8Array(16);
 * const body = new Uint8Array([0x80]);
 * const pre = chunkItemPrefix(3, 9, prev, digest, body.length);
 * const whole = encodeChunkItem(3, 9, prev, digest, body);
 * if ([...pre, ...body].join() !== whole.join()) throw new Error();
 * ```
 */
export function chunkItemPrefix(
  index: number,
  firstSeq: number,
  prev: Uint8Array,
  digest: Uint8Array,
  bodyLength: number,
): Uint8Array {
  const parts = [
    CHUNK_START,
    head(0, index),
    head(0, firstSeq),
    head(2, prev.length),
    prev,
    head(2, digest.length),
    digest,
    head(2, bodyLength),
  ];
  return concatBytes(parts);
}
