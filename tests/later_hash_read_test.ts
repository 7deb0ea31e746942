/**
 * Issue 16: a reader of big chunks (64 KiB and more) hashes each chunk's
 * item and body by the procrec library on another thread while it decodes
 * the chunk before (`ReaderOptions.hashLater`), and decodes a chunk's events
 * before its hashes are in. This checks that it reads exactly what hashing
 * on the reader's thread reads (the same chunks, hashes, events and report)
 * on a whole recording and on damaged copies of it (a body, a digest, a
 * chain link altered, a chunk missing, repeated or cut off, bytes between
 * chunks, an event the fast decoder refuses behind a right digest), and that
 * a read ended early leaves nothing running and no library open.
 */
import { type ChunkRead, RecordingReader } from "../cli/log/mod.ts";
import { sha256 } from "../cli/log/_hash.ts";
import {
  laterCallsOut,
  nativeItemsCount,
  unloadSha256Native,
} from "../cli/log/_sha256_native.ts";
import { workload, writeRecording } from "./_recording_helpers.ts";
import { assert, assertEquals, withTempDir } from "./_record_helpers.ts";
import { chunkJson as json } from "./_small_chunks.ts";

/** Events per chunk: the writer's default (chunks of ~120 KiB here). */
const BIG = 4096;

async function read(path: string, hashLater: boolean | "wait") {
  const items = nativeItemsCount();
  try {
    const r = await RecordingReader.open(path, { hashLater });
    const chunks: ChunkRead[] = [];
    for await (const c of r.chunks()) chunks.push(c);
    return { chunks, report: r.report, items: nativeItemsCount() - items };
  } finally {
    unloadSha256Native();
  }
}

/** `got` equals `want`, or an error that shows where they part. */
function assertSameText(got: string, want: string, what: string): void {
  if (got === want) return;
  let i = 0;
  while (got[i] === want[i]) i++;
  const around = (s: string) => s.slice(Math.max(0, i - 150), i + 150);
  throw new Error(
    `${what}: differs at character ${i}\nexpected …${
      around(want)
    }…\n     got …${around(got)}…`,
  );
}

/** Where the chunk items of a recording are (from a clean read). */
async function chunkSpans(path: string): Promise<[number, number][]> {
  const { chunks, report } = await read(path, false);
  assert(report.complete, json(report.problems));
  return chunks.map((c) => [c.offset, c.offset + c.length]);
}

/** The parts of a plain chunk item at `at`: digest and body offsets. */
function parts(bytes: Uint8Array, at: number, end: number) {
  // ["chunk", index, firstSeq, prev (32 bytes), digest (16 bytes), body]:
  // the body's head is 0x5a and 4 length bytes (bodies of 64 KiB and more)
  let body = -1;
  for (let p = at + 7; p < end - 5; p++) {
    const n = (bytes[p + 1] << 24 | bytes[p + 2] << 16 | bytes[p + 3] << 8 |
      bytes[p + 4]) >>> 0;
    if (bytes[p] === 0x5a && p + 5 + n === end) {
      body = p + 5;
      break;
    }
  }
  assert(body > 0, `no body found in the chunk at ${at}`);
  const digest = body - 5 - 16;
  assertEquals(bytes[digest - 1], 0x50, "the digest's head");
  const prev = digest - 1 - 32;
  assertEquals([bytes[prev - 2], bytes[prev - 1]], [0x58, 32], "prev's head");
  return { prev, digest, body };
}

Deno.test("big chunks hashed on another thread: the same chunks, events and report as hashed here, whole and damaged", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/big.cbor`;
    const bytes = await writeRecording(path, workload(12_000), BIG);
    const spans = await chunkSpans(path);
    assert(spans.length >= 8, `${spans.length} chunks`);
    const average = (spans.at(-1)![1] - spans[0][0]) / spans.length;
    assert(average >= 64 * 1024, `chunks of ${average} bytes`);
    const at = (i: number) => parts(bytes, spans[i][0], spans[i][1]);
    const copy = () => new Uint8Array(bytes);
    const cut = (b: Uint8Array, from: number, to: number) =>
      new Uint8Array([...b.subarray(0, from), ...b.subarray(to)]);
    const variants: [string, Uint8Array][] = [["whole", bytes]];
    let b = copy();
    b[at(3).body + 1000] ^= 0x01;
    variants.push(["a body altered", b]);
    b = copy();
    b[at(2).digest + 3] ^= 0x80;
    variants.push(["a digest altered", b]);
    b = copy();
    b[at(5).prev + 7] ^= 0x10;
    variants.push(["a chain link altered", b]);
    variants.push([
      "a chunk missing",
      cut(bytes, spans[4][0], spans[4][1]),
    ]);
    variants.push([
      "a chunk repeated",
      new Uint8Array([
        ...bytes.subarray(0, spans[6][1]),
        ...bytes.subarray(spans[5][0], spans[5][1]),
        ...bytes.subarray(spans[6][1]),
      ]),
    ]);
    variants.push([
      "cut off in a chunk",
      bytes.slice(0, spans[6][0] + 5000),
    ]);
    variants.push([
      "bytes between two chunks",
      new Uint8Array([
        ...bytes.subarray(0, spans[1][1]),
        ...new Uint8Array(300).fill(0xab),
        ...bytes.subarray(spans[1][1]),
      ]),
    ]);
    // the first event's kind code made unknown, the digest made right: the
    // fast decoder refuses the body, the generic one names the event
    b = copy();
    const p = at(4);
    // the body: 0x99 and 2 bytes (4,096 events), then the first event's
    // array head and its kind code
    assertEquals([b[p.body], b[p.body + 1], b[p.body + 2]], [0x99, 16, 0]);
    assert(b[p.body + 3] >> 5 === 4 && b[p.body + 4] < 0x17, "an event");
    b[p.body + 4] = 0x17;
    b.set(sha256(b, p.body, spans[4][1]).subarray(0, 16), p.digest);
    variants.push(["an event refused behind a right digest", b]);

    for (const [name, data] of variants) {
      const file = `${dir}/${name.replaceAll(" ", "_")}.cbor`;
      await Deno.writeFile(file, data);
      const here = await read(file, false);
      assertEquals(here.items, 0, `${name}: hashed here`);
      // every hash from the other thread; then as it comes (some there,
      // some here)
      for (const mode of ["wait", true] as const) {
        const later = await read(file, mode);
        const what = `${name}, hashLater ${mode}`;
        assertSameText(
          json(later.chunks),
          json(here.chunks),
          `${what}: chunks`,
        );
        assertSameText(
          json(later.report),
          json(here.report),
          `${what}: report`,
        );
        if (Deno.build.os === "linux" && mode === "wait") {
          // the library (make build) hashed the plain big chunks elsewhere
          assert(
            later.items >= spans.length - 3,
            `${what}: ${later.items} chunks hashed on another thread (is libprocrec.so built?)`,
          );
        }
      }
      if (name === "whole") assert(here.report.complete, name);
      else assert(!here.report.complete, `${name}: found`);
    }
  });
});

Deno.test("a read of big chunks ended after the first chunk leaves no hash running and no library open", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/big.cbor`;
    // execs of 600-byte command lines: three chunks of ~900 KiB, read at
    // once; the hashes of the last ones are still being computed when the
    // first is handed out
    const events = workload(4_000).map((e, i) =>
      e.kind === "exec"
        ? { ...e, info: { ...e.info, argv: [`${i}`.padEnd(600, "x")] } }
        : e
    );
    await writeRecording(path, events, BIG);
    const r = await RecordingReader.open(path);
    let n = 0;
    for await (const c of r.chunks()) {
      n += c.events.length;
      assert(c.length > 800_000, `a chunk of ${c.length} bytes`);
      break;
    }
    assert(n > 1000, `${n} events`);
    // the next chunk's hashes were asked for: the reader's end waited for
    // them (and the test's sanitizers find no library left open)
    assertEquals(laterCallsOut(), 0, "calls out after the reader's end");
  });
});
