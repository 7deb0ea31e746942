/**
 * The library's chunk encoder (`procrec_encode_cbor`,
 * `driver/linux/chunk_encoder.h`): a buffer of C records, as
 * `procrec_read` fills it, becomes the CBOR event arrays of a chunk body,
 * the very bytes {@link decodeRecords} then the writer's encoder give for
 * them, with per-kind counts; the recorder's JavaScript never makes an
 * object per event. Needs `--allow-ffi` (Linux: `libprocrec.so`).
 *
 * @module
 */
import type { EventKind } from "../events/types.ts";
import { EVENT_KINDS } from "../events/types.ts";
import { loadLibrary, type NativeLibrary } from "./ffi.ts";
import { decodeRecords, LOST_REASONS } from "./decode_records.ts";

/** Slots of `res` (`enum pr_enc_slot`). */
const Slot = {
  CONSUMED: 0,
  EVENTS: 1,
  BYTES: 2,
  UNKNOWN: 3,
  INVALID: 4,
  WATCH_EXIT: 5,
  LOST_UNKNOWN: 6,
  KIND_COUNT: 8,
  KIND_FIRST: 24,
  LOST_SUM: 40,
  LOST_FIRST: 48,
  SLOTS: 56,
} as const;

const NONE = 0xffffffffffffffffn;

/** Events of one kind (or one lost reason) in a batch, and where the first is. */
export interface BatchCount<K extends string> {
  key: K;
  count: number;
  /** Index in the batch of its first event: counts are added in this order. */
  first: number;
}

/** The encoded events of one call: views valid until the next call. */
export interface EncodedBatch {
  /** The CBOR arrays of the events, one after another. */
  bytes: Uint8Array;
  /** `ends[i]`: end offset in `bytes` of event i. */
  ends: Uint32Array;
  events: number;
  /** Events per kind, in the order of their first event. */
  kinds: BatchCount<EventKind>[];
  /** Lost events' counts per reason, in the order of their first event. */
  lost: BatchCount<string>[];
  /** `lost` events whose count is unknown. */
  lostCountUnknown: number;
  /** Records of kinds this version does not know, skipped. */
  unknown: number;
  /** A `process_exit` of the watched pid was among them. */
  watchExit: boolean;
  /**
   * With `withMeta`: for event i, `meta[4i..4i+3]` = its event code, pid,
   * parent pid (process_create, else 0) and the time that links an image
   * hash to its exec (exec and snapshot: t; image_hash: execT;
   * process_create: the creator's pid; else 0).
   */
  meta?: Float64Array;
}

/**
 * Encodes C records with the library. {@link NativeEventEncoder.open} gives
 * undefined when the library has no encoder (the Windows DLL): the caller
 * keeps the TypeScript path.
 *
 * ```ts ignore
 * const enc = NativeEventEncoder.open();
 * for (const batch of enc!.encode(records, timeBaseMonoNs)) writer.writeEncoded(batch);
 * ```
 */
export class NativeEventEncoder {
  #fn: NonNullable<NativeLibrary["procrec_encode_cbor"]>;
  #out = new Uint8Array(4 << 20);
  #ends = new Uint32Array(1 << 15);
  #res = new BigUint64Array(Slot.SLOTS);
  #resF = new Float64Array(this.#res.buffer);
  #resBytes = new Uint8Array(this.#res.buffer);
  /** With `withMeta`: 4 numbers per event (code, pid, ppid, hash link time). */
  #meta: Float64Array<ArrayBuffer> | null = null;

  private constructor(fn: NonNullable<NativeLibrary["procrec_encode_cbor"]>) {
    this.#fn = fn;
  }

  /**
   * The library's encoder, or undefined when it has none. `withMeta`: each
   * batch carries {@link EncodedBatch.meta} (for a subtree filter).
   */
  static open(
    libPath?: string,
    withMeta = false,
  ): NativeEventEncoder | undefined {
    const fn = loadLibrary(libPath).procrec_encode_cbor;
    if (!fn) return undefined;
    const e = new NativeEventEncoder(fn);
    if (withMeta) e.#meta = new Float64Array(4 * e.#ends.length);
    return e;
  }

  /**
   * Encodes every whole record of `records` (times from `timeBaseMonoNs`),
   * in one batch or more (each valid until the next is asked for). A buffer
   * whose records cannot be framed throws {@link decodeRecords}'s
   * `RangeError`, before any batch.
   */
  *encode(
    records: Uint8Array<ArrayBuffer>,
    timeBaseMonoNs: bigint,
    watchPid = 0,
  ): Generator<EncodedBatch> {
    let rest = records;
    while (rest.length > 0) {
      const rc = this.#fn(
        rest,
        rest.length,
        timeBaseMonoNs,
        watchPid,
        this.#out,
        this.#out.length,
        this.#ends,
        this.#ends.length,
        this.#resBytes,
        this.#meta,
      );
      if (rc < 0) {
        decodeRecords(records, timeBaseMonoNs); // throws, naming the record
        throw new RangeError(
          "Cannot encode records: a record cannot be framed",
        );
      }
      const r = this.#res;
      const consumed = Number(r[Slot.CONSUMED]);
      const events = Number(r[Slot.EVENTS]);
      if (consumed === 0) {
        // one record larger than the output buffer: make room, try again
        this.#out = new Uint8Array(this.#out.length * 2);
        continue;
      }
      yield this.#batch(events);
      rest = rest.subarray(consumed);
    }
  }

  #batch(events: number): EncodedBatch {
    const r = this.#res;
    const kinds: BatchCount<EventKind>[] = [];
    for (let code = 1; code <= EVENT_KINDS.length; code++) {
      const n = r[Slot.KIND_COUNT + code];
      if (n !== 0n) {
        kinds.push({
          key: EVENT_KINDS[code - 1],
          count: Number(n),
          first: Number(r[Slot.KIND_FIRST + code]),
        });
      }
    }
    kinds.sort((a, b) => a.first - b.first);
    const lost: BatchCount<string>[] = [];
    for (let reason = 0; reason < 8; reason++) {
      const first = r[Slot.LOST_FIRST + reason];
      if (first !== NONE) {
        lost.push({
          key: LOST_REASONS[reason] ?? "decode",
          count: this.#resF[Slot.LOST_SUM + reason],
          first: Number(first),
        });
      }
    }
    lost.sort((a, b) => a.first - b.first);
    return {
      bytes: this.#out.subarray(0, Number(r[Slot.BYTES])),
      ends: this.#ends.subarray(0, events),
      events,
      kinds,
      lost,
      lostCountUnknown: Number(r[Slot.LOST_UNKNOWN]),
      unknown: Number(r[Slot.UNKNOWN]),
      watchExit: r[Slot.WATCH_EXIT] !== 0n,
      ...(this.#meta ? { meta: this.#meta.subarray(0, 4 * events) } : {}),
    };
  }
}
