/**
 * SHA-256 of small inputs by the system's OpenSSL (`libcrypto.so.3`)
 * through Deno FFI: its compression function uses the CPU's SHA instructions
 * where there are some, several times faster than the JavaScript rounds of
 * `_sha256_small.ts` on the 100- to 200-byte items a reader of an idle
 * recording hashes by the hundred thousand. One call per 64-byte block
 * (`SHA256_Transform`, which takes no length: nothing is passed as a 64-bit
 * integer), the padding made here, each block copied into one buffer (a
 * new view per block would cost more than the copy).
 *
 * Only where FFI is allowed (`--allow-ffi`, as `procrec` runs) and the
 * library loads and gives the right hash of a known input; otherwise
 * {@link sha256NativeInto} answers false and the caller hashes in
 * JavaScript: the same hash.
 *
 * @module
 */

import { libraryPath } from "../native/ffi.ts";
import { sha256SmallInto } from "./_sha256_small.ts";

interface Lib {
  SHA256_Transform(
    ctx: Uint8Array<ArrayBuffer>,
    block: Uint8Array<ArrayBuffer>,
  ): void;
}

let lib: Lib | null | undefined;
let handle: { close(): void } | undefined;
/** SHA256_CTX: h[8] (32-bit words in the machine's order) first. */
const CTX = new Uint32Array(32);
const CTX_BYTES = new Uint8Array(CTX.buffer);
const BLOCK = new Uint8Array(64);
const BLOCK_VIEW = new DataView(BLOCK.buffer);
/** The input last hashed and a view of it (made again for another input). */
let viewed: Uint8Array | undefined;
let viewedAs: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(bytes: Uint8Array): DataView<ArrayBufferLike> {
  if (bytes !== viewed) {
    viewedAs = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    viewed = bytes;
  }
  return viewedAs;
}
const INITIAL = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];
/** SHA-256("abc"), to check the library before use. */
const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

function load(): Lib | null {
  if (lib !== undefined) return lib;
  lib = null;
  try {
    if (Deno.build.os !== "linux") return lib;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return lib;
    }
    const dl = Deno.dlopen("libcrypto.so.3", {
      SHA256_Transform: { parameters: ["buffer", "buffer"], result: "void" },
    });
    const l: Lib = dl.symbols;
    lib = l;
    handle = dl;
    const out = new Uint8Array(32);
    hashWith(l, new Uint8Array([0x61, 0x62, 0x63]), 0, 3, out, 0);
    let hex = "";
    for (const b of out) hex += b.toString(16).padStart(2, "0");
    if (hex === ABC) return lib;
    unloadSha256Native();
  } catch {
    // not to be had (closed if it was opened)
    unloadSha256Native();
  }
  // not looked for again until unloaded
  return lib = null;
}

/**
 * Writes the SHA-256 of `bytes` from `start` to `end` into `out` at `at`
 * (32 bytes) and answers true, or answers false (and writes nothing) when
 * the native library is not to be had.
 *
 * @example
 * ```ts
 * import { sha256NativeInto, unloadSha256Native } from "./_sha256_native.ts";
 * import { sha256Small } from "./_sha256_small.ts";
 * const bytes = new Uint8Array(300).map((_, i) => i);
 * const out = new Uint8Array(32);
 * if (sha256NativeInto(bytes, 5, 205, out, 0)) {
 *   if (out.join() !== sha256Small(bytes.subarray(5, 205)).join()) throw new Error();
 * }
 * unloadSha256Native();
 * ```
 */
export function sha256NativeInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): boolean {
  const l = lib === undefined ? load() : lib;
  if (l === null) return false;
  hashWith(l, bytes, start, end, out, at);
  hashed++;
  return true;
}

let hashed = 0;

/**
 * Inputs hashed by the library so far in this thread (tests check that the
 * native path was taken).
 *
 * @example
 * ```ts
 * import { nativeHashCount, sha256NativeInto, unloadSha256Native } from "./_sha256_native.ts";
 * const before = nativeHashCount();
 * const used = sha256NativeInto(new Uint8Array(3), 0, 3, new Uint8Array(32), 0);
 * unloadSha256Native();
 * if (nativeHashCount() !== before + (used ? 1 : 0)) throw new Error();
 * ```
 */
export function nativeHashCount(): number {
  return hashed;
}

function hashWith(
  l: Lib,
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): void {
  const ctx = CTX;
  const block = BLOCK;
  for (let i = 0; i < 8; i++) ctx[i] = INITIAL[i];
  const n = end - start;
  let p = start;
  if (p + 64 <= end) {
    // whole blocks copied 4 bytes at a time (3 times faster than by byte)
    const from = viewOf(bytes);
    for (; p + 64 <= end; p += 64) {
      for (let i = 0; i < 64; i += 4) {
        BLOCK_VIEW.setUint32(i, from.getUint32(p + i, true), true);
      }
      l.SHA256_Transform(CTX_BYTES, block);
    }
  }
  // the rest, 0x80, zeros, and the length in bits (64-bit big-endian)
  const rest = end - p;
  for (let i = 0; i < rest; i++) block[i] = bytes[p + i];
  block[rest] = 0x80;
  block.fill(0, rest + 1);
  if (rest >= 56) {
    l.SHA256_Transform(CTX_BYTES, block);
    block.fill(0);
  }
  const high = Math.floor(n / 0x20000000); // n * 8 / 2^32
  const low = (n * 8) >>> 0;
  block[56] = high >>> 24;
  block[57] = high >>> 16;
  block[58] = high >>> 8;
  block[59] = high;
  block[60] = low >>> 24;
  block[61] = low >>> 16;
  block[62] = low >>> 8;
  block[63] = low;
  l.SHA256_Transform(CTX_BYTES, block);
  for (let i = 0; i < 8; i++) {
    const h = ctx[i];
    out[at + 4 * i] = h >>> 24;
    out[at + 4 * i + 1] = h >>> 16;
    out[at + 4 * i + 2] = h >>> 8;
    out[at + 4 * i + 3] = h;
  }
}

interface ItemsLib {
  procrec_hash_chunk_items(
    buf: Uint8Array<ArrayBuffer>,
    len: number,
    spans: Int32Array<ArrayBuffer>,
    n: number,
    out: Uint8Array<ArrayBuffer>,
  ): number;
  /**
   * `procrec_hash_chunk_items_claimed`, called on a thread of Deno's pool
   * (a promise); absent from a library built before it.
   */
  hash_chunk_items_claimed?(
    buf: Uint8Array<ArrayBuffer>,
    len: number,
    spans: Int32Array<ArrayBuffer>,
    n: number,
    out: Uint8Array<ArrayBuffer>,
    state: Int32Array<ArrayBuffer>,
  ): Promise<number>;
}

let items: ItemsLib | null | undefined;
let itemsHandle: { close(): void } | undefined;

function loadItems(): ItemsLib | null {
  if (items !== undefined) return items;
  items = null;
  try {
    if (Deno.build.os !== "linux") return items;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return items;
    }
    const plain = {
      procrec_hash_chunk_items: {
        parameters: ["buffer", "i32", "buffer", "i32", "buffer"],
        result: "i32",
      },
    } as const;
    let l: ItemsLib;
    try {
      const dl = Deno.dlopen(
        libraryPath(),
        {
          ...plain,
          hash_chunk_items_claimed: {
            name: "procrec_hash_chunk_items_claimed",
            parameters: ["buffer", "i32", "buffer", "i32", "buffer", "buffer"],
            result: "i32",
            nonblocking: true,
          },
        } as const,
      );
      itemsHandle = dl;
      l = dl.symbols;
    } catch {
      // a library built before the claimed call: the plain one alone
      const dl = Deno.dlopen(libraryPath(), plain);
      itemsHandle = dl;
      l = dl.symbols;
    }
    // "abc" as an item whose body "c" is followed by a digest: the item's
    // hash, a right digest taken and a wrong one refused
    const buf = new Uint8Array(3 + 32);
    buf.set([0x61, 0x62, 0x63]);
    sha256SmallInto(buf, buf, 3, 2, 3);
    const out = new Uint8Array(33 * 2);
    const spans = new Int32Array([0, 3, 2, 3, 0, 3, 2, 4]);
    let hex = "";
    if (l.procrec_hash_chunk_items(buf, buf.length, spans, 2, out) === 0) {
      for (const b of out.subarray(0, 32)) {
        hex += b.toString(16).padStart(2, "0");
      }
    }
    if (hex === ABC && out[64] === 1 && out[65] === 0) return items = l;
    unloadItems();
  } catch {
    unloadItems();
  }
  // not to be had: not looked for again until unloaded
  return items = null;
}

/**
 * Calls of {@link hashChunkItemsClaimed} not answered yet: the library is
 * not closed under them (see {@link unloadItems}).
 */
let later = 0;
/** The library was to be closed while calls were out: closed after the last. */
let closeAfterLater = false;

/**
 * {@link hashChunkItemsNative} on another thread (one of Deno's pool, so on
 * another core while this one goes on), item by item, while this thread
 * may take items itself: `state` (an int32 per item, 0 to start with, in a
 * `SharedArrayBuffer`) says who has each one. The other thread changes an
 * item's state from 0 to 1, writes its hash and digest byte into `out` as
 * {@link hashChunkItemsNative} does, then stores 2; this thread takes an
 * item by changing its state from 0 to something else (`Atomics`) and
 * hashes it itself, or waits for a 1 to become 2 (one item's hashing),
 * then reads `out` (also shared). The promise says when the call is over
 * (true; false when the library refused the spans, no state changed);
 * `undefined` when the library or the call is not to be had. `buf`,
 * `spans`, `out` and `state` are kept from the garbage collector until it
 * settles, and the library stays open meanwhile, even if
 * {@link unloadSha256Native} is called; `buf` and `spans` must not change
 * until the items the other thread took are done.
 *
 * @example
 * ```ts
 * import { hashChunkItemsClaimed, unloadSha256Native } from "./_sha256_native.ts";
 * import { sha256Small } from "./_sha256_small.ts";
 * const buf = new Uint8Array(100).map((_, i) => i);
 * buf.set(sha256Small(buf.subarray(10, 40)).subarray(0, 16), 60);
 * const out = new Uint8Array(new SharedArrayBuffer(33));
 * const state = new Int32Array(new SharedArrayBuffer(4));
 * const done = hashChunkItemsClaimed(buf, new Int32Array([0, 40, 10, 60]), 1, out, state);
 * if (done !== undefined && await done) {
 *   if (Atomics.load(state, 0) !== 2) throw new Error("not done");
 *   if (out.subarray(0, 32).join() !== sha256Small(buf.subarray(0, 40)).join()) throw new Error();
 *   if (out[32] !== 1) throw new Error("the digest matches");
 * }
 * unloadSha256Native();
 * ```
 */
export function hashChunkItemsClaimed(
  buf: Uint8Array,
  spans: Int32Array<ArrayBuffer>,
  n: number,
  out: Uint8Array<ArrayBufferLike>,
  state: Int32Array<ArrayBufferLike>,
): Promise<boolean> | undefined {
  const l = items === undefined ? loadItems() : items;
  const call = l?.hash_chunk_items_claimed;
  if (
    !call || spans.length < 4 * n || out.length < 33 * n || state.length < n
  ) return;
  const bytes = buf as Uint8Array<ArrayBuffer>;
  later++;
  const settle = (status: number) => {
    // the arrays are held here until the call is over
    const held = bytes.length + spans.length + out.length + state.length >= 0;
    if (--later === 0 && closeAfterLater) unloadItems();
    if (status !== 0 || !held) return false;
    // the items the other thread hashed (2) are counted as hashed here
    let done = 0;
    for (let i = 0; i < n; i++) if (Atomics.load(state, i) === 2) done++;
    hashed += 2 * done;
    batched += done;
    return true;
  };
  let p: Promise<number>;
  try {
    // (views of shared memory: FFI takes their bytes as any buffer's)
    p = call(
      bytes,
      bytes.length,
      spans,
      n,
      out as unknown as Uint8Array<ArrayBuffer>,
      state as unknown as Int32Array<ArrayBuffer>,
    );
  } catch {
    settle(-1);
    return;
  }
  return p.then(settle, () => settle(-1));
}

/**
 * Calls of {@link hashChunkItemsClaimed} not answered yet (a reader that
 * has ended has none out).
 *
 * @example
 * ```ts
 * import { hashChunkItemsClaimed, laterCallsOut, unloadSha256Native } from "./_sha256_native.ts";
 * const done = hashChunkItemsClaimed(
 *   new Uint8Array(64), new Int32Array([0, 8, 4, 40]), 1,
 *   new Uint8Array(new SharedArrayBuffer(33)), new Int32Array(new SharedArrayBuffer(4)),
 * );
 * if (laterCallsOut() !== (done === undefined ? 0 : 1)) throw new Error();
 * await done;
 * unloadSha256Native();
 * if (laterCallsOut() !== 0) throw new Error();
 * ```
 */
export function laterCallsOut(): number {
  return later;
}

function unloadItems(): void {
  if (later > 0) {
    // calls are out: closed after the last of them (not used meanwhile)
    closeAfterLater = true;
    items = null;
    return;
  }
  closeAfterLater = false;
  const h = itemsHandle;
  itemsHandle = undefined;
  items = undefined;
  try {
    h?.close();
  } catch {
    // already closed
  }
}

/**
 * The two hashes a reader checks per chunk, for `n` plain chunk items of
 * `buf` in one call to the procrec library (`procrec_hash_chunk_items`,
 * driver/linux/chunk_items.c: the CPU's SHA instructions, no call per
 * block): `spans` gives per item its start, end, body start and digest
 * start in `buf`; `out` gets the item's SHA-256 at 32 × i and, at 32 × n +
 * i, 1 when its body matches its 16-byte digest. False (nothing written)
 * when the library is not to be had (not built, another platform, no
 * `--allow-ffi`) or refuses the spans: the caller hashes them otherwise.
 *
 * @example
 * ```ts
 * import { hashChunkItemsNative, unloadSha256Native } from "./_sha256_native.ts";
 * import { sha256Small } from "./_sha256_small.ts";
 * const buf = new Uint8Array(100).map((_, i) => i);
 * buf.set(sha256Small(buf.subarray(10, 40)).subarray(0, 16), 60);
 * const out = new Uint8Array(33);
 * if (hashChunkItemsNative(buf, new Int32Array([0, 40, 10, 60]), 1, out)) {
 *   if (out.subarray(0, 32).join() !== sha256Small(buf.subarray(0, 40)).join()) throw new Error();
 *   if (out[32] !== 1) throw new Error("the digest matches");
 * }
 * unloadSha256Native();
 * ```
 */
export function hashChunkItemsNative(
  buf: Uint8Array,
  spans: Int32Array<ArrayBuffer>,
  n: number,
  out: Uint8Array<ArrayBuffer>,
): boolean {
  const l = items === undefined ? loadItems() : items;
  if (l === null || spans.length < 4 * n || out.length < 33 * n) return false;
  const bytes = buf as Uint8Array<ArrayBuffer>;
  if (l.procrec_hash_chunk_items(bytes, bytes.length, spans, n, out) !== 0) {
    return false;
  }
  hashed += 2 * n;
  batched += n;
  return true;
}

let batched = 0;

/**
 * Chunk items hashed so far by {@link hashChunkItemsNative} in this thread
 * (tests check that the one-call path was taken).
 */
export function nativeItemsCount(): number {
  return batched;
}

/**
 * Whether {@link hashChunkItemsNative} can be called (the library is
 * loaded, or is loaded now and passes its check).
 */
export function nativeItemsReady(): boolean {
  return (items === undefined ? loadItems() : items) !== null;
}

let holders = 0;

/**
 * A reader hashes by the library from now on: it stays loaded until every
 * holder has let go ({@link releaseSha256Native}), then is closed (an open
 * library is a resource that outlives the reading).
 *
 * @example
 * ```ts
 * import { holdSha256Native, releaseSha256Native, sha256NativeInto } from "./_sha256_native.ts";
 * holdSha256Native();
 * sha256NativeInto(new Uint8Array(3), 0, 3, new Uint8Array(32), 0);
 * releaseSha256Native(); // closed: the test leaks no library
 * ```
 */
export function holdSha256Native(): void {
  holders++;
}

/** Lets go of {@link holdSha256Native}: the last holder closes the library. */
export function releaseSha256Native(): void {
  if (holders > 0 && --holders === 0) unloadSha256Native();
}

/**
 * Closes the library (a test's resources are checked); the next hash loads
 * it again.
 */
export function unloadSha256Native(): void {
  unloadItems();
  viewed = undefined;
  viewedAs = new DataView(new ArrayBuffer(0));
  const h = handle;
  handle = undefined;
  lib = undefined;
  try {
    h?.close();
  } catch {
    // already closed
  }
}
