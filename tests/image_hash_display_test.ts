/**
 * An image hash that could not be taken says why wherever the hash would be
 * shown (issue 12: no field recorded but shown nowhere): the `image_hash`
 * reason (`ctime-after-exec`, `path-missing`, `EACCES`) is on the exec step
 * (`replay --json`), after the state in `replay --wide` and in the report's
 * details; a hash taken shows the hash alone.
 */
import { analyze, renderTree } from "../cli/analysis/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { reportData } from "../cli/report/_report_data.ts";
import { assertEquals } from "./_record_helpers.ts";
import { processCreate } from "./_recording_helpers.ts";

const LINUX = { os: "linux", bootId: "boot-1" } as const;
const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

function execOf(pid: number, t: number, image: string): ProcEvent {
  return { kind: "exec", t, pid, tid: pid, info: { image, from: {} } };
}

const events: ProcEvent[] = [
  processCreate(1, 10, 1),
  execOf(10, 2, "/tmp/replaced"),
  processCreate(3, 11, 1),
  execOf(11, 4, "/tmp/deleted"),
  processCreate(5, 12, 1),
  execOf(12, 6, "/usr/bin/ok"),
  {
    kind: "image_hash",
    t: 7,
    pid: 10,
    tid: 10,
    execT: 2,
    status: "changed",
    reason: "ctime-after-exec",
    via: "path",
  },
  {
    kind: "image_hash",
    t: 8,
    pid: 11,
    tid: 11,
    execT: 4,
    status: "gone",
    reason: "path-missing",
  },
  {
    kind: "image_hash",
    t: 9,
    pid: 12,
    tid: 12,
    execT: 6,
    status: "ok",
    sha256: SHA,
    via: "exe",
  },
];

Deno.test("a hash not taken says why in the exec step, replay --wide and the report", async () => {
  const forest = await analyze(events, LINUX);
  const step = (pid: number) =>
    forest.processes.find((p) => p.pid === pid)!.execs.at(-1)!;
  assertEquals(
    [step(10).hashState, step(10).hashReason],
    ["changed", "ctime-after-exec"],
  );
  assertEquals(
    [step(11).hashState, step(11).hashReason],
    ["gone", "path-missing"],
  );
  assertEquals(
    [step(12).sha256, step(12).hashState, step(12).hashReason],
    [SHA, undefined, undefined],
  );

  const wide = renderTree(forest, { wide: true }).split("\n");
  const line = (pid: number) => wide.find((l) => l.includes(`[${pid}]`)) ?? "";
  assertEquals(
    line(10).includes("sha256 changed (ctime-after-exec)"),
    true,
    line(10),
  );
  assertEquals(line(11).includes("sha256 gone (path-missing)"), true, line(11));
  assertEquals(line(12).includes(`sha256 ${SHA}`), true, line(12));
  assertEquals(line(12).includes("("), false, line(12));

  const page = JSON.stringify(reportData({
    title: "t",
    recordings: [{
      name: "r.cbor",
      header: {
        host: "h",
        os: "linux",
        kernel: "k",
        bootId: "boot-1",
        timeBaseUtcNs: "0",
        source: { name: "test", reason: "test" },
        tool: { name: "procrec", version: "test" },
      },
      forest,
      integrity: { complete: true, chainIntact: true, problems: [] },
    }],
  }));
  assertEquals(
    page.includes(JSON.stringify(["sha256", "changed (ctime-after-exec)"])),
    true,
    "report details of the replaced image",
  );
  assertEquals(
    page.includes(JSON.stringify(["sha256", "gone (path-missing)"])),
    true,
    "report details of the deleted image",
  );
});
