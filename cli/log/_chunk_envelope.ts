/**
 * The fast path of a chunk item's outer array, `["chunk", index, firstSeq,
 * prev, digest, body]`: read in place (the byte strings are views of the
 * item), or `undefined` for anything but the plain encoding, which the
 * generic CBOR decoder then reads (and names what is wrong with it).
 *
 * @module
 */

/** The six items of a chunk, as the generic decoder gives them. */
export type ChunkEnvelope = [
  "chunk",
  number,
  number,
  Uint8Array,
  Uint8Array,
  Uint8Array,
];

/**
 * Where the parts of the envelope last read by {@link plainChunkEnd} are:
 * offsets in the buffer it was given (one reader at a time: the module is
 * single-threaded and nothing awaits between the read and the use).
 */
export const envelopeAt = {
  index: 0,
  firstSeq: 0,
  prevStart: 0,
  prevEnd: 0,
  digestStart: 0,
  digestEnd: 0,
  bodyStart: 0,
};

const MARKER = [0x86, 0x65, 0x63, 0x68, 0x75, 0x6e, 0x6b]; // [6, "chunk"

let buf: Uint8Array = new Uint8Array(0);
let pos = 0;
let limit = 0;

/**
 * The end (offset in `bytes`) of the plain chunk item that starts at
 * `start` and lies whole before `end`, its parts in {@link envelopeAt}; -1
 * when there is none: no chunk marker, another encoding than the plain one
 * (which the generic decoder reads), a byte string longer than `maxLength`,
 * or an item that runs past `end` (more bytes are needed).
 *
 * A plain chunk item is well-formed CBOR of six items whose last three are
 * byte strings: no scan of the body is needed to know where it ends.
 *
 * @example
 * ```ts
 * import { envelopeAt, plainChunkEnd } from "./_chunk_envelope.ts";
 * import { newEncoder } from "./_cbor.ts";
 * const item = newEncoder().encode(["chunk", 3, 70000, new Uint8Array(32), new Uint8Array(16), new Uint8Array([0x80])]);
 * const two = new Uint8Array([...item, ...item]);
 * if (plainChunkEnd(two, item.length, two.length, 1 << 20) !== two.length) throw new Error();
 * if (envelopeAt.firstSeq !== 70000 || envelopeAt.bodyStart !== two.length - 1) throw new Error();
 * // cut short: more bytes are needed
 * if (plainChunkEnd(two, 0, item.length - 1, 1 << 20) !== -1) throw new Error();
 * ```
 */
export function plainChunkEnd(
  bytes: Uint8Array,
  start: number,
  end: number,
  maxLength: number,
): number {
  return readEnvelope(bytes, start, end, maxLength, true);
}

/**
 * The envelope's heads at `start` into {@link envelopeAt}, the item's end
 * returned, or -1 (see {@link plainChunkEnd}); `whole`: its byte strings
 * must lie before `end` too, else only the heads.
 */
function readEnvelope(
  bytes: Uint8Array,
  start: number,
  end: number,
  maxLength: number,
  whole: boolean,
): number {
  if (start + MARKER.length > end) return -1;
  for (let i = 0; i < MARKER.length; i++) {
    if (bytes[start + i] !== MARKER[i]) return -1;
  }
  buf = bytes;
  pos = start + MARKER.length;
  limit = end;
  try {
    const index = head(0);
    const firstSeq = head(0);
    if (index < 0 || firstSeq < 0) return -1;
    envelopeAt.index = index;
    envelopeAt.firstSeq = firstSeq;
    let n = head(2);
    if (n < 0 || n > maxLength || whole && pos + n > limit) return -1;
    envelopeAt.prevStart = pos;
    pos += n;
    envelopeAt.prevEnd = pos;
    n = head(2);
    if (n < 0 || n > maxLength || whole && pos + n > limit) return -1;
    envelopeAt.digestStart = pos;
    pos += n;
    envelopeAt.digestEnd = pos;
    n = head(2);
    if (n < 0 || n > maxLength || whole && pos + n > limit) return -1;
    envelopeAt.bodyStart = pos;
    return pos + n;
  } finally {
    buf = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Where the plain chunk item that starts at `start` ends, from its heads
 * alone (they must lie before `end`; its byte strings need not): a reader
 * that has only the first bytes of a chunk learns how many to load. -1 when
 * the heads are not there or not those of a plain chunk item. (The parts'
 * offsets go to {@link envelopeAt}, as {@link plainChunkEnd} puts them.)
 *
 * @example
 * ```ts
 * import { plainChunkLength } from "./_chunk_envelope.ts";
 * import { newEncoder } from "./_cbor.ts";
 * const item = newEncoder().encode(["chunk", 3, 7, new Uint8Array(32), new Uint8Array(16), new Uint8Array(5000)]);
 * if (plainChunkLength(item, 0, 100) !== item.length) throw new Error();
 * if (plainChunkLength(item, 0, 20) !== -1) throw new Error("heads cut off");
 * ```
 */
export function plainChunkLength(
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  return readEnvelope(bytes, start, end, Infinity, false);
}

/** One head of major type `want` (arguments up to 32 bits), or -1. */
function head(want: number): number {
  if (pos >= limit) return -1;
  const ib = buf[pos++];
  if (ib >> 5 !== want) return -1;
  const ai = ib & 31;
  if (ai < 24) return ai;
  const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : 0;
  if (n === 0 || pos + n > limit) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + buf[pos + i];
  pos += n;
  return v;
}

/**
 * Reads a chunk item's envelope without copying its body.
 *
 * @example
 * ```ts
 * import { chunkEnvelope } from "./_chunk_envelope.ts";
 * import { newEncoder } from "./_cbor.ts";
 * const item = newEncoder().encode(["chunk", 3, 70000, new Uint8Array(32), new Uint8Array(16), new Uint8Array([0x80])]);
 * const e = chunkEnvelope(item);
 * if (e?.[1] !== 3 || e[2] !== 70000 || e[5].length !== 1) throw new Error();
 * // a float where the index belongs: the generic way
 * if (chunkEnvelope(newEncoder().encode(["chunk", 1.5, 0, new Uint8Array(32), new Uint8Array(16), new Uint8Array(1)])) !== undefined) throw new Error();
 * ```
 */
export function chunkEnvelope(item: Uint8Array): ChunkEnvelope | undefined {
  if (plainChunkEnd(item, 0, item.length, item.length) !== item.length) {
    return undefined;
  }
  const e = envelopeAt;
  return [
    "chunk",
    e.index,
    e.firstSeq,
    item.subarray(e.prevStart, e.prevEnd),
    item.subarray(e.digestStart, e.digestEnd),
    item.subarray(e.bodyStart),
  ];
}
