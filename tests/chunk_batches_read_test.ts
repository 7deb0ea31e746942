/**
 * Issue 16: a reader of many small chunks (a long idle recording) takes
 * them in batches (`RecordingReader.chunkBatches`, `ChunkBatch`: one object
 * and one `await` per batch, the events of its chunks in one array), and
 * replay's path (`analysisChunks`) reads a file so. This checks that the
 * batches hold exactly what the frame-by-frame reading reads (the same
 * chunks, hashes, events, in order, and the same report with the same
 * problems) on every fixture, on damaged recordings and on a tampered
 * recording of many small chunks past the 1,024th chunk (where the items
 * are hashed natively), and that replay's groups of events are the
 * frame-by-frame reading's events.
 */
import {
  analysisChunks,
  RecordingReader,
  SegmentSetReader,
} from "../cli/log/mod.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { testHeader, workload } from "./_recording_helpers.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { assert, assertEquals, withTempDir } from "./_record_helpers.ts";
import { chunkJson as json, writeSmallChunks } from "./_small_chunks.ts";
import {
  fixtureFiles,
  frameByFrame,
  generator,
  mutate,
  randomBlocks,
} from "./_frame_by_frame.ts";

/**
 * Reads `blocks` by batches and compares every batch with the frame-by-
 * frame reading; then replay's groups of events. Returns the chunks read.
 */
async function compare(
  bytes: Uint8Array,
  blocks: Uint8Array[],
  where: string,
  options: { nativeHash?: boolean } = {},
): Promise<number> {
  const want = await frameByFrame(bytes, blocks, "x.cbor");
  let reader: RecordingReader;
  try {
    reader = await RecordingReader.fromStream(blocks, "x.cbor", options);
  } catch (e) {
    assertEquals((e as Error).message, want, `${where}: the header`);
    return 0;
  }
  assert(typeof want !== "string", `${where}: the header was read`);
  let i = 0;
  for await (const batch of reader.chunkBatches()) {
    assert(batch.length > 0, `${where}: an empty batch`);
    // the batch's events are its chunks' events, one after the other
    const events: ProcEvent[] = [];
    for (let k = 0; k < batch.length; k++, i++) {
      const c = batch.chunk(k);
      assert(i < want.chunks.length, `${where}: more chunks than ${i}`);
      assertEquals(json(c), json(want.chunks[i]), `${where}: chunk ${i}`);
      assertEquals(batch.index(k), c.index);
      assertEquals(batch.offset(k), c.offset);
      assertEquals(batch.eventsEnd(k) - batch.eventsStart(k), c.events.length);
      events.push(...c.events);
    }
    assertEquals(batch.events.length, events.length, `${where}: events`);
    for (let k = 0; k < events.length; k++) {
      assertEquals(json(batch.events[k]), json(events[k]), `${where}: event`);
    }
  }
  assertEquals(i, want.chunks.length, `${where}: chunks`);
  assertEquals(json(reader.report), json(want.report), `${where}: report`);

  // replay's path: groups of events, then the damaged tail's loss
  const replayed = await RecordingReader.fromStream(blocks, "x.cbor", options);
  const got: ProcEvent[] = [];
  for await (const g of analysisChunks(replayed)) got.push(...g.events);
  const all = want.chunks.flatMap((c) => c.events);
  all.push(...replayed.tailEvents());
  assertEquals(json(got), json(all), `${where}: replay's events`);
  assertEquals(json(replayed.report), json(want.report), `${where}: replay`);
  return i;
}

Deno.test("batches of chunks hold the frame-by-frame reading's chunks, events and report on every fixture", async () => {
  const rand = generator(5);
  let chunks = 0;
  for (const path of await fixtureFiles()) {
    const bytes = await Deno.readFile(path);
    chunks += await compare(bytes, randomBlocks(bytes, rand), path);
    // whole, as a file is read: many chunks in a batch
    chunks += await compare(bytes, [bytes], `${path}, whole`);
  }
  assert(chunks > 40, `only ${chunks} chunks in the fixtures`);
});

Deno.test("batches of chunks hold the frame-by-frame reading's chunks, events and report on damaged recordings", async () => {
  await withTempDir(async (dir) => {
    const bytes = await writeSmallChunks(`${dir}/a.cbor`, 120);
    const rand = generator(0x2545f491);
    let read = 0;
    for (let n = 0; n < 300; n++) {
      const m = mutate(bytes, n, rand);
      read += await compare(
        m,
        n % 2 ? [m] : randomBlocks(m, rand),
        `mutation ${n}`,
      );
    }
    assert(read > 300 * 20, `only ${read} chunks read in the mutations`);
  });
});

Deno.test("batches of many small chunks: hashed natively past the 1,024th chunk, tampering named by chunk and offset as frame by frame", async () => {
  await withTempDir(async (dir) => {
    // 3,000 chunks of 2 events in 1 MiB blocks (as a file is read)
    const bytes = await writeSmallChunks(`${dir}/idle.cbor`, 2_000);
    const whole = await frameByFrame(bytes, [bytes], "x.cbor");
    assert(typeof whole !== "string" && whole.chunks.length === 3_000);
    const blocks = (m: Uint8Array) => {
      const out: Uint8Array[] = [];
      for (let at = 0; at < m.length; at += 1 << 20) {
        out.push(m.slice(at, at + (1 << 20)));
      }
      return out;
    };
    assertEquals(await compare(bytes, blocks(bytes), "whole"), 3_000);
    const c = (i: number) => whole.chunks[i];
    const cases = [
      {
        // the last byte of chunk 1,500's body: its digest no longer matches
        flip: c(1_500).offset + c(1_500).length - 1,
        want: `chunk 1500 at offset ${
          c(1_500).offset
        } is damaged: its body does not match its digest`,
      },
      {
        // a byte of the hash of chunk 2,199 in chunk 2,200 (its prev)
        flip: c(2_200).offset + 30,
        want: `chunk 2200 at offset ${
          c(2_200).offset
        } does not follow the item before it (hash chain broken: the previous item was altered)`,
      },
    ];
    for (const k of cases) {
      const m = bytes.slice();
      m[k.flip] ^= 0x01;
      for (const nativeHash of [undefined, false, true]) {
        const where = `${k.want.slice(0, 10)}, nativeHash ${nativeHash}`;
        assertEquals(
          await compare(m, blocks(m), where, { nativeHash }),
          k.flip < c(2_200).offset ? 2_999 : 3_000,
          where,
        );
        await Deno.writeFile(`${dir}/t.cbor`, m);
        const t = await RecordingReader.open(`${dir}/t.cbor`, { nativeHash });
        for await (const _ of t.chunkBatches()) { /* read to the end */ }
        assert(!t.report.chainIntact && !t.report.complete, where);
        assert(
          t.report.problems.some((p) => p.reason === k.want),
          `${where}: ${json(t.report.problems)}`,
        );
      }
    }
  });
});

/** The events and report of a segment directory read chunk by chunk, and by batches (replay's path). */
async function readSet(dir: string) {
  const byChunk = await SegmentSetReader.open([dir]);
  const chunks: ProcEvent[] = [];
  for await (const c of byChunk.chunks()) chunks.push(...c.events);
  const byBatch = await SegmentSetReader.open([dir]);
  const batches: ProcEvent[] = [];
  let groups = 0;
  for await (const g of analysisChunks(byBatch)) {
    batches.push(...g.events);
    groups++;
  }
  return { chunks, batches, groups, a: byChunk.report, b: byBatch.report };
}

Deno.test("a segment directory of small chunks read by batches gives the events and report of the chunk-by-chunk reading: runs, snapshots seen again, retention and a missing segment", async () => {
  await withTempDir(async (dir) => {
    const events = workload(600);
    // two runs: the second begins with a snapshot of a process the first
    // knew (dropped as seen again) and of one it did not (kept)
    const known = {
      kind: "process_create",
      t: 900_000,
      pid: 9_999,
      tid: 9_999,
      ppid: 1,
      ptid: 1,
      creatorPid: 1,
      creatorTid: 1,
      start: 900_000,
    } as const;
    const snapshot = (pid: number): ProcEvent => ({
      kind: "process_snapshot",
      t: 900_001,
      pid,
      tid: pid,
      ppid: 1,
      start: 900_000,
      info: { from: {} },
    });
    for (const run of [0, 1]) {
      const w = await SegmentWriter.open(testHeader(), {
        dir,
        keep: { count: 7 },
        writer: { flushIntervalMs: 0, chunkEvents: 2 },
      });
      if (run === 1) {
        w.write(snapshot(9_999));
        w.write(snapshot(9_998));
      }
      const part = events.slice(run * 300, run * 300 + 300);
      for (let s = 0; s < 4; s++) {
        for (const e of part.slice(s * 75, s * 75 + 75)) w.write(e);
        if (run === 0 && s === 3) w.write(known);
        if (s < 3) await w.rotateNow();
        else await w.close();
      }
    }
    const whole = await readSet(dir);
    assert(whole.batches.length > 300, `${whole.batches.length} events`);
    assert(whole.groups < whole.batches.length / 20, `${whole.groups} groups`);
    assert(
      whole.a.problems.some((p) => p.type === "gap"),
      json(whole.a.problems),
    );
    assertEquals(json(whole.batches), json(whole.chunks));
    assertEquals(json(whole.b), json(whole.a));
    // the snapshot of the process the first run knew is dropped, the
    // other kept, alike
    const snaps = whole.batches.filter((e) => e.kind === "process_snapshot")
      .map((e) => e.pid);
    assert(snaps.includes(9_998) && !snaps.includes(9_999), json(snaps));

    // a segment of the middle gone: a lost span where it was
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    await Deno.remove(`${dir}/${names[2]}`);
    const holed = await readSet(dir);
    assert(holed.batches.some((e) => e.kind === "lost"), "no lost span");
    assertEquals(json(holed.batches), json(holed.chunks));
    assertEquals(json(holed.b), json(holed.a));
  });
});
