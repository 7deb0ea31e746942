import { SubtreeFilter } from "../cli/record/subtree_filter.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { assertEquals } from "./_record_helpers.ts";
import { imageHash, processCreate } from "./_recording_helpers.ts";

const create = (pid: number, ppid: number) => processCreate(0, pid, ppid);
const exit = (pid: number): ProcEvent => ({
  kind: "process_exit",
  t: 0,
  pid,
  tid: pid,
  status: 0,
});
const thread = (pid: number, tid: number): ProcEvent => ({
  kind: "thread_create",
  t: 0,
  pid,
  tid,
  creatorPid: pid,
  creatorTid: pid,
});
const lost: ProcEvent = {
  kind: "lost",
  t: 0,
  pid: 0,
  tid: 0,
  reason: "seq_gap",
  count: 3,
};

Deno.test("SubtreeFilter keeps the root, its descendants and every loss, and nothing else", () => {
  const f = new SubtreeFilter(100);
  const events = [
    create(100, 50), // the command itself, created by the recorder (pid 50)
    create(101, 100), // child
    create(200, 1), // unrelated
    create(102, 101), // grandchild
    thread(102, 103),
    thread(200, 201),
    lost,
    exit(200),
    exit(102),
    exit(101),
  ];
  assertEquals(events.map((e) => f.keep(e)), [
    true,
    true,
    false,
    true,
    true,
    false,
    true,
    false,
    true,
    true,
  ]);
});

Deno.test("SubtreeFilter does not take a reused pid for a process of the subtree", () => {
  const f = new SubtreeFilter(100);
  f.keep(create(101, 100));
  f.keep(exit(101));
  // pid 101 reused by a process outside the subtree
  assertEquals([f.keep(create(101, 7)), f.keep(exit(101))], [false, false]);
  // and again inside it
  assertEquals([f.keep(create(101, 100)), f.keep(thread(101, 150))], [
    true,
    true,
  ]);
});

Deno.test("SubtreeFilter keeps the root's exit and later events of the root's pid", () => {
  const f = new SubtreeFilter(100);
  assertEquals([f.keep(exit(100)), f.size], [true, 1]);
});

Deno.test("SubtreeFilter keeps the image hash of a member's exec that comes after its exit, and no other", () => {
  const f = new SubtreeFilter(100);
  const exec = (t: number, pid: number): ProcEvent => ({
    kind: "exec",
    t,
    pid,
    tid: pid,
    info: { image: "/bin/x", from: {} },
  });
  const hash = (t: number, pid: number, execT: number) =>
    imageHash(t, pid, execT, "ab");
  const events = [
    create(100, 50),
    create(101, 100),
    exec(5, 101),
    create(200, 1), // unrelated
    exec(6, 200),
    exit(101), // before its hash arrives
    hash(9, 101, 5),
    hash(9, 200, 6), // not a member's
    hash(10, 101, 5), // a second answer for the same exec: not kept
  ];
  const kept = events.filter((e) => f.keep(e)).map((e) =>
    `${e.kind} ${e.pid}${e.kind === "image_hash" ? ` ${e.t}` : ""}`
  );
  assertEquals(
    kept.join(", "),
    [
      "process_create 100",
      "process_create 101",
      "exec 101",
      "process_exit 101",
      "image_hash 101 9",
    ].join(", "),
  );
});

Deno.test("SubtreeFilter keeps a process a member made with CLONE_PARENT: by its creator, or by the root's own parent (the recorder) as its parent", () => {
  const f = new SubtreeFilter(100);
  const cloned = (pid: number, ppid: number, creator: number): ProcEvent => ({
    ...create(pid, ppid),
    creatorPid: creator,
  } as ProcEvent);
  assertEquals(
    [
      create(60, 50), // before the command: its parent is not known yet
      create(100, 50), // the command, started by the recorder (pid 50)
      cloned(101, 50, 100), // CLONE_PARENT by the command: its parent is the recorder
      cloned(102, 50, 0), // the same from a source that names no creator
      create(103, 101), // a child of that one
      cloned(104, 7, 103), // CLONE_PARENT by a member whose parent is outside
      create(200, 1), // unrelated
      cloned(201, 1, 200), // unrelated, made by an unrelated process
    ].map((e) => f.keep(e)),
    [false, true, true, true, true, true, false, false],
  );
});
