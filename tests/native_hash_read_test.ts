/**
 * Issue 16: a reader of many small chunks hashes their items natively from
 * the 1,024th chunk on (`ReaderOptions.nativeHash`): many items in one call
 * to the procrec library (`procrec_hash_chunk_items`,
 * driver/linux/chunk_items.c) where it is built, else one call per block to
 * the system's libcrypto, else JavaScript. This checks that each reads
 * exactly what the JavaScript hashing reads (the same chunks, hashes,
 * events and report) on a recording of small chunks, and that a tampered
 * chunk past the 1,024th is still found and named, with its index and
 * offset, as the JavaScript hashing names it.
 */
import { type ChunkRead, RecordingReader } from "../cli/log/mod.ts";
import {
  nativeHashCount,
  nativeItemsCount,
  unloadSha256Native,
} from "../cli/log/_sha256_native.ts";
import { NATIVE_AFTER_CHUNKS } from "../cli/log/chunk_verifier.ts";
import { LIBRARY_ENV } from "../cli/native/ffi.ts";
import { assert, assertEquals, withTempDir } from "./_record_helpers.ts";
import { chunkJson as json, writeSmallChunks } from "./_small_chunks.ts";

/**
 * The ways to hash: JavaScript only; the default and native from the first
 * chunk, with the procrec library; the default without it (libcrypto's
 * blocks).
 */
const MODES = [
  { name: "JavaScript", nativeHash: false, library: true },
  { name: "default", nativeHash: undefined, library: true },
  { name: "native from the first chunk", nativeHash: true, library: true },
  {
    name: "default, no procrec library",
    nativeHash: undefined,
    library: false,
  },
] as const;

type Mode = typeof MODES[number];

async function read(path: string, mode: Mode) {
  const env = Deno.env.get(LIBRARY_ENV);
  if (!mode.library) Deno.env.set(LIBRARY_ENV, "/nonexistent/libprocrec.so");
  unloadSha256Native(); // the library looked for again
  const hashes = nativeHashCount();
  const items = nativeItemsCount();
  try {
    const r = await RecordingReader.open(
      path,
      mode.nativeHash === undefined ? {} : { nativeHash: mode.nativeHash },
    );
    const chunks: ChunkRead[] = [];
    let delivered = 0;
    for await (const c of r.chunks()) {
      chunks.push(c);
      // (not the lost event standing for a missing chunk: no chunk's)
      for (const e of c.events) {
        if (e.kind !== "lost" || e.reason !== "recording") delivered++;
      }
      // the report counts every chunk handed out (kinds are added to it
      // per batch of chunks, before the batch is handed out)
      assert(
        r.report.counts.events >= delivered,
        `${mode.name}: the report counts ${r.report.counts.events} events, ${delivered} delivered`,
      );
    }
    return {
      chunks,
      report: r.report,
      native: nativeHashCount() - hashes,
      items: nativeItemsCount() - items,
    };
  } finally {
    if (env === undefined) Deno.env.delete(LIBRARY_ENV);
    else Deno.env.set(LIBRARY_ENV, env);
    unloadSha256Native();
  }
}

/**
 * On Linux the libraries are there (libprocrec.so: `make build`, which
 * `make test` runs first; libcrypto.so.3: Debian's libssl3, which openssl
 * needs): each mode must have taken its path.
 */
function assertPath(
  mode: Mode,
  got: { native: number; items: number },
  chunks: number,
) {
  if (Deno.build.os !== "linux") return;
  // by default, from the first run of many small chunks whole in the bytes
  // loaded (the opening loads 4 KiB: a few dozen chunks are hashed in
  // JavaScript before the next block is read), at the latest from the
  // 1,024th chunk
  const after = mode.nativeHash === true
    ? chunks
    : mode.nativeHash === false
    ? 0
    : got.native / 2;
  if (mode.nativeHash === undefined) {
    assert(
      after >= chunks - 64 && Number.isInteger(after),
      `${mode.name}: ${after} of ${chunks} chunks hashed natively (from the first run of small chunks, at most ${NATIVE_AFTER_CHUNKS} after the start)`,
    );
  }
  // two hashes a chunk (the item, the body's digest)
  assertEquals(
    got.native,
    2 * after,
    `${mode.name}: hashed natively (is libcrypto.so.3 there, libprocrec.so built?)`,
  );
  assertEquals(
    got.items,
    mode.library ? after : 0,
    `${mode.name}: items hashed by libprocrec.so (built by make build?)`,
  );
}

/** A recording of 2,400 chunks of 2 events and its chunks as read. */
async function smallChunks(dir: string) {
  const path = `${dir}/idle.cbor`;
  const bytes = await writeSmallChunks(path, 1_600);
  const { chunks, report } = await read(path, MODES[0]);
  assertEquals(chunks.length, 2_400);
  assert(report.complete, json(report.problems));
  return { path, bytes, chunks };
}

Deno.test("many small chunks: hashed natively or in JavaScript, the same chunks, events and report", async () => {
  await withTempDir(async (dir) => {
    const { path } = await smallChunks(dir);
    const js = await read(path, MODES[0]);
    for (const mode of MODES.slice(1)) {
      const other = await read(path, mode);
      assertPath(mode, other, 2_400);
      assertEquals(other.chunks.length, js.chunks.length);
      for (let i = 0; i < js.chunks.length; i++) {
        assertEquals(
          json(other.chunks[i]),
          json(js.chunks[i]),
          `${mode.name}: chunk ${i}`,
        );
      }
      assertEquals(json(other.report), json(js.report), mode.name);
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
        const where = `${c.name}, ${mode.name}`;
        // the damaged chunk hashed too (then not delivered)
        assertPath(mode, r, 2_400);
        assert(!r.report.chainIntact, `${where}: chain intact`);
        assert(!r.report.complete, `${where}: complete`);
        assertEquals(r.report.name, path);
        assert(
          r.report.problems.some((p) => p.reason === c.want),
          `${where}: ${json(r.report.problems)}`,
        );
        reads.push(r);
      }
      // natively or not: the same chunks, events and report
      for (const r of reads.slice(1)) {
        assertEquals(json(r.chunks), json(reads[0].chunks));
        assertEquals(json(r.report), json(reads[0].report));
      }
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

Deno.test("a short recording of small chunks is hashed in JavaScript by default: the library is not loaded for it", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/short.cbor`;
    await writeSmallChunks(path, 40);
    const r = await read(path, MODES[1]);
    assertEquals(r.chunks.length, 60);
    assert(r.report.complete, json(r.report.problems));
    assertEquals(r.native, 0, "hashed natively");
    assertEquals(r.items, 0, "items hashed by the library");
  });
});
