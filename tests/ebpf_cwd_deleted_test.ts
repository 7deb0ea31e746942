/**
 * A removed working directory: both sources record it as /proc/PID/cwd shows
 * it, "PATH (deleted)" (before, the eBPF source recorded the bare path, as
 * if the directory still existed), and neither marks "/" or a mount's root,
 * whose directory entries the kernel never hashes either.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import {
  assertEquals,
  captureTest,
  captureUnavailable,
  procrecRecord,
  withTempDir,
} from "./_record_helpers.ts";
import { readCompleteEvents } from "./_recording_helpers.ts";

const why = await captureUnavailable();

/** The working directories of the recording's execs of sleep, in order. */
function sleepCwds(events: ProcEvent[]): (string | undefined)[] {
  return events.flatMap((e) =>
    e.kind === "exec" && e.info.image?.endsWith("/sleep") ? [e.info.cwd] : []
  );
}

captureTest(
  'a removed working directory is recorded as "PATH (deleted)" by the eBPF and the proc connector sources alike',
  async () => {
    await withTempDir(async (dir) => {
      const gone = `${dir}/gone`;
      // each sleep lives long enough for the proc connector source's /proc read
      const script = `mkdir "$1" && cd "$1" && rmdir "$1" && /bin/sleep 0.2; ` +
        `cd /proc && /bin/sleep 0.2; cd / && /bin/sleep 0.2`;
      const want = [`${gone} (deleted)`, "/proc", "/"];
      for (const source of ["netlink", "ebpf"]) {
        const out = `${dir}/${source}.cbor`;
        const r = await procrecRecord(
          source,
          out,
          ["/bin/sh", "-c", script, "sh", gone],
          { flags: ["--only-command", "--no-image-hash"] },
        );
        assertEquals(r.code, 0, r.stderr);
        assertEquals(
          sleepCwds(await readCompleteEvents(out)),
          want,
          `the working directories the ${source} source recorded`,
        );
      }
    }, "procrec-cwd-deleted-");
  },
  why,
);
