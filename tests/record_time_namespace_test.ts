/**
 * A recorder in a time namespace whose clocks are shifted (`unshare --time`,
 * a container restored with its clocks): the kernel stamps events with the
 * host's CLOCK_MONOTONIC whatever the namespace, so the recorder's own clock
 * reads (the time base, the snapshot, the account list) and the start-up
 * snapshot's start times (/proc/<pid>/stat, which the kernel shifts by the
 * reader's boottime offset) must be taken back to the host's clocks. Every
 * event must fall within the wall-clock interval around the run; they fell
 * a day early.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable() ?? await timeNamespaceUnavailable();

/** Why `unshare --time` cannot run here, or undefined when it can. */
async function timeNamespaceUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return undefined; // captureUnavailable said
  try {
    const o = await new Deno.Command("unshare", {
      args: ["--time", "--fork", "--monotonic", "1", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return o.success
      ? undefined
      : `unshare --time fails here: ${
        new TextDecoder().decode(o.stderr).trim()
      }`;
  } catch (e) {
    return `cannot run unshare: ${(e as Error).message}`;
  }
}

/** A day on the namespace's monotonic and boottime clocks. */
const SHIFT = ["--monotonic", "86400", "--boottime", "86400"];

/** Now on the wall clock, ns (Date has milliseconds: the interval widens by one). */
const wallNs = () => BigInt(Date.now()) * 1_000_000n;
const MS = 1_000_000n;
/** /proc/<pid>/stat counts a start time in 10 ms ticks, rounded down. */
const TICK = 10n * MS;

const iso = (ns: bigint) => new Date(Number(ns / MS)).toISOString();

for (const source of ["netlink", "ebpf"]) {
  captureTest(
    `${source}: recorded in a time namespace a day ahead, every event and start time lies within the run`,
    async () => {
      await withTempDir(async (dir) => {
        // started before the recorder, from outside the namespace: the
        // snapshot shows it, with the start time taken around its spawn
        const spawnedFrom = wallNs();
        const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
        const spawnedTo = wallNs();
        try {
          const out = `${dir}/tn.cbor`;
          const from = wallNs();
          const r = await procrec([
            "record",
            "-q",
            "--source",
            source,
            "-o",
            out,
            "--",
            "sh",
            "-c",
            "sleep 0.2; exit 3",
          ], { prefix: ["unshare", "--time", "--fork", ...SHIFT] });
          const to = wallNs();
          assertEquals(r.code, 3, r.stderr);
          const reader = await RecordingReader.open(out);
          const events: ProcEvent[] = await Array.fromAsync(reader.events());
          assert(
            reader.report.complete,
            JSON.stringify(reader.report.problems),
          );
          const base = BigInt(reader.header.timeBase.utcNs);
          assert(
            base >= from && base <= to + MS,
            `time base ${iso(base)} is not within the run (${iso(from)} to ${
              iso(to)
            })`,
          );
          const within = (what: string, ns: bigint, lo: bigint, hi: bigint) =>
            assert(
              ns >= lo && ns <= hi,
              `${what} at ${iso(ns)} (${Number(ns - lo) / 1e9} s after ${
                iso(lo)
              }) is not within ${iso(lo)} to ${iso(hi)}`,
            );
          const kinds = new Set<string>();
          let snapshots = 0;
          let sleeperSeen = false;
          for (const e of events) {
            const at = base + BigInt(e.t);
            kinds.add(e.kind);
            within(`${e.kind} of pid ${e.pid}`, at, from, to + MS);
            if (e.kind === "image_hash" && e.execT !== undefined) {
              within(
                `image_hash's execT of pid ${e.pid}`,
                base + BigInt(e.execT),
                from,
                to + MS,
              );
            }
            if (e.kind === "process_create") {
              // a process created while recording started during the run
              within(
                `process_create's start of pid ${e.pid}`,
                base + BigInt(e.start),
                from - TICK,
                at + MS,
              );
            }
            if (e.kind === "process_snapshot") {
              snapshots++;
              const start = base + BigInt(e.start);
              assert(
                start <= at + MS,
                `pid ${e.pid} started at ${iso(start)}, after the snapshot ` +
                  `read it (${iso(at)})`,
              );
              if (e.pid === sleeper.pid) {
                sleeperSeen = true;
                within(
                  `the sleeper's snapshot start (pid ${e.pid})`,
                  start,
                  spawnedFrom - TICK,
                  spawnedTo + MS,
                );
              }
            }
          }
          assert(snapshots > 1, `${snapshots} process_snapshot events`);
          assert(sleeperSeen, `no snapshot of the sleeper ${sleeper.pid}`);
          for (
            const k of ["process_create", "exec", "process_exit", "accounts"]
          ) {
            assert(kinds.has(k), `no ${k} event: ${[...kinds]}`);
          }
          const end = reader.report.trailer?.endUtcNs;
          if (end !== undefined) {
            within("the trailer's end", BigInt(end), from, to + MS);
          }
        } finally {
          sleeper.kill();
          await sleeper.status;
        }
      });
    },
    why,
  );
}

captureTest(
  "doctor in a time namespace names its clock offsets",
  async () => {
    const r = await procrec(["doctor", "--json"], {
      prefix: [
        "unshare",
        "--time",
        "--fork",
        "--monotonic",
        "86400",
        "--boottime",
        "-1",
      ],
    });
    const report = JSON.parse(r.stdout) as {
      checks: { name: string; ok: boolean; detail: string }[];
    };
    const c = report.checks.find((c) => c.name === "time namespace");
    assert(c, `no time namespace check: ${r.stdout}`);
    assert(c.ok, c.detail);
    assert(
      c.detail.includes("monotonic +86400 s, boottime -1 s"),
      c.detail,
    );
  },
  why,
);
