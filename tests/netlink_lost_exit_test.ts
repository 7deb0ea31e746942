/**
 * The proc connector source after a loss: a process whose thread exits were
 * lost (the socket buffer overflowed while the recorder was stopped) still
 * ends in the recording, with its status, when its leader's exit arrives.
 * Before, the thread table still counted the lost threads, so the leader's
 * exit was recorded as a thread exit and the process never ended.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  buildC,
  captureTest,
  captureUnavailable,
  PROCREC,
  waitForPath,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

captureTest(
  "record --source netlink: a process whose thread exits were lost in an overflow ends with its leader's exit and status",
  async () => {
    await withTempDir(async (dir) => {
      const helper = await buildC(
        "driver/linux/tests/lost_exit_helper.c",
        `${dir}/lost_exit_helper`,
      );
      const out = `${dir}/lost.cbor`;
      const steps = `${dir}/steps`;
      await Deno.mkdir(steps);
      // the recorder runs the helper and ends when it exits
      const recorder = new Deno.Command(PROCREC, {
        args: [
          "record",
          "--source",
          "netlink",
          "--rcvbuf-bytes",
          "65536",
          "-o",
          out,
          "--",
          helper,
          steps,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let stopped = false;
      try {
        assert(
          await waitForPath(`${steps}/ready`, { child: recorder, tries: 800 }),
          "the helper did not start its threads",
        );
        // the recorder receives the thread creations...
        await sleep(500);
        // ...then stops; a storm overflows its socket buffer, and the
        // helper's threads exit while the buffer is full
        Deno.kill(recorder.pid, "SIGSTOP");
        stopped = true;
        const storm = await new Deno.Command(helper, {
          args: ["storm", "20000"],
        }).output();
        assertEquals(storm.code, 0, "the storm");
        await Deno.writeTextFile(`${steps}/go1`, "");
        assert(
          await waitForPath(`${steps}/threads-gone`, { tries: 800 }),
          "the helper's threads did not end",
        );
        Deno.kill(recorder.pid, "SIGCONT");
        stopped = false;
        // the recorder drains the overflowed socket, then the leader exits
        await sleep(1000);
        await Deno.writeTextFile(`${steps}/go2`, "");
      } finally {
        if (stopped) Deno.kill(recorder.pid, "SIGCONT");
        await Deno.writeTextFile(`${steps}/go1`, "");
        await Deno.writeTextFile(`${steps}/go2`, "");
      }
      const r = await recorder.output();
      const stderr = new TextDecoder().decode(r.stderr);
      // 3: the recording is complete but events were lost
      assertEquals(r.code, 3, stderr);
      const pid = Number((await Deno.readTextFile(`${steps}/pid`)).trim());
      const reader = await RecordingReader.open(out);
      const events: ProcEvent[] = await Array.fromAsync(reader.events());
      assert(reader.report.complete, JSON.stringify(reader.report.problems));
      const mine = events.filter((e) => e.kind !== "lost" && e.pid === pid);
      const creates = mine.filter((e) => e.kind === "thread_create");
      const threadExits = mine.filter((e) =>
        e.kind === "thread_exit" && e.tid !== pid
      );
      console.log(
        `helper ${pid}: ${creates.length} thread creates, ${threadExits.length} of their exits recorded; ${
          mine.filter((e) => e.kind === "process_exit").length
        } process exits; ${
          events.filter((e) => e.kind === "lost").length
        } lost records`,
      );
      // the test forced what it means to: the creations were recorded, and
      // some of the threads' exits were lost
      assertEquals(creates.length, 4, "thread creations recorded");
      assert(
        threadExits.length < 4,
        "no thread exit was lost: the test did not force the loss",
      );
      assert(
        events.some((e) => e.kind === "lost"),
        "the loss is recorded",
      );
      const exits = mine.filter((e) => e.kind === "process_exit");
      assertEquals(
        exits.map((e) => e.kind === "process_exit" ? e.status : undefined),
        [3 << 8],
        "the helper's process exit, with exit(3)'s status",
      );
      // found, not received: marked so (format 9), and the tree says so
      // (an exit received as it happened is not: driver/linux/tests/
      // test_netlink.c)
      assertEquals(
        exits.map((e) => e.kind === "process_exit" && e.inferred),
        [true],
        "the helper's exit is marked inferred",
      );
      const tree = new TextDecoder().decode(
        (await new Deno.Command(PROCREC, {
          args: ["replay", out, "--pid", String(pid)],
          stdout: "piped",
        }).output()).stdout,
      );
      const line = tree.split("\n").find((l) => l.includes(`[${pid}]`));
      assert(line?.includes("exit-inferred"), tree);
    }, "procrec-lost-exit-");
  },
  why,
);
