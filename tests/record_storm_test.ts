/**
 * The storm: thousands of processes forked and exec'd, thousands of threads,
 * processes killed by signals, non-zero exits, a double exec, execs from a
 * non-leader thread. The storm (tests/record_storm_helper.c) writes its own
 * ground truth; the recording must match it exactly.
 */
import { RecordingReader } from "../cli/log/mod.ts";
import { buildStorm, checkStorm, parseTruth } from "./_storm.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  procrecRecord,
  withTempDir,
} from "./_record_helpers.ts";

const PROCS = 2000;
const THREADS = 3000;

const why = await captureUnavailable();

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `record --source ${source} -- <storm> finds every process, exec, exit and thread exactly, nothing lost`,
    async () => {
      await withTempDir(async (dir) => {
        const storm = await buildStorm(dir);
        const out = `${dir}/storm.cbor`;
        const r = await procrecRecord(
          source,
          out,
          [storm, `${dir}/truth`, String(PROCS), String(THREADS)],
          { statsOut: `${dir}/stats.json` },
        );
        assertEquals(
          r.code,
          3,
          `the storm's exit status passes through (stderr: ${r.stderr})`,
        );
        const truth = parseTruth(await Deno.readTextFile(`${dir}/truth`));
        assertEquals(truth.processCount >= PROCS, true);
        const reader = await RecordingReader.open(out);
        assertEquals(
          reader.header.command?.pid,
          truth.root,
          "header.command.pid",
        );
        const events = await Array.fromAsync(reader.events());
        assert(reader.report.complete, JSON.stringify(reader.report.problems));
        const { errors, reached, total, lost } = checkStorm(events, truth);
        const stats = JSON.parse(await Deno.readTextFile(`${dir}/stats.json`));
        console.log(
          `storm (${reader.header.source.name}): ${truth.processCount} processes, ${THREADS} threads, ` +
            `${events.length} events, lost ${lost}; image and argv reached for ${reached}/${total} execs ` +
            `(${
              (100 * reached / total).toFixed(1)
            }%); library: ${stats.kernelMsgs} kernel messages, ` +
            `${stats.records} records, lost: ${stats.lostSeqGap} seq gap, ${stats.lostEnobufs} ENOBUFS, ` +
            `${stats.lostRing} ring full, ${stats.lostBpf} BPF reserve`,
        );
        assertEquals(errors, [], "differences from the ground truth");
        assert(total > 1500, `only ${total} execs`);
        if (source === "ebpf") {
          // the in-kernel source reads image and argv at the exec itself
          assertEquals(
            reached,
            total,
            "execs with image and argv from the kernel",
          );
        }
        // one analysis: the summary printed live equals the replay's
        const replay = await procrec(["replay", out, "--summary"]);
        assertEquals(replay.code, 0, replay.stderr);
        // record prints its summary on stderr (stdout is the command's), last
        assert(replay.stdout.length > 0, "replay printed no summary");
        assert(
          r.stderr.endsWith(replay.stdout),
          `live summary (stderr) vs replay summary:\n${r.stderr}\n---\n${replay.stdout}`,
        );
      }, "procrec-storm-");
    },
    why,
  );
}
