/**
 * A segment's hashes read back are copies, not views of the block they were
 * decoded from: a directory's reader keeps each segment's header and end,
 * and views kept every segment's 64 KiB read block alive (2,500 segments:
 * 620 MB for `replay --summary`, 197 MB with copies).
 */
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import {
  listSegments,
  readSegmentEnd,
  RecordingReader,
} from "../cli/log/mod.ts";
import { processCreate, testHeader } from "./_recording_helpers.ts";
import { assert, assertEquals, withTempDir } from "./_record_helpers.ts";

Deno.test("a segment's previous hash, trailer hash and end hash are 32-byte copies", async () => {
  await withTempDir(async (dir) => {
    let now = 1_790_000_000_000_000_000n;
    const w = await SegmentWriter.open(testHeader(), {
      dir,
      writer: { flushIntervalMs: 0 },
      nowUtcNs: () => now,
    });
    for (let s = 0; s < 3; s++) {
      for (let k = 0; k < 50; k++) {
        w.write(processCreate(s * 1e6 + k * 1000, 2000 + s * 100 + k, 1));
      }
      now += 3_600_000_000_000n;
      if (s < 2) await w.rotateNow();
    }
    await w.close();
    const { segments } = await listSegments(dir);
    assertEquals(segments.length, 3);
    const own = (b: Uint8Array | undefined, what: string) => {
      assert(b instanceof Uint8Array && b.length === 32, what);
      assertEquals(
        b.buffer.byteLength,
        32,
        `${what}: a view of a bigger buffer`,
      );
    };
    for (const [i, s] of segments.entries()) {
      const r = await RecordingReader.open(s.path);
      for await (const _ of r.chunks()) { /* read through */ }
      if (i > 0) own(r.header.segment?.previous?.finalHash, `previous of ${i}`);
      own(r.report.trailer?.finalHash, `trailer of ${i}`);
      own((await readSegmentEnd(s.path)).finalHash, `end of ${i}`);
    }
    // a segment whose recorder died (no trailer): its end is its last
    // chunk's hash, read through its chunks
    const last = segments[2].path;
    const bytes = await Deno.readFile(last);
    // (the trailer: an array head, then text(7) "trailer")
    const marker = [0x67, ...new TextEncoder().encode("trailer")];
    let at = bytes.length - marker.length;
    while (at > 0 && !marker.every((b, k) => bytes[at + k] === b)) at--;
    assert(at > 1, "a trailer");
    await Deno.writeFile(last, bytes.subarray(0, at - 1));
    const end = await readSegmentEnd(last);
    assertEquals(end.closed, false);
    own(end.finalHash, "end of a segment without a trailer");
  }, "procrec-segment-hashes-");
});
