/**
 * Forced loss: the library's kernel reader is paused (PR_CTL_PAUSE_READER,
 * through the recorder's test hook) while a storm overflows a tiny buffer.
 * Every event that is missing must be accounted for by `lost` records.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import { PAUSE_READER_ENV } from "../cli/commands/record.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrecRecord,
  withTempDir,
} from "./_record_helpers.ts";
import { buildStorm, parseTruth, type Truth } from "./_storm.ts";

/**
 * Storm events the kernel sent (fork, exec, exit of each process) that the
 * recording lacks, counted per pid (a create counts only with the true parent).
 */
function missingStormEvents(
  events: ProcEvent[],
  truth: Truth,
): { expected: number; missing: number } {
  const seen = new Map<string, number>();
  const inc = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
  for (const e of events) {
    if (e.kind === "process_create") inc(`create/${e.pid}/${e.ppid}`);
    else if (e.kind === "process_exit" || e.kind === "exec") {
      inc(`${e.kind}/${e.pid}`);
    }
  }
  let expected = 0, missing = 0;
  const want = (k: string, n: number) => {
    expected += n;
    missing += Math.max(0, n - (seen.get(k) ?? 0));
  };
  for (const [pid, lives] of truth.procs) {
    const parents = new Map<number, number>();
    for (const l of lives) parents.set(l.ppid, (parents.get(l.ppid) ?? 0) + 1);
    for (const [ppid, n] of parents) want(`create/${pid}/${ppid}`, n);
    want(`process_exit/${pid}`, lives.length);
    want(`exec/${pid}`, lives.reduce((n, l) => n + l.execs.length, 0));
  }
  return { expected, missing };
}

const why = await captureUnavailable();

for (
  const [source, flag, reason, stat] of [
    ["netlink", "--rcvbuf-bytes", "seq_gap", "lostSeqGap"],
    ["ebpf", "--bpf-ring-bytes", "bpf_reserve", "lostBpf"],
  ] as const
) {
  captureTest(
    `record --source ${source} with a tiny buffer and a paused reader: lost records count every missing event`,
    async () => {
      await withTempDir(async (dir) => {
        const storm = await buildStorm(dir);
        const out = `${dir}/loss.cbor`;
        const r = await procrecRecord(
          source,
          out,
          [storm, `${dir}/truth`, "600", "0"],
          {
            flags: [flag, source === "netlink" ? "4096" : "32768"],
            statsOut: `${dir}/stats.json`,
            env: { [PAUSE_READER_ENV]: "1500" },
          },
        );
        assertEquals(r.code, 3, r.stderr);
        const stats = JSON.parse(await Deno.readTextFile(`${dir}/stats.json`));
        const reader = await RecordingReader.open(out);
        const events = await Array.fromAsync(reader.events());
        assert(reader.report.complete, JSON.stringify(reader.report.problems));
        const lost = events.filter((e) => e.kind === "lost");
        const byReason: Record<string, number> = {};
        for (const e of lost) {
          if (e.kind !== "lost") continue;
          byReason[e.reason] = (byReason[e.reason] ?? 0) + e.count;
          if (e.reason === "seq_gap") {
            assert(e.cpu !== undefined, "a sequence gap names its CPU");
          }
        }
        const truth = parseTruth(await Deno.readTextFile(`${dir}/truth`));
        const { expected, missing } = missingStormEvents(events, truth);
        console.log(
          `forced loss (${source}): ${missing} of ${expected} storm events missing; lost records: ${
            JSON.stringify(byReason)
          }; library: ${
            JSON.stringify({ [stat]: stats[stat], lostTotal: stats.lostTotal })
          }`,
        );
        assert(
          missing > 0,
          "the forced loss lost nothing: the test did not force anything",
        );
        assert(lost.length > 0, "no lost records");
        // every count the library made is in the stream, where it happened
        assertEquals(
          byReason[reason] ?? 0,
          stats[stat],
          `${reason} counts vs library`,
        );
        const counted = Object.entries(byReason)
          .filter(([k]) => k !== "enobufs") // ENOBUFS marks the overflow; its events are in the gaps
          .reduce((n, [, c]) => n + c, 0);
        // every missing storm event is counted (the counts also cover the rest of the
        // host's activity during the pause, so they bound the storm's losses from above)
        assert(
          counted >= missing,
          `lost counts ${counted} < ${missing} missing storm events`,
        );
      }, "procrec-loss-");
    },
    why,
  );
}
