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

const MARKER = [0x86, 0x65, 0x63, 0x68, 0x75, 0x6e, 0x6b]; // [6, "chunk"

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
  for (let i = 0; i < MARKER.length; i++) {
    if (item[i] !== MARKER[i]) return undefined;
  }
  let pos = MARKER.length;
  /** One head of major type `want` (integers up to 32 bits), or -1. */
  const head = (want: number): number => {
    if (pos >= item.length) return -1;
    const ib = item[pos++];
    if (ib >> 5 !== want) return -1;
    const ai = ib & 31;
    if (ai < 24) return ai;
    const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : 0;
    if (n === 0 || pos + n > item.length) return -1;
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + item[pos + i];
    pos += n;
    return v;
  };
  const bytes = (): Uint8Array | undefined => {
    const n = head(2);
    if (n < 0 || pos + n > item.length) return undefined;
    const b = item.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const index = head(0);
  const firstSeq = head(0);
  if (index < 0 || firstSeq < 0) return undefined;
  const prev = bytes();
  const digest = bytes();
  const body = bytes();
  if (!prev || !digest || !body || pos !== item.length) return undefined;
  return ["chunk", index, firstSeq, prev, digest, body];
}
