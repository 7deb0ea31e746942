/**
 * Helpers for tests that need small recordings.
 *
 * @module
 */
import type { ProcEvent } from "../cli/events/types.ts";
import {
  type HeaderInit,
  RecordingReader,
  RecordingWriter,
} from "../cli/log/mod.ts";

/** A header for test recordings. */
export function testHeader(overrides: Partial<HeaderInit> = {}): HeaderInit {
  return {
    host: "testhost",
    os: "linux",
    kernel: "6.18.0-test",
    bootId: "00000000-0000-4000-8000-000000000001",
    timeBase: { monoNs: 1_000_000_000n, utcNs: 1_790_000_000_000_000_000n },
    clock: { source: "test", monoToUtcNs: 1_789_999_999_000_000_000n },
    tool: { name: "procrec", version: "test" },
    source: { name: "test", reason: "written by a test" },
    options: {},
    ...overrides,
  };
}

/**
 * A `process_create` of `pid` at `t` by the main thread of `ppid`, plus
 * `extra` fields.
 */
export function processCreate(
  t: number,
  pid: number,
  ppid: number,
  extra: Partial<ProcEvent> = {},
): ProcEvent {
  return {
    kind: "process_create",
    t,
    pid,
    tid: pid,
    ppid,
    ptid: ppid,
    creatorPid: ppid,
    creatorTid: ppid,
    start: t,
    ...extra,
  } as ProcEvent;
}

/**
 * An `exec` event of `pid` at `t` running `image` with `argv` (nothing
 * known of where they came from).
 */
export function exec(
  t: number,
  pid: number,
  image: string,
  argv: string[],
): ProcEvent {
  return { kind: "exec", t, pid, tid: pid, info: { image, argv, from: {} } };
}

/** The image hash of pid's exec at `execT`, written at `t` (status ok). */
export function imageHash(
  t: number,
  pid: number,
  execT: number,
  sha256: string,
): ProcEvent {
  return { kind: "image_hash", t, pid, tid: pid, execT, status: "ok", sha256 };
}

/** A deterministic workload: `n` processes, each created, exec'd and exited. */
export function workload(n: number): ProcEvent[] {
  const out: ProcEvent[] = [];
  for (let i = 0; i < n; i++) {
    const pid = 2000 + i;
    const t = i * 1000;
    out.push(processCreate(t, pid, 1));
    out.push({
      kind: "exec",
      t: t + 10,
      pid,
      tid: pid,
      info: {
        image: "/usr/bin/env",
        argv: ["env", `n=${i}`],
        from: { image: "proc", argv: "proc" },
      },
    });
    out.push({ kind: "process_exit", t: t + 20, pid, tid: pid, status: 0 });
  }
  return out;
}

/** Writes `events` to `path` with small chunks; returns the file's bytes. */
export async function writeRecording(
  path: string,
  events: ProcEvent[],
  chunkEvents = 16,
): Promise<Uint8Array> {
  const w = await RecordingWriter.create(path, testHeader(), {
    chunkEvents,
    flushIntervalMs: 0,
  });
  for (const e of events) w.write(e);
  await w.close();
  return await Deno.readFile(path);
}

/** The header, events and read report of a recording. */
export async function readRecording(path: string) {
  const r = await RecordingReader.open(path);
  const events: ProcEvent[] = await Array.fromAsync(r.events());
  return { header: r.header, events, report: r.report };
}

/** The events of a recording, which must read back complete. */
export async function readCompleteEvents(path: string): Promise<ProcEvent[]> {
  const { events, report } = await readRecording(path);
  if (!report.complete) {
    throw new Error(`${path}: ${JSON.stringify(report.problems)}`);
  }
  return events;
}
