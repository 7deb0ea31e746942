import type { ProcEvent } from "../events/types.ts";
import type { Forest, ForestMeta, ForestOptions } from "./forest.ts";
import { ForestBuilder } from "./forest_builder.ts";

/**
 * Feeds every event through a {@link ForestBuilder} and returns the forest:
 * the one entry point for replay, over a recording's `events()` or any
 * iterable.
 *
 * @example
 * ```ts
 * import { analyze } from "./analyze.ts";
 * const forest = await analyze([
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 0 },
 *   { kind: "process_create", t: 1, pid: 6, tid: 6, ppid: 5, ptid: 5,
 *     creatorPid: 5, creatorTid: 5, start: 1 },
 * ], { os: "linux", bootId: "b" });
 * if (forest.roots.length !== 1 || forest.processes[0].children.length !== 1) {
 *   throw new Error("tree");
 * }
 * ```
 */
export async function analyze(
  events: AsyncIterable<ProcEvent> | Iterable<ProcEvent>,
  meta: ForestMeta,
  options: ForestOptions = {},
): Promise<Forest> {
  const b = new ForestBuilder(meta, options);
  if (Symbol.asyncIterator in events) {
    for await (const e of events) b.add(e);
  } else {
    for (const e of events) b.add(e);
  }
  return b.finish();
}

/**
 * {@link analyze} over a recording's chunks (`RecordingReader.chunks()`):
 * the same forest, without an `await` per event (replay's path; the events
 * of a chunk go through the builder in one synchronous loop).
 *
 * @example
 * ```ts
 * import { analyzeChunks } from "./analyze.ts";
 * async function* chunks() {
 *   yield { events: [{ kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1,
 *     ptid: 1, creatorPid: 1, creatorTid: 1, start: 0 } as const] };
 *   yield { events: [{ kind: "process_exit", t: 9, pid: 5, tid: 5, status: 0 } as const] };
 * }
 * const forest = await analyzeChunks(chunks(), { os: "linux", bootId: "b" });
 * if (forest.processes[0].end !== 9) throw new Error("end");
 * ```
 */
export async function analyzeChunks(
  chunks: AsyncIterable<{ readonly events: readonly ProcEvent[] }>,
  meta: ForestMeta,
  options: ForestOptions = {},
): Promise<Forest> {
  const b = new ForestBuilder(meta, options);
  for await (const c of chunks) {
    const events = c.events;
    for (let i = 0; i < events.length; i++) b.add(events[i]);
  }
  return b.finish();
}
