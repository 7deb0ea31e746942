/**
 * Issue 16: a reader of many small chunks hashes their items on its own
 * thread by the system's library (`_sha256_native.ts`, the CPU's SHA
 * instructions) from the 1,024th chunk on (`ReaderOptions.nativeHash`).
 * This checks that it reads exactly what the JavaScript hashing reads (the
 * same chunks, hashes, events and report) on a recording of small chunks,
 * and that a tampered chunk past the 1,024th is still found and named, with
 * its index and offset, as the JavaScript hashing names it.
 */
import { type ChunkRead, RecordingReader } from "../cli/log/mod.ts";
import { nativeHashCount } from "../cli/log/_sha256_native.ts";
import { NATIVE_AFTER_CHUNKS } from "../cli/log/chunk_verifier.ts";
import { assert, assertEquals, withTempDir } from "./_record_helpers.ts";
import { workload, writeRecording } from "./_recording_helpers.ts";

const json = (v: unknown) =>
  JSON.stringify(
    v,
    (_k, x) =>
      typeof x === "bigint"
        ? `${x}n`
        : x instanceof Uint8Array
        ? [...x].join()
        : x,
  );

/** The three ways to hash: JavaScript only, the default, native from the start. */
const MODES = [false, undefined, true] as const;

async function read(path: string, nativeHash?: boolean) {
  const before = nativeHashCount();
  const r = await RecordingReader.open(
    path,
    nativeHash === undefined ? {} : { nativeHash },
  );
  const chunks: ChunkRead[] = await Array.fromAsync(r.chunks());
  return {
    chunks,
    report: r.report,
    native: nativeHashCount() - before,
  };
}

/** The library is there on Linux (Debian's libssl3, which openssl needs). */
function assertNativeUsed(native: number, mode: boolean | undefined) {
  if (Deno.build.os !== "linux") return;
  assert(
    native > 0,
    `nativeHash ${mode}: nothing was hashed by libcrypto.so.3 (is libssl3 installed?)`,
  );
}

/** A recording of 2,400 chunks of 2 events and its chunks as read. */
async function smallChunks(dir: string) {
  const path = `${dir}/idle.cbor`;
  const bytes = await writeRecording(path, workload(1_600), 2);
  const { chunks, report } = await read(path, false);
  assertEquals(chunks.length, 2_400);
  assert(report.complete, json(report.problems));
  return { path, bytes, chunks };
}

Deno.test("many small chunks: hashed natively or in JavaScript, the same chunks, events and report", async () => {
  await withTempDir(async (dir) => {
    const { path } = await smallChunks(dir);
    // one after the other: each counts its own native hashes
    const js = await read(path, false);
    const auto = await read(path, undefined);
    const native = await read(path, true);
    assertEquals(js.native, 0, "nativeHash false hashed natively");
    assertNativeUsed(auto.native, undefined);
    assertNativeUsed(native.native, true);
    // the default starts at the 1,024th chunk: two hashes a chunk after it
    if (Deno.build.os === "linux") {
      assertEquals(auto.native, 2 * (2_400 - NATIVE_AFTER_CHUNKS));
      assertEquals(native.native, 2 * 2_400);
    }
    for (const other of [auto, native]) {
      assertEquals(other.chunks.length, js.chunks.length);
      for (let i = 0; i < js.chunks.length; i++) {
        assertEquals(json(other.chunks[i]), json(js.chunks[i]), `chunk ${i}`);
      }
      assertEquals(json(other.report), json(js.report));
    }
  });
});

Deno.test("a tampered small chunk past the 1,024th is named by index and offset, natively or not", async () => {
  await withTempDir(async (dir) => {
    const { bytes, chunks } = await smallChunks(dir);
    const at = (i: number) => chunks[i];
    const cases = [
      {
        // the last byte of chunk 1,500's body: its digest no longer matches
        name: "body",
        flip: at(1_500).offset + at(1_500).length - 1,
        want: `chunk 1500 at offset ${
          at(1_500).offset
        } is damaged: its body does not match its digest`,
      },
      {
        // a byte of chunk 1,800's prev (the hash of chunk 1,799)
        name: "prev",
        flip: at(1_800).offset +
          indexOf(
            bytes.subarray(
              at(1_800).offset,
              at(1_800).offset + at(1_800).length,
            ),
            at(1_799).hash,
          ) + 5,
        want: `chunk 1800 at offset ${
          at(1_800).offset
        } does not follow the item before it (hash chain broken: the previous item was altered)`,
      },
    ];
    for (const c of cases) {
      const path = `${dir}/${c.name}.cbor`;
      const tampered = bytes.slice();
      tampered[c.flip] ^= 0x01;
      await Deno.writeFile(path, tampered);
      const reads = [];
      for (const mode of MODES) {
        const r = await read(path, mode);
        if (mode !== false) assertNativeUsed(r.native, mode);
        assert(!r.report.chainIntact, `${c.name} ${mode}: chain intact`);
        assert(!r.report.complete, `${c.name} ${mode}: complete`);
        assertEquals(r.report.name, path);
        assert(
          r.report.problems.some((p) => p.reason === c.want),
          `${c.name} ${mode}: ${json(r.report.problems)}`,
        );
        reads.push(r);
      }
      // natively or not: the same chunks, events and report
      assertEquals(json(reads[1].chunks), json(reads[0].chunks));
      assertEquals(json(reads[2].chunks), json(reads[0].chunks));
      assertEquals(json(reads[1].report), json(reads[0].report));
      assertEquals(json(reads[2].report), json(reads[0].report));
    }
  });
});

/** Where `needle` starts in `hay` (it must be there). */
function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) {
      if (hay[i + k] !== needle[k]) continue outer;
    }
    return i;
  }
  throw new Error("not found");
}
