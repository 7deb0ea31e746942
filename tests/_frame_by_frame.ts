/**
 * The reference reading the reader tests compare the reader's fast paths
 * with (tests/batched_read_test.ts, tests/chunk_batches_read_test.ts): one
 * frame at a time through the verifier, one `await` per frame; and the
 * inputs they share (every fixture, deterministic damage).
 */
import { ByteWindow } from "../cli/log/_byte_window.ts";
import { scanItem } from "../cli/log/_cbor_scan.ts";
import {
  type ChunkRead,
  ChunkVerifier,
  type RecordingReport,
} from "../cli/log/chunk_verifier.ts";
import { frameRecording } from "../cli/log/frame_recording.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import { ROOT } from "./_record_helpers.ts";

/**
 * The chunks and report of `bytes` (fed as `blocks`) read one frame at a
 * time: framing, then the verifier; the header's error message when the
 * reader refuses it.
 *
 * @example
 * ```ts
 * import { frameByFrame } from "./_frame_by_frame.ts";
 * import { writeSmallChunks } from "./_small_chunks.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const bytes = await writeSmallChunks(`${dir}/a.cbor`, 4);
 *   const read = await frameByFrame(bytes, [bytes], "a.cbor");
 *   if (typeof read === "string" || read.chunks.length !== 6) throw new Error();
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function frameByFrame(
  bytes: Uint8Array,
  blocks: Uint8Array[],
  name: string,
): Promise<{ chunks: ChunkRead[]; report: RecordingReport } | string> {
  let reader: RecordingReader;
  try {
    reader = await RecordingReader.fromStream(blocks, name);
  } catch (e) {
    return (e as Error).message;
  }
  const start = scanItem(bytes, 0);
  const v = new ChunkVerifier(name, reader.headerHash);
  v.report.bytes = start;
  const window = new ByteWindow(blocks);
  // loaded as far as the reader's opening loads it
  await window.ensure(Math.max(4096, start));
  const chunks: ChunkRead[] = [];
  for await (const frame of frameRecording(window, start)) {
    const c = v.frame(frame);
    if (c) chunks.push(c);
    if (v.done) {
      const end = frame.offset +
        (frame.kind === "item" ? frame.bytes.length : frame.length);
      window.drop(end);
      if (await window.ensure(end + 1)) v.afterTrailer(end, window.end - end);
      break;
    }
  }
  v.finish(window.end);
  return { chunks, report: v.report };
}

/** Every fixture recording, sorted. */
export async function fixtureFiles(): Promise<string[]> {
  const out: string[] = [];
  for (
    const dir of [
      "fixtures",
      "fixtures/v1",
      "fixtures/v4",
      "fixtures/fuzz/recording",
    ]
  ) {
    for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
      if (e.isFile && e.name.endsWith(".cbor")) {
        out.push(`${ROOT}${dir}/${e.name}`);
      }
    }
  }
  return out.sort();
}

/**
 * A deterministic generator of numbers in [0, 1): the same blocks and
 * mutations every run.
 *
 * @example
 * ```ts
 * import { generator } from "./_frame_by_frame.ts";
 * const a = generator(7), b = generator(7);
 * if (a() !== b() || a() >= 1) throw new Error();
 * ```
 */
export function generator(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/**
 * `bytes` damaged the `n`th way of five: 1 to 3 bytes changed after the
 * header's first bytes, cut short, or a range (of up to `range` bytes)
 * removed or repeated.
 *
 * @example
 * ```ts
 * import { generator, mutate } from "./_frame_by_frame.ts";
 * const m = mutate(new Uint8Array(100), 3, generator(1));
 * if (m.length >= 100) throw new Error("cut short");
 * ```
 */
export function mutate(
  bytes: Uint8Array,
  n: number,
  rand: () => number,
  range = 400,
): Uint8Array {
  let m = new Uint8Array(bytes);
  const what = n % 5;
  if (what < 3) {
    for (let k = 0; k <= what; k++) {
      m[16 + Math.floor(rand() * (m.length - 16))] = Math.floor(rand() * 256);
    }
  } else if (what === 3) {
    m = m.slice(0, 16 + Math.floor(rand() * (m.length - 16)));
  } else {
    const a = 16 + Math.floor(rand() * (m.length - 16));
    const b = a + Math.floor(rand() * range);
    m = rand() < 0.5
      ? new Uint8Array([...m.slice(0, a), ...m.slice(b)])
      : new Uint8Array([...m.slice(0, b), ...m.slice(a)]);
  }
  return m;
}

/** `bytes` in blocks of 1 to `blockSize` bytes of random sizes. */
export function randomBlocks(
  bytes: Uint8Array,
  rand: () => number,
  blockSize = 700,
): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(rand() * blockSize);
    blocks.push(bytes.slice(at, at + n));
    at += n;
  }
  return blocks;
}
