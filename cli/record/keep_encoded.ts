/**
 * A subtree filter (`record --only-command`) over a batch of events the
 * library encoded: the kept events' bytes, ends and counts, without an
 * event object. Pure.
 *
 * @module
 */
import { EVENT_KINDS, type EventKind } from "../events/types.ts";
import type { EncodedEvents } from "../log/mod.ts";
import type { SubtreeFilter } from "./subtree_filter.ts";

/** A batch of encoded events with its per-event fields (`meta`). */
export interface EncodedWithMeta extends EncodedEvents {
  /**
   * For event i: code, pid, parent pid, hash link time (`meta[4i..4i+3]`);
   * for a `process_create`, the creator's pid in place of the time.
   */
  meta?: Float64Array;
}

/**
 * The events of `batch` that `filter` keeps (its membership updated as by
 * {@link SubtreeFilter.keep} of each event), copied into `scratch` (grown
 * when too small; the result's views are valid until the next call).
 * Every `lost` event is kept, so the lost counts are the batch's.
 *
 * @example
 * ```ts
 * import { keepEncoded } from "./keep_encoded.ts";
 * import { SubtreeFilter } from "./subtree_filter.ts";
 * // two process_exit events (code 3): pid 10 (the root) and pid 11
 * const batch = {
 *   bytes: new Uint8Array([0x85, 3, 0, 10, 10, 0, 0x85, 3, 0, 11, 11, 0]),
 *   ends: new Uint32Array([6, 12]), events: 2,
 *   kinds: [{ key: "process_exit" as const, count: 2 }], lost: [], lostCountUnknown: 0,
 *   meta: new Float64Array([3, 10, 0, 0, 3, 11, 0, 0]),
 * };
 * const kept = keepEncoded(batch, new SubtreeFilter(10), { buf: new Uint8Array(4) });
 * if (kept.events !== 1 || kept.bytes.length !== 6 || kept.kinds[0].count !== 1) throw new Error();
 * ```
 */
export function keepEncoded(
  batch: EncodedWithMeta,
  filter: SubtreeFilter,
  scratch: { buf: Uint8Array; ends?: Uint32Array },
): EncodedEvents {
  const { bytes, ends, events: n, meta } = batch;
  if (!meta) {
    throw new RangeError(
      "Cannot filter encoded events: the batch has no per-event fields",
    );
  }
  if (scratch.buf.length < bytes.length) {
    scratch.buf = new Uint8Array(bytes.length);
  }
  if (!scratch.ends || scratch.ends.length < n) {
    scratch.ends = new Uint32Array(Math.max(n, 1024));
  }
  const out = scratch.buf, outEnds = scratch.ends;
  const counts = new Map<EventKind, number>();
  let o = 0, kept = 0, start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i];
    const kind = EVENT_KINDS[meta[4 * i] - 1];
    if (
      kind !== undefined &&
      filter.keepParts(
        kind,
        meta[4 * i + 1],
        meta[4 * i + 2],
        meta[4 * i + 3],
        kind === "process_create" ? meta[4 * i + 3] : 0,
      )
    ) {
      out.set(bytes.subarray(start, end), o);
      o += end - start;
      outEnds[kept++] = o;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    start = end;
  }
  return {
    bytes: out.subarray(0, o),
    ends: outEnds.subarray(0, kept),
    events: kept,
    // a Map keeps the order of first insertion: each kind's first kept event
    kinds: [...counts].map(([key, count]) => ({ key, count })),
    lost: batch.lost,
    lostCountUnknown: batch.lostCountUnknown,
  };
}
