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
 * A source that has {@link RecordingSource.chunkBatches} (a recording file,
 * a segment directory) gives a group per batch of chunks (many small chunks of a long idle
 * recording cost one `await` and one object per batch, not per chunk), else
 * a group per chunk.
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
  if (source.chunkBatches) yield* source.chunkBatches();
  else yield* source.chunks();
  const tail = source.tailEvents();
  if (tail.length > 0) yield { events: tail };
}

/**
 * The events of `chunks`, one by one: of {@link analysisChunks}, the events
 * `events()` gives (for a reader of events that wraps the chunks, e.g. with
 * a progress line).
 *
 * @example
 * ```ts
 * import { eventsOfChunks } from "./analysis_chunks.ts";
 * async function* chunks() { yield { events: [1, 2] }; yield { events: [3] }; }
 * const all = await Array.fromAsync(eventsOfChunks(chunks()));
 * if (all.join() !== "1,2,3") throw new Error(all.join());
 * ```
 */
export async function* eventsOfChunks<E>(
  chunks: AsyncIterable<{ readonly events: readonly E[] }>,
): AsyncGenerator<E> {
  for await (const c of chunks) yield* c.events;
}
