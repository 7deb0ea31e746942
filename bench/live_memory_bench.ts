/**
 * Memory of the always-on recorder: 10 million synthetic events through what
 * the live session does with each event in segment mode (the segment writer
 * with its live-process table, rotation and retention, and the bounded live
 * summary), RSS printed after 1M, 5M and 10M events. Target: RSS(10M) <=
 * 1.1 x RSS(1M), since memory must follow the live processes (a steady 300
 * here), not the events or the processes ever seen (about 1.4 million).
 *
 * It runs with the V8 flags the launcher gives `procrec record`
 * (`--optimize-for-size`; tests/recorder_v8_flags_test.ts keeps the two the
 * same). Without them V8 grows its young generation and keeps the pages
 * under a steady event rate: RSS went 130, 272, 299 MiB at 1M, 5M, 10M
 * while the used heap stayed at 7.5 MiB (committed: 45 to 150 MiB).
 *
 * Run: deno task bench:live-memory [events]
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { BoundedSummary } from "../cli/analysis/bounded_summary.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";

const TOTAL = Number(Deno.args[0] ?? 10_000_000);
const LIVE = 300;
let heap = 0;
let committed = 0;
let ext = 0;
const gc = (globalThis as { gc?: () => void }).gc;

function rssMiB(): number {
  gc?.();
  const m = Deno.memoryUsage();
  heap = m.heapUsed / 1048576;
  committed = m.heapTotal / 1048576;
  ext = m.external / 1048576;
  return m.rss / 1048576;
}

/** A host with LIVE processes alive at any time, each born, exec'd, threaded and ended. */
function* feeder(): Generator<ProcEvent> {
  let t = 0;
  let next = 1000;
  const live: number[] = [];
  for (;;) {
    t += 1000;
    if (live.length >= LIVE) {
      const i = (t / 1000) % live.length;
      const pid = live[i];
      live[i] = live[live.length - 1];
      live.pop();
      yield { kind: "thread_exit", t, pid, tid: pid + 1, status: 0 };
      yield { kind: "thread_exit", t, pid, tid: pid, status: 0 };
      yield { kind: "process_exit", t, pid, tid: pid, status: (pid % 7) << 8 };
      continue;
    }
    const pid = next;
    next = next >= 4_000_000 ? 1000 : next + 2;
    const ppid = live.length ? live[pid % live.length] : 1;
    yield {
      kind: "process_create",
      t,
      pid,
      tid: pid,
      ppid,
      ptid: ppid,
      creatorPid: ppid,
      creatorTid: ppid,
      start: t,
    };
    yield {
      kind: "exec",
      t,
      pid,
      tid: pid,
      info: {
        image: "/usr/bin/worker",
        argv: ["worker", "--job", String(pid)],
        from: { image: "kernel", argv: "kernel" },
      },
    };
    yield {
      kind: "thread_create",
      t,
      pid,
      tid: pid + 1,
      creatorPid: pid,
      creatorTid: pid,
    };
    live.push(pid);
  }
}

const dir = await Deno.makeTempDir({ prefix: "procrec-live-bench-" });
try {
  const header = {
    host: "bench",
    os: "linux" as const,
    kernel: "6",
    bootId: "bench",
    timeBase: { monoNs: 0n, utcNs: BigInt(Date.now()) * 1_000_000n },
    clock: { source: "bench", monoToUtcNs: 0n },
    tool: { name: "procrec", version: "bench" },
    source: { name: "bench", reason: "synthetic feeder" },
    options: {},
  };
  const writer = await SegmentWriter.open(header, {
    dir,
    rotate: { bytes: 32 * 1024 * 1024 },
    keep: { count: 2 },
    writer: { flushIntervalMs: 0 },
  });
  const summary = new BoundedSummary(header);
  const marks = new Set([1_000_000, 5_000_000, 10_000_000, TOTAL]);
  const rss = new Map<number, number>();
  const started = performance.now();
  let n = 0;
  for (const ev of feeder()) {
    writer.write(ev);
    summary.add(ev);
    n++;
    if (n % 65536 === 0) await writer.tick();
    if (marks.has(n)) {
      rss.set(n, rssMiB());
      console.log(
        `${(n / 1e6).toFixed(0)}M events: RSS ${
          rss.get(n)!.toFixed(1)
        } MiB (heap ${heap.toFixed(1)} MiB used of ${
          committed.toFixed(1)
        } MiB, external ${
          ext.toFixed(1)
        } MiB), ${summary.liveProcesses} processes alive, ${writer.segments} segments written (${writer.deleted} deleted by retention), ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s`,
      );
    }
    if (n >= TOTAL) break;
  }
  await writer.close();
  const first = rss.get(1_000_000);
  const last = rss.get(TOTAL);
  if (first !== undefined && last !== undefined && TOTAL > 1_000_000) {
    const ratio = last / first;
    console.log(
      `RSS(${(TOTAL / 1e6).toFixed(0)}M) / RSS(1M) = ${
        ratio.toFixed(3)
      } (target <= 1.1): ${ratio <= 1.1 ? "met" : "NOT met"}`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
