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

const K = new Int32Array([
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
  const out = new Uint8Array(32);
  sha256SmallInto(bytes, out, 0);
  return out;
}

/**
 * SHA-256 of `bytes` (from `start` to `end`: a view costs an allocation too)
 * written into `out` at `at` (32 bytes): no new array,
 * which in Deno costs more than hashing a small input (a typed array's
 * memory is allocated outside the heap, about 0.6 us).
 *
 * @example
 * ```ts
 * import { sha256Small, sha256SmallInto } from "./_sha256_small.ts";
 * const abc = new TextEncoder().encode("abc");
 * const out = new Uint8Array(40);
 * sha256SmallInto(abc, out, 8);
 * if (out.subarray(8).join() !== sha256Small(abc).join()) throw new Error();
 * ```
 */
export function sha256SmallInto(
  bytes: Uint8Array,
  out: Uint8Array,
  at: number,
  start = 0,
  end: number = bytes.length,
): void {
  H.set(SHA256_INITIAL);
  const n = end - start;
  const whole = n - (n % 64);
  for (let off = 0; off < whole; off += 64) {
    sha256Compress(H, bytes, start + off);
  }
  // padding: 0x80, zeros, then the length in bits as 64-bit big-endian
  const rest = n - whole;
  TAIL.fill(0);
  for (let i = 0; i < rest; i++) TAIL[i] = bytes[start + whole + i];
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
  for (let i = 0; i < 8; i++) {
    const h = H[i];
    out[at + i * 4] = h >>> 24;
    out[at + i * 4 + 1] = h >>> 16;
    out[at + i * 4 + 2] = h >>> 8;
    out[at + i * 4 + 3] = h;
  }
}

/**
 * The compression function: one 64-byte block of `b` at `off` into state
 * `H`. The message schedule is kept in 16 local variables and the rounds
 * are written out 16 at a time, the working variables renamed from round
 * to round instead of moved (about twice as fast in V8 as a loop over
 * arrays); `x | 0` keeps every sum a 32-bit integer.
 */
export function sha256Compress(
  H: Uint32Array,
  b: Uint8Array,
  off: number,
): void {
  let a = H[0] | 0, bb = H[1] | 0, c = H[2] | 0, d = H[3] | 0;
  let e = H[4] | 0, f = H[5] | 0, g = H[6] | 0, h = H[7] | 0;
  let w0 = (b[off + 0] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) |
    b[off + 3];
  let w1 = (b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) |
    b[off + 7];
  let w2 = (b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) |
    b[off + 11];
  let w3 = (b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) |
    b[off + 15];
  let w4 = (b[off + 16] << 24) | (b[off + 17] << 16) | (b[off + 18] << 8) |
    b[off + 19];
  let w5 = (b[off + 20] << 24) | (b[off + 21] << 16) | (b[off + 22] << 8) |
    b[off + 23];
  let w6 = (b[off + 24] << 24) | (b[off + 25] << 16) | (b[off + 26] << 8) |
    b[off + 27];
  let w7 = (b[off + 28] << 24) | (b[off + 29] << 16) | (b[off + 30] << 8) |
    b[off + 31];
  let w8 = (b[off + 32] << 24) | (b[off + 33] << 16) | (b[off + 34] << 8) |
    b[off + 35];
  let w9 = (b[off + 36] << 24) | (b[off + 37] << 16) | (b[off + 38] << 8) |
    b[off + 39];
  let w10 = (b[off + 40] << 24) | (b[off + 41] << 16) | (b[off + 42] << 8) |
    b[off + 43];
  let w11 = (b[off + 44] << 24) | (b[off + 45] << 16) | (b[off + 46] << 8) |
    b[off + 47];
  let w12 = (b[off + 48] << 24) | (b[off + 49] << 16) | (b[off + 50] << 8) |
    b[off + 51];
  let w13 = (b[off + 52] << 24) | (b[off + 53] << 16) | (b[off + 54] << 8) |
    b[off + 55];
  let w14 = (b[off + 56] << 24) | (b[off + 57] << 16) | (b[off + 58] << 8) |
    b[off + 59];
  let w15 = (b[off + 60] << 24) | (b[off + 61] << 16) | (b[off + 62] << 8) |
    b[off + 63];
  let t1 = 0, x = 0, y = 0;
  for (let j = 0; j < 64; j += 16) {
    if (j > 0) {
      x = w1;
      y = w14;
      w0 =
        (w0 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w9 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (h +
      (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^
        ((e >>> 25) | (e << 7))) +
      ((e & f) ^ (~e & g)) + K[j + 0] + w0) | 0;
    d = (d + t1) | 0;
    h = (t1 +
      (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^
        ((a >>> 22) | (a << 10))) +
      ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
    if (j > 0) {
      x = w2;
      y = w15;
      w1 =
        (w1 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w10 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (g +
      (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^
        ((d >>> 25) | (d << 7))) +
      ((d & e) ^ (~d & f)) + K[j + 1] + w1) | 0;
    c = (c + t1) | 0;
    g = (t1 +
      (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^
        ((h >>> 22) | (h << 10))) +
      ((h & a) ^ (h & bb) ^ (a & bb))) | 0;
    if (j > 0) {
      x = w3;
      y = w0;
      w2 =
        (w2 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w11 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (f +
      (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^
        ((c >>> 25) | (c << 7))) +
      ((c & d) ^ (~c & e)) + K[j + 2] + w2) | 0;
    bb = (bb + t1) | 0;
    f = (t1 +
      (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^
        ((g >>> 22) | (g << 10))) +
      ((g & h) ^ (g & a) ^ (h & a))) | 0;
    if (j > 0) {
      x = w4;
      y = w1;
      w3 =
        (w3 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w12 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (e +
      (((bb >>> 6) | (bb << 26)) ^ ((bb >>> 11) | (bb << 21)) ^
        ((bb >>> 25) | (bb << 7))) +
      ((bb & c) ^ (~bb & d)) + K[j + 3] + w3) | 0;
    a = (a + t1) | 0;
    e = (t1 +
      (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^
        ((f >>> 22) | (f << 10))) +
      ((f & g) ^ (f & h) ^ (g & h))) | 0;
    if (j > 0) {
      x = w5;
      y = w2;
      w4 =
        (w4 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w13 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (d +
      (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^
        ((a >>> 25) | (a << 7))) +
      ((a & bb) ^ (~a & c)) + K[j + 4] + w4) | 0;
    h = (h + t1) | 0;
    d = (t1 +
      (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^
        ((e >>> 22) | (e << 10))) +
      ((e & f) ^ (e & g) ^ (f & g))) | 0;
    if (j > 0) {
      x = w6;
      y = w3;
      w5 =
        (w5 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w14 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (c +
      (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^
        ((h >>> 25) | (h << 7))) +
      ((h & a) ^ (~h & bb)) + K[j + 5] + w5) | 0;
    g = (g + t1) | 0;
    c = (t1 +
      (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^
        ((d >>> 22) | (d << 10))) +
      ((d & e) ^ (d & f) ^ (e & f))) | 0;
    if (j > 0) {
      x = w7;
      y = w4;
      w6 =
        (w6 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w15 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (bb +
      (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^
        ((g >>> 25) | (g << 7))) +
      ((g & h) ^ (~g & a)) + K[j + 6] + w6) | 0;
    f = (f + t1) | 0;
    bb = (t1 +
      (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^
        ((c >>> 22) | (c << 10))) +
      ((c & d) ^ (c & e) ^ (d & e))) | 0;
    if (j > 0) {
      x = w8;
      y = w5;
      w7 =
        (w7 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w0 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (a +
      (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^
        ((f >>> 25) | (f << 7))) +
      ((f & g) ^ (~f & h)) + K[j + 7] + w7) | 0;
    e = (e + t1) | 0;
    a = (t1 +
      (((bb >>> 2) | (bb << 30)) ^ ((bb >>> 13) | (bb << 19)) ^
        ((bb >>> 22) | (bb << 10))) +
      ((bb & c) ^ (bb & d) ^ (c & d))) | 0;
    if (j > 0) {
      x = w9;
      y = w6;
      w8 =
        (w8 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w1 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (h +
      (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^
        ((e >>> 25) | (e << 7))) +
      ((e & f) ^ (~e & g)) + K[j + 8] + w8) | 0;
    d = (d + t1) | 0;
    h = (t1 +
      (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^
        ((a >>> 22) | (a << 10))) +
      ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
    if (j > 0) {
      x = w10;
      y = w7;
      w9 =
        (w9 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
          w2 +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (g +
      (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^
        ((d >>> 25) | (d << 7))) +
      ((d & e) ^ (~d & f)) + K[j + 9] + w9) | 0;
    c = (c + t1) | 0;
    g = (t1 +
      (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^
        ((h >>> 22) | (h << 10))) +
      ((h & a) ^ (h & bb) ^ (a & bb))) | 0;
    if (j > 0) {
      x = w11;
      y = w8;
      w10 = (w10 +
        (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
        w3 +
        (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (f +
      (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^
        ((c >>> 25) | (c << 7))) +
      ((c & d) ^ (~c & e)) + K[j + 10] + w10) | 0;
    bb = (bb + t1) | 0;
    f = (t1 +
      (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^
        ((g >>> 22) | (g << 10))) +
      ((g & h) ^ (g & a) ^ (h & a))) | 0;
    if (j > 0) {
      x = w12;
      y = w9;
      w11 = (w11 +
        (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
        w4 +
        (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (e +
      (((bb >>> 6) | (bb << 26)) ^ ((bb >>> 11) | (bb << 21)) ^
        ((bb >>> 25) | (bb << 7))) +
      ((bb & c) ^ (~bb & d)) + K[j + 11] + w11) | 0;
    a = (a + t1) | 0;
    e = (t1 +
      (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^
        ((f >>> 22) | (f << 10))) +
      ((f & g) ^ (f & h) ^ (g & h))) | 0;
    if (j > 0) {
      x = w13;
      y = w10;
      w12 = (w12 +
        (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
        w5 +
        (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (d +
      (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^
        ((a >>> 25) | (a << 7))) +
      ((a & bb) ^ (~a & c)) + K[j + 12] + w12) | 0;
    h = (h + t1) | 0;
    d = (t1 +
      (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^
        ((e >>> 22) | (e << 10))) +
      ((e & f) ^ (e & g) ^ (f & g))) | 0;
    if (j > 0) {
      x = w14;
      y = w11;
      w13 = (w13 +
        (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
        w6 +
        (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (c +
      (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^
        ((h >>> 25) | (h << 7))) +
      ((h & a) ^ (~h & bb)) + K[j + 13] + w13) | 0;
    g = (g + t1) | 0;
    c = (t1 +
      (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^
        ((d >>> 22) | (d << 10))) +
      ((d & e) ^ (d & f) ^ (e & f))) | 0;
    if (j > 0) {
      x = w15;
      y = w12;
      w14 = (w14 +
        (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
        w7 +
        (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (bb +
      (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^
        ((g >>> 25) | (g << 7))) +
      ((g & h) ^ (~g & a)) + K[j + 14] + w14) | 0;
    f = (f + t1) | 0;
    bb = (t1 +
      (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^
        ((c >>> 22) | (c << 10))) +
      ((c & d) ^ (c & e) ^ (d & e))) | 0;
    if (j > 0) {
      x = w0;
      y = w13;
      w15 = (w15 +
        (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
        w8 +
        (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) |
        0;
    }
    t1 = (a +
      (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^
        ((f >>> 25) | (f << 7))) +
      ((f & g) ^ (~f & h)) + K[j + 15] + w15) | 0;
    e = (e + t1) | 0;
    a = (t1 +
      (((bb >>> 2) | (bb << 30)) ^ ((bb >>> 13) | (bb << 19)) ^
        ((bb >>> 22) | (bb << 10))) +
      ((bb & c) ^ (bb & d) ^ (c & d))) | 0;
  }
  H[0] = H[0] + a;
  H[1] = H[1] + bb;
  H[2] = H[2] + c;
  H[3] = H[3] + d;
  H[4] = H[4] + e;
  H[5] = H[5] + f;
  H[6] = H[6] + g;
  H[7] = H[7] + h;
}
