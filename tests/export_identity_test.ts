/**
 * ECS and OCSF documents fit for SIEM rules: every exec carries its parent,
 * user (with the effective user of a setuid image), hash and container; a
 * death by a signal carries the signal; a lost span is a document.
 */
import { ecsMapper } from "../cli/interop/ecs_mapper.ts";
import { ocsfMapper } from "../cli/interop/ocsf_mapper.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { assertEquals } from "./_record_helpers.ts";

const ID = "c".repeat(64);
const HEADER = {
  host: "h",
  os: "linux" as const,
  bootId: "b",
  timeBase: { monoNs: 0n, utcNs: 0n },
};
const EVENTS: ProcEvent[] = [
  {
    kind: "accounts",
    t: 0,
    pid: 0,
    tid: 0,
    users: [[0, "root"], [65534, "nobody"]],
    groups: [[65534, "nogroup"]],
  },
  {
    kind: "process_create",
    t: 1,
    pid: 10,
    tid: 10,
    ppid: 1,
    ptid: 1,
    creatorPid: 1,
    creatorTid: 1,
    start: 1,
    info: { image: "/bin/sh", argv: ["sh", "-c", "x"], from: {} },
  },
  {
    kind: "process_create",
    t: 2,
    pid: 11,
    tid: 11,
    ppid: 10,
    ptid: 10,
    creatorPid: 10,
    creatorTid: 10,
    start: 2,
  },
  {
    kind: "exec",
    t: 3,
    pid: 11,
    tid: 11,
    info: {
      image: "/usr/bin/passwd",
      argv: ["passwd", "-S", "root"],
      uid: 65534,
      euid: 0,
      gid: 65534,
      egid: 65534,
      sha256: "ab".repeat(32),
      cgroup: `/system.slice/docker-${ID}.scope`,
      from: {},
    },
  },
  { kind: "lost", t: 4, pid: 0, tid: 0, reason: "ring_full", count: 7 },
  { kind: "process_exit", t: 5, pid: 11, tid: 11, status: 9 },
];

Deno.test("ECS: an exec is a start document with process.parent, hash, user with the effective user, group and container; a signal death carries the signal; a lost span is a document", () => {
  const map = ecsMapper(HEADER);
  const docs = EVENTS.map(map).filter((d) => d !== undefined) as Record<
    string,
    // deno-lint-ignore no-explicit-any
    any
  >[];
  const exec = docs.find((d) => d.event.action === "exec")!;
  assertEquals(exec.event.type, ["start"], "exec type");
  assertEquals(
    [exec.process.parent.pid, exec.process.parent.executable],
    [10, "/bin/sh"],
    "parent on exec",
  );
  assertEquals(exec.process.parent.args, ["sh", "-c", "x"], "parent args");
  assertEquals(exec.process.hash, { sha256: "ab".repeat(32) }, "hash");
  assertEquals(
    exec.user,
    { id: "65534", name: "nobody", effective: { id: "0", name: "root" } },
    "user",
  );
  assertEquals(exec.group, { id: "65534", name: "nogroup" }, "group");
  assertEquals(exec.container, { id: ID }, "container");
  const exit = docs.find((d) => d.event.action === "process_exit")!;
  assertEquals(exit.process.exit_code, 137, "exit code");
  assertEquals(exit.procrec.signal, { number: 9, name: "SIGKILL" }, "signal");
  assertEquals(exit.process.parent.pid, 10, "parent on exit");
  const lost = docs.find((d) => d.event.action === "lost")!;
  assertEquals(lost.event.kind, "pipeline_error", "lost kind");
  assertEquals(lost.procrec.lost, { reason: "ring_full", count: 7 }, "lost");
});

Deno.test("OCSF: an exec carries parent_process, file.hashes, container and actor.user; a signal death its signal; a lost span is an event", () => {
  const map = ocsfMapper(HEADER);
  const docs = EVENTS.map(map).filter((d) => d !== undefined) as Record<
    string,
    // deno-lint-ignore no-explicit-any
    any
  >[];
  const exec = docs.find((d) => d.activity_name === "Exec")!;
  assertEquals(exec.process.parent_process.pid, 10, "parent_process");
  assertEquals(
    exec.process.file.hashes,
    [{ algorithm_id: 3, algorithm: "SHA-256", value: "ab".repeat(32) }],
    "hashes",
  );
  assertEquals(exec.process.container, { uid: ID }, "container");
  assertEquals(exec.actor.user, { uid: "0", name: "root" }, "actor.user");
  assertEquals(exec.process.user, { uid: "65534", name: "nobody" }, "user");
  const exit = docs.find((d) => d.activity_name === "Terminate")!;
  assertEquals(exit.exit_code, 137, "exit code");
  assertEquals(exit.unmapped.signal, { number: 9, name: "SIGKILL" }, "signal");
  const lost = docs.find((d) => d.activity_name === "Lost")!;
  assertEquals(lost.unmapped.lost, { reason: "ring_full", count: 7 }, "lost");
});
