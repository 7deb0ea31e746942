/**
 * zipLayoutOf looks for the end of central directory record only where a
 * "P" is: the same answer as trying every offset, from the end, on tails
 * full of "P"s, with the record at offset 0, with a comment, and on tails
 * too short to hold one.
 */
import { looksLikeZip, zipLayoutOf } from "../cli/bundle/zip_layout.ts";
import { xorshift } from "./_xorshift.ts";

const EOCD = 0x06054b50;

/** The record scan tried at every offset from the end (the plain way). */
function everyOffset(tail: Uint8Array): number {
  const v = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (v.getUint32(i, true) !== EOCD) continue;
    if (i + 22 + v.getUint16(i + 20, true) !== tail.length) continue;
    return i;
  }
  return -1;
}

/** An end record at `at` in `tail` with `entries` entries and a comment running to the end. */
function putRecord(tail: Uint8Array, at: number, entries: number): void {
  const v = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  v.setUint32(at, EOCD, true);
  v.setUint16(at + 10, entries, true);
  v.setUint32(at + 12, 0, true);
  v.setUint32(at + 16, 0, true);
  v.setUint16(at + 20, tail.length - at - 22, true);
}

Deno.test("zipLayoutOf finds the record where trying every offset does", () => {
  const r = xorshift(0x2545f491);
  let found = 0;
  for (let round = 0; round < 3000; round++) {
    const len = Math.floor(r() * 300);
    const tail = new Uint8Array(len);
    // bytes drawn mostly from the record's own: "P", "K", 5, 6, 0
    const pool = [0x50, 0x4b, 0x05, 0x06, 0x00, 0x50, 0x50];
    for (let i = 0; i < len; i++) {
      tail[i] = r() < 0.8
        ? pool[Math.floor(r() * pool.length)]
        : Math.floor(r() * 256);
    }
    // most rounds hold a record somewhere (0 included), some two
    if (len >= 22 && r() < 0.7) {
      putRecord(tail, Math.floor(r() * (len - 21)), round & 0xff);
    }
    if (len >= 44 && r() < 0.2) putRecord(tail, 0, 7);
    const want = everyOffset(tail);
    const got = zipLayoutOf(tail, len + 100, () => undefined);
    if (want < 0) {
      if (got !== undefined) {
        throw new Error(`round ${round}: found ${JSON.stringify(got)}`);
      }
      continue;
    }
    found++;
    const entries = new DataView(tail.buffer).getUint16(want + 10, true);
    if (got === undefined || got.entries !== entries) {
      throw new Error(
        `round ${round}: record at ${want} (${entries} entries), got ${
          JSON.stringify(got)
        }`,
      );
    }
  }
  // (the rounds did find records, at offset 0 among others)
  if (found < 1000) throw new Error(`only ${found} rounds had a record`);
});

Deno.test("zipLayoutOf: a record at offset 0, a comment of P's, too short a tail", () => {
  const bare = new Uint8Array(22);
  putRecord(bare, 0, 3);
  if (zipLayoutOf(bare, 22, () => undefined)?.entries !== 3) {
    throw new Error("the record at offset 0 was missed");
  }
  const commented = new Uint8Array(22 + 40).fill(0x50);
  putRecord(commented, 0, 9);
  if (zipLayoutOf(commented, 62, () => undefined)?.entries !== 9) {
    throw new Error("the record before a comment of P's was missed");
  }
  for (let n = 0; n < 22; n++) {
    if (zipLayoutOf(new Uint8Array(n).fill(0x50), n, () => undefined)) {
      throw new Error(`a ${n}-byte tail was taken for a zip`);
    }
  }
});

Deno.test("looksLikeZip: a recording is not a zip; a zip with bytes before it is", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rec = `${dir}/a.cbor`;
    await Deno.copyFile(
      new URL("../fixtures/make.cbor", import.meta.url),
      rec,
    );
    if (await looksLikeZip(rec)) {
      throw new Error("a recording looked like a zip");
    }
    const zip = new Uint8Array(100 + 22).fill(0x50);
    putRecord(zip.subarray(100), 0, 0);
    await Deno.writeFile(`${dir}/b.zip`, zip);
    if (!(await looksLikeZip(`${dir}/b.zip`))) {
      throw new Error("a zip with bytes before it was not seen");
    }
    if (await looksLikeZip(dir)) {
      throw new Error("a directory looked like a zip");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
