/**
 * Segment mode end to end: the storm (tests/record_storm_helper.c, which
 * writes its own ground truth) recorded into a directory with a small
 * --rotate. The segments must hold exactly the storm's events, none twice;
 * the directory verifies, and replays as the one recording it is.
 */
import { RecordingReader, SegmentSetReader } from "../cli/log/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { buildStorm, checkStorm, parseTruth } from "./_storm.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  fillDisk,
  PROCREC,
  procrec,
  procrecRecord,
  segmentRecordArgs,
  withTempDir,
  withTmpfs,
} from "./_record_helpers.ts";

const PROCS = 1000;
const THREADS = 1000;

const why = await captureUnavailable();

captureTest(
  "record -o DIR/ --rotate: a storm's segments add up to exactly the storm, none twice; verify DIR/ passes; DIR/ replays as the one recording",
  async () => {
    await withTempDir(async (dir) => {
      const storm = await buildStorm(dir);
      const out = `${dir}/segs/`;
      const r = await procrecRecord(
        "ebpf",
        out,
        [storm, `${dir}/truth`, String(PROCS), String(THREADS)],
        { flags: ["--only-command", "--rotate", "8KiB"] },
      );
      assertEquals(r.code, 3, `the storm's exit status (stderr: ${r.stderr})`);
      const truth = parseTruth(await Deno.readTextFile(`${dir}/truth`));
      const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
      assert(!names.includes("writer.pid"), "writer.pid left behind");
      assert(
        names.every((n) => /^.+-\d{8}T\d{6}\.\d{6}Z\.cbor$/.test(n)),
        `segment names: ${names}`,
      );
      assert(names.length >= 4, `only ${names.length} segments`);
      console.log(`storm into ${names.length} segments`);

      // each segment alone: complete, numbered from 0, linked to the one before
      const events: ProcEvent[] = [];
      let prev: { id: string; hash: Uint8Array } | undefined;
      for (const [i, n] of names.entries()) {
        const reader = await RecordingReader.open(`${out}${n}`);
        const chunks = await Array.fromAsync(reader.chunks());
        assert(reader.report.complete, `${n}: ${reader.report.problems}`);
        const seg = reader.header.segment!;
        assertEquals(seg.index, i, `${n}: index`);
        if (prev) {
          assertEquals(seg.previous?.id, prev.id, `${n}: previous id`);
          assertEquals(
            [...seg.previous!.finalHash],
            [...prev.hash],
            `${n}: previous final hash`,
          );
        } else assertEquals(seg.previous, undefined, `${n}: previous`);
        for (const c of chunks) events.push(...c.events);
        prev = { id: seg.id, hash: reader.report.trailer!.finalHash };
      }
      // exactly the storm: a lost, duplicated or reordered event is a difference
      const { errors, lost } = checkStorm(events, truth);
      assertEquals(errors, [], "differences from the ground truth");
      assertEquals(lost, 0, "lost");

      const v = await procrec(["verify", out]);
      assertEquals(v.code, 0, v.stdout + v.stderr);
      assert(v.stdout.includes("INTACT"), v.stdout);

      // the live summary (bounded, always on) counts the events the
      // directory's replay counts, kind by kind
      const replay = await procrec(["replay", out, "--summary"]);
      assertEquals(replay.code, 0, replay.stderr);
      // (record prints its summary on stderr, replay on stdout)
      const eventsLine = (s: string) =>
        s.split("\n").find((l) => l.startsWith("events: "));
      assertEquals(
        eventsLine(r.stderr),
        eventsLine(replay.stdout),
        "live summary vs replay of DIR/",
      );
      assert(r.stderr.includes("bounded memory"), r.stderr);
      const tree = await procrec(["replay", out]);
      assertEquals(tree.code, 0, tree.stderr);
      assertEquals(tree.stderr, "", "replay of DIR/ problems");

      // the same storm recorded into one file replays to the same tree
      const single = `${dir}/single.cbor`;
      await Deno.remove(`${dir}/truth`);
      const r1 = await procrecRecord(
        "ebpf",
        single,
        [storm, `${dir}/truth`, String(PROCS), String(THREADS)],
        { flags: ["--only-command"] },
      );
      assertEquals(r1.code, 3, r1.stderr);
      const d = await procrec(["diff", single, out]);
      assertEquals(
        d.code,
        0,
        `diff single.cbor DIR/: ${d.stdout.slice(0, 3000)}`,
      );
    }, "procrec-segments-");
  },
  why,
);

/** Starts `procrec ARGS` in the background, output piped. */
function spawnProcrec(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(PROCREC, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Polls `dir` until `pred(names)` holds (at most ~20 s). */
async function waitForNames(
  dir: string,
  pred: (names: string[]) => boolean,
): Promise<string[]> {
  for (let i = 0; i < 400; i++) {
    const names = await Array.fromAsync(Deno.readDir(dir)).then(
      (es) => es.map((e) => e.name).sort(),
      () => [] as string[],
    );
    if (pred(names)) return names;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting in ${dir}`);
}

const segmentFiles = (names: string[]) =>
  names.filter((n) => /\.cbor(\.incomplete)?$/.test(n));

captureTest(
  "segment mode: SIGHUP closes the segment and begins the next; SIGTERM closes cleanly",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/segs/`;
      const child = spawnProcrec([
        "record",
        "--source",
        "netlink",
        "-o",
        out,
        "--rotate",
        "1h",
      ]);
      await waitForNames(out, (n) => segmentFiles(n).length === 1);
      await new Promise((r) => setTimeout(r, 300));
      child.kill("SIGHUP");
      const names = await waitForNames(
        out,
        (n) => segmentFiles(n).length === 2,
      );
      assertEquals(
        names.filter((n) => n.endsWith(".cbor")).length,
        1,
        `the first segment closed: ${names}`,
      );
      child.kill("SIGTERM");
      const r = await child.output();
      const stderr = new TextDecoder().decode(r.stderr);
      assertEquals(r.code, 0, stderr);
      const after = segmentFiles(await waitForNames(out, () => true));
      assertEquals(after.length, 2, `${after}`);
      assert(after.every((n) => n.endsWith(".cbor")), `${after}`);
      const v = await procrec(["verify", out]);
      assertEquals(v.code, 0, v.stdout);
    }, "procrec-sighup-");
  },
  why,
);

captureTest(
  "segment mode: kill -9 mid-run, then a new run in the same directory: one chain with one gap, every complete chunk kept",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/segs/`;
      // some processes, so that every segment has chunks
      const load = new Deno.Command("sh", {
        args: ["-c", "while :; do /bin/true; sleep 0.02; done"],
      }).spawn();
      const child = spawnProcrec([
        "record",
        "--source",
        "netlink",
        "-o",
        out,
        "--rotate",
        "2s",
      ]);
      // a closed segment and a second being written for 0.7 s (> 250 ms,
      // the flush interval): kill -9 while it has chunks and no trailer
      await waitForNames(out, (n) => n.some((x) => x.endsWith(".cbor")));
      await new Promise((r) => setTimeout(r, 700));
      child.kill("SIGKILL");
      await child.output();
      load.kill("SIGKILL");
      await load.status;
      const crashed = (await waitForNames(out, () => true)).filter((n) =>
        n.endsWith(".incomplete")
      );
      assertEquals(crashed.length, 1, `${crashed}`);
      const alone = await RecordingReader.open(`${out}${crashed[0]}`);
      await Array.fromAsync(alone.chunks());
      const crashedChunks = alone.report.chunks;

      // a second run links to the crashed segment
      const r2 = await procrec([
        "record",
        "--source",
        "netlink",
        "-o",
        out,
        "--rotate",
        "1h",
        "--duration",
        "800ms",
      ]);
      assertEquals(r2.code, 0, r2.stderr);
      const names = segmentFiles(await waitForNames(out, () => true));
      assert(
        names.includes(crashed[0]),
        "the crashed segment is kept as it was",
      );
      const last = await RecordingReader.open(
        `${out}${names[names.length - 1]}`,
      );
      assertEquals(last.header.segment?.previous?.name, crashed[0]);
      assertEquals(last.header.segment?.previous?.closed, false);

      const set = await SegmentSetReader.open([out]);
      const events = await Array.fromAsync(set.events());
      assertEquals(set.gaps.map((g) => g.reason), ["unclean_end"]);
      const lost = events.filter((e) => e.kind === "lost");
      assertEquals(
        lost.map((e) => e.kind === "lost" && e.reason),
        ["unclean_end"],
      );
      // every complete chunk of the crashed segment was read
      const read = set.segmentsRead.find((s) => s.entry.name === crashed[0]);
      assertEquals(read?.report.chunks, crashedChunks, "crashed chunks read");
      assert(crashedChunks > 0, "the crashed segment had flushed chunks");
      const v = await procrec(["verify", out]);
      assertEquals(v.code, 0, v.stdout);
      assert(/unclean|not closed/.test(v.stdout), v.stdout);
      const replay = await procrec(["replay", out, "--summary"]);
      assertEquals(replay.code, 0, replay.stderr);
      assert(replay.stdout.includes("unclean_end"), replay.stdout);
    }, "procrec-kill9-");
  },
  why,
);

captureTest(
  "segment mode on a full disk: capture goes on, the lost events are recorded with reason disk once space returns",
  async () => {
    await withTempDir(async (dir) => {
      await withTmpfs(dir, "64k", async () => {
        const out = `${dir}/segs/`;
        await Deno.mkdir(out);
        await Deno.writeFile(`${dir}/pad`, new Uint8Array(12 * 1024));
        // fill the rest of the disk
        await fillDisk(`${dir}/filler`);
        await Deno.remove(`${dir}/pad`);
        const r = await procrec([
          "record",
          "--source",
          "netlink",
          "--only-command",
          "-o",
          out,
          "--rotate",
          "4KiB",
          "--",
          "sh",
          "-c",
          `for i in $(seq 300); do /bin/true; done; rm -f ${dir}/filler; sleep 1.5; ` +
          // 20 ms each: the netlink source reads an exec's image from /proc
          // when the event arrives, and in a VM its thread can wake a few ms
          // late (up to 5 ms seen), after a 1 ms process has exited (its
          // exec is then recorded without image). This test is about the
          // disk, so it counts execs whose image it can name.
          `for i in $(seq 20); do /bin/sleep 0.02; done; sleep 1.5`,
        ]);
        assertEquals(r.code, 0, r.stderr);
        assert(/disk full in/.test(r.stderr), r.stderr);
        assert(/disk space returned in/.test(r.stderr), r.stderr);
        const set = await SegmentSetReader.open([out]);
        const events = await Array.fromAsync(set.events());
        const disk = events.filter((e) =>
          e.kind === "lost" && e.reason === "disk"
        );
        assertEquals(disk.length, 1, JSON.stringify(disk));
        assert(disk[0].kind === "lost" && disk[0].count > 0, "count");
        // (found by review) the closing line and summary count them too
        const closing = /recorded (\d+) events .*; lost (\d+)\n/.exec(r.stderr);
        assertEquals(Number(closing?.[2]), disk[0].count, r.stderr);
        // (the events recorded are those the segments hold: the loss record
        // is the writer's own)
        assertEquals(
          Number(closing?.[1]),
          events.filter((e) => !(e.kind === "lost" && e.reason === "disk"))
            .length,
          r.stderr,
        );
        assert(
          new RegExp(`lost: .*disk ${disk[0].count}`).test(r.stdout + r.stderr),
          r.stdout + r.stderr,
        );
        // recording resumed: the commands after the space returned are in
        const at = events.indexOf(disk[0]);
        const after = events.slice(at).filter((e) =>
          e.kind === "exec" && /\/sleep$/.test(e.info.image ?? "") &&
          e.info.argv?.[1] === "0.02"
        );
        assertEquals(after.length, 20, "execs of /bin/sleep after the loss");
        const replay = await procrec(["replay", out, "--summary"]);
        assertEquals(replay.code, 0, replay.stderr);
        assert(/disk \d+/.test(replay.stdout), replay.stdout);
      });
    }, "procrec-segfull-");
  },
  why,
);

captureTest(
  "segment mode on a disk full from the start: capture goes on (writer.pid is written when a segment can be), the losses are recorded once space returns, and no temporary file is left",
  async () => {
    await withTempDir(async (dir) => {
      await withTmpfs(dir, "64k", async () => {
        const out = `${dir}/segs`;
        await Deno.mkdir(out);
        await fillDisk(`${dir}/filler`);
        // (execs while the disk is full, and a second for the writer to meet
        // it: CI once saw the execs and the rm done before the writer's
        // first write; then space returns, and a segment begins within the
        // writer's 1 s retry)
        const r = await procrec(segmentRecordArgs(
          out,
          `for i in $(seq 40); do /bin/true; done; sleep 1; rm -f ${dir}/filler; sleep 1.5; ` +
            `for i in $(seq 5); do /bin/sleep 0.02; done; sleep 1`,
        ));
        assertEquals(r.code, 0, r.stderr);
        assert(
          /disk full in .*: cannot write writer\.pid/.test(r.stderr),
          r.stderr,
        );
        assert(/disk space returned in/.test(r.stderr), r.stderr);
        const events = await Array.fromAsync(
          (await SegmentSetReader.open([out])).events(),
        );
        const disk = events.filter((e) =>
          e.kind === "lost" && e.reason === "disk"
        );
        assertEquals(disk.length, 1, JSON.stringify(disk));
        assert(disk[0].kind === "lost" && disk[0].count > 0, "count");
        const sleeps = events.filter((e) =>
          e.kind === "exec" && /\/sleep$/.test(e.info.image ?? "") &&
          e.info.argv?.[1] === "0.02"
        );
        assertEquals(sleeps.length, 5, "the execs after space returned");
        // (the pid file went at the end; no temporary copy of it was left)
        const left = (await Array.fromAsync(Deno.readDir(out))).map((e) =>
          e.name
        ).filter((n) => !n.endsWith(".cbor"));
        assertEquals(left, [], `left in the directory: ${left.join(", ")}`);
      });
    }, "procrec-segfull0-");
  },
  why,
);

captureTest(
  "segment mode: two recorders started on a full disk: the second is refused at once (the first holds the directory's lock), the first records once space returns",
  async () => {
    await withTempDir(async (dir) => {
      await withTmpfs(dir, "64k", async () => {
        const out = `${dir}/segs`;
        await Deno.mkdir(out);
        await fillDisk(`${dir}/filler`);
        const start = () =>
          new Deno.Command(PROCREC, {
            args: segmentRecordArgs(
              out,
              `while [ ! -e ${dir}/stop ]; do sleep 0.1; done`,
            ),
            stdout: "null",
            stderr: "piped",
          }).spawn();
        const a = start();
        // (a holds the directory's lock once its lock file is there)
        for (let i = 0; i < 200; i++) {
          if (await Deno.lstat(`${out}/writer.lock`).catch(() => undefined)) {
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        const b = start();
        try {
          const refused = await Promise.race([
            b.output(),
            new Promise<undefined>((r) =>
              setTimeout(() => r(undefined), 15_000)
            ),
          ]);
          assert(refused !== undefined, "the second recorder ran on");
          assertEquals(refused.code, 2);
          const said = new TextDecoder().decode(refused.stderr);
          assert(
            new RegExp(
              `another recorder \\(pid ${a.pid}\\) is writing there \\(it holds writer\\.lock\\)`,
            ).test(said),
            said,
          );
          await Deno.remove(`${dir}/filler`);
          // the first claims the directory once a segment can be written
          for (let i = 0; i < 100; i++) {
            const named = await Deno.readTextFile(`${out}/writer.pid`).catch(
              () => "",
            );
            if (named !== "") {
              assertEquals(Number(named.split(" ")[0]), a.pid);
              break;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
          await Deno.writeTextFile(`${dir}/stop`, "");
          const w = await a.output();
          assertEquals(w.code, 0, new TextDecoder().decode(w.stderr));
          const v = await procrec(["verify", `${out}/`]);
          assertEquals(v.code, 0, v.stdout + v.stderr);
          // a clean stop takes its claim away: neither file is left
          assertEquals(
            [...Deno.readDirSync(out)].map((e) => e.name).filter((n) =>
              n.startsWith("writer.")
            ),
            [],
          );
        } finally {
          await Deno.writeTextFile(`${dir}/stop`, "").catch(() => {});
          for (const c of [a, b]) {
            try {
              c.kill("SIGTERM");
            } catch { /* ended */ }
          }
          await Promise.allSettled([a.status, b.status]);
        }
      });
    }, "procrec-segrace-");
  },
  why,
);

captureTest(
  "segment mode: a new run after a reboot (boot id from the test hook) links to the last segment; the directory replays as two boots",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/segs/`;
      const run = (env: Record<string, string>) =>
        procrec([
          "record",
          "--source",
          "netlink",
          "-o",
          out,
          "--rotate",
          "1h",
          "--duration",
          "700ms",
        ], { env });
      const r1 = await run({});
      assertEquals(r1.code, 0, r1.stderr);
      const other = "11111111-2222-4333-8444-555555555555";
      const r2 = await run({ PROCREC_TEST_BOOT_ID: other });
      assertEquals(r2.code, 0, r2.stderr);
      const names = segmentFiles(await waitForNames(out, () => true));
      assertEquals(names.length, 2, `${names}`);
      const second = await RecordingReader.open(`${out}${names[1]}`);
      assertEquals(second.header.bootId, other);
      assertEquals(second.header.segment?.previous?.name, names[0]);
      const v = await procrec(["verify", out]);
      assertEquals(v.code, 0, v.stdout);

      const tree = await procrec(["replay", out]);
      assertEquals(tree.code, 0, tree.stderr);
      const headings = tree.stdout.split("\n").filter((l) =>
        l.startsWith("boot ")
      );
      assertEquals(headings.length, 2, tree.stdout.slice(0, 2000));
      assert(headings[1].startsWith(`boot ${other}:`), headings[1]);
      assert(tree.stdout.includes("reboot: boot "), "the reboot is said");
      const json = JSON.parse(
        (await procrec(["replay", out, "--json"])).stdout,
      );
      assertEquals(json.boots.length, 2);
      assert(json.boots[0].bootId !== other, "first boot");
      assertEquals(json.boots[1].bootId, other);
      for (const b of json.boots) {
        assert(b.processes.length > 0, `boot ${b.bootId} has no processes`);
      }
    }, "procrec-reboot-");
  },
  why,
);
