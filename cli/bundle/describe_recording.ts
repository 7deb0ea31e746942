/**
 * Reads a whole recording and describes it for the manifest: host, OS,
 * kernel, boot id, time range in UTC, counts per kind, lost counts, final
 * chain hash, and whether it is complete. Reads through a
 * {@link RecordingReader}, so it needs what the reader's source needs.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { toHex } from "../log/_hash.ts";
import type { RecordingReader } from "../log/mod.ts";
import type { ManifestRecording } from "./manifest.ts";
import { isoFromNs } from "../text/iso_from_ns.ts";

/**
 * Reads every chunk of `reader` and describes the recording.
 *
 * @example
 * ```ts
 * import { RecordingReader, RecordingWriter } from "../log/mod.ts";
 * import { describeRecording } from "./describe_recording.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * }, { flushIntervalMs: 0 });
 * w.write({ kind: "lost", t: 5, pid: 0, tid: 0, reason: "ring_full", count: 3 });
 * await w.close();
 * const d = await describeRecording(await RecordingReader.open(`${dir}/a.cbor`), "recordings/a.cbor", "a.cbor");
 * await Deno.remove(dir, { recursive: true });
 * if (d.lost.ring_full !== 3 || !d.complete || d.timeRange.start !== "1970-01-01T00:00:00.000000000Z") {
 *   throw new Error(JSON.stringify(d));
 * }
 * ```
 */
export async function describeRecording(
  reader: RecordingReader,
  member: string,
  source: string,
  /** Sees every event as it is read (the caller's analysis). */
  sink?: (event: ProcEvent) => void,
): Promise<ManifestRecording> {
  const h = reader.header;
  let lastT: number | undefined;
  for await (const chunk of reader.chunks()) {
    for (const e of chunk.events) {
      if (lastT === undefined || e.t > lastT) lastT = e.t;
      sink?.(e);
    }
  }
  // counted by the reader, as verify counts them
  const r = reader.report;
  const startNs = h.timeBase.utcNs;
  let endNs = startNs;
  let endFrom: ManifestRecording["timeRange"]["endFrom"] = "start";
  if (r.trailer) {
    endNs = r.trailer.endUtcNs;
    endFrom = "trailer";
  } else if (lastT !== undefined) {
    endNs = startNs + BigInt(Math.max(0, lastT));
    endFrom = "last event";
  }
  return {
    member,
    source,
    host: h.host,
    os: h.os,
    kernel: h.kernel,
    bootId: h.bootId,
    formatVersion: h.version,
    recorder: { name: h.tool?.name ?? "", version: h.tool?.version ?? "" },
    eventSource: { name: h.source?.name ?? "", reason: h.source?.reason ?? "" },
    timeRange: { start: isoFromNs(startNs), end: isoFromNs(endNs), endFrom },
    chunks: r.chunks,
    events: r.events,
    counts: r.counts.sortedKinds() as Record<string, number>,
    lost: r.counts.sortedLost(),
    lostCountUnknown: r.counts.lostCountUnknown,
    finalHash: r.trailer ? toHex(r.trailer.finalHash) : null,
    complete: r.complete,
    chainIntact: r.chainIntact,
    problems: r.problems.map((p) => p.reason),
  };
}
