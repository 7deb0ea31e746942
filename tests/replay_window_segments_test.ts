/**
 * `replay DIR/` of a segment directory with a window written as UTC times
 * gives the answer of the same window written as offsets: a process started
 * in the window whose exit is segments later shows its exit (found by
 * review: the window's end bounded the segments read, so `--failed` found
 * nothing and the process showed "running"), and one started in an earlier
 * segment keeps its start, images and user names (the window's start
 * bounded them too).
 */
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { isoFromNs } from "../cli/text/mod.ts";
import { processCreate, testHeader } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const BASE = testHeader().timeBase.utcNs;
const S = 1_000_000_000;

function run(t: number, pid: number, argv: string[]): ProcEvent {
  return {
    kind: "exec",
    t,
    pid,
    tid: pid,
    info: {
      image: `/usr/bin/${argv[0]}`,
      argv,
      uid: 0,
      euid: 0,
      from: { image: "proc", argv: "proc" },
    },
  };
}

function exit(t: number, pid: number, code: number): ProcEvent {
  return { kind: "process_exit", t, pid, tid: pid, status: code << 8 };
}

/**
 * Three segments beginning at 0s, 10s and 20s: sh (pid 100, from 1s)
 * starts sh (101, at 3s) that runs sleep (102) and exits 7 at 25.1s, in
 * the third segment; true (103) runs at 12s in the second.
 */
const SEGMENTS: ProcEvent[][] = [
  [
    {
      kind: "accounts",
      t: 0,
      pid: 0,
      tid: 0,
      users: [[0, "root"]],
      groups: [],
    },
    processCreate(1 * S, 100, 1),
    run(1 * S + 10, 100, ["sh", "-c", "job"]),
    processCreate(3 * S, 101, 100),
    run(3 * S + 10, 101, ["sh", "-c", "sleep 22; exit 7"]),
    processCreate(3.1 * S, 102, 101),
    run(3.1 * S + 10, 102, ["sleep", "22"]),
  ],
  [
    processCreate(12 * S, 103, 100),
    run(12 * S + 10, 103, ["true"]),
    exit(12.5 * S, 103, 0),
  ],
  [exit(25 * S, 102, 0), exit(25.1 * S, 101, 7), exit(28 * S, 100, 0)],
];

async function writeSegments(dir: string): Promise<void> {
  let now = BASE;
  const w = await SegmentWriter.open(testHeader(), {
    dir,
    writer: { flushIntervalMs: 0 },
    nowUtcNs: () => now,
  });
  for (const [k, events] of SEGMENTS.entries()) {
    if (k > 0) {
      now = BASE + BigInt(k * 10 * S);
      await w.rotateNow();
    }
    for (const e of events) w.write(e);
  }
  now = BASE + BigInt(30 * S);
  await w.close();
}

/** The offset `s` seconds after the time base as an ISO-8601 UTC time. */
const utc = (s: number) => isoFromNs(BASE + BigInt(Math.round(s * S)));

/** replay's output, which must exit 0. */
async function replay(args: string[]): Promise<string> {
  const r = await procrec(["replay", ...args]);
  assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

Deno.test("replay DIR/ --started-in FROM..TO --failed as UTC times finds the process whose exit is segments later, as the offsets do", async () => {
  await withTempDir(async (dir) => {
    await writeSegments(dir);
    const offsets = await replay([
      dir,
      "--started-in",
      "2.5s..3.5s",
      "--failed",
    ]);
    assert(/\* sh -c .*\[101\].*exit 7/.test(offsets), offsets);
    const iso = await replay([
      dir,
      "--started-in",
      `${utc(2.5)}..${utc(3.5)}`,
      "--failed",
    ]);
    assertEquals(iso, offsets);
    // without --failed: the exits are there, nothing "running"
    const all = await replay([dir, "--started-in", `${utc(2.5)}..${utc(3.5)}`]);
    assertEquals(all, await replay([dir, "--started-in", "2.5s..3.5s"]));
    assert(!all.includes("running"), all);
  }, "procrec-window-segments-");
});

Deno.test("replay DIR/ --alive-in and --from/--to as UTC times give the tree, the events and the JSON of the offsets", async () => {
  await withTempDir(async (dir) => {
    await writeSegments(dir);
    const forms: [string[], string[]][] = [
      [["--alive-in", `${utc(12)}..${utc(13)}`], ["--alive-in", "12s..13s"]],
      [["--from", utc(12), "--to", utc(13)], ["--from", "12s", "--to", "13s"]],
      // (a window in the last segment: the processes started before it
      // keep their start rows, images and the user names of the first)
      [["--from", utc(21)], ["--from", "21s"]],
      [["--to", utc(2)], ["--to", "2s"]],
    ];
    for (const [iso, rel] of forms) {
      for (
        const view of [[], ["--events"], ["--events", "--json"], ["--json"]]
      ) {
        const a = await replay([dir, ...iso, ...view]);
        const b = await replay([dir, ...rel, ...view]);
        assertEquals(a, b, `${iso.join(" ")} ${view.join(" ")}`);
      }
    }
    const tree = await replay([dir, "--alive-in", `${utc(12)}..${utc(13)}`]);
    assert(/\* sh -c .*\[101\].*22\.100s {2}exit 7/.test(tree), tree);
    assert(!tree.includes("running"), tree);
    const late = await replay([dir, "--from", utc(21), "--events"]);
    assert(/start {2}pid 101 {2}ppid 100 {2}root/.test(late), late);
    assert(!late.includes("existing-before-recording"), late);
  }, "procrec-window-segments-");
});
