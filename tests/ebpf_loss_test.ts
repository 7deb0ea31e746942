/**
 * Forced loss in the eBPF source: a small BPF ring (1 MiB) while the
 * library's reader is paused (PROCREC_TEST_PAUSE_READER_MS) during a storm of
 * 20,000 threads (about 3 MiB of BPF records). Once resumed, the reader
 * drains every 100 ms, so even another test's storm running alongside cannot
 * fill 1 MiB between two drains: the count read from the kernel after the
 * pause is final.
 * The BPF reserve failures must show as `lost` events (reason bpf_reserve,
 * per CPU) whose counts add up to what the kernel counted in the source's
 * per-CPU map (read with bpftool while the recorder runs), to the library's
 * lostBpf and to the trailer; the storm events missing from the recording
 * must be among them.
 */
import { RecordingReader } from "../cli/log/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { buildEbpfStorm, parseStormTruth } from "./_ebpf_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  PROCREC,
  waitForPath,
} from "./_record_helpers.ts";

const why = await captureUnavailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PAUSE_MS = 2500;

/** Sum of the per-CPU BPF reserve failures of process `pid`'s eBPF source. */
async function kernelReserveFailures(pid: number): Promise<number> {
  for (const e of Deno.readDirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${e.name}`);
    } catch {
      continue;
    }
    const field = (k: string) =>
      new RegExp(`^${k}:\\s*(\\d+)`, "m").exec(info)?.[1];
    // the per-CPU array of u64 counters (the exec scratch has larger values)
    if (field("map_type") !== "6" || field("value_size") !== "8") continue;
    const r = await new Deno.Command("bpftool", {
      args: ["-j", "map", "dump", "id", field("map_id")!],
      env: { PATH: `${Deno.env.get("PATH")}:/usr/sbin:/sbin` },
    }).output();
    if (!r.success) {
      throw new Error(`bpftool: ${new TextDecoder().decode(r.stderr)}`);
    }
    // raw bytes, and with the map's BTF a "formatted" copy with numbers
    const dump = JSON.parse(new TextDecoder().decode(r.stdout)) as {
      formatted: { values: { value: number }[] };
    }[];
    return dump[0].formatted.values.reduce((n, v) => n + v.value, 0);
  }
  throw new Error(
    `no reserve-failure map among the file descriptors of ${pid}`,
  );
}

captureTest(
  "a small BPF ring with the reader paused gives lost events whose counts equal the kernel's reserve failures",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "procrec-ebpf-loss-" });
    let rec: Deno.ChildProcess | undefined;
    try {
      const storm = await buildEbpfStorm(dir);
      const out = `${dir}/loss.cbor`;
      rec = new Deno.Command(PROCREC, {
        args: [
          "record",
          "--source",
          "ebpf",
          "--bpf-ring-bytes",
          "1MiB",
          "--stats-out",
          `${dir}/stats.json`,
          "-o",
          out,
        ],
        env: { PROCREC_TEST_PAUSE_READER_MS: String(PAUSE_MS) },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitForPath(`${out}.incomplete`, { tries: 300, intervalMs: 50 });
      const started = Date.now(); // the pause began before the file appeared
      // the storm runs while the reader is paused: the 1 MiB ring overflows
      const s = await new Deno.Command(storm, {
        args: ["20000", "100", `${dir}/truth`],
      }).output();
      assert(s.success, "storm failed");
      // after the pause the reader drains the ring; nothing fails any more:
      // the kernel's count stops moving
      await sleep(Math.max(0, started + PAUSE_MS + 300 - Date.now()));
      let kernel = await kernelReserveFailures(rec.pid);
      for (let i = 0; i < 20; i++) {
        await sleep(500);
        const again = await kernelReserveFailures(rec.pid);
        if (again === kernel) break;
        kernel = again;
      }
      rec.kill("SIGTERM");
      const r = await rec.output();
      rec = undefined;
      assertEquals(
        r.code,
        0,
        `recorder (stderr: ${new TextDecoder().decode(r.stderr)})`,
      );

      const truth = parseStormTruth(await Deno.readTextFile(`${dir}/truth`));
      const reader = await RecordingReader.open(out);
      const events: ProcEvent[] = await Array.fromAsync(reader.events());
      assert(reader.report.complete, JSON.stringify(reader.report.problems));
      const lost = events.filter((e) => e.kind === "lost");
      const lostSum = lost.reduce(
        (n, e) => n + (e.kind === "lost" ? e.count : 0),
        0,
      );
      const stats = JSON.parse(await Deno.readTextFile(`${dir}/stats.json`));
      const stormThreads = events.filter((e) =>
        e.kind === "thread_create" && e.pid === truth.root
      ).length;
      const missing = truth.threads + 4 - stormThreads;
      console.log(
        `forced loss: ${lost.length} lost events counting ${lostSum}; kernel reserve failures ${kernel}; ` +
          `library lostBpf ${stats.lostBpf}; storm thread creates missing ${missing} of ${
            truth.threads + 4
          }`,
      );
      assert(
        kernel > 0,
        "the kernel counted no reserve failure: the loss was not forced",
      );
      for (const e of lost) {
        assert(
          e.kind === "lost" && e.reason === "bpf_reserve" &&
            e.cpu !== undefined && e.count > 0,
          `lost event ${JSON.stringify(e)}`,
        );
      }
      assertEquals(
        lostSum,
        kernel,
        "lost counts vs the kernel's per-CPU reserve failures",
      );
      assertEquals(stats.lostBpf, lostSum, "library lostBpf vs lost events");
      assertEquals(
        reader.report.trailer?.lost,
        { bpf_reserve: lostSum },
        "trailer's lost counts",
      );
      assert(
        missing > 0 && missing <= lostSum,
        `missing ${missing} storm threads, lost ${lostSum}`,
      );
    } finally {
      if (rec) {
        rec.kill("SIGKILL");
        await rec.output();
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
  why,
);
