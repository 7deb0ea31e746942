/**
 * The closing summary of a recording just written, read back from its file:
 * the replay summary of that recording by construction. Needs `--allow-read`.
 *
 * @module
 */
import {
  analysisChunks,
  recordingEndUtcNs,
  RecordingReader,
} from "../log/mod.ts";
import {
  analyzeChunks,
  type ForestMeta,
  forestWithEnd,
  renderSummary,
  summarize,
} from "../analysis/mod.ts";

/**
 * `renderSummary(summarize(forest))` of the recording at `path`, as
 * `procrec replay --summary` computes it (and as the live analysis of
 * `record` did, event by event, before the library encoded the events):
 * with the recording's end from its trailer (the forest's `end`), until
 * which a process still running counts.
 *
 * @example
 * ```ts
 * import { RecordingWriter } from "../log/mod.ts";
 * import { recordingSummary } from "./recording_summary.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * });
 * w.write({ kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *   creatorPid: 1, creatorTid: 1, start: 0 });
 * // closed a minute later: pid 5 ran until then
 * const path = await w.close({ endUtcNs: 60_000_000_000n });
 * const text = await recordingSummary(path, { os: "linux", bootId: "b" });
 * await Deno.remove(dir, { recursive: true });
 * if (!text.includes("1m00.000s+ (running)  pid 5")) throw new Error(text);
 * ```
 */
export async function recordingSummary(
  path: string,
  meta: ForestMeta,
): Promise<string> {
  const reader = await RecordingReader.open(path);
  // (the summary reads no exec step and only the counts of ended
  // processes' threads: the tree analysis, in less time and memory)
  const forest = await analyzeChunks(analysisChunks(reader), {
    os: meta.os,
    bootId: meta.bootId,
  }, { detail: "tree" });
  // the recording's end as replay takes it (a process still running
  // counts until then in the replay summary, so here too)
  return renderSummary(summarize(
    forestWithEnd(
      forest,
      recordingEndUtcNs(reader),
      reader.header.timeBase.utcNs,
    ),
  ));
}
