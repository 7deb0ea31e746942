/**
 * Retention of a segment directory (SegmentWriter on the real file system):
 * by count and by size it keeps the newest closed segments, deletes the
 * oldest first, never the one being written, and the next header records
 * every deletion (name, span, final hash, events); a reader of the directory
 * reports the deleted span as a gap of reason `retention`, not an error.
 */
import {
  readSegmentEnd,
  RecordingReader,
  SegmentSetReader,
} from "../cli/log/mod.ts";
import { toHex } from "../cli/log/_hash.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { verifySegments } from "../cli/bundle/verify_segments.ts";
import type { Retention } from "../cli/record/parse_rotation.ts";
import { testHeader, workload } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  withTempDir,
  withTmpfs,
} from "./_record_helpers.ts";

/** Writes `segments` segments of `perSegment` workload events; returns what each closed one held. */
async function writeSegments(
  dir: string,
  keep: Retention,
  segments: number,
  perSegment: number,
) {
  const w = await SegmentWriter.open(testHeader(), {
    dir,
    keep,
    writer: { flushIntervalMs: 0 },
  });
  const events = workload(segments * perSegment).slice(
    0,
    segments * perSegment,
  );
  const ends = new Map<string, { hash: string; events: number }>();
  for (let s = 0; s < segments; s++) {
    for (const e of events.slice(s * perSegment, (s + 1) * perSegment)) {
      w.write(e);
    }
    const closing = w.path!.replace(/\.incomplete$/, "");
    if (s < segments - 1) await w.rotateNow();
    else await w.close();
    const end = await readSegmentEnd(closing);
    ends.set(closing.split("/").pop()!, {
      hash: toHex(end.finalHash),
      events: end.events,
    });
  }
  return { ends, total: events.length };
}

Deno.test("retention by count keeps the newest segments and the next header records each deletion", async () => {
  await withTempDir(async (dir) => {
    const { ends, total } = await writeSegments(dir, { count: 3 }, 6, 30);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const written = [...ends.keys()].sort();
    assertEquals(names, written.slice(3), "the three newest are kept");
    // every deleted segment is named, with its final hash and events, by a
    // header of a kept segment
    const said = new Map<string, { hash: string; events: number }>();
    for (const n of names) {
      const r = await RecordingReader.open(`${dir}/${n}`);
      for (const d of r.header.segment?.deleted ?? []) {
        said.set(d.name, { hash: toHex(d.finalHash), events: d.events });
        assert(d.startUtcNs < d.endUtcNs, `${d.name}: span`);
      }
    }
    for (const gone of written.slice(0, 3)) {
      assertEquals(said.get(gone), ends.get(gone), `deletion of ${gone}`);
    }
    // read as one recording: a gap of reason retention, the rest intact
    const set = await SegmentSetReader.open([dir]);
    const events = await Array.fromAsync(set.events());
    const lost = events.filter((e) => e.kind === "lost");
    assertEquals(
      lost.map((e) => e.kind === "lost" && [e.reason, e.count]),
      [["retention", 3 * 30]],
      "the lost span before the kept segments: all three deleted",
    );
    assertEquals(set.gaps.map((g) => g.reason), ["retention"]);
    const kept = events.filter((e) =>
      e.kind !== "lost" && e.kind !== "process_snapshot"
    );
    assertEquals(kept.length, total - 3 * 30, "events of the kept segments");
    const v = await verifySegments([dir]);
    assertEquals(v.exitCode, 0, JSON.stringify(v.findings));
    assert(
      v.findings.some((f) => f.level === "note" && /retention/.test(f.message)),
      JSON.stringify(v.findings),
    );
  }, "procrec-keep-count-");
});

Deno.test("retention by size deletes the oldest closed segments until the directory fits", async () => {
  await withTempDir(async (dir) => {
    const { ends } = await writeSegments(dir, { bytes: 16 * 1024 }, 8, 400);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const written = [...ends.keys()].sort();
    const sizes = names.map((n) => Deno.statSync(`${dir}/${n}`).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const one = Math.max(...sizes);
    assert(names.length >= 2 && names.length < written.length, `${names}`);
    // what is kept is the newest, within the limit (the newest may overshoot
    // by itself: it was being written when retention ran)
    assertEquals(names, written.slice(written.length - names.length));
    assert(total <= 16 * 1024 + one, `kept ${total} bytes`);
    const set = await SegmentSetReader.open([dir]);
    await Array.fromAsync(set.events());
    assertEquals(set.gaps.map((g) => g.reason), ["retention"]);
    // (every deleted segment's events: the header's running total)
    assertEquals(
      set.gaps[0].events,
      written.slice(0, written.length - names.length)
        .reduce((n, w) => n + ends.get(w)!.events, 0),
    );
  }, "procrec-keep-size-");
});

Deno.test("a segment missing without a retention record is a gap (segment_missing) that verify fails as incomplete; an altered link is tampered", async () => {
  await withTempDir(async (dir) => {
    const { ends } = await writeSegments(dir, {}, 4, 20);
    const written = [...ends.keys()].sort();
    await Deno.remove(`${dir}/${written[1]}`);
    const set = await SegmentSetReader.open([dir]);
    const events = await Array.fromAsync(set.events());
    assertEquals(
      events.filter((e) => e.kind === "lost").map((e) =>
        e.kind === "lost" && e.reason
      ),
      ["segment_missing"],
    );
    const v = await verifySegments([dir]);
    assertEquals(v.verdict, "incomplete", JSON.stringify(v.findings));
    // replace segment 2 by segment 3's bytes under its name: the link from
    // segment 3 no longer matches
    await Deno.copyFile(`${dir}/${written[0]}`, `${dir}/${written[2]}`);
    const v2 = await verifySegments([dir]);
    assertEquals(v2.verdict, "tampered", JSON.stringify(v2.findings));
  }, "procrec-missing-");
});

Deno.test("a symbolic link or a directory in a segment's place is tampered, not skipped (found by review: the newest segment replaced by a link verified INTACT)", async () => {
  await withTempDir(async (dir) => {
    const { ends } = await writeSegments(dir, {}, 3, 20);
    const written = [...ends.keys()].sort();
    const intact = await verifySegments([dir]);
    assertEquals(intact.verdict, "intact", JSON.stringify(intact.findings));
    for (const make of ["link", "dir"]) {
      const newest = `${dir}/${written[2]}`;
      await Deno.remove(newest, { recursive: true });
      if (make === "link") await Deno.symlink(`${dir}/${written[0]}`, newest);
      else await Deno.mkdir(newest);
      const v = await verifySegments([dir]);
      assertEquals(v.verdict, "tampered", JSON.stringify(v.findings));
      assert(
        v.findings.some((f) =>
          f.member === written[2] &&
          f.message.includes(
            make === "link" ? "a symbolic link" : "a directory",
          )
        ),
        JSON.stringify(v.findings),
      );
    }
  }, "procrec-link-");
});

Deno.test("what a crash at a rotation leaves is no tampering (found by review): an empty NAME.cbor.incomplete is incomplete, and a segment under both its names (killed within its commit) is read once", async () => {
  await withTempDir(async (dir) => {
    const { ends } = await writeSegments(dir, {}, 3, 20);
    const written = [...ends.keys()].sort();
    // killed within the commit of the newest: NAME.cbor and NAME.cbor.incomplete
    await Deno.link(`${dir}/${written[2]}`, `${dir}/${written[2]}.incomplete`);
    const both = await verifySegments([dir]);
    assertEquals(both.verdict, "intact", JSON.stringify(both.findings));
    // the next run takes the second name away (kept, retention deleting
    // NAME.cbor would free nothing)
    const warned: string[] = [];
    const next = await SegmentWriter.open(testHeader(), {
      dir,
      writer: { flushIntervalMs: 0 },
      warn: (line) => warned.push(line),
    });
    await next.close();
    assert(
      !(await Deno.lstat(`${dir}/${written[2]}.incomplete`).then(
        () => true,
        () => false,
      )),
      "the second name stayed",
    );
    await Deno.stat(`${dir}/${written[2]}`);
    assert(warned.some((l) => l.includes("a second name of")), `${warned}`);
    const after = await verifySegments([dir]);
    assertEquals(after.verdict, "intact", JSON.stringify(after.findings));
    // killed after making the next segment's file, before its header
    const empty = "zzzz-20991231T000000.000000Z.cbor.incomplete";
    await Deno.writeFile(`${dir}/${empty}`, new Uint8Array(0));
    const v = await verifySegments([dir]);
    assertEquals(v.verdict, "incomplete", JSON.stringify(v.findings));
    assert(
      v.findings.some((f) =>
        f.member === empty && f.level === "incomplete" &&
        f.message.includes("it is empty")
      ),
      JSON.stringify(v.findings),
    );
    const set = await SegmentSetReader.open([dir]);
    const events = await Array.fromAsync(set.events());
    assert(events.filter((e) => e.kind !== "lost").length >= 60);
    assert(set.report.chainIntact, JSON.stringify(set.report.problems));
  }, "procrec-crash-");
});

Deno.test("a later run's image hashes keep their exec's time on the directory's clock (found by review: their execT was not moved with the events, so no hash met its exec)", async () => {
  await withTempDir(async (dir) => {
    for (
      const [i, mono] of [[0, 1_000_000_000n], [1, 9_000_000_000n]] as const
    ) {
      const base = testHeader();
      const w = await SegmentWriter.open(
        testHeader({
          timeBase: {
            monoNs: mono,
            utcNs: base.timeBase.utcNs + (mono - 1_000_000_000n),
          },
        }),
        { dir, writer: { flushIntervalMs: 0 } },
      );
      const pid = 50 + i;
      w.write({
        kind: "exec",
        t: 1e9,
        pid,
        tid: pid,
        info: { image: "/usr/bin/tool", argv: ["tool"], from: {} },
      });
      w.write({
        kind: "image_hash",
        t: 1.5e9,
        pid,
        tid: pid,
        execT: 1e9,
        status: "ok",
        sha256: "ab".repeat(32),
      });
      await w.close();
    }
    const set = await SegmentSetReader.open([dir]);
    const events = await Array.fromAsync(set.events());
    for (const pid of [50, 51]) {
      const exec = events.find((e) => e.kind === "exec" && e.pid === pid);
      const hash = events.find((e) => e.kind === "image_hash" && e.pid === pid);
      assert(
        exec !== undefined && hash?.kind === "image_hash" &&
          hash.execT === exec.t,
        `${pid}: ${JSON.stringify([exec, hash])}`,
      );
    }
  }, "procrec-runs-");
});

Deno.test("a disk that fills again before the loss record is written loses it as no event, and the next record counts the events it stood for (found by review)", async () => {
  await withTempDir(async (mnt) => {
    await withTmpfs(mnt, "256k", async () => {
      const fill = (name: string) => {
        const f = Deno.openSync(`${mnt}/${name}`, {
          write: true,
          create: true,
        });
        try {
          for (;;) f.writeSync(new Uint8Array(4096));
        } catch { /* full */ }
        try {
          for (;;) f.writeSync(new Uint8Array(64));
        } catch { /* full */ }
        f.close();
      };
      let now = 1_000_000_000_000n;
      const w = await SegmentWriter.open(testHeader(), {
        dir: `${mnt}/d`,
        writer: { flushIntervalMs: 0, chunkEvents: 10 },
        nowUtcNs: () => now,
      });
      let handed = 0;
      const write = (n: number) => {
        for (let i = 0; i < n; i++) {
          w.write({
            kind: "comm",
            t: ++handed,
            pid: 2,
            tid: 2,
            comm: "x".repeat(1500),
          });
        }
      };
      fill("filler1");
      write(100);
      Deno.removeSync(`${mnt}/filler1`);
      now += 5_000_000_000n;
      await w.tick(); // a new segment, its loss record (100) not yet on disk
      fill("filler2");
      write(20); // full again: the record is lost with the 20
      assertEquals(w.diskLostTotal, 120, "events of the session lost");
      assertEquals(w.diskLost, 120, "what the next loss record will count");
      await w.close();
    });
  }, "procrec-refill-");
});

Deno.test("a new run never removes a segment's .incomplete file that a link names (found by review: a link NAME.cbor -> NAME.cbor.incomplete looked like a second name)", async () => {
  await withTempDir(async (dir) => {
    const { ends } = await writeSegments(dir, {}, 2, 10);
    const newest = [...ends.keys()].sort()[1];
    await Deno.rename(`${dir}/${newest}`, `${dir}/${newest}.incomplete`);
    await Deno.symlink(`${newest}.incomplete`, `${dir}/${newest}`);
    const w = await SegmentWriter.open(testHeader(), {
      dir,
      writer: { flushIntervalMs: 0 },
      warn: () => {},
    });
    await w.close();
    assert(
      (await Deno.lstat(`${dir}/${newest}.incomplete`)).isFile,
      "the data file went",
    );
  }, "procrec-linked-");
});
