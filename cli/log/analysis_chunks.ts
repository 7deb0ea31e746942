/**
 * What an analysis reads of a recording, chunk by chunk.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import type { RecordingSource } from "./segment_set_reader.ts";

/**
 * A source's chunks, then its {@link RecordingSource.tailEvents} (a damaged
 * tail's `lost` event) as one more group of events: what `analyzeChunks`
 * needs to see everything `events()` gives, without an `await` per event.
 *
 * @example
 * ```ts
 * import { analysisChunks } from "./analysis_chunks.ts";
 * import type { RecordingSource } from "./segment_set_reader.ts";
 * const source = {
 *   async *chunks() { yield { events: [] }; },
 *   tailEvents: () => [{ kind: "lost", t: 5, pid: 0, tid: 0, reason: "recording", count: 3 }],
 * } as unknown as RecordingSource;
 * const groups = await Array.fromAsync(analysisChunks(source));
 * if (groups.length !== 2 || groups[1].events[0].kind !== "lost") throw new Error();
 * ```
 */
export async function* analysisChunks(
  source: RecordingSource,
): AsyncGenerator<{ readonly events: readonly ProcEvent[] }> {
  yield* source.chunks();
  const tail = source.tailEvents();
  if (tail.length > 0) yield { events: tail };
}
