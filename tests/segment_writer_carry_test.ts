/**
 * What a segment directory carries from segment to segment, recorded for
 * real (`record -o DIR/ --rotate 1s --keep N` of a command): the running
 * total of events retention deleted (a reader of what is left gives the true
 * loss, not the last deleted segment's alone), the state a process alive
 * across a rotation needs in a later segment (its image's hash, current
 * name, the account names of its user; a fork that did not exec, its
 * parent's image), and retention applied while the disk is full (the
 * segments beyond --keep are what frees space for the next one).
 */
import {
  decodeEvent,
  listSegments,
  readSegmentEnd,
  RecordingReader,
} from "../cli/log/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { testHeader } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  sha256sum,
  withTempDir,
  withTmpfs,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

/** `record` into the directory `out` (netlink, the command's own processes) running `script` under `sh`. */
function record(out: string, flags: string[], script: string) {
  return procrec([
    "record",
    "--source",
    "netlink",
    "--only-command",
    "-o",
    `${out}/`,
    ...flags,
    "--",
    "sh",
    "-c",
    script,
  ]);
}

/** The events a record run says it recorded (its closing line). */
function recorded(stderr: string): number {
  const m = /recorded (\d+) events to /.exec(stderr);
  assert(m, stderr);
  return Number(m[1]);
}

captureTest(
  "retention: every header carries the total of events retention deleted, and the loss before the oldest segment left is that total (found by review: the count was the last deleted segment's alone, earlier deletions having been named in headers retention deleted too)",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/segs`;
      const r = await record(
        out,
        ["--rotate", "1s", "--keep", "1"],
        "for i in $(seq 60); do /bin/sleep 0.05; done",
      );
      assertEquals(r.code, 0, r.stderr);
      const { segments } = await listSegments(out);
      let left = 0;
      for (const s of segments) left += (await readSegmentEnd(s.path)).events;
      const deleted = recorded(r.stderr) - left;
      // (the case of the review: more deleted than the last deletion named)
      const oldest = segments[0].header.segment!;
      const named = oldest.deleted?.reduce((n, d) => n + d.events, 0) ?? 0;
      assert(
        named < deleted,
        `${named} of ${deleted} events deleted named: too few segments deleted to test`,
      );
      assertEquals(oldest.deletedEvents, deleted, "the oldest header's total");
      // each header's total is at least the one before it
      let before = 0;
      for (const s of segments) {
        const total = s.header.segment!.deletedEvents;
        assert(total !== undefined && total >= before, `${s.name}: ${total}`);
        before = total;
      }
      // a reader of the directory gives that total as the loss
      const replay = await procrec(["replay", `${out}/`, "--summary"]);
      assertEquals(replay.code, 0, replay.stderr);
      assert(
        new RegExp(
          `lost: ${deleted} events in 1 spans \\[retention ${deleted}\\]`,
        )
          .test(replay.stdout),
        `expected ${deleted} lost to retention:\n${replay.stdout}`,
      );
    }, "procrec-carry-total-");
  },
  why,
);

captureTest(
  "a process alive across rotations keeps in later segments its image's hash, its current name and its user's name, and a fork that did not exec its parent's image (found by review: replay DIR/ --hash matched nothing once retention deleted the segment of its exec)",
  async () => {
    await withTempDir(async (dir) => {
      // a copy of sleep made unlike any other file: a hash of its own
      const implant = `${dir}/implant`;
      await Deno.copyFile("/bin/sleep", implant);
      await Deno.writeFile(implant, new Uint8Array([0]), { append: true });
      await Deno.chmod(implant, 0o755);
      const hash = await sha256sum(implant);
      const out = `${dir}/segs`;
      // (the subshell is a fork that does not exec: its last command is not
      // its own, so it is not exec'd in its place; it renames itself)
      const r = await record(
        out,
        ["--rotate", "1s", "--keep", "1"],
        `${implant} 3.5 & (printf wkr > /proc/self/comm; sleep 3.5; true) & wait`,
      );
      assertEquals(r.code, 0, r.stderr);
      const { segments } = await listSegments(out);
      const seg = segments[0].header.segment!;
      assert(seg.previous !== undefined, "the first segment is still there");
      const alive: ProcEvent[] = seg.alive.map((raw) => decodeEvent(raw));
      // the host's account names first: they name the users after them
      assertEquals(alive[0]?.kind, "accounts", "the first of the alive list");
      const snap = (pred: (e: ProcEvent) => boolean) => {
        const at = alive.findIndex((e) =>
          e.kind === "process_snapshot" && pred(e)
        );
        assert(at >= 0, `no such process in ${JSON.stringify(alive)}`);
        return at;
      };
      const imp = snap((e) =>
        e.kind === "process_snapshot" && e.info?.image === implant
      );
      const h = alive[imp + 1];
      assert(
        h?.kind === "image_hash" && h.status === "ok" && h.sha256 === hash &&
          h.execT === alive[imp].t && h.pid === alive[imp].pid,
        `the implant's hash after its snapshot: ${JSON.stringify(h)}`,
      );
      const sh = alive[
        snap((e) => e.pid === (alive[imp] as { ppid: number }).ppid)
      ];
      const fork = alive[
        snap((e) =>
          e.kind === "process_snapshot" && e.ppid === sh.pid &&
          e.info?.comm === "wkr"
        )
      ];
      assert(
        sh.kind === "process_snapshot" && fork.kind === "process_snapshot",
      );
      assertEquals(
        [fork.info?.image, fork.info?.argv],
        [sh.info?.image, sh.info?.argv],
        "the fork's image and arguments: its parent's",
      );

      // a reader of the directory: the implant found by its hash, named root
      const found = await procrec([
        "replay",
        `${out}/`,
        "--hash",
        hash.slice(0, 8),
        "--wide",
      ]);
      assertEquals(found.code, 0, found.stderr);
      // (its own line: the shell's command line names it too)
      const line = found.stdout.split("\n").find((l) =>
        l.includes(`${implant} 3.5  [`)
      );
      assert(line !== undefined, `replay --hash:\n${found.stdout}`);
      assert(line.includes(`sha256 ${hash}`), line);
      assert(/ user root /.test(line), `its user named: ${line}`);
      const json = await procrec(["replay", `${out}/`, "--json"]);
      assertEquals(json.code, 0, json.stderr);
      const procs = JSON.parse(json.stdout).processes as {
        pid: number;
        comm?: string;
        image?: string;
      }[];
      const f = procs.find((p) => p.pid === fork.pid);
      assertEquals(
        [f?.comm, f?.image],
        ["wkr", sh.info?.image],
        "the fork as replay shows it",
      );
    }, "procrec-carry-alive-");
  },
  why,
);

captureTest(
  "a disk full of segments: the retry applies --keep first, deleting the oldest segment beyond it, and recording resumes (found by review: the retry never deleted one, and every event after was lost)",
  async () => {
    await withTempDir(async (dir) => {
      await withTmpfs(dir, "512k", async () => {
        const out = `${dir}/segs`;
        // segments rotate while the command runs (2.5 s: two closed, as
        // --keep 3 allows), then it fills the disk and runs a burst that
        // finds it full (the filler stays: only a deletion --keep allows
        // frees space); after a pause for the writer's retry, 20 marked
        // execs, which fit in what the deletion freed
        const r = await record(
          out,
          ["--rotate", "1s", "--keep", "3"],
          `for i in $(seq 100); do /bin/sleep 0.02; done; ` +
            `cat /dev/zero > ${dir}/filler 2>/dev/null; ` +
            `for i in $(seq 150); do /bin/true; done; sleep 2.5; ` +
            `for i in $(seq 20); do /bin/sleep 0.03; done; sleep 0.3`,
        );
        assertEquals(r.code, 0, r.stderr);
        assert(/disk full in/.test(r.stderr), r.stderr);
        assert(/disk space returned in/.test(r.stderr), r.stderr);
        const { segments, problems } = await listSegments(out);
        // (a segment the disk filled was named deleted with a negative
        // count: the header naming it was refused, its segment unread)
        assertEquals(problems, [], "segments that cannot be read");
        assert(segments.length <= 3, `--keep 3: ${segments.length}`);
        const replay = await procrec(["replay", `${out}/`, "--events"]);
        assertEquals(replay.code, 0, replay.stderr);
        const marked = replay.stdout.split("\n").filter((l) =>
          / exec .*\/sleep 0\.03$/.test(l)
        );
        assertEquals(
          marked.length,
          20,
          `execs after the disk filled:\n${replay.stdout.slice(-3000)}`,
        );
        // the events the full disk took are counted, and what retention
        // deleted, the segment the disk filled too, is retention's
        const summary = await procrec(["replay", `${out}/`, "--summary"]);
        assert(
          /lost: .*\[disk \d+, retention \d+\]/.test(summary.stdout),
          summary.stdout,
        );
        const v = await procrec(["verify", `${out}/`]);
        assertEquals(v.code, 0, v.stdout + v.stderr);
      });
    }, "procrec-carry-disk-");
  },
  why,
);

Deno.test("a segment the disk filled is named, when retention deletes it, with the events its file holds, and a loss record already on disk is not counted again (found by review: the failed chunk was taken off twice, and the count could go negative, which made the next header unreadable)", async () => {
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
      const dir = `${mnt}/d`;
      const w = await SegmentWriter.open(testHeader(), {
        dir,
        keep: { count: 1 },
        writer: { flushIntervalMs: 0, chunkEvents: 10 },
        nowUtcNs: () => now,
      });
      try {
        let t = 0;
        const write = (n: number) => {
          for (let i = 0; i < n; i++) {
            w.write({
              kind: "comm",
              t: ++t,
              pid: 2,
              tid: 2,
              comm: "x".repeat(1500),
            });
          }
        };
        const resume = async () => {
          now += 2_000_000_000n;
          await w.tick();
          assert(w.path !== undefined, "a segment begun");
        };
        write(10); // a chunk on disk
        fill("filler1");
        write(10); // its chunk fails
        Deno.removeSync(`${mnt}/filler1`);
        await resume(); // retention deletes the segment the disk filled
        write(9); // with the loss record (10), a chunk on disk
        fill("filler2");
        write(10); // the next chunk fails
        assertEquals(w.diskLost, 10, "lost since: the loss record is on disk");
        assertEquals(w.diskLostTotal, 20, "lost in the run");
        Deno.removeSync(`${mnt}/filler2`);
        await resume();
        await w.close();
      } finally {
        // (a failed check leaves no file open on the mount)
        w.abandon();
      }
      const { segments, problems } = await listSegments(dir);
      assertEquals(problems, [], "segments that cannot be read");
      assertEquals(segments.length, 1, "--keep 1");
      const h = (await RecordingReader.open(segments[0].path)).header.segment!;
      // each deleted segment held a chunk whole: the one before the first
      // failure; the loss record and 9 more
      assertEquals(
        h.deleted?.map((d) => d.events),
        [10],
        "the events of the last deleted",
      );
      assertEquals(h.deletedEvents, 20, "the events retention deleted in all");
      const end = await readSegmentEnd(segments[0].path);
      assertEquals(end.events, 1, "the loss record");
    });
  }, "procrec-carry-count-");
});
