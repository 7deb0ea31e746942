/**
 * Issue 16: the reader takes the plain chunks it has whole in memory in
 * place and many at a time (`plainChunkEnd`, `RecordingReader.chunks`). This
 * checks that it reads exactly what the frame-by-frame reading (framing,
 * then the verifier, one frame and one `await` at a time) reads: the same
 * chunks, the same events, the same report, on every fixture and on
 * recordings damaged at random, fed in blocks of random sizes so that items
 * straddle the blocks.
 */
import type { ChunkRead } from "../cli/log/chunk_verifier.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import {
  nativeItemsCount,
  nativeItemsReady,
  unloadSha256Native,
} from "../cli/log/_sha256_native.ts";
import { assert, assertEquals, withTempDir } from "./_record_helpers.ts";
import { chunkJson as json, writeSmallChunks } from "./_small_chunks.ts";
import { fixtureFiles, frameByFrame, generator } from "./_frame_by_frame.ts";

/** The reader as commands use it. */
async function batched(
  blocks: Uint8Array[],
  name: string,
): Promise<{ chunks: ChunkRead[]; report: unknown } | string> {
  let reader: RecordingReader;
  try {
    reader = await RecordingReader.fromStream(blocks, name);
  } catch (e) {
    return (e as Error).message;
  }
  const chunks = await Array.fromAsync(reader.chunks());
  return { chunks, report: reader.report };
}

async function compare(
  bytes: Uint8Array,
  where: string,
  rand: () => number,
  blockSize = 700,
): Promise<number> {
  // both fed the same blocks of random sizes (what follows a trailer is
  // counted as far as it is loaded)
  const blocks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(rand() * blockSize);
    blocks.push(bytes.slice(at, at + n));
    at += n;
  }
  const want = await frameByFrame(bytes, blocks, "x.cbor");
  const got = await batched(blocks, "x.cbor");
  if (typeof want === "string" || typeof got === "string") {
    assertEquals(got, want, `${where}: the header is read alike`);
    return 0;
  }
  assertEquals(got.chunks.length, want.chunks.length, `${where}: chunks`);
  for (let i = 0; i < got.chunks.length; i++) {
    assertEquals(
      json(got.chunks[i]),
      json(want.chunks[i]),
      `${where}: chunk ${i}`,
    );
  }
  assertEquals(json(got.report), json(want.report), `${where}: report`);
  return got.chunks.length;
}

Deno.test("the batched in-place reading gives the frame-by-frame reading's chunks and report on every fixture", async () => {
  const rand = generator(7);
  let chunks = 0;
  for (const path of await fixtureFiles()) {
    chunks += await compare(await Deno.readFile(path), path, rand);
  }
  assert(chunks > 20, `only ${chunks} chunks in the fixtures`);
});

Deno.test("the batched in-place reading gives the frame-by-frame reading's chunks and report on damaged recordings", async () => {
  await withTempDir(async (dir) => {
    // many small chunks, as an idle recorder writes them
    const bytes = await writeSmallChunks(`${dir}/a.cbor`, 120);
    const rand = generator(0x9e3779b9);
    let read = 0;
    for (let n = 0; n < 800; n++) {
      let m = new Uint8Array(bytes);
      const what = n % 5;
      if (what < 3) {
        // 1-3 bytes changed anywhere after the header's first bytes
        for (let k = 0; k <= what; k++) {
          m[16 + Math.floor(rand() * (m.length - 16))] = Math.floor(
            rand() * 256,
          );
        }
      } else if (what === 3) {
        // cut short
        m = m.slice(0, 16 + Math.floor(rand() * (m.length - 16)));
      } else {
        // a range removed or repeated
        const a = 16 + Math.floor(rand() * (m.length - 16));
        const b = a + Math.floor(rand() * 400);
        m = rand() < 0.5
          ? new Uint8Array([...m.slice(0, a), ...m.slice(b)])
          : new Uint8Array([...m.slice(0, b), ...m.slice(a)]);
      }
      read += await compare(m, `mutation ${n}`, rand);
    }
    assert(read > 800 * 20, `only ${read} chunks read in the mutations`);
  });
});

Deno.test("jobs of many small chunks, hashed in one native call where the library is built, give the frame-by-frame reading's chunks and report on damaged recordings", async () => {
  const rand = generator(11);
  const items = nativeItemsCount();
  await withTempDir(async (dir) => {
    // blocks big enough to hold many whole chunks: jobs of many chunks
    const bytes = await writeSmallChunks(`${dir}/a.cbor`, 3000);
    let read = 0;
    for (let n = 0; n < 45; n++) {
      let m = new Uint8Array(bytes);
      if (n % 3 === 0) {
        for (let k = 0; k < 3; k++) {
          m[16 + Math.floor(rand() * (m.length - 16))] = Math.floor(
            rand() * 256,
          );
        }
      } else if (n % 3 === 1) {
        m = m.slice(0, 16 + Math.floor(rand() * (m.length - 16)));
      } else {
        const a = 16 + Math.floor(rand() * (m.length - 16));
        const b = a + Math.floor(rand() * 4000);
        m = new Uint8Array([...m.slice(0, b), ...m.slice(a)]);
      }
      read += await compare(m, `mutation ${n}`, rand, 1 << 16);
    }
    assert(read > 45 * 500, `only ${read} chunks read in the mutations`);
  });
  // (the library is closed again: the test leaves none open)
  const built = nativeItemsReady();
  unloadSha256Native();
  if (built) {
    assert(
      nativeItemsCount() > items + 45 * 500,
      "the jobs were not hashed in one native call",
    );
  }
});

Deno.test("a file of small chunks bigger than a read block (4 MiB) gives the frame-by-frame reading's chunks and report", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/big.cbor`;
    const bytes = await writeSmallChunks(path, 24_000);
    assert(bytes.length >= 4 << 20, `only ${bytes.length} bytes`);
    const want = await frameByFrame(bytes, [bytes], path);
    assert(typeof want !== "string", `${want}`);
    const r = await RecordingReader.open(path);
    const chunks = await Array.fromAsync(r.chunks());
    assertEquals(json(chunks), json(want.chunks));
    assertEquals(json(r.report), json(want.report));
    assert(want.report.complete, json(want.report));
  });
});
