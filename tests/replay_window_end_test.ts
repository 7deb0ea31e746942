/**
 * A process still running when the recording ended was alive until the
 * recording's end (its trailer's end time), not only until the last event:
 * `replay --at T` and `--alive-in` between the last event and the end find
 * it (found by review: a recording of a quiet host, which ends long after
 * its last event, showed nothing running then). A recording without a
 * trailer (cut short) ends with its last event; a segment directory, with
 * its last segment's trailer.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { exec, processCreate, testHeader } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const BASE = testHeader().timeBase.utcNs;
const S = 1_000_000_000;

/** A daemon (300) that runs on, a job (301) that ends at 2s: the last event. */
const EVENTS: ProcEvent[] = [
  processCreate(1 * S, 300, 1),
  exec(1 * S + 10, 300, "/usr/sbin/daemon", ["daemon"]),
  processCreate(1.5 * S, 301, 1),
  exec(1.5 * S + 10, 301, "/usr/bin/job", ["job"]),
  { kind: "process_exit", t: 2 * S, pid: 301, tid: 301, status: 0 },
];

/** The pids replay marks as matching ("* "), sorted; exit 0 required. */
async function marked(args: string[]): Promise<number[]> {
  const r = await procrec(["replay", ...args]);
  assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return [...r.stdout.matchAll(/\* .*? \[(\d+)\]/g)].map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

Deno.test("replay --at and --alive-in after the last event find the processes running until the trailer's end", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/quiet.cbor`;
    const w = await RecordingWriter.create(rec, testHeader(), {
      flushIntervalMs: 0,
    });
    for (const e of EVENTS) w.write(e);
    // the host stays quiet for a minute after the last event
    await w.close({ endUtcNs: BASE + 60n * BigInt(S) });
    assertEquals(await marked([rec, "--at", "1.8s"]), [300, 301]);
    assertEquals(await marked([rec, "--at", "30s"]), [300]);
    assertEquals(await marked([rec, "--alive-in", "30s..40s"]), [300]);
    assertEquals(await marked([rec, "--from", "59s"]), [300]);
    // (after the recording's end nothing is known to be alive)
    assertEquals(await marked([rec, "--at", "61s"]), []);
    const tree = await procrec(["replay", rec, "--at", "30s"]);
    assert(
      /\* daemon {2}\[300\] {2}\+1\.000s {2}running/.test(tree.stdout),
      tree.stdout,
    );
    const events = await procrec(["replay", rec, "--at", "30s", "--events"]);
    assert(/exec {3}pid 300 .* daemon/.test(events.stdout), events.stdout);
  }, "procrec-window-end-");
});

Deno.test("replay --at after the last event of a recording cut short (no trailer) finds nothing: it ends with its last event", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/cut.cbor`;
    const w = await RecordingWriter.create(rec, testHeader(), {
      flushIntervalMs: 0,
    });
    for (const e of EVENTS) w.write(e);
    w.abandon();
    const cut = `${rec}.incomplete`;
    assertEquals(await marked([cut, "--at", "1.8s"]), [300, 301]);
    assertEquals(await marked([cut, "--at", "30s"]), []);
  }, "procrec-window-end-");
});

Deno.test("replay DIR/ --at between the last event and the last segment's end finds the running process", async () => {
  await withTempDir(async (dir) => {
    let now = BASE;
    const w = await SegmentWriter.open(testHeader(), {
      dir,
      writer: { flushIntervalMs: 0 },
      nowUtcNs: () => now,
    });
    for (const e of EVENTS) w.write(e);
    now = BASE + 10n * BigInt(S);
    await w.rotateNow();
    now = BASE + 40n * BigInt(S);
    await w.close();
    assertEquals(await marked([dir, "--at", "30s"]), [300]);
    assertEquals(await marked([dir, "--alive-in", "20s..25s"]), [300]);
    // (the segments' trailers take the real clock's end time, months after
    // this time base: nothing to test after it here; the file above does)
  }, "procrec-window-end-");
});
