/**
 * A pid reused again and again while `record` takes its start-up snapshot:
 * driver/linux/tests/pid_churn_helper.c forks child after child under one
 * pid (each alive about a millisecond, its exit code numbering it) while
 * idle processes under lower pids make the snapshot reach that pid late.
 * The children created after the recorder subscribed and gone before the
 * snapshot read the pid are in the live stream only. A reader gives each
 * event of a pid to the latest process it knows under it, so every child's
 * exit must follow that child's own creation or a snapshot of the pid taken
 * while the child was alive (a child that started before the recording may
 * end without either), and every child that lived inside the recording must
 * be found so. Before, the eBPF source took the creations of all of them for
 * the snapshot's process (real children shown without creation, parent or
 * command, the snapshot's process given an exit from before it began); the
 * proc connector source gave the snapshot's process the exit of a child that
 * ended before it began, then showed it a second time.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import {
  assert,
  buildC,
  captureTest,
  captureUnavailable,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";
import { readRecording } from "./_recording_helpers.ts";

const why = await captureUnavailable();

/** One child of the churn: its pid, exit code, and before its fork and after its wait (ns since the time base). */
interface Kid {
  pid: number;
  code: number;
  t0: number;
  t1: number;
}

/** Parses the helper's children, their CLOCK_MONOTONIC times made relative to `monoBase`. */
function parseKids(text: string, monoBase: number): Kid[] {
  const kids: Kid[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f[0] !== "child") continue;
    kids.push({
      pid: Number(f[1]),
      code: Number(f[2]),
      t0: Number(f[3]) - monoBase,
      t1: Number(f[4]) - monoBase,
    });
  }
  return kids;
}

/**
 * What is wrong with the churned pids' events (empty: nothing), and how
 * many children came and went before the snapshot reached their pid while
 * the churn still held it then (0: the reuse was not exercised).
 */
function check(events: ProcEvent[], kids: Kid[]): {
  wrong: string[];
  between: number;
} {
  const wrong: string[] = [];
  const ms = (t: number) => `${(t / 1e6).toFixed(1)} ms`;
  const snaps = events.filter((e) => e.kind === "process_snapshot");
  const first = snaps[0]?.t ?? 0;
  const last = events.reduce((m, e) => Math.max(m, e.t), -Infinity);
  const pids = new Set(kids.map((k) => k.pid));
  // when the snapshot reached each pid: its read, or the next pid's
  const reached = new Map<number, number>();
  for (const pid of pids) {
    reached.set(pid, snaps.find((e) => e.pid >= pid)?.t ?? last);
  }
  const seen = new Set<Kid>();
  // what each pid stands for: a create (its start), a snapshot (its read)
  const cur = new Map<number, { kind: "create" | "snapshot"; t: number }>();
  for (const e of events) {
    if (!pids.has(e.pid)) continue;
    const c = cur.get(e.pid);
    if (e.kind === "process_snapshot") {
      cur.set(e.pid, { kind: "snapshot", t: e.t });
    } else if (e.kind === "process_create") {
      if (c?.kind === "snapshot") {
        wrong.push(
          `pid ${e.pid}: a create after the snapshot read at ${
            ms(c.t)
          }, before its exit`,
        );
      }
      cur.set(e.pid, { kind: "create", t: e.start });
    } else if (e.kind === "process_exit") {
      // (the proc connector stamps an exit after the parent was woken, so
      // a little after the wait; a code repeats every 250 children)
      const code = (e.status >> 8) & 0xff;
      const k = kids.find((k) =>
        k.pid === e.pid && k.code === code && k.t0 <= e.t && e.t <= k.t1 + 20e6
      );
      if (k !== undefined) {
        const ok = c === undefined
          ? k.t0 < first // it was running before the recording began
          : k.t0 <= c.t && c.t <= k.t1;
        if (ok) seen.add(k);
        else {
          wrong.push(
            `pid ${e.pid}: child ${code} (${ms(k.t0)} to ${
              ms(k.t1)
            }) ends after ${
              c === undefined ? "no create" : `a ${c.kind} of ${ms(c.t)}`
            }`,
          );
        }
      }
      cur.delete(e.pid);
    }
  }
  const held = new Set(
    kids.filter((k) => {
      const r = reached.get(k.pid)!;
      return k.t0 <= r + 2e6 && r <= k.t1 + 2e6;
    }).map((k) => k.pid),
  );
  let between = 0;
  for (const k of kids) {
    if (k.t0 > first && k.t1 < reached.get(k.pid)! && held.has(k.pid)) {
      between++;
    }
    if (k.t0 > first && k.t1 < last && !seen.has(k)) {
      wrong.push(
        `pid ${k.pid}: child ${k.code} (${ms(k.t0)} to ${ms(k.t1)}) not found`,
      );
    }
  }
  return { wrong, between };
}

/** Records `source` for 0.3 s while the churn runs; returns what {@link check} finds. */
async function recordChurn(helper: string, source: string, out: string) {
  const churn = new Deno.Command(helper, {
    args: ["600"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = churn.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
  }
  let r;
  try {
    assert(text.includes("ready\n"), `the churn did not start: ${text}`);
    r = await procrec([
      "record",
      "-q",
      "--no-image-hash",
      "--source",
      source,
      "--duration",
      "0.3s",
      "-o",
      out,
    ]);
  } finally {
    await churn.stdin.close();
    for (let c = await lines.read(); !c.done; c = await lines.read()) {
      text += c.value;
    }
    await churn.status;
  }
  assert(r.code === 0, `${source}: record: ${r.stderr}`);
  const { header, events, report } = await readRecording(out);
  assert(report.complete, `${source}: ${JSON.stringify(report.problems)}`);
  const kids = parseKids(text, Number(header.timeBase.monoNs));
  assert(kids.length > 0, `${source}: no child got the churned pid`);
  const lost = events.filter((e) => e.kind === "lost").length;
  return { kids, lost, ...check(events, kids) };
}

captureTest(
  "a pid reused while the snapshot is taken gives every child its own create and exit, with the eBPF and the proc connector sources",
  async () => {
    await withTempDir(async (dir) => {
      const helper = await buildC(
        "driver/linux/tests/pid_churn_helper.c",
        `${dir}/churn`,
      );
      for (const source of ["ebpf", "netlink"]) {
        // Again when the churn lost its pid to another process before the
        // snapshot reached it (the reuse was not exercised), or when events
        // were lost (a busy host can overflow the proc connector's socket
        // while the snapshot is taken) and something is missing.
        let got;
        for (let attempt = 0; attempt < 3; attempt++) {
          got = await recordChurn(helper, source, `${dir}/${source}.cbor`);
          if (got.between > 0 && (got.lost === 0 || got.wrong.length === 0)) {
            break;
          }
        }
        const { kids, lost, wrong, between } = got!;
        assert(
          between > 0,
          `${source}: three times no child came and went before the snapshot reached its pid: not exercised`,
        );
        assert(
          wrong.length === 0,
          `${source}: ${kids.length} children, ${between} before the snapshot reached their pid, ${lost} losses:\n  ${
            wrong.slice(0, 8).join("\n  ")
          }`,
        );
      }
    }, "procrec-snapshot-reuse-");
  },
  why,
);
