/**
 * SHA-256 (FIPS 180-4) in plain JavaScript, for the small inputs a reader
 * hashes by the hundred thousand (chunks of an idle recording): a native
 * `createHash` costs a few microseconds per call whatever the length, this
 * costs well under one for a few hundred bytes. `_hash.ts` picks one or the
 * other by length; tests/sha256_small_test.ts checks this one against
 * `node:crypto` at every length around the block boundaries. Its compression
 * function is also the redaction HMAC's (`cli/redact/_hmac_sha256.ts`).
 *
 * @module
 */

const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** The initial hash value (FIPS 180-4, 5.3.3). */
export const SHA256_INITIAL: readonly number[] = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

/** The message schedule, reused by every call (the module is single-threaded). */
const W = new Uint32Array(64);
/** The last one or two blocks, with the padding and the length. */
const TAIL = new Uint8Array(128);
const H = new Uint32Array(8);

/**
 * SHA-256 of `bytes`.
 *
 * @example
 * ```ts
 * import { sha256Small } from "./_sha256_small.ts";
 * const hex = [...sha256Small(new TextEncoder().encode("abc"))]
 *   .map((b) => b.toString(16).padStart(2, "0")).join("");
 * if (hex !== "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
 *   throw new Error(hex);
 * }
 * ```
 */
export function sha256Small(bytes: Uint8Array): Uint8Array {
  H.set(SHA256_INITIAL);
  const n = bytes.length;
  const whole = n - (n % 64);
  for (let off = 0; off < whole; off += 64) sha256Compress(H, bytes, off);
  // padding: 0x80, zeros, then the length in bits as 64-bit big-endian
  const rest = n - whole;
  TAIL.fill(0);
  for (let i = 0; i < rest; i++) TAIL[i] = bytes[whole + i];
  TAIL[rest] = 0x80;
  const tailLen = rest < 56 ? 64 : 128;
  const bitsHigh = Math.floor(n / 0x20000000); // n * 8 / 2^32
  const bitsLow = (n * 8) >>> 0;
  TAIL[tailLen - 8] = bitsHigh >>> 24;
  TAIL[tailLen - 7] = bitsHigh >>> 16;
  TAIL[tailLen - 6] = bitsHigh >>> 8;
  TAIL[tailLen - 5] = bitsHigh;
  TAIL[tailLen - 4] = bitsLow >>> 24;
  TAIL[tailLen - 3] = bitsLow >>> 16;
  TAIL[tailLen - 2] = bitsLow >>> 8;
  TAIL[tailLen - 1] = bitsLow;
  sha256Compress(H, TAIL, 0);
  if (tailLen === 128) sha256Compress(H, TAIL, 64);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const h = H[i];
    out[i * 4] = h >>> 24;
    out[i * 4 + 1] = h >>> 16;
    out[i * 4 + 2] = h >>> 8;
    out[i * 4 + 3] = h;
  }
  return out;
}

/** The compression function: one 64-byte block of `b` at `off` into state `H`. */
export function sha256Compress(
  H: Uint32Array,
  b: Uint8Array,
  off: number,
): void {
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4;
    W[i] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15], y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^
      (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = H[0], bb = H[1], c = H[2], d = H[3];
  let e = H[4], f = H[5], g = H[6], h = H[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^
      ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^
      ((a >>> 22) | (a << 10));
    const maj = (a & bb) ^ (a & c) ^ (bb & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = bb;
    bb = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + bb) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}
