/**
 * `export --format jsonl --from/--to` of a span that begins after a
 * segment's start (or a recording's): the processes running at the span's
 * start are written there as snapshots, so that `import jsonl` of the
 * export rebuilds the processes `replay --from/--to` shows, with their
 * start, parent, image and command (found by review: the export left out
 * the snapshots of the segment's header, at the segment's start, and the
 * creations before the span, and its import had processes without image,
 * parent or command, and none of those that did nothing in the span). The
 * end line counts the lines written.
 */
import { RecordingReader, SegmentSetReader } from "../cli/log/mod.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { isoFromNs } from "../cli/text/mod.ts";
import { processCreate, testHeader } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  exists,
  PROCREC,
  procrec,
  waitForPath,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();
const MS = 1_000_000;

/**
 * The script recorded: a child shell and (`fork`) a subshell, a fork that
 * runs no other image, wait on the FIFO `F`; the script says it started,
 * waits on the FIFO `G`, runs `/bin/true`, says it ran it, and waits.
 */
function script(dir: string, fork: boolean): string {
  return [
    `sh -c 'read x < ${dir}/F; exit 3' &`,
    ...(fork ? [`( read x < ${dir}/F; exit 4 ) &`] : []),
    `touch ${dir}/started`,
    `read y < ${dir}/G`,
    `/bin/true in-the-span`,
    `touch ${dir}/ran`,
    `wait`,
  ].join("\n");
}

function spawnRecord(args: string[]): Deno.ChildProcess {
  return new Deno.Command(PROCREC, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  assertEquals(r.code, 0, `mkfifo ${path}`);
}

/** Writes a line to a FIFO (its readers wake; a second reader reads EOF). */
async function release(fifo: string): Promise<void> {
  await Deno.writeTextFile(fifo, "go\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the script under `record -o OUT` (a directory when `OUT` ends in
 * `/`: its segment rotated by SIGHUP while the script waits on `G`), and
 * returns after the recorder ended.
 */
async function recordScript(
  dir: string,
  out: string,
  fork: boolean,
): Promise<void> {
  await mkfifo(`${dir}/F`);
  await mkfifo(`${dir}/G`);
  const child = spawnRecord([
    "record",
    "--source",
    "netlink",
    "--only-command",
    "-o",
    out,
    ...(out.endsWith("/") ? ["--rotate", "1h"] : []),
    "--",
    "sh",
    "-c",
    script(dir, fork),
  ]);
  try {
    assert(
      await waitForPath(`${dir}/started`, { child }),
      "the script did not start",
    );
    // (the image hashes of what ran so far come in before the rotation)
    await sleep(200);
    if (out.endsWith("/")) {
      child.kill("SIGHUP");
      for (let i = 0; i < 400; i++) {
        const n = [...Deno.readDirSync(out)].filter((e) =>
          /\.cbor(\.incomplete)?$/.test(e.name)
        );
        if (n.length === 2) break;
        await sleep(25);
      }
      await sleep(200);
    }
    await release(`${dir}/G`);
    assert(
      await waitForPath(`${dir}/ran`, { child }),
      "the script did not run /bin/true",
    );
    await release(`${dir}/F`);
  } finally {
    // (a failed wait above leaves the FIFOs' readers waiting: let them go)
    if (!(await exists(`${dir}/ran`))) {
      child.kill("SIGTERM");
    }
  }
  const r = await child.output();
  assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
}

/**
 * A time after `t` and before the next event's: a span that ends there
 * does not cut a process between its creation and its exec (the next, a
 * `touch`, would show its parent's image in the import of the span, and
 * its own in a replay that reads on).
 */
function justAfter(events: ProcEvent[], t: number): number {
  const next = Math.min(...events.map((e) => e.t).filter((x) => x > t));
  return Number.isFinite(next) ? Math.trunc((t + next) / 2) : t + MS;
}

/** A process of replay's JSON, as the comparison takes it. */
interface Shown {
  pid: number;
  start: number;
  ppid: number;
  parent?: number;
  image?: string;
  argv?: string[];
}

/** replay ARGS --json's processes: start, parent, image and command. */
async function shown(args: string[]): Promise<Shown[]> {
  const r = await procrec(["replay", ...args, "--json"]);
  assertEquals(r.code, 0, `replay ${args.join(" ")}: ${r.stderr}`);
  const forest = JSON.parse(r.stdout) as {
    processes: (Shown & { id: string; parentId?: string })[];
  };
  const byId = new Map(forest.processes.map((p) => [p.id, p]));
  return forest.processes.map((p) => ({
    pid: p.pid,
    start: p.start,
    ppid: p.ppid,
    ...(p.parentId !== undefined
      ? { parent: byId.get(p.parentId)?.pid ?? -1 }
      : {}),
    ...(p.image !== undefined ? { image: p.image } : {}),
    ...(p.argv !== undefined ? { argv: p.argv } : {}),
  })).sort((a, b) => a.pid - b.pid);
}

/** The export's lines, parsed; its end line checked against the lines. */
async function exported(path: string): Promise<Record<string, unknown>[]> {
  const lines = (await Deno.readTextFile(path)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  const end = lines.at(-1);
  assertEquals(end.procrec, "end", "the end line");
  assertEquals(end.events, lines.length - 2, "the end line's event count");
  return lines.slice(1, -1);
}

/**
 * `export --from FROM --to TO` of `input`, its import, and the processes
 * both replays show; checks that they are the same and that the processes
 * running at FROM are there as snapshots at FROM.
 */
async function checkSpan(
  dir: string,
  input: string,
  from: bigint,
  to: bigint,
  base: bigint,
): Promise<void> {
  const span = ["--from", isoFromNs(from), "--to", isoFromNs(to)];
  const e = await procrec(["export", input, ...span, "-o", `${dir}/w.jsonl`]);
  assertEquals(e.code, 0, e.stderr);
  const events = await exported(`${dir}/w.jsonl`);
  const i = await procrec([
    "import",
    "jsonl",
    `${dir}/w.jsonl`,
    "-o",
    `${dir}/w.cbor`,
  ]);
  assertEquals(i.code, 0, i.stderr);
  const want = await shown([input, ...span]);
  const got = await shown([`${dir}/w.cbor`]);
  assertEquals(got, want, `the import of the span (${e.stderr})`);
  // the shell that waits on F ran before the span and did nothing in it:
  // it is there by its snapshot, with its command, parent and start
  const waiting = want.find((p) =>
    p.argv?.join(" ") === `sh -c read x < ${dir}/F; exit 3`
  );
  assert(waiting !== undefined, JSON.stringify(want));
  const snap = events.find((x) =>
    x.kind === "process_snapshot" && x.pid === waiting.pid
  );
  assertEquals(snap?.t, Number(from - base), "the snapshot is at --from");
  assertEquals(snap?.start, waiting.start);
  assert(
    events.every((x) => (x.t as number) >= Number(from - base)),
    "no event before --from",
  );
  assert(
    /processes running at --from written as snapshots/.test(e.stderr),
    e.stderr,
  );
}

captureTest(
  "export DIR/ --format jsonl --from/--to in a later segment: the import has the processes running at --from with their image, parent and command, as replay --from/--to of the directory",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/segs/`;
      // (no subshell: a segment's header lists a fork that ran no other
      // image without one, where replay of the whole directory gives it
      // its parent's)
      await recordScript(dir, out, false);
      const set = await SegmentSetReader.open([out]);
      const segments = set.segments;
      assertEquals(segments.length, 2, "one rotation");
      const events = await Array.fromAsync(set.events());
      const base = BigInt(set.header.timeBase.utcNs);
      // the span: from just after the second segment's start (its header's
      // snapshots before it) to just after /bin/true's exit (the waiting
      // processes' exits after it)
      const from = segments[1].startUtcNs + 1n * BigInt(MS);
      const truePid = events.find((x) =>
        x.kind === "exec" && x.info.argv?.[1] === "in-the-span"
      )?.pid;
      const exit = events.find((x) =>
        x.kind === "process_exit" && x.pid === truePid
      );
      assert(exit !== undefined, "/bin/true's exit");
      const to = base + BigInt(justAfter(events, exit.t));
      assert(
        (segments[1].header.segment?.alive?.length ?? 0) > 0,
        "the second segment's header lists the processes running",
      );
      await checkSpan(dir, out, from, to, base);
    }, "procrec-jsonl-window-segs-");
  },
  why,
);

captureTest(
  "export FILE --format jsonl --from/--to: the import has the processes running at --from, a fork that ran no other image with its parent's image and command",
  async () => {
    await withTempDir(async (dir) => {
      const rec = `${dir}/run.cbor`;
      await recordScript(dir, rec, true);
      const r = await RecordingReader.open(rec);
      const events = await Array.fromAsync(r.events());
      const base = BigInt(r.header.timeBase.utcNs);
      // the span: from between /bin/true's creation and the event before it
      const at = events.findIndex((x) =>
        x.kind === "exec" && x.info.argv?.[1] === "in-the-span"
      );
      const create = events.findLastIndex((x, k) =>
        k < at && x.kind === "process_create" && x.pid === events[at].pid
      );
      const before = Math.max(
        ...events.slice(0, create).map((x) => x.t),
      );
      const from = base +
        BigInt(Math.trunc((before + events[create].t) / 2));
      const exit = events.find((x) =>
        x.kind === "process_exit" && x.pid === events[at].pid
      )!;
      const to = base + BigInt(justAfter(events, exit.t));
      await checkSpan(dir, rec, from, to, base);
      // the subshell: its parent's image and command, in both
      const shell = (await shown([`${dir}/w.cbor`])).find((p) =>
        p.argv?.[2]?.startsWith("sh -c 'read x") && p.parent !== undefined &&
        p.image === "/usr/bin/dash"
      );
      assert(
        shell !== undefined,
        `the subshell shows its parent's command: ${
          JSON.stringify(await shown([`${dir}/w.cbor`]))
        }`,
      );
    }, "procrec-jsonl-window-file-");
  },
  why,
);

const BASE = testHeader().timeBase.utcNs;
const S = 1_000_000_000;

Deno.test("export DIR/ --format jsonl --from: an image hash come after --from names the snapshot; a span after the last event but not after the end still has the running processes; --redact redacts them", async () => {
  await withTempDir(async (dir) => {
    const segs = `${dir}/segs`;
    let now = BASE;
    const w = await SegmentWriter.open(testHeader(), {
      dir: segs,
      writer: { flushIntervalMs: 0 },
      nowUtcNs: () => now,
    });
    const exec = (t: number, pid: number, argv: string[]): ProcEvent => ({
      kind: "exec",
      t,
      pid,
      tid: pid,
      info: { image: `/usr/bin/${argv[0]}`, argv, from: { image: "proc" } },
    });
    // segment 1 (0s): 100 runs `db -p hunter2`; segment 2 (10s): 101 runs
    // `job` at 11s, its hash at 12.5s
    for (
      const e of [
        processCreate(1 * S, 100, 1),
        exec(1 * S + 10, 100, ["db", "-p", "hunter2"]),
      ]
    ) w.write(e);
    now = BASE + 10n * BigInt(S);
    await w.rotateNow();
    for (
      const e of [
        processCreate(11 * S, 101, 100),
        exec(11 * S + 10, 101, ["job"]),
        {
          kind: "image_hash",
          t: 12.5 * S,
          pid: 101,
          tid: 101,
          execT: 11 * S + 10,
          status: "ok",
          sha256: "ab".repeat(32),
        } as ProcEvent,
      ]
    ) w.write(e);
    now = BASE + 20n * BigInt(S);
    await w.close();

    const lines = async (args: string[]) => {
      const r = await procrec(["export", segs, ...args]);
      assertEquals(r.code, 0, r.stderr);
      const all = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assertEquals(all.at(-1).events, all.length - 2, "the end line's count");
      return all.slice(1, -1);
    };
    // --from 12s: 100 (from the header) and 101 as snapshots at 12s, the
    // hash of 101's exec on its snapshot
    const at12 = await lines(["--from", "12s"]);
    assertEquals(
      at12.map((e) => `${e.kind} ${e.pid} ${e.t / S}`),
      [
        "process_snapshot 100 12",
        "process_snapshot 101 12",
        "image_hash 101 12.5",
      ],
    );
    assertEquals(at12[1].info.argv, ["job"]);
    assertEquals(at12[1].ppid, 100);
    assertEquals(at12[2].execT, 12 * S);
    const imp = await procrec([
      "export",
      segs,
      "--from",
      "12s",
      "-o",
      `${dir}/w.jsonl`,
    ]);
    assertEquals(imp.code, 0, imp.stderr);
    const i = await procrec([
      "import",
      "jsonl",
      `${dir}/w.jsonl`,
      "-o",
      `${dir}/w.cbor`,
    ]);
    assertEquals(i.code, 0, i.stderr);
    const replay = await procrec(["replay", `${dir}/w.cbor`, "--json"]);
    const job = JSON.parse(replay.stdout).processes.find((p: { pid: number }) =>
      p.pid === 101
    );
    assertEquals(job.execs.at(-1).sha256, "ab".repeat(32), "the hash kept");
    // --from 15s: no event after it, but the recording ends later (its
    // trailer)
    const at15 = await lines(["--from", isoFromNs(BASE + 15n * BigInt(S))]);
    assertEquals(
      at15.map((e) => `${e.kind} ${e.pid} ${e.t / S}`),
      [
        "process_snapshot 100 15",
        "process_snapshot 101 15",
        "image_hash 101 15",
      ],
    );
    // after the end (the segment writer's trailer takes the clock's time):
    // nothing ran then that the recording knows of
    const later = BigInt(Date.now() + 3_600_000) * 1_000_000n;
    assertEquals(await lines(["--from", isoFromNs(later)]), []);
    // --redact: the snapshot's arguments are redacted as any event's
    await Deno.writeTextFile(
      `${dir}/rules.json`,
      '{"rules":[{"name":"pw","flag":"-p"}]}',
    );
    const k = await procrec(["keygen", "--redact", "-o", `${dir}/k`]);
    assertEquals(k.code, 0, k.stderr);
    const red = await lines([
      "--from",
      "12s",
      "--redact",
      `${dir}/rules.json`,
      "--redact-key",
      `${dir}/k`,
    ]);
    assert(!JSON.stringify(red).includes("hunter2"), JSON.stringify(red));
    assertEquals(red[0].info.argv[0], "db");
  }, "procrec-jsonl-window-synthetic-");
});
