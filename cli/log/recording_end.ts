/**
 * When a recording ended, once it has been read: what replay, report,
 * export and the closing summary take as its end. Pure.
 *
 * @module
 */
import {
  type RecordingSource,
  SegmentSetReader,
} from "./segment_set_reader.ts";

/**
 * The end (UTC ns) of the recording `reader` has read: its trailer's end
 * time; for a segment directory, its last segment's, when that segment was
 * read and closed; none for a recording that was not closed (it ends with
 * its last event).
 *
 * @example
 * ```ts
 * import { RecordingReader, RecordingWriter } from "./mod.ts";
 * import { recordingEndUtcNs } from "./recording_end.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * });
 * const r = await RecordingReader.open(await w.close({ endUtcNs: 7n }));
 * for await (const _ of r.events()) void _; // (read it whole)
 * await Deno.remove(dir, { recursive: true });
 * if (recordingEndUtcNs(r) !== 7n) throw new Error();
 * ```
 */
export function recordingEndUtcNs(reader: RecordingSource): bigint | undefined {
  if (!(reader instanceof SegmentSetReader)) {
    return reader.report.trailer?.endUtcNs;
  }
  const last = reader.segmentsRead.at(-1);
  return last !== undefined && last.entry === reader.segments.at(-1)
    ? last.report.trailer?.endUtcNs
    : undefined;
}
