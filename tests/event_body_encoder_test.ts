/**
 * The chunk body encoder writes the same bytes as cbor-x (the encoder the
 * recording format was first written with), and the reusable event encoding
 * equals the fresh one.
 */
import { deepStrictEqual } from "node:assert";
import fc from "fast-check";
import { EventBodyEncoder } from "../cli/log/event_body_encoder.ts";
import { chunkItemPrefix, encodeChunkItem } from "../cli/log/_chunk_item.ts";
import { newDecoder, newEncoder } from "../cli/log/_cbor.ts";
import {
  decodeEvent,
  encodeEvent,
  encodeEventInto,
  encodeEventTo,
} from "../cli/log/schema.ts";
import type { ProcEvent } from "../cli/events/types.ts";

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Both encoders' bytes of `[...items]`, through the body encoder item by item. */
function both(items: unknown[]): [string, string] {
  const e = new EventBodyEncoder();
  for (const it of items) e.add(it);
  return [hex(e.finish()), hex(newEncoder().encode(items))];
}

const edgeNumbers = [
  0,
  -0,
  1,
  23,
  24,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -24,
  -25,
  -256,
  -257,
  -65536,
  -65537,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 32),
  -(2 ** 32) - 1,
  -(2 ** 53),
  0.5,
  -1.25,
  1e300,
  NaN,
  Infinity,
  -Infinity,
];

const edgeStrings = [
  "",
  "a",
  "x".repeat(23),
  "x".repeat(24),
  "x".repeat(63),
  "x".repeat(64),
  "x".repeat(255),
  "x".repeat(256),
  "x".repeat(70000),
  "é".repeat(11),
  "é".repeat(12),
  "€".repeat(8),
  "€".repeat(30),
  "€".repeat(63),
  "€".repeat(100),
  "😀",
  "😀".repeat(31),
  "a\ud800b", // lone high surrogate, short
  "\udc00",
  "\ud800".repeat(40), // lone surrogates, long
  "/usr/bin/sh\0-c\0x",
];

Deno.test("EventBodyEncoder writes cbor-x's bytes for edge numbers and strings", () => {
  for (const v of [...edgeNumbers, ...edgeStrings, true, false, null]) {
    const [mine, theirs] = both([v]);
    deepStrictEqual(mine, theirs, `value ${JSON.stringify(v)}`);
  }
  const [mine, theirs] = both([[...edgeNumbers, ...edgeStrings, [[], [1]]]]);
  deepStrictEqual(mine, theirs);
});

Deno.test("EventBodyEncoder writes cbor-x's bytes for bodies of any size", () => {
  for (const n of [0, 1, 23, 24, 255, 256, 65535, 65536]) {
    const items = Array.from({ length: n }, (_, i) => [5, i, 7, 8, 0]);
    const [mine, theirs] = both(items);
    deepStrictEqual(mine, theirs, `${n} items`);
  }
});

Deno.test("EventBodyEncoder writes cbor-x's bytes for arbitrary values", () => {
  const leaf = fc.oneof(
    fc.integer(),
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.maxSafeInteger(),
    fc.double(),
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.boolean(),
    fc.constant(null),
  );
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("v"))),
  })).v;
  fc.assert(
    fc.property(fc.array(value, { maxLength: 30 }), (items) => {
      const [mine, theirs] = both(items);
      deepStrictEqual(mine, theirs);
    }),
    { numRuns: 300 },
  );
});

Deno.test("EventBodyEncoder hands other values to cbor-x", () => {
  const [mine, theirs] = both([[1n, 2n ** 70n, { a: 1 }, undefined]]);
  deepStrictEqual(mine, theirs);
});

Deno.test("EventBodyEncoder starts a new body after finish()", () => {
  const e = new EventBodyEncoder();
  e.add([1, 2]);
  e.finish();
  e.add([3]);
  deepStrictEqual(e.count, 1);
  deepStrictEqual(newDecoder().decode(e.finish()), [[3]]);
});

Deno.test("EventBodyEncoder.finishFramed() gives the chunk item encodeChunkItem() gives, for bodies of any size", () => {
  const prev = new Uint8Array(32).fill(3);
  const digest = new Uint8Array(16).fill(4);
  for (const n of [0, 1, 23, 24, 255, 256, 4096, 65536]) {
    for (const [index, seq] of [[0, 0], [70000, 2 ** 33], [2 ** 32, 5]]) {
      const items = Array.from({ length: n }, (_, i) => [5, i, 7, 8, 0]);
      const e = new EventBodyEncoder();
      for (const it of items) e.add(it);
      let body: Uint8Array | undefined;
      const item = e.finishFramed((b) => {
        body = b.slice();
        return chunkItemPrefix(index, seq, prev, digest, b.length);
      });
      deepStrictEqual(hex(body!), hex(newEncoder().encode(items)));
      deepStrictEqual(
        hex(item),
        hex(encodeChunkItem(index, seq, prev, digest, body!)),
        `${n} items, chunk ${index}`,
      );
      deepStrictEqual(e.count, 0);
      deepStrictEqual(e.bytes, 0);
    }
  }
});

Deno.test("EventBodyEncoder.finishFramed() reuses one buffer chunk after chunk", () => {
  // a fresh buffer of a chunk's size per chunk is what made an always-on
  // recorder's memory drift (bench/live_memory_bench.ts)
  const e = new EventBodyEncoder();
  const buffers = new Set<ArrayBufferLike>();
  for (let chunk = 0; chunk < 50; chunk++) {
    for (let i = 0; i < 4096; i++) e.add([5, chunk * 4096 + i, 7, 8, 0]);
    const item = e.finishFramed(() => new Uint8Array([0xaa, 0xbb]));
    deepStrictEqual([item[0], item[1]], [0xaa, 0xbb]);
    deepStrictEqual(newDecoder().decode(item.subarray(2)).length, 4096);
    buffers.add(item.buffer);
  }
  deepStrictEqual(buffers.size, 1);
});

Deno.test("EventBodyEncoder.finishFramed() copies when a prefix does not fit in front", () => {
  const e = new EventBodyEncoder();
  e.add([1]);
  const prefix = new Uint8Array(1000).fill(9);
  const item = e.finishFramed(() => prefix);
  deepStrictEqual(item.length, 1000 + 3);
  deepStrictEqual(hex(item.subarray(1000)), "818101");
  deepStrictEqual(item[999], 9);
});

const u32 = fc.nat({ max: 0xffffffff });
const t = fc.oneof(fc.integer(), fc.maxSafeInteger());
const threadEvent: fc.Arbitrary<ProcEvent> = fc.oneof(
  fc.record({
    kind: fc.constant("thread_create" as const),
    t,
    pid: u32,
    tid: u32,
    creatorPid: u32,
    creatorTid: u32,
    remote: fc.boolean(),
  }, {
    requiredKeys: ["kind", "t", "pid", "tid", "creatorPid", "creatorTid"],
  }),
  fc.record({
    kind: fc.constant("thread_exit" as const),
    t,
    pid: u32,
    tid: u32,
    status: u32,
    processExiting: fc.constant(true),
  }, { requiredKeys: ["kind", "t", "pid", "tid", "status"] }),
);

Deno.test("encodeEventInto() of thread events follows the schema's layout", () => {
  const scratch: unknown[] = ["stale", 1, 2, 3, 4, 5, 6, 7, 8, 9];
  fc.assert(
    fc.property(threadEvent, (e) => {
      const a = encodeEventInto(e, scratch);
      deepStrictEqual(a, encodeEvent(e));
      deepStrictEqual(
        decodeEvent(newDecoder().decode(newEncoder().encode(a))),
        { ...e },
      );
      const r = e as unknown as Record<string, unknown>;
      const tail = e.kind === "thread_create"
        ? [r.creatorPid, r.creatorTid, ...("remote" in r ? [r.remote] : [])]
        : [r.status, ...(r.processExiting ? [true] : [])];
      deepStrictEqual(a, [
        e.kind === "thread_create" ? 4 : 5,
        e.t,
        e.pid,
        e.tid,
        ...tail,
      ]);
    }),
  );
});

Deno.test("encodeEventTo() writes the bytes cbor-x writes for encodeEvent()'s arrays", () => {
  // odd values too (imported events are checked only after encoding): absent
  // and null fields in the middle and at the end
  const odd = fc.oneof(
    u32,
    fc.constant(undefined),
    fc.constant(null),
    fc.boolean(),
  );
  const loose = fc.record({
    kind: fc.constantFrom("thread_create", "thread_exit", "comm"),
    t,
    pid: u32,
    tid: u32,
    creatorPid: odd,
    creatorTid: odd,
    remote: odd,
    status: odd,
    processExiting: odd,
    comm: fc.string(),
  }, { requiredKeys: ["kind", "t", "pid", "tid"] }) as fc.Arbitrary<
    unknown
  > as fc.Arbitrary<ProcEvent>;
  fc.assert(
    fc.property(fc.array(fc.oneof(threadEvent, loose)), (events) => {
      const e = new EventBodyEncoder();
      for (const ev of events) encodeEventTo(ev, e, []);
      deepStrictEqual(
        hex(e.finish()),
        hex(newEncoder().encode(events.map(encodeEvent))),
      );
    }),
    { numRuns: 300 },
  );
});
