/**
 * HMAC-SHA-256 (RFC 2104, FIPS 180-4) in plain TypeScript, synchronous and
 * fast for short values: the key's inner and outer pad states are computed
 * once, so a value of up to 55 bytes costs two compressions. `node:crypto`'s
 * createHmac costs ~60 us a call here, which a recorder redacting every exec
 * cannot afford. Checked against `node:crypto` in tests/redact_rules_test.ts.
 *
 * @module
 */
import { SHA256_INITIAL, sha256Compress } from "../log/_sha256_small.ts";

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
  for (let off = 0; off < end; off += 64) sha256Compress(h, buf, off);
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
  readonly #inner = new Uint32Array(SHA256_INITIAL);
  readonly #outer = new Uint32Array(SHA256_INITIAL);
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
    sha256Compress(this.#inner, pad, 0);
    for (let i = 0; i < 64; i++) pad[i] ^= 0x36 ^ 0x5c;
    sha256Compress(this.#outer, pad, 0);
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
