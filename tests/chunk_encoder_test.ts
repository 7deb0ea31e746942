/**
 * The library's chunk encoder (driver/linux/chunk_encoder.c, through
 * cli/native/native_event_encoder.ts) against the TypeScript path it
 * replaces on the record path (decodeRecords, then encodeEventTo into the
 * writer's body encoder): the same bytes for every kind of record, edge
 * values, strings that are not UTF-8, bad records, and random records; the
 * same counts; and a recording written from the encoder's batches equal, byte
 * for byte, to one written event by event.
 */
import { decodeRecords, FIXED_BYTES } from "../cli/native/decode_records.ts";
import { NativeEventEncoder } from "../cli/native/native_event_encoder.ts";
import { EventBodyEncoder } from "../cli/log/event_body_encoder.ts";
import { encodeEventTo } from "../cli/log/schema.ts";
import { EventCounts } from "../cli/events/event_counts.ts";
import { type HeaderInit, RecordingWriter } from "../cli/log/mod.ts";
import { SubtreeFilter } from "../cli/record/subtree_filter.ts";
import { keepEncoded } from "../cli/record/keep_encoded.ts";

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** A small deterministic generator (xorshift32). */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    u32: next,
    int: (n: number) => next() % n,
    chance: (p: number) => next() / 0x100000000 < p,
    pick: <T>(a: readonly T[]): T => a[next() % a.length],
  };
}
type Rng = ReturnType<typeof rng>;

const enc = new TextEncoder();
const bytes = (...a: number[]) => new Uint8Array(a);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
};

/** Strings that matter: ASCII, multi-byte, not UTF-8, a BOM, NULs, long. */
const STRINGS: Uint8Array[] = [
  enc.encode(""),
  enc.encode("/usr/bin/bash"),
  enc.encode("héllo wörld €"),
  enc.encode("emoji 😀 and 𝄞"),
  bytes(0xff),
  bytes(0xc0, 0x80),
  bytes(0xe2, 0x82),
  bytes(0xe2, 0x82, 0x41),
  bytes(0xf0, 0x90, 0x80, 0x41),
  bytes(0xf0, 0x90, 0x80),
  bytes(0xed, 0xa0, 0x80),
  bytes(0xf4, 0x90, 0x80, 0x80),
  bytes(0xe0, 0x80, 0x80),
  bytes(0x61, 0x80, 0x62, 0xbf),
  bytes(0xef, 0xbb, 0xbf),
  cat(bytes(0xef, 0xbb, 0xbf), enc.encode("after a BOM")),
  cat(bytes(0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf), enc.encode("two")),
  enc.encode("sh\0-c\0echo hi\0"),
  enc.encode("a\0\0b"),
  enc.encode("\0"),
  enc.encode("x\0"),
  cat(bytes(0xef, 0xbb, 0xbf, 0), enc.encode("y")),
  enc.encode("a".repeat(23)),
  enc.encode("a".repeat(24)),
  enc.encode("é".repeat(63)),
  enc.encode("é".repeat(64)),
  enc.encode("x".repeat(300)),
  cat(enc.encode("y".repeat(70)), bytes(0xff, 0xfe), enc.encode("z")),
  enc.encode("€".repeat(30) + "\0" + "€".repeat(40)),
  // 15 bytes (a comm the kernel may have cut) ending inside a sequence,
  // with and without an invalid byte before
  cat(enc.encode("é".repeat(7)), bytes(0xc3)),
  cat(enc.encode("a".repeat(12)), bytes(0xf0, 0x9f, 0x98)),
  cat(bytes(0xff), enc.encode("a".repeat(12)), bytes(0xe2, 0x82)),
  cat(enc.encode("a".repeat(13)), bytes(0xe0, 0x80)),
];

function randomString(r: Rng): Uint8Array {
  if (r.chance(0.6)) return r.pick(STRINGS);
  const n = r.int(r.chance(0.1) ? 400 : 40);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    b[i] = r.chance(0.7) ? 0x20 + r.int(0x5f) : r.u32() & 0xff;
  }
  return b;
}

const EDGE_U32 = [0, 1, 23, 24, 255, 256, 65535, 65536, 0x7fffffff, 0xffffffff];
const EDGE_U64 = [
  0n,
  1n,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 63n,
  2n ** 64n - 1n,
];

/** Where each kind holds struct pr_str fields, and its pr_proc_info. */
const STR_FIELDS: Record<number, number[]> = {
  6: [40],
  9: [56],
  10: [88, 96, 104, 112],
};
const INFO_AT: Record<number, number> = { 1: 72, 2: 48, 8: 56 };

const BASE = 5_000_000_000n;

/** One random record of `kind` (unknown kinds: any size). */
function randomRecord(r: Rng, kind: number): Uint8Array {
  const fixed = FIXED_BYTES[kind] ?? 40 + 8 * r.int(4);
  // a record shorter than its kind's fixed size is bad (a lost "decode")
  const short = FIXED_BYTES[kind] !== undefined && r.chance(0.02);
  const fixedLen = short ? Math.max(40, fixed - 8) : fixed;
  const tail: Uint8Array[] = [];
  let tailLen = 0;
  const head = new Uint8Array(fixedLen);
  const v = new DataView(head.buffer);
  for (let i = 40; i < fixedLen; i++) head[i] = r.u32() & 0xff;
  // plausible values more often than not
  for (let at = 40; at + 4 <= fixedLen; at += 4) {
    const c = r.int(4);
    if (c === 0) v.setUint32(at, r.pick(EDGE_U32), true);
    else if (c === 1) v.setUint32(at, r.int(70000), true);
  }
  for (let at = 40; at + 8 <= fixedLen; at += 8) {
    const c = r.int(5);
    if (c === 0) v.setBigUint64(at, r.pick(EDGE_U64), true);
    else if (c === 1) {
      v.setBigUint64(at, BASE + BigInt(r.int(1_000_000_000)), true);
    }
  }
  const strAt: number[] = [...(STR_FIELDS[kind] ?? [])];
  const info = INFO_AT[kind];
  if (info !== undefined && info + 144 <= fixedLen) {
    for (let i = 0; i < 8; i++) {
      head[info + 8 + i] = r.chance(0.97) ? r.int(5) : 5 + r.int(250);
    }
    for (const o of [24, 32, 40, 48, 128, 136]) strAt.push(info + o);
    if (r.chance(0.5)) v.setUint32(info + 64, 0xffffffff, true);
    if (r.chance(0.5)) v.setUint32(info + 68, 0xffffffff, true);
    const rid = r.pick([
      0,
      0x1000,
      0x2000,
      0x2100,
      0x3000,
      0x4000,
      0x5000,
      0x1234,
      0xffff,
      0x7,
    ]);
    v.setUint32(info + 76, r.chance(0.5) ? 0x80000000 | rid : rid, true);
  }
  if (kind === 7 && !short) {
    v.setUint32(40, r.int(9), true);
    if (r.chance(0.5)) v.setUint32(44, 0xffffffff, true);
    // counts below 2^40: their sums stay exact (both paths add doubles,
    // event by event and batch by batch)
    v.setBigUint64(
      48,
      r.chance(0.8) ? BigInt(r.int(100000)) : r.pick(EDGE_U64) % (2n ** 40n),
      true,
    );
  }
  if (kind === 10 && !short) {
    v.setUint32(44, r.chance(0.9) ? 1 + r.int(2) : r.int(5), true);
  }
  if (kind === 11 && !short) {
    v.setUint32(56, r.chance(0.9) ? 1 + r.int(5) : r.int(9), true);
    v.setUint32(60, r.int(8), true);
    v.setUint32(
      64,
      r.pick([0, 1, 2, 3, 4, 5, 6, 7, 13, 125, 999, 0xffffffff]),
      true,
    );
    if (r.chance(0.3)) v.setBigUint64(80, 0n, true);
  }
  const strings: [number, number, number][] = [];
  for (const at of strAt) {
    if (at + 8 > fixedLen) continue;
    const c = r.int(100);
    if (c < 15) strings.push([at, 0, 0]); // absent
    else if (c < 20) strings.push([at, 40 + r.int(100), 0]); // empty
    else if (c < 22) strings.push([at, r.u32(), 1 + r.int(50)]); // out of bounds
    else {
      const s = randomString(r);
      if (s.length === 0) {
        strings.push([at, fixedLen, 0]);
        continue;
      }
      strings.push([at, fixedLen + tailLen, s.length]);
      tail.push(s);
      tailLen += s.length;
    }
  }
  for (const [at, off, len] of strings) {
    v.setUint32(at, off, true);
    v.setUint32(at + 4, len, true);
  }
  const size = Math.ceil((fixedLen + tailLen) / 8) * 8;
  const rec = new Uint8Array(size);
  rec.set(head);
  let o = fixedLen;
  for (const s of tail) rec.set(s, o), o += s.length;
  const h = new DataView(rec.buffer);
  h.setUint16(0, kind, true);
  h.setUint16(
    2,
    r.chance(0.5)
      ? r.u32() & 0xffff
      : r.pick([0, 1, 4, 8, 0x10, 0x20, 0x80, 0x100, 0x200, 0x300, 0x400]),
    true,
  );
  h.setUint32(4, size, true);
  h.setBigUint64(8, BigInt(r.u32()), true);
  const mono = r.chance(0.05)
    ? r.pick(EDGE_U64)
    : r.chance(0.05)
    ? BASE - BigInt(r.int(10_000_000_000))
    : BASE + BigInt(r.u32()) * BigInt(1 + r.int(1000));
  h.setBigUint64(16, mono, true);
  h.setUint32(32, r.chance(0.1) ? r.pick(EDGE_U32) : 1 + r.int(5000), true);
  h.setUint32(36, r.chance(0.1) ? r.pick(EDGE_U32) : 1 + r.int(5000), true);
  if (kind === 4 && r.chance(0.5)) h.setUint32(40, h.getUint32(32, true), true);
  return rec;
}

/** The TypeScript path: decode, then encode each event as the writer does. */
function viaTypeScript(buf: Uint8Array, base: bigint) {
  const { events, unknown } = decodeRecords(buf, base);
  const body = new EventBodyEncoder();
  const scratch: unknown[] = [];
  const counts = new EventCounts();
  for (const e of events) {
    encodeEventTo(e, body, scratch);
    counts.add(e);
  }
  return { body: body.finish(), counts, unknown, events };
}

/** The library's encoder, in batches as small as `ends` allows. */
function viaLibrary(
  native: NativeEventEncoder,
  buf: Uint8Array<ArrayBuffer>,
  base: bigint,
  watch = 0,
) {
  const body = new EventBodyEncoder();
  const counts = new EventCounts();
  let unknown = 0, watchExit = false;
  for (const b of native.encode(buf, base, watch)) {
    assert(b.ends.length === b.events, "an end per event");
    assert(
      b.events === 0 || b.ends[b.events - 1] === b.bytes.length,
      "the last end is the length",
    );
    body.addEncoded(b.bytes, b.events);
    for (const k of b.kinds) counts.addKind(k.key, k.count);
    for (const l of b.lost) counts.addLost(l.key, l.count);
    counts.lostCountUnknown += b.lostCountUnknown;
    unknown += b.unknown;
    watchExit ||= b.watchExit;
  }
  return { body: body.finish(), counts, unknown, watchExit };
}

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const show = (x: Uint8Array) =>
    Array.from(
      x.subarray(Math.max(0, i - 16), i + 16),
      (c) => c.toString(16).padStart(2, "0"),
    ).join(" ");
  return `lengths ${a.length} / ${b.length}, first difference at ${i}:\n  ts  ${
    show(a)
  }\n  lib ${show(b)}`;
}

function same(
  buf: Uint8Array<ArrayBuffer>,
  base: bigint,
  native: NativeEventEncoder,
  what: string,
) {
  const ts = viaTypeScript(buf, base);
  const lib = viaLibrary(native, buf, base);
  const eq = ts.body.length === lib.body.length &&
    ts.body.every((x, i) => x === lib.body[i]);
  if (!eq) {
    throw new Error(
      `${what}: the library's bytes differ from the TypeScript path's: ${
        firstDifference(ts.body, lib.body)
      }\nevents: ${
        JSON.stringify(
          ts.events.slice(0, 3),
          (_k, x) => typeof x === "bigint" ? String(x) : x,
        )
      }`,
    );
  }
  const j = (c: EventCounts) =>
    JSON.stringify([c.events, c.kinds, c.lost, c.lostCountUnknown]);
  assert(
    j(ts.counts) === j(lib.counts),
    `${what}: counts ${j(lib.counts)}, expected ${
      j(ts.counts)
    } (keys in the same order)`,
  );
  assert(
    ts.unknown === lib.unknown,
    `${what}: unknown ${lib.unknown}, expected ${ts.unknown}`,
  );
  return ts.events.length;
}

const native = Deno.build.os === "linux"
  ? NativeEventEncoder.open()
  : undefined;
const ignore = native === undefined;
if (ignore) {
  console.log(
    "chunk encoder tests skipped: not Linux (the encoder is in libprocrec.so)",
  );
}

Deno.test({
  name:
    "the library encodes every kind of record as the TypeScript path does, byte for byte",
  ignore,
  fn() {
    const r = rng(1);
    for (const kind of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) {
      const recs: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) recs.push(randomRecord(r, kind));
      same(
        cat(...recs) as Uint8Array<ArrayBuffer>,
        BASE,
        native!,
        `kind ${kind}`,
      );
    }
  },
});

Deno.test({
  name:
    "the library's bytes equal the TypeScript path's on 20,000 random mixed records, unknown kinds among them",
  ignore,
  fn() {
    const seed = Number(Deno.env.get("CHUNK_ENCODER_SEED") ?? 20261202);
    const r = rng(seed);
    let n = 0;
    for (let round = 0; round < 40; round++) {
      const recs: Uint8Array[] = [];
      for (let i = 0; i < 500; i++) {
        recs.push(
          randomRecord(
            r,
            r.chance(0.03) ? r.pick([0, 12, 99, 0xffff]) : 1 + r.int(11),
          ),
        );
      }
      n += same(
        cat(...recs) as Uint8Array<ArrayBuffer>,
        r.chance(0.1) ? r.pick(EDGE_U64) : BASE,
        native!,
        `seed ${seed} round ${round}`,
      );
    }
    assert(n > 19000, `only ${n} events`);
  },
});

Deno.test({
  name:
    "the library refuses a buffer it cannot frame with decodeRecords' error, before any event",
  ignore,
  fn() {
    const r = rng(7);
    const good = randomRecord(r, 5);
    const bad = new Uint8Array(48);
    new DataView(bad.buffer).setUint32(4, 44, true); // not a multiple of 8
    const buf = cat(good, bad) as Uint8Array<ArrayBuffer>;
    let tsErr = "", libErr = "";
    try {
      decodeRecords(buf, BASE);
    } catch (e) {
      tsErr = (e as Error).message;
    }
    try {
      for (const _ of native!.encode(buf, BASE)) {
        throw new Error("a batch came first");
      }
    } catch (e) {
      assert(e instanceof RangeError, String(e));
      libErr = e.message;
    }
    assert(tsErr !== "" && tsErr === libErr, `${libErr} vs ${tsErr}`);
  },
});

Deno.test({
  name: "the library says when the watched process exited",
  ignore,
  fn() {
    const rec = new Uint8Array(56);
    const v = new DataView(rec.buffer);
    v.setUint16(0, 3, true);
    v.setUint32(4, 56, true);
    v.setBigUint64(16, BASE + 10n, true);
    v.setUint32(32, 4242, true);
    v.setUint32(36, 4242, true);
    assert(
      viaLibrary(native!, rec, BASE, 4242).watchExit,
      "exit of 4242 not seen",
    );
    assert(
      !viaLibrary(native!, rec, BASE, 4243).watchExit,
      "exit of 4243 seen",
    );
  },
});

const HEADER: HeaderInit = {
  host: "h",
  os: "linux",
  kernel: "6",
  bootId: "b",
  timeBase: { monoNs: BASE, utcNs: 0n },
  clock: { source: "test", monoToUtcNs: 0n },
  tool: { name: "procrec", version: "0" },
  source: { name: "test", reason: "chunk encoder test" },
  options: {},
};

Deno.test({
  name:
    "a recording written from the library's batches equals one written event by event, chunk cuts and trailer included",
  ignore,
  async fn() {
    const r = rng(99);
    const recs: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) recs.push(randomRecord(r, 1 + r.int(11)));
    // in two pieces, as two reads deliver them
    const pieces = [
      cat(...recs.slice(0, 1500)),
      cat(...recs.slice(1500)),
    ] as Uint8Array<ArrayBuffer>[];
    const dir = await Deno.makeTempDir();
    try {
      for (
        const [chunkEvents, chunkBytes] of [[4096, 4 << 20], [7, 1 << 20], [
          4096,
          300,
        ], [50, 2000]]
      ) {
        const opts = { chunkEvents, chunkBytes, flushIntervalMs: 0 };
        const a = await RecordingWriter.create(`${dir}/ts.cbor`, HEADER, {
          ...opts,
          overwrite: true,
        });
        for (const piece of pieces) {
          for (const e of decodeRecords(piece, BASE).events) a.write(e);
        }
        const b = await RecordingWriter.create(`${dir}/lib.cbor`, HEADER, {
          ...opts,
          overwrite: true,
        });
        for (const piece of pieces) {
          for (const batch of native!.encode(piece, BASE)) {
            b.writeEncoded(batch);
          }
        }
        assert(a.events === b.events, `events ${b.events} vs ${a.events}`);
        await a.close({ endUtcNs: 1n });
        await b.close({ endUtcNs: 1n });
        const x = await Deno.readFile(`${dir}/ts.cbor`);
        const y = await Deno.readFile(`${dir}/lib.cbor`);
        assert(
          x.length === y.length && x.every((c, i) => c === y[i]),
          `chunks of ${chunkEvents} events / ${chunkBytes} bytes: ${
            firstDifference(x, y)
          }`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "--only-command over the library's batches keeps the bytes SubtreeFilter keeps over the events",
  ignore,
  fn() {
    const withMeta = NativeEventEncoder.open(undefined, true)!;
    const r = rng(4242);
    // few pids, so that processes create, exec, exit and reuse each other's
    const pidOf = () => 100 + r.int(40);
    for (let round = 0; round < 20; round++) {
      const recs: Uint8Array[] = [];
      for (let i = 0; i < 400; i++) {
        const kind = r.pick([1, 1, 2, 3, 3, 4, 5, 6, 7, 8, 11, 11]);
        const rec = randomRecord(r, kind);
        const v = new DataView(rec.buffer);
        const pid = pidOf();
        v.setUint32(32, pid, true);
        if (kind === 1 && rec.length >= 44) v.setUint32(40, pidOf(), true);
        // and its creator (CLONE_PARENT: another than its parent)
        if (kind === 1 && rec.length >= 52) v.setUint32(48, pidOf(), true);
        // an image hash names an earlier exec of its process now and then
        recs.push(rec);
      }
      const buf = cat(...recs) as Uint8Array<ArrayBuffer>;
      const a = new SubtreeFilter(100 + r.int(40));
      const body = new EventBodyEncoder();
      const scratch: unknown[] = [];
      for (const e of decodeRecords(buf, BASE).events) {
        if (a.keep(e)) encodeEventTo(e, body, scratch);
      }
      const want = body.finish();
      const b = new SubtreeFilter(a.rootPid);
      const got = new EventBodyEncoder();
      const keepScratch = { buf: new Uint8Array(0) };
      let kept = 0;
      for (const batch of withMeta.encode(buf, BASE)) {
        const k = keepEncoded(batch, b, keepScratch);
        got.addEncoded(k.bytes, k.events);
        kept += k.events;
      }
      const bytes = got.finish();
      assert(
        want.length === bytes.length && want.every((x, i) => x === bytes[i]),
        `round ${round}: ${firstDifference(want, bytes)}`,
      );
      assert(kept > 0 || round > 0, "nothing kept");
    }
  },
});

Deno.test({
  name:
    "--only-command over the library's batches keeps an image hash that follows its exec",
  ignore,
  fn() {
    const withMeta = NativeEventEncoder.open(undefined, true)!;
    const mk = (kind: number, size: number, pid: number, mono: bigint) => {
      const rec = new Uint8Array(size);
      const v = new DataView(rec.buffer);
      v.setUint16(0, kind, true);
      v.setUint32(4, size, true);
      v.setBigUint64(16, mono, true);
      v.setUint32(32, pid, true);
      v.setUint32(36, pid, true);
      return { rec, v };
    };
    const create = mk(1, 216, 11, BASE + 10n);
    create.v.setUint32(40, 10, true); // child of the root
    const exec = mk(2, 192, 11, BASE + 20n);
    const hash = mk(11, 144, 11, BASE + 90n);
    hash.v.setBigUint64(48, BASE + 20n, true); // exec_ns: that exec
    hash.v.setUint32(56, 3, true); // gone
    const other = mk(11, 144, 11, BASE + 95n);
    other.v.setBigUint64(48, BASE + 21n, true); // no such exec
    other.v.setUint32(56, 3, true);
    const buf = cat(create.rec, exec.rec, hash.rec, other.rec) as Uint8Array<
      ArrayBuffer
    >;
    const codes: number[] = [];
    for (const batch of withMeta.encode(buf, BASE)) {
      const k = keepEncoded(batch, new SubtreeFilter(10), {
        buf: new Uint8Array(0),
      });
      for (let i = 0; i < k.events; i++) {
        codes.push(k.bytes[(i === 0 ? 0 : k.ends[i - 1]) + 1]);
      }
    }
    assert(codes.join() === "1,2,13", `kept codes ${codes.join()}`);
  },
});
