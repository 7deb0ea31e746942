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

/**
 * Processes whose descriptions are not exact: names whose bytes were not
 * UTF-8 (read with U+FFFD), arguments cut at the source's limit, a fileless
 * image and one whose file was unlinked; and a plain one beside them, and a
 * denial whose arguments were cut.
 */
export const INEXACT: ProcEvent[] = [
  {
    kind: "process_snapshot",
    t: 0,
    pid: 50,
    tid: 50,
    ppid: 1,
    start: -1_000,
    info: {
      image: "/opt/\ufffdx/run",
      argv: ["run"],
      cwd: "/home/\ufffd",
      notUtf8: ["image", "cwd"],
      from: { image: "proc", argv: "proc", cwd: "proc" },
    },
  },
  {
    kind: "process_create",
    t: 10,
    pid: 51,
    tid: 51,
    ppid: 50,
    ptid: 50,
    creatorPid: 50,
    creatorTid: 50,
    start: 10,
  },
  {
    kind: "exec",
    t: 20,
    pid: 51,
    tid: 51,
    info: {
      image: "/memfd:\ufffd (deleted)",
      argv: ["\ufffd-payload", "-c", "x"],
      argvTruncated: true,
      fileless: true,
      notUtf8: ["image", "argv"],
      from: { image: "kernel", argv: "kernel" },
    },
  },
  { kind: "process_exit", t: 30, pid: 51, tid: 51, status: 0 },
  {
    kind: "process_create",
    t: 40,
    pid: 52,
    tid: 52,
    ppid: 1,
    ptid: 1,
    creatorPid: 1,
    creatorTid: 1,
    start: 40,
  },
  {
    kind: "exec",
    t: 50,
    pid: 52,
    tid: 52,
    info: {
      image: "/tmp/dropper",
      argv: ["dropper"],
      deletedImage: true,
      from: { image: "kernel", argv: "kernel" },
    },
  },
  {
    kind: "process_create",
    t: 60,
    pid: 53,
    tid: 53,
    ppid: 1,
    ptid: 1,
    creatorPid: 1,
    creatorTid: 1,
    start: 60,
  },
  {
    kind: "exec",
    t: 70,
    pid: 53,
    tid: 53,
    info: {
      image: "/bin/true",
      argv: ["true"],
      from: { image: "kernel", argv: "kernel" },
    },
  },
  {
    kind: "exec_denied",
    t: 80,
    pid: 53,
    tid: 53,
    rule: "no-tmp",
    image: "/tmp/\ufffd",
    argv: ["a", "b"],
    argvTruncated: true,
    notUtf8: ["image"],
    ppid: 1,
    uid: 0,
    euid: 0,
  },
];
