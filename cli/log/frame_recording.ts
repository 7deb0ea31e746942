/**
 * Framing: cuts the body of a recording (what follows the header) into the
 * items a verifier checks, without decoding them. Needs no permission (it
 * reads a {@link ByteWindow}).
 *
 * A chunk or a trailer starts with a fixed marker (the array head and the
 * text "chunk" or "trailer"). An item is taken only where a marker is, and
 * only when it is well-formed CBOR; anything else is damage, and a damaged
 * range reaches to the next marker: one frame however long it is (a zero run
 * is one frame, not one per byte), in time linear in its length and memory
 * bounded by a block. A marker whose item the input ends inside is a
 * truncation.
 *
 * @module
 */
import type { ByteWindow } from "./_byte_window.ts";
import { NeedMoreBytes, scanItem } from "./_cbor_scan.ts";
import { MAX_ITEM_BYTES } from "./schema.ts";

/** One piece of a recording's body, in file order. */
export type Frame =
  | {
    kind: "item";
    /** What the marker says the item is. */
    item: "chunk" | "trailer";
    offset: number;
    /** The item's exact bytes: a view, valid until the next frame is asked for. */
    bytes: Uint8Array;
  }
  | {
    kind: "damaged";
    offset: number;
    length: number;
    /** Every byte of the range is 0 (what a crash or a power cut leaves). */
    zeros: boolean;
    /** The range reaches the end of the input. */
    atEnd: boolean;
    /** Why the range is not an item. */
    reason: string;
  }
  | {
    kind: "truncated";
    offset: number;
    /** Bytes of the cut item present. */
    length: number;
    item: "chunk" | "trailer";
  };

const enc = new TextEncoder();
const MARKERS = {
  chunk: new Uint8Array([0x86, 0x65, ...enc.encode("chunk")]),
  trailer: new Uint8Array([0x87, 0x67, ...enc.encode("trailer")]),
} as const;
/** The trailer of a published recording: 8 items (SCHEMA.md, `publish`). */
const PUBLISHED_TRAILER = new Uint8Array([
  0x88,
  0x67,
  ...enc.encode("trailer"),
]);
const ALL_MARKERS = [
  ["chunk", MARKERS.chunk],
  ["trailer", MARKERS.trailer],
  ["trailer", PUBLISHED_TRAILER],
] as const;
const LONGEST = MARKERS.trailer.length;
const READ_BLOCK = 1 << 20;

/**
 * The frames of a recording's body from stream offset `start` (just past the
 * header) to the end of the input.
 *
 * @example
 * ```ts
 * import { ByteWindow } from "./_byte_window.ts";
 * import { frameRecording } from "./frame_recording.ts";
 * import { newEncoder } from "./_cbor.ts";
 * const chunk = newEncoder().encode(["chunk", 0, 0, new Uint8Array(32), new Uint8Array(16), new Uint8Array(1)]);
 * const bytes = new Uint8Array([...chunk, ...new Uint8Array(1 << 20)]);
 * const frames = [];
 * for await (const f of frameRecording(new ByteWindow([bytes]), 0)) {
 *   frames.push(f.kind === "item" ? f.item : `${f.kind} ${f.offset}+${"length" in f ? f.length : ""}`);
 * }
 * // a megabyte of zeros after the chunk is one frame
 * if (frames.join() !== `chunk,damaged ${chunk.length}+${1 << 20}`) throw new Error(frames.join());
 * ```
 */
export async function* frameRecording(
  window: ByteWindow,
  start: number,
): AsyncGenerator<Frame> {
  const framer = new RecordingFramer(window, start);
  for (;;) {
    const f = await framer.next();
    if (f === undefined) return;
    yield f;
  }
}

/**
 * The framing of {@link frameRecording} one frame at a time, from
 * {@link RecordingFramer.pos}, which a reader may move past items it has
 * taken in place itself (`plainChunkEnd`).
 */
export class RecordingFramer {
  /** Stream offset of the next frame. */
  pos: number;
  #window: ByteWindow;
  #ended = false;

  constructor(window: ByteWindow, start: number) {
    this.#window = window;
    this.pos = start;
  }

  /** The next frame; `undefined` once the input has ended. */
  async next(): Promise<Frame | undefined> {
    if (this.#ended) return undefined;
    const window = this.#window;
    const pos = this.pos;
    window.drop(pos);
    if (!(await window.ensure(pos + 1))) return this.#end();
    await window.ensure(pos + LONGEST);
    const marker = markerAt(window, pos);
    if (marker === "partial") {
      this.#ended = true;
      return {
        kind: "truncated",
        offset: pos,
        length: window.end - pos,
        item: window.at(pos) === MARKERS.chunk[0] ? "chunk" : "trailer",
      };
    }
    let why: string;
    if (marker !== undefined) {
      try {
        const end = await scanAt(window, pos);
        this.pos = end;
        return {
          kind: "item",
          item: marker,
          offset: pos,
          bytes: window.view(pos, end),
        };
      } catch (e) {
        if (e instanceof NeedMoreBytes) {
          // cut by the end of the input, or by the next item (a length
          // field that was altered): only the first is a truncation
          const { next, zeros } = await nextMarker(window, pos);
          if (next < window.end) {
            this.pos = next;
            return {
              kind: "damaged",
              offset: pos,
              length: next - pos,
              zeros,
              atEnd: false,
              reason: `a ${marker} whose length runs past the next item`,
            };
          }
          this.#ended = true;
          return {
            kind: "truncated",
            offset: pos,
            length: window.end - pos,
            item: marker,
          };
        }
        why = `a ${marker} that is not well-formed CBOR (${
          (e as Error).message
        })`;
      }
    } else {
      why = `neither a chunk nor a trailer (first bytes ${
        hex(window.view(pos, Math.min(window.end, pos + 8)))
      })`;
    }
    const { next, zeros } = await nextMarker(window, pos);
    this.pos = next;
    return {
      kind: "damaged",
      offset: pos,
      length: next - pos,
      zeros,
      atEnd: next === window.end && window.eof,
      reason: why,
    };
  }

  #end(): undefined {
    this.#ended = true;
    return undefined;
  }
}

/** Which marker starts at `pos`; "partial" when the input ends inside one. */
function markerAt(
  w: ByteWindow,
  pos: number,
): "chunk" | "trailer" | "partial" | undefined {
  for (const [name, m] of ALL_MARKERS) {
    let i = 0;
    while (i < m.length && w.at(pos + i) === m[i]) i++;
    if (i === m.length) return name;
    if (pos + i === w.end && w.eof) return "partial";
  }
  return undefined;
}

/**
 * The end of the item at `pos`, loading blocks as it needs them (memory:
 * the item, at most {@link MAX_ITEM_BYTES}); a `NeedMoreBytes` when the
 * input ends inside it.
 */
export async function scanAt(w: ByteWindow, pos: number): Promise<number> {
  for (;;) {
    try {
      return pos + scanItem(w.view(pos), 0, MAX_ITEM_BYTES);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes) || w.eof) throw e;
      if (w.end - pos > MAX_ITEM_BYTES + 64) {
        throw new RangeError(`the item exceeds ${MAX_ITEM_BYTES} bytes`);
      }
      await w.ensure(w.end + READ_BLOCK);
    }
  }
}

/**
 * The next marker after `pos` (or the end of the input), and whether every
 * byte before it is 0; keeps at most a block and a marker in memory.
 */
async function nextMarker(
  w: ByteWindow,
  pos: number,
): Promise<{ next: number; zeros: boolean }> {
  let zeros = true;
  let at = pos + 1;
  if (w.at(pos) !== 0) zeros = false;
  for (;;) {
    const view = w.view(at);
    const firstC = MARKERS.chunk[0], firstT = MARKERS.trailer[0];
    for (let i = 0; i < view.length; i++) {
      const b = view[i];
      if (b === 0) continue;
      if (b === firstC || b === firstT || b === PUBLISHED_TRAILER[0]) {
        const p = at + i;
        await w.ensure(p + LONGEST);
        const m = markerAt(w, p);
        if (m === "chunk" || m === "trailer") {
          return { next: p, zeros };
        }
        // ensure() may have loaded more: the view is still valid
      }
      zeros = false;
    }
    at += view.length;
    if (w.eof && at >= w.end) return { next: w.end, zeros };
    w.drop(at);
    await w.ensure(at + READ_BLOCK);
    if (at >= w.end && w.eof) return { next: w.end, zeros };
  }
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}
