/**
 * Issue 16's behaviour test: the fast paths of reading (the schema-specialised
 * chunk body decoder, the small-input SHA-256, the analysis over chunks)
 * produce the same events and the same analysis as the generic ones, on every
 * fixture, on damaged and mutated chunks, and on a storm recorded from the
 * real kernel; and the analysis's own quick paths (the index by id, children
 * kept in order, re-parenting by kept parents) equal a plain reference there.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { analyze, analyzeChunks, forestToJson } from "../cli/analysis/mod.ts";
import { EventCounts } from "../cli/events/event_counts.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { ByteWindow } from "../cli/log/_byte_window.ts";
import { newDecoder, newEncoder } from "../cli/log/_cbor.ts";
import { chunkEnvelope } from "../cli/log/_chunk_envelope.ts";
import { sha256Small } from "../cli/log/_sha256_small.ts";
import {
  sha256NativeInto,
  unloadSha256Native,
} from "../cli/log/_sha256_native.ts";
import {
  digestMatchesAt,
  sha256,
  sha256Into,
  toHex,
} from "../cli/log/_hash.ts";
import { decodeEventBody } from "../cli/log/decode_event_body.ts";
import { frameRecording } from "../cli/log/frame_recording.ts";
import { decodeEvent, encodeEvent, RecordingReader } from "../cli/log/mod.ts";
import { buildStorm } from "./_storm.ts";
import { assertForestLikeReference } from "./_forest_reference.ts";
import { writeRecording } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrecRecord,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

const json = (v: unknown) =>
  JSON.stringify(
    v,
    // (-0 and NaN named: JSON would print them as 0 and null)
    (_k, x) =>
      typeof x === "bigint"
        ? `${x}n`
        : Object.is(x, -0)
        ? "-0"
        : Number.isNaN(x)
        ? "NaN"
        : x,
  );

/** The bodies of every chunk item of a recording file, in file order. */
async function chunkBodies(path: string): Promise<Uint8Array[]> {
  return (await chunkItems(path)).bodies;
}

/** Every chunk item of a recording file and the bodies of those that decode. */
async function chunkItems(
  path: string,
): Promise<{ items: Uint8Array[]; bodies: Uint8Array[] }> {
  const bytes = await Deno.readFile(path);
  const marker = [0x86, 0x65, ...new TextEncoder().encode("chunk")];
  let start = bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    if (marker.every((b, j) => bytes[i + j] === b)) {
      start = i;
      break;
    }
  }
  const bodies: Uint8Array[] = [];
  const items: Uint8Array[] = [];
  for await (const f of frameRecording(new ByteWindow([bytes]), start)) {
    if (f.kind !== "item" || f.item !== "chunk") continue;
    items.push(new Uint8Array(f.bytes));
    try {
      const item = newDecoder().decode(f.bytes);
      if (Array.isArray(item) && item[5] instanceof Uint8Array) {
        bodies.push(new Uint8Array(item[5]));
      }
    } catch {
      // not a chunk the reader takes either
    }
  }
  return { items, bodies };
}

/** Checks the in-place envelope against the generic decoder's array. */
function compareEnvelope(item: Uint8Array, where: string): number {
  const fast = chunkEnvelope(item);
  if (fast === undefined) return 0;
  let old: unknown;
  try {
    old = newDecoder().decode(item);
  } catch (e) {
    throw new Error(
      `${where}: the envelope took an item that does not decode: ${e}`,
    );
  }
  assert(Array.isArray(old), `${where}: not an array`);
  assertEquals(old.length, 6, `${where}: items`);
  for (let i = 0; i < 6; i++) {
    const a = fast[i], b = old[i];
    assertEquals(
      a instanceof Uint8Array ? [...a].join() : a,
      b instanceof Uint8Array ? [...b].join() : b,
      `${where}: item ${i}`,
    );
  }
  return 1;
}

/**
 * The old path: the generic CBOR decoder, then each event checked; `undefined`
 * when the body or any event of it does not decode (the fast decoder must
 * then give up too).
 */
function genericEvents(body: Uint8Array): ProcEvent[] | undefined {
  let raw: unknown;
  try {
    raw = newDecoder().decode(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw)) return undefined;
  try {
    return raw.map((e) => decodeEvent(e));
  } catch {
    return undefined;
  }
}

/** Checks the fast decoder against the generic one; counts the fast hits. */
function compareBody(body: Uint8Array, where: string): number {
  const fast = decodeEventBody(body);
  if (fast === undefined) return 0;
  const old = genericEvents(body);
  assert(
    old !== undefined,
    `${where}: the fast decoder took a body the generic one refuses`,
  );
  // the first event that differs, not two whole chunks
  assertEquals(fast.length, old.length, `${where}: number of events`);
  for (let i = 0; i < fast.length; i++) {
    assertEquals(json(fast[i]), json(old[i]), `${where}, event ${i}`);
  }
  return 1;
}

async function fixtureFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ["fixtures", "fixtures/v1", "fixtures/fuzz/recording"]) {
    for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
      if (e.isFile && e.name.endsWith(".cbor")) {
        out.push(`${ROOT}${dir}/${e.name}`);
      }
    }
  }
  return out.sort();
}

Deno.test("the fast chunk decoder gives the generic decoder's events on every fixture", async () => {
  let fast = 0, bodies = 0;
  for (const path of await fixtureFiles()) {
    for (const [i, body] of (await chunkBodies(path)).entries()) {
      bodies++;
      fast += compareBody(body, `${path} chunk ${i}`);
    }
  }
  assert(bodies > 20, `only ${bodies} chunk bodies in the fixtures`);
  // the comparison means something only where the fast path ran
  assert(fast >= bodies * 0.8, `the fast path took ${fast} of ${bodies}`);
});

Deno.test("the fast chunk decoder takes a mutated body only when it means the same events", () => {
  // every kind of event the writer makes, then a byte changed at a time
  const seed = [
    {
      kind: "process_snapshot",
      t: -5,
      pid: 1,
      tid: 1,
      ppid: 0,
      start: -9e9,
      info: {
        image: "/sbin/init",
        argv: ["init"],
        from: { image: "proc" },
        uid: 0,
        ns: { pid: 4026531836, mnt: 4026531841 },
      },
    },
    {
      kind: "process_create",
      t: 1,
      pid: 7,
      tid: 7,
      ppid: 1,
      ptid: 1,
      creatorPid: 1,
      creatorTid: 1,
      start: 5_000_000_000,
    },
    {
      // with its description and nothing after: the 10-item literal
      kind: "process_create",
      t: 3,
      pid: 11,
      tid: 11,
      ppid: 9,
      ptid: 0,
      creatorPid: 9,
      creatorTid: 0,
      start: 8,
      info: {
        image: "C:\\Windows\\System32\\cmd.exe",
        cmdline: "cmd.exe /c dir",
        user: "CORP\\alice",
        integrityLevel: "Medium",
        originalFileName: "Cmd.Exe",
        from: {},
      },
    },
    {
      // with the optional fields: not the 9-item literal
      kind: "process_create",
      t: 1,
      pid: 9,
      tid: 9,
      ppid: 1,
      ptid: 1,
      creatorPid: 1,
      creatorTid: 1,
      start: 7,
      info: { image: "C:\\x.exe", from: { image: "kernel" } },
      guid: "{g}",
    },
    {
      kind: "exec",
      t: 2,
      pid: 7,
      tid: 7,
      info: {
        image: "/usr/bin/ünïcode",
        argv: ["a", "b c", ""],
        cwd: "/",
        euid: 0,
        fileless: true,
        from: { image: "kernel", argv: "kernel", cred: "proc" },
      },
    },
    {
      // a real recording's time (3 days of uptime: a float64 in CBOR)
      kind: "thread_create",
      t: 259_200_000_001_000,
      pid: 7,
      tid: 8,
      creatorPid: 7,
      creatorTid: 7,
    },
    {
      kind: "thread_exit",
      t: 4,
      pid: 7,
      tid: 8,
      status: 0,
      processExiting: true,
    },
    { kind: "comm", t: 5, pid: 7, tid: 7, comm: "x" },
    { kind: "lost", t: 6, pid: 0, tid: 0, reason: "ring", count: 3, cpu: 1 },
    {
      kind: "process_exit",
      t: 259_200_000_002_000,
      pid: 7,
      tid: 7,
      status: 256,
    },
    {
      kind: "accounts",
      t: 8,
      pid: 0,
      tid: 0,
      users: [[0, "root"], [1000, "ann"]],
      groups: [[0, "root"]],
    },
  ] as ProcEvent[];
  // the writer's encoding (positional arrays, numbers past 32 bits as float64)
  const body = newEncoder().encode(seed.map((e) => encodeEvent(e)));
  assertEquals(
    compareBody(body, "the seed"),
    1,
    "the seed takes the fast path",
  );
  // a deterministic generator: the same mutations every run
  let s = 0x9e3779b9;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
  let taken = 0;
  for (let n = 0; n < 5_000; n++) {
    const m = new Uint8Array(body);
    const k = 1 + Math.floor(rand() * 3);
    for (let j = 0; j < k; j++) {
      m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
    }
    taken += compareBody(m, `mutation ${n}`);
  }
  // some mutations keep a valid body (a changed pid, a letter): both agree
  assert(taken > 25, `only ${taken} mutated bodies took the fast path`);
});

Deno.test("the fast chunk decoder gives back each text it saw lately, and never another text of the same hash", () => {
  // "Aa" and "BB" hash alike in the decoder's table of texts seen lately
  // (h * 31 + c), and so do runs of them of one length: each body holds
  // texts that fall on one slot, in turns, twice over
  const texts = [
    "Aa",
    "BB",
    "AaAaAaAaAaAaAa",
    "BBBBBBBBBBBBBB",
    "AaBBAaBBAaBBAaBBAaBB",
    "BBAaBBAaBBAaBBAaBBAa",
    "x".repeat(64),
    "x".repeat(65),
    "\u00e9t\u00e9",
    "",
  ];
  const events: ProcEvent[] = [];
  for (let round = 0; round < 2; round++) {
    texts.forEach((text, i) =>
      events.push({
        kind: "exec",
        t: round * 100 + i,
        pid: 10 + i,
        tid: 10 + i,
        info: {
          image: text,
          argv: [text, texts[texts.length - 1 - i]],
          cwd: text,
          from: {},
        },
      })
    );
  }
  const body = newEncoder().encode(events.map((e) => encodeEvent(e)));
  const fast = decodeEventBody(body);
  assert(fast !== undefined, "the fast path refused the body");
  assertEquals(fast.length, events.length);
  for (let i = 0; i < events.length; i++) {
    const e = fast[i] as ProcEvent & { kind: "exec" };
    const want = texts[i % texts.length];
    assertEquals(
      [e.info.image, e.info.argv, e.info.cwd],
      [want, [want, texts[texts.length - 1 - (i % texts.length)]], want],
      `event ${i}`,
    );
  }
  compareBody(body, "colliding texts");
});

Deno.test("the fast chunk decoder gives the right texts when more texts than it remembers repeat, and reads bodies in place", () => {
  // 40,000 distinct texts, each twice and far apart: the texts read last
  // are remembered by a hash of their bytes, so slots are shared and
  // replaced; each must still give its own text
  const events: ProcEvent[] = [];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 40_000; i++) {
      const comm = i % 7 === 0 ? `é${i}` : `c${(i * 7919) % 40_000}-${i}`;
      events.push({ kind: "comm", t: i, pid: 1, tid: 1, comm });
    }
  }
  const body = newEncoder().encode(events.map((e) => encodeEvent(e)));
  assertEquals(compareBody(body, "texts"), 1);
  // a body inside a bigger buffer, read from its offsets
  const within = new Uint8Array(body.length + 20);
  within.set(body, 7);
  const inPlace = decodeEventBody(within, 7, 7 + body.length);
  assertEquals(json(inPlace), json(genericEvents(body)));
  // the bytes after the body are not read: one more is no body
  assertEquals(decodeEventBody(within, 7, 8 + body.length), undefined);
});

Deno.test("the reader counts events per kind and lost events per reason as each event's own count does, on every fixture", async () => {
  let lost = 0;
  for (const path of await fixtureFiles()) {
    let r: RecordingReader;
    try {
      r = await RecordingReader.open(path);
    } catch {
      continue;
    }
    const want = new EventCounts();
    for await (const c of r.chunks()) {
      // the lost events standing for missing chunks are no chunk's events
      const gap = c.events[0]?.kind === "lost" &&
        (c.events[0] as { reason: string }).reason === "recording" &&
        r.report.problems.some((p) => p.type === "gap" && p.chunk === c.index);
      want.addAll(gap ? c.events.slice(1) : c.events);
    }
    lost += want.kinds.lost ?? 0;
    assertEquals(json(r.report.counts), json(want), path);
  }
  assert(lost > 0, "no fixture has lost events");
  // lost events of several reasons, some of unknown count, among others
  await withTempDir(async (dir) => {
    const events: ProcEvent[] = [];
    for (let i = 0; i < 50; i++) {
      events.push({ kind: "comm", t: i, pid: 2, tid: 2, comm: "x" });
      if (i % 3 === 0) {
        events.push({
          kind: "lost",
          t: i,
          pid: 0,
          tid: 0,
          reason: i % 2 ? "ring_full" : "enobufs",
          count: i % 9 === 0 ? 0 : i,
          ...(i % 9 === 0 ? { countUnknown: true } : {}),
        });
      }
      events.push({ kind: "thread_exit", t: i, pid: 2, tid: 3, status: 0 });
    }
    await writeRecording(`${dir}/l.cbor`, events, 7);
    const r = await RecordingReader.open(`${dir}/l.cbor`);
    const want = new EventCounts();
    for await (const c of r.chunks()) want.addAll(c.events);
    assert(want.lostCountUnknown > 0 && want.lost.ring_full > 0);
    assertEquals(json(r.report.counts), json(want));
    assert(r.report.complete, "the trailer's counts match");
  });
});

Deno.test("the in-place chunk envelope equals the generic decoder's on every fixture chunk and on mutated ones", async () => {
  let fast = 0, n = 0;
  const all: Uint8Array[] = [];
  for (const path of await fixtureFiles()) {
    for (const [i, item] of (await chunkItems(path)).items.entries()) {
      n++;
      all.push(item);
      fast += compareEnvelope(item, `${path} chunk ${i}`);
    }
  }
  assert(fast >= n * 0.8, `the envelope took ${fast} of ${n}`);
  let s = 12345;
  const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 0x100000000;
  let taken = 0;
  for (let k = 0; k < 5_000; k++) {
    const src = all[k % all.length];
    // the first 60 bytes: marker, index, sequence, the two hashes' heads
    const m = new Uint8Array(src);
    m[Math.floor(rand() * Math.min(60, m.length))] = Math.floor(rand() * 256);
    taken += compareEnvelope(m, `mutation ${k}`);
  }
  assert(taken > 25, `only ${taken} mutated items took the fast path`);
});

Deno.test("the small-input SHA-256 equals node:crypto at every length to 300 bytes and past the switch", () => {
  let s = 1;
  for (const n of [...Array(300).keys(), 511, 512, 1000, 4096]) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    }
    const want = createHash("sha256").update(b).digest("hex");
    const got = [...sha256Small(b)].map((x) => x.toString(16).padStart(2, "0"))
      .join("");
    assertEquals(got, want, `length ${n}`);
  }
});

Deno.test({
  name:
    "the system library's SHA-256 and the reader's hashes equal node:crypto at every length to 1,100 bytes, at any offset",
}, () => {
  // on Linux with FFI allowed (as the tests and procrec run) the library
  // must be there: scripts/setup.sh installs openssl (libssl3)
  const out = new Uint8Array(40);
  const native = sha256NativeInto(new Uint8Array(1), 0, 1, out, 0);
  if (Deno.build.os === "linux") {
    assert(native, "libcrypto.so.3 did not load (FFI allowed, Linux)");
  } else console.log(`  (no native SHA-256 on ${Deno.build.os})`);
  let s = 7;
  const b = new Uint8Array(1200);
  for (let i = 0; i < b.length; i++) {
    b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  }
  for (let n = 0; n <= 1100; n++) {
    const at = n % 61;
    const want = createHash("sha256").update(b.subarray(at, at + n)).digest(
      "hex",
    );
    if (native) {
      out.fill(0);
      sha256NativeInto(b, at, at + n, out, 8);
      assertEquals(toHex(out.subarray(8)), want, `native, length ${n}`);
    }
    assertEquals(toHex(sha256(b, at, at + n)), want, `sha256, length ${n}`);
    sha256Into(b, at, at + n, out, 3);
    assertEquals(toHex(out.subarray(3, 35)), want, `sha256Into, length ${n}`);
    const digest = new Uint8Array(Buffer.from(want, "hex")).subarray(0, 16);
    assert(
      digestMatchesAt(b, at, at + n, digest, 0, 16),
      `digest, length ${n}`,
    );
    digest[n % 16] ^= 1;
    assert(
      !digestMatchesAt(b, at, at + n, digest, 0, 16),
      `a wrong digest, length ${n}`,
    );
  }
  unloadSha256Native();
});

Deno.test("analysis over chunks gives the same forest as analysis over events, on every fixture", async () => {
  for (const path of await fixtureFiles()) {
    const a = await RecordingReader.open(path);
    const meta = { os: a.header.os, bootId: a.header.bootId };
    const byChunks = await analyzeChunks(a.chunks(), meta);
    const b = await RecordingReader.open(path);
    const byEvents = await analyze(b.events(), meta);
    assertEquals(
      json(forestToJson(byChunks)),
      json(forestToJson(byEvents)),
      `${path}: forests differ`,
    );
    assertEquals(json(a.report), json(b.report), `${path}: reports differ`);
    assertForestLikeReference(byChunks, path);
  }
});

const why = await captureUnavailable();
captureTest(
  "a storm recorded from the kernel: the fast paths give the generic events and the same analysis",
  async () => {
    await withTempDir(async (dir) => {
      const storm = await buildStorm(dir);
      const out = `${dir}/storm.cbor`;
      const r = await procrecRecord("netlink", out, [
        storm,
        `${dir}/truth`,
        "300",
        "400",
      ]);
      assertEquals(r.code, 3, `the storm ran (stderr: ${r.stderr})`);
      const bodies = await chunkBodies(out);
      let fast = 0;
      for (const [i, body] of bodies.entries()) {
        fast += compareBody(body, `storm chunk ${i}`);
      }
      assertEquals(fast, bodies.length, "every storm chunk took the fast path");
      // the old analysis: every body decoded the generic way, event by event
      const generic: ProcEvent[] = bodies.flatMap((b) => genericEvents(b)!);
      const reader = await RecordingReader.open(out);
      const meta = { os: reader.header.os, bootId: reader.header.bootId };
      const forest = await analyzeChunks(reader.chunks(), meta);
      assert(reader.report.complete, json(reader.report.problems));
      assertEquals(reader.report.events, generic.length, "events read");
      assertEquals(
        json(forestToJson(forest)),
        json(forestToJson(await analyze(generic, meta))),
        "the forests differ",
      );
      assertForestLikeReference(forest, "storm");
    });
  },
  why,
);

Deno.test("the fast chunk decoder gives the generic decoder's texts of every short length, ASCII or not", () => {
  const texts: string[] = [];
  for (let n = 0; n <= 14; n++) {
    const ascii = Array.from(
      { length: n },
      (_, i) => String.fromCharCode(0x21 + (i * 7 + n) % 94),
    ).join("");
    texts.push(ascii);
    // one character past ASCII in the middle or at the end
    if (n > 0) texts.push(ascii.slice(0, n - 1) + "é");
    if (n > 2) texts.push(ascii.slice(0, 1) + "€" + ascii.slice(2));
  }
  const events: ProcEvent[] = texts.map((comm, i) => ({
    kind: "comm",
    t: i,
    pid: 1,
    tid: 1,
    comm,
  }));
  const body = newEncoder().encode(events.map(encodeEvent));
  const fast = decodeEventBody(body);
  const generic = (newDecoder().decode(body) as unknown[]).map(decodeEvent);
  if (fast === undefined) throw new Error("the plain body was not taken");
  for (let i = 0; i < texts.length; i++) {
    if ((fast[i] as { comm: string }).comm !== texts[i]) {
      throw new Error(`text ${JSON.stringify(texts[i])}: fast decoder`);
    }
    if (JSON.stringify(fast[i]) !== JSON.stringify(generic[i])) {
      throw new Error(`text ${JSON.stringify(texts[i])}: generic decoder`);
    }
  }
});
