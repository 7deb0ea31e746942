/**
 * Export-import round-trips every field issue 12 added (Deliver 7): the
 * account tables, each identity field of a process's info (ids, login uid
 * and session, the image file's device and inode, fileless and
 * deleted-image, cgroup and namespaces, the token's user and integrity
 * level, Sysmon's fields) and every field of `image_hash` events (status,
 * reason, via, cached, size), through `procrec export --format jsonl` and
 * `procrec import jsonl`, event for event.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import type { HeaderInit } from "../cli/log/mod.ts";
import {
  LINUX_HEADER,
  readRecording,
  writeRecording,
} from "./export_helpers.ts";
import { deepStrictEqual } from "node:assert/strict";
import { assertEquals, procrec, withTempDir } from "./_record_helpers.ts";

const WINDOWS_HEADER: HeaderInit = {
  ...LINUX_HEADER,
  os: "windows",
  kernel: "10.0",
};
const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

const LINUX_EVENTS: ProcEvent[] = [
  {
    kind: "accounts",
    t: 0,
    pid: 0,
    tid: 0,
    users: [[0, "root"], [1000, "ann"], [65534, "nobody"]],
    groups: [[0, "root"], [65534, "nogroup"]],
  },
  {
    kind: "process_snapshot",
    t: 1,
    pid: 10,
    tid: 10,
    ppid: 1,
    start: -5_000_000_000,
    info: {
      image: "/usr/bin/bash",
      argv: ["-bash"],
      uid: 1000,
      gid: 1000,
      euid: 1000,
      egid: 1000,
      loginUid: 1000,
      sessionId: 3,
      dev: 2049,
      ino: 1234567,
      cgroupId: 8812,
      cgroup: "/user.slice/user-1000.slice/session-3.scope",
      ns: {
        pid: 4026531836,
        mnt: 4026531841,
        net: 4026531840,
        user: 4026531837,
        cgroup: 4026531835,
      },
      from: {
        image: "proc",
        argv: "proc",
        cred: "proc",
        file: "proc",
        ns: "proc",
        cgroup: "proc",
      },
    },
  },
  {
    kind: "exec",
    t: 2,
    pid: 11,
    tid: 11,
    info: {
      image: "/memfd:payload (deleted)",
      argv: ["payload"],
      uid: 65534,
      gid: 65534,
      euid: 0,
      egid: 0,
      loginUid: 4294967295,
      sessionId: 4294967295,
      dev: 1,
      ino: 99,
      fileless: true,
      cgroupId: 9001,
      cgroup: `/system.slice/docker-${"c".repeat(64)}.scope`,
      ns: { pid: 4026532201, mnt: 4026532199 },
      from: { image: "kernel", cred: "kernel", file: "kernel" },
    },
  },
  {
    kind: "exec",
    t: 3,
    pid: 12,
    tid: 12,
    info: {
      image: "/tmp/x/tool (deleted)",
      argv: ["tool"],
      deletedImage: true,
      dev: 2049,
      ino: 7,
      from: { image: "kernel", file: "kernel" },
    },
  },
  {
    kind: "image_hash",
    t: 4,
    pid: 10,
    tid: 10,
    execT: 1,
    status: "ok",
    sha256: SHA,
    via: "exe",
    cached: true,
    size: 1265648,
  },
  {
    kind: "image_hash",
    t: 5,
    pid: 11,
    tid: 11,
    execT: 2,
    status: "gone",
    reason: "no-path",
    via: "path",
  },
  {
    kind: "image_hash",
    t: 6,
    pid: 12,
    tid: 12,
    execT: 3,
    status: "changed",
    reason: "ctime-after-exec",
    via: "path",
    size: 4096,
  },
  {
    kind: "image_hash",
    t: 7,
    pid: 12,
    tid: 12,
    execT: 3,
    status: "error",
    reason: "EACCES",
  },
  {
    kind: "image_hash",
    t: 8,
    pid: 12,
    tid: 12,
    execT: 3,
    status: "skipped",
    reason: "queue-full",
  },
];

const WINDOWS_EVENTS: ProcEvent[] = [
  {
    kind: "process_create",
    t: 1,
    pid: 4100,
    tid: 4104,
    ppid: 700,
    ptid: 0,
    creatorPid: 700,
    creatorTid: 701,
    start: 0,
    info: {
      image: "C:\\Windows\\System32\\cmd.exe",
      cmdline: "cmd.exe /c whoami",
      user: "S-1-5-21-123456789-1009719083-675233178-1001",
      sessionId: 1,
      integrityLevel: "High",
      hashes: `SHA1=A94A8FE5CCB19BA61C4C0873D391E987982FBBD3,SHA256=${SHA}`,
      sha256: SHA,
      originalFileName: "Cmd.Exe",
      description: "Windows Command Processor",
      product: "Microsoft Windows Operating System",
      company: "Microsoft Corporation",
      logonId: "0x3e7",
      logonGuid: "{00000000-0000-0000-0000-000000000000}",
      from: { image: "kernel", cred: "kernel" },
    },
  },
];

for (
  const [name, events, header] of [
    ["Linux", LINUX_EVENTS, LINUX_HEADER],
    ["Windows", WINDOWS_EVENTS, WINDOWS_HEADER],
  ] as const
) {
  Deno.test(`export jsonl then import jsonl keeps every identity and image hash field (${name})`, async () => {
    await withTempDir(async (dir) => {
      await writeRecording(`${dir}/a.cbor`, events, header);
      const exp = await procrec([
        "export",
        `${dir}/a.cbor`,
        "--format",
        "jsonl",
        "-o",
        `${dir}/a.jsonl`,
      ]);
      assertEquals(exp.code, 0, exp.stderr);
      const imp = await procrec([
        "import",
        "jsonl",
        `${dir}/a.jsonl`,
        "-o",
        `${dir}/b.cbor`,
      ]);
      assertEquals(imp.code, 0, imp.stderr);
      const a = await readRecording(`${dir}/a.cbor`);
      const b = await readRecording(`${dir}/b.cbor`);
      deepStrictEqual(a.events, events, "the recording as written");
      deepStrictEqual(b.events, a.events, "after export and import");
    });
  });
}
