/**
 * Reads a recording member of a bundle once: its bytes are hashed and counted
 * as the recording reader checks its chunks, chain and trailer.
 *
 * @module
 */
import type { Entry } from "@zip.js/zip.js";
import { RecordingReader } from "../log/mod.ts";
import { newSha256 } from "./_tap.ts";
import { checkRecording } from "./verify_recording.ts";

/** What one pass over a recording member found. */
export interface RecordingPass {
  /** The member's size and SHA-256, or why its bytes could not be read. */
  member: { size: number; sha256: string } | { error: unknown };
  /** The recording's check, or why it could not be read as one. */
  recording:
    | {
      state: "read";
      reader: RecordingReader;
      result: Awaited<ReturnType<typeof checkRecording>>;
    }
    | { state: "unreadable"; error: unknown }
    | { state: "broken"; error: unknown };
}

/**
 * Reads `entry` through `stream` once (never past `m.size` bytes when given):
 * the recording is checked as the bytes pass, and what the reader leaves
 * (it stops at damage) is still hashed, so the hash covers the whole member.
 * A failure to read the bytes ends the recording's input there and is given
 * in `member`.
 */
export async function readRecordingMember(
  entry: Entry,
  m: { name: string; size?: number },
  stream: (
    entry: Entry,
    options: { maxBytes?: number },
  ) => AsyncIterable<Uint8Array>,
): Promise<RecordingPass> {
  const hash = newSha256();
  let size = 0;
  let failed: { error: unknown } | undefined;
  const it = stream(entry, { maxBytes: m.size })[Symbol.asyncIterator]();
  const pull = async (): Promise<Uint8Array | undefined> => {
    if (failed) return undefined;
    try {
      const r = await it.next();
      if (r.done) return undefined;
      hash.update(r.value);
      size += r.value.length;
      return r.value;
    } catch (error) {
      failed = { error };
      return undefined;
    }
  };
  async function* blocks(): AsyncGenerator<Uint8Array> {
    for (let b = await pull(); b !== undefined; b = await pull()) yield b;
  }
  let recording: RecordingPass["recording"];
  let reader: RecordingReader | undefined;
  try {
    reader = await RecordingReader.fromStream(blocks(), m.name);
  } catch (error) {
    recording = { state: "unreadable", error };
  }
  if (reader) {
    try {
      const result = await checkRecording(reader, m.name, m.name);
      recording = { state: "read", reader, result };
    } catch (error) {
      recording = { state: "broken", error };
    }
  }
  // the rest, which the reader did not want
  while (await pull() !== undefined) { /* hashed in pull */ }
  return {
    member: failed ?? { size, sha256: hash.digest("hex") },
    recording: recording!,
  };
}
