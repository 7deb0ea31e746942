/**
 * HMAC-SHA-256 (RFC 2104, FIPS 180-4) in plain TypeScript, synchronous and
 * fast for short values: the key's inner and outer pad states are computed
 * once, so a value of up to 55 bytes costs two compressions. `node:crypto`'s
 * createHmac costs ~60 us a call here, which a recorder redacting every exec
 * cannot afford. Checked against `node:crypto` in tests/redact_rules_test.ts.
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
const H0 = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];
const W = new Uint32Array(64);

/** Runs the compression function over one 64-byte block at `off`. */
function compress(h: Uint32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    W[i] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15];
    const w2 = W[i - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^
      (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^
      (w2 >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = h[0], bb = h[1], c = h[2], d = h[3];
  let e = h[4], f = h[5], g = h[6], hh = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^
      ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + S1 + ch + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^
      ((a >>> 22) | (a << 10));
    const maj = (a & bb) ^ (a & c) ^ (bb & c);
    const t2 = (S0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = bb;
    bb = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + bb) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + hh) | 0;
}

/**
 * Finishes a hash whose first 64-byte block made `state`: `buf` holds the
 * rest (`len` bytes) and room for the padding; the digest goes to `out`.
 * Nothing is allocated: typed-array allocation costs more here than the
 * hashing.
 */
function finish(
  state: Uint32Array,
  h: Uint32Array,
  buf: Uint8Array,
  len: number,
  out: Uint8Array,
): void {
  h.set(state);
  const blocks = Math.ceil((len + 9) / 64);
  const end = blocks * 64;
  buf[len] = 0x80;
  buf.fill(0, len + 1, end - 8);
  const bits = (64 + len) * 8; // the 64-byte pad block came first
  const hi = Math.floor(bits / 0x100000000);
  buf[end - 8] = hi >>> 24;
  buf[end - 7] = hi >>> 16;
  buf[end - 6] = hi >>> 8;
  buf[end - 5] = hi;
  buf[end - 4] = bits >>> 24;
  buf[end - 3] = bits >>> 16;
  buf[end - 2] = bits >>> 8;
  buf[end - 1] = bits;
  for (let off = 0; off < end; off += 64) compress(h, buf, off);
  for (let i = 0; i < 8; i++) {
    out[4 * i] = h[i] >>> 24;
    out[4 * i + 1] = h[i] >>> 16;
    out[4 * i + 2] = h[i] >>> 8;
    out[4 * i + 3] = h[i];
  }
}

/**
 * An HMAC-SHA-256 keyed once, for many values. Keys of up to 64 bytes (the
 * redaction key has 32).
 *
 * @example
 * ```ts
 * import { HmacSha256 } from "./_hmac_sha256.ts";
 * // RFC 4231 test case 2
 * const mac = new HmacSha256(new TextEncoder().encode("Jefe"))
 *   .hex("what do ya want for nothing?");
 * if (mac !== "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") {
 *   throw new Error(mac);
 * }
 * ```
 */
export class HmacSha256 {
  readonly #inner = new Uint32Array(H0);
  readonly #outer = new Uint32Array(H0);
  readonly #h = new Uint32Array(8);
  readonly #digest = new Uint8Array(32);
  readonly #encoder = new TextEncoder();
  /** The value (then the inner digest) and its padding; grows as needed. */
  #buf = new Uint8Array(1024);

  constructor(key: Uint8Array) {
    if (key.length > 64) {
      throw new RangeError(`HMAC key of ${key.length} bytes: at most 64`);
    }
    const pad = new Uint8Array(64);
    pad.set(key);
    for (let i = 0; i < 64; i++) pad[i] ^= 0x36;
    compress(this.#inner, pad, 0);
    for (let i = 0; i < 64; i++) pad[i] ^= 0x36 ^ 0x5c;
    compress(this.#outer, pad, 0);
  }

  /** The MAC of `value`'s UTF-8 bytes, as 32 bytes (a new array). */
  bytes(value: string): Uint8Array {
    return this.#mac(value).slice();
  }

  /** The MAC of `value`'s UTF-8 bytes, as 64 lower-case hex digits. */
  hex(value: string): string {
    const b = this.#mac(value);
    let s = "";
    for (let i = 0; i < 32; i++) s += HEX[b[i]];
    return s;
  }

  #mac(value: string): Uint8Array {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; 72 more for the padding
    const need = value.length * 3 + 72;
    if (this.#buf.length < need) {
      this.#buf = new Uint8Array(Math.max(need, this.#buf.length * 2));
    }
    const buf = this.#buf;
    const { written } = this.#encoder.encodeInto(value, buf);
    finish(this.#inner, this.#h, buf, written, this.#digest);
    buf.set(this.#digest);
    finish(this.#outer, this.#h, buf, 32, this.#digest);
    return this.#digest;
  }
}

const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);
