/**
 * Helpers of the export tests: a recording holding every kind of event, and
 * reading recordings back.
 *
 * @module
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { type HeaderInit, RecordingWriter } from "../cli/log/mod.ts";

export { readRecording } from "./_recording_helpers.ts";

/** A Linux header whose clock fields need big integers. */
export const LINUX_HEADER: HeaderInit = {
  host: "build-7",
  os: "linux",
  kernel: "6.18.0",
  bootId: "0f2c6a1e-8d7b-4c1e-9e55-3b1f2a4d5c6e",
  timeBase: { monoNs: 123_456_789_012_345n, utcNs: 1_763_776_800_123_456_789n },
  clock: { source: "CLOCK_BOOTTIME", monoToUtcNs: 1_763_653_343_334_444_444n },
  tool: { name: "procrec", version: "0.1.0" },
  source: { name: "netlink", reason: "test" },
  options: { threads: true, nested: { list: [1, "two"] } },
  command: { argv: ["make", "-j2"], pid: 100 },
};

/** One event of every kind, with optional fields set and unset. */
export const EVERY_KIND: ProcEvent[] = [
  {
    kind: "process_snapshot",
    t: -5_000_000_000,
    pid: 1,
    tid: 1,
    ppid: 0,
    start: -9_000_000_000,
    info: {
      image: "/sbin/init",
      argv: ["/sbin/init"],
      comm: "systemd",
      uid: 0,
      gid: 0,
      from: { image: "proc", argv: "proc", comm: "proc", cred: "proc" },
    },
  },
  {
    kind: "process_create",
    t: 0,
    pid: 100,
    tid: 100,
    ppid: 1,
    ptid: 1,
    creatorPid: 1,
    creatorTid: 1,
    start: 0,
  },
  {
    kind: "exec",
    t: 10,
    pid: 100,
    tid: 100,
    info: {
      image: "/usr/bin/make",
      argv: ["make", "-j2", "ünïcødé ☃", 'q"uote'],
      argvTruncated: true,
      cwd: "/src",
      uid: 1000,
      gid: 1000,
      from: { image: "kernel", argv: "kernel", cwd: "gone", cred: "kernel" },
    },
  },
  { kind: "comm", t: 11, pid: 100, tid: 100, comm: "make" },
  {
    kind: "thread_create",
    t: 12,
    pid: 100,
    tid: 101,
    creatorPid: 100,
    creatorTid: 100,
  },
  {
    kind: "process_create",
    t: 20,
    pid: 102,
    tid: 102,
    ppid: 100,
    ptid: 101,
    creatorPid: 100,
    creatorTid: 101,
    start: 20,
    info: { image: "/bin/sh", from: { image: "kernel" } },
    denied: false,
  },
  {
    kind: "lost",
    t: 25,
    pid: 0,
    tid: 0,
    reason: "enobufs",
    count: 0,
    countUnknown: true,
  },
  { kind: "lost", t: 26, pid: 0, tid: 0, reason: "seq_gap", count: 3, cpu: 1 },
  {
    kind: "image_load",
    t: 27,
    pid: 102,
    tid: 102,
    image: "/lib/libc.so.6",
    base: 140_000_000_000_000,
    size: 2_000_000,
  },
  {
    kind: "thread_exit",
    t: 30,
    pid: 102,
    tid: 102,
    status: 0,
    processExiting: true,
  },
  { kind: "process_exit", t: 30, pid: 102, tid: 102, status: 9 },
  { kind: "thread_exit", t: 40, pid: 100, tid: 101, status: 0 },
  { kind: "process_exit", t: 50, pid: 100, tid: 100, status: 2 << 8 },
  {
    kind: "process_create",
    t: 60,
    pid: 4,
    tid: 4,
    ppid: 1,
    ptid: 0,
    creatorPid: 1,
    creatorTid: 0,
    start: 60,
    guid: "{AB}",
    parentGuid: "{cd}",
    info: {
      image: "C:\\x.exe",
      cmdline: "x.exe /y",
      user: "D\\u",
      from: { image: "import", argv: "import", cred: "import" },
    },
  },
  {
    kind: "process_exit",
    t: 70,
    pid: 4,
    tid: 0,
    status: 0,
    guid: "{ab}",
    statusUnknown: true,
  },
];

/** Writes `events` under `header` to `path`. */
export async function writeRecording(
  path: string,
  events: Iterable<ProcEvent>,
  header: HeaderInit = LINUX_HEADER,
): Promise<void> {
  const w = await RecordingWriter.create(path, header, { flushIntervalMs: 0 });
  for (const e of events) w.write(e);
  await w.close();
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}
