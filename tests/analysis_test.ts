/**
 * The analysis on hand-made event streams: identity, ancestry, exec chains,
 * threads, exit decoding, flags and invariant reports; and one code path:
 * the builder fed live gives the same summary as the replay of the recording.
 */
import {
  analyze,
  decodeExitStatus,
  ForestBuilder,
  type ProcessNode,
  renderSummary,
  renderTree,
  summarize,
} from "../cli/analysis/mod.ts";
import { diffForests, renderDiff } from "../cli/diff/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import {
  Sim,
  workloadEvents,
  WORKLOADS,
  writeRecording,
} from "./fixtures_gen.ts";
import { assertEquals, withTempDir } from "./_record_helpers.ts";
import { processCreate } from "./_recording_helpers.ts";

const LINUX = { os: "linux", bootId: "boot-1" } as const;
const WIN = { os: "windows", bootId: "boot-w" } as const;

const create = processCreate;

const exit = (t: number, pid: number, status = 0): ProcEvent => ({
  kind: "process_exit",
  t,
  pid,
  tid: pid,
  status,
});

const byPid = (ps: ProcessNode[], pid: number) =>
  ps.filter((p) => p.pid === pid);

Deno.test("analyze() never merges two processes that reuse a pid", async () => {
  const f = await analyze([
    create(1, 10, 1),
    exit(2, 10),
    create(3, 10, 1),
    exit(4, 10, 0x100),
  ], LINUX);
  const ps = byPid(f.processes, 10);
  assertEquals(ps.length, 2);
  if (ps[0].id === ps[1].id) throw new Error("same id");
  assertEquals(ps.map((p) => p.exit?.text), ["exit 0", "exit 1"]);
});

Deno.test("analyze() flags a pid reused before the old exit was seen", async () => {
  const f = await analyze([create(1, 10, 1), create(5, 10, 1)], LINUX);
  assertEquals(byPid(f.processes, 10).map((p) => p.flags), [
    ["exit-missing"],
    [],
  ]);
});

Deno.test("analyze() keeps both images of a process that execs twice", async () => {
  const info = (image: string) => ({
    image,
    argv: [image],
    from: { image: "kernel" as const },
  });
  const f = await analyze([
    create(1, 10, 1, { info: { image: "/bin/sh", argv: ["sh"], from: {} } }),
    { kind: "exec", t: 2, pid: 10, tid: 10, info: info("/usr/bin/env") },
    { kind: "exec", t: 3, pid: 10, tid: 10, info: info("/usr/bin/python3") },
  ], LINUX);
  const p = f.processes[0];
  assertEquals(p.execs.map((e) => [e.via, e.image]), [
    ["create", "/bin/sh"],
    ["exec", "/usr/bin/env"],
    ["exec", "/usr/bin/python3"],
  ]);
  assertEquals(p.image, "/usr/bin/python3");
  assertEquals(p.execs[1].from, { image: "kernel" });
});

Deno.test("analyze() keeps the creating parent and flags re-parenting", async () => {
  const f = await analyze([
    create(1, 10, 1),
    create(2, 11, 10),
    exit(3, 10),
    exit(9, 11),
  ], LINUX);
  const [parent, child] = f.processes;
  assertEquals(child.parentId, parent.id);
  assertEquals(child.flags, ["reparented"]);
  assertEquals(child.reparentedAt, 3);
  assertEquals(parent.flags, []);
});

Deno.test("analyze() keeps parent and creator when they differ (Windows)", async () => {
  const f = await analyze([
    create(1, 100, 4),
    create(2, 200, 4),
    create(3, 300, 100, { creatorPid: 200, creatorTid: 204 }),
  ], WIN);
  const p = byPid(f.processes, 300)[0];
  assertEquals(p.parentId, byPid(f.processes, 100)[0].id);
  assertEquals(p.creatorId, byPid(f.processes, 200)[0].id);
  assertEquals(p.flags, ["parent-differs-from-creator"]);
});

Deno.test("analyze() classifies thread exits: teardown, standalone, last-thread, remote", async () => {
  const s = new Sim("linux", { pidBase: 50, t0: 0, seed: 1 });
  const p = s.run(1, "/bin/app", ["app"]);
  const worker = s.thread(p);
  s.thread(p);
  s.thread(p);
  s.step(100_000_000);
  s.threadExit(p, worker);
  s.step(100_000_000);
  s.exit(p, 0);
  const f = await analyze(s.events, LINUX);
  const th = f.processes[0].threads;
  assertEquals(th.length, 4);
  assertEquals(th.map((x) => [x.main, x.exitClass]), [
    [true, "last-thread"],
    [false, "standalone"],
    [false, "teardown"],
    [false, "teardown"],
  ]);
  const w = new Sim("windows", { pidBase: 400, t0: 0, seed: 1 });
  const victim = w.run(4, "C:\\Windows\\notepad.exe", ["notepad.exe"]);
  const evil = w.run(4, "C:\\evil.exe", ["evil.exe"]);
  w.thread(victim, evil);
  w.exit(victim, 0);
  const g = await analyze(w.events, WIN);
  const v = g.processes.find((x) => x.image === "C:\\Windows\\notepad.exe")!;
  assertEquals(v.threads.map((x) => [x.remote, x.creatorPid, x.exitClass]), [
    // the OS said the process was exiting: teardown; the last one ends it
    [false, 4, "last-thread"],
    [true, evil.pid, "teardown"],
  ]);
});

Deno.test("analyze() takes a thread's remote verdict from the source (PR_F_REMOTE), not from its creator", async () => {
  // a Windows process made by 700: its first thread is made by 700 too
  const create: ProcEvent = {
    kind: "process_create",
    t: 0,
    pid: 4100,
    tid: 0,
    ppid: 700,
    ptid: 701,
    creatorPid: 700,
    creatorTid: 701,
    start: 0,
  };
  const thread = (t: number, tid: number, remote?: boolean): ProcEvent => ({
    kind: "thread_create",
    t,
    pid: 4100,
    tid,
    creatorPid: 700,
    creatorTid: 701,
    ...(remote === undefined ? {} : { remote }),
  });
  const remoteOf = async (events: ProcEvent[]) =>
    (await analyze(events, WIN)).processes[0].threads
      .filter((x) => x.tid !== 0).map((x) => x.remote);
  // the driver's verdict: first thread not remote, a later one remote
  assertEquals(
    await remoteOf([create, thread(1, 4104, false), thread(2, 4112, true)]),
    [false, true],
  );
  // without a verdict (older recordings): another process made it
  assertEquals(await remoteOf([create, thread(1, 4104)]), [true]);
});

Deno.test("analyze() marks snapshots, processes seen without a create and lost spans", async () => {
  const f = await analyze([
    { kind: "process_snapshot", t: 0, pid: 5, tid: 5, ppid: 1, start: -100 },
    create(10, 6, 5),
    { kind: "lost", t: 20, pid: 0, tid: 0, reason: "ring_full", count: 7 },
    { kind: "exec", t: 30, pid: 7, tid: 7, info: { image: "/x", from: {} } },
    create(40, 8, 5),
    exit(50, 8),
  ], LINUX);
  const flags = Object.fromEntries(f.processes.map((p) => [p.pid, p.flags]));
  assertEquals(flags, {
    5: ["existing-before-recording", "in-lost-span"],
    6: ["in-lost-span"],
    7: ["seen-without-create"],
    8: [],
  });
  assertEquals(f.lost, [{
    from: 10,
    to: 20,
    reason: "ring_full",
    count: 7,
    countUnknown: false,
  }]);
  assertEquals(summarize(f).lost.events, 7);
});

Deno.test("analyze() reports broken invariants instead of throwing", async () => {
  const f = await analyze([
    create(10, 20, 1, { start: 10 }),
    create(11, 21, 20, { start: 5 }),
    exit(12, 20),
    { kind: "thread_exit", t: 13, pid: 20, tid: 20, status: 0 },
    exit(14, 99),
  ], LINUX);
  assertEquals(f.problems.map((p) => p.type), [
    "child-before-parent",
    "thread-exit-after-process-exit",
    "exit-without-create",
  ]);
  assertEquals(byPid(f.processes, 99)[0].flags, ["seen-without-create"]);
});

Deno.test("decodeExitStatus() decodes Linux wait statuses and Windows NTSTATUS", () => {
  const l = (v: number) => decodeExitStatus(v, "linux").text;
  const w = (v: number) => decodeExitStatus(v, "windows").text;
  assertEquals([l(0), l(0x300), l(9), l(0x8b), l(15)], [
    "exit 0",
    "exit 3",
    "signal 9 (SIGKILL)",
    "signal 11 (SIGSEGV, core dumped)",
    "signal 15 (SIGTERM)",
  ]);
  assertEquals([
    w(0),
    w(1),
    w(0xC0000005),
    w(0xC000013A),
    w(0xC0000409),
    w(0xC0001234),
  ], [
    "exit 0",
    "exit 1",
    "0xC0000005 STATUS_ACCESS_VIOLATION",
    "0xC000013A STATUS_CONTROL_C_EXIT",
    "0xC0000409 STATUS_STACK_BUFFER_OVERRUN",
    "0xC0001234",
  ]);
  assertEquals(decodeExitStatus(0, "windows", true).kind, "unknown");
});

Deno.test("the live builder and the replay of its recording give the same summary", async () => {
  await withTempDir(async (dir) => {
    for (const w of WORKLOADS) {
      const events = workloadEvents(w);
      // live: event by event, as `procrec record` does
      const live = new ForestBuilder({
        os: w.os,
        bootId: `fixture-boot-${w.name}`,
      });
      for (const e of events) live.add(e);
      const liveText = renderSummary(summarize(live.finish()));
      await writeRecording(`${dir}/${w.name}.cbor`, w.os, w.name, events);
      const r = await RecordingReader.open(`${dir}/${w.name}.cbor`);
      const replayed = await analyze(r.events(), {
        os: r.header.os,
        bootId: r.header.bootId,
      });
      assertEquals(renderSummary(summarize(replayed)), liveText, w.name);
    }
  });
});

Deno.test("a finished builder refuses more events", () => {
  const b = new ForestBuilder(LINUX);
  b.finish();
  let threw = false;
  try {
    b.add(create(1, 2, 1));
  } catch {
    threw = true;
  }
  assertEquals(threw, true);
});

Deno.test("deep and wide trees render, sum up and diff without overflowing the stack", async () => {
  const deep: ProcEvent[] = [];
  for (let i = 0; i < 20_000; i++) {
    deep.push(create(i + 1, 100 + i, i === 0 ? 1 : 99 + i));
  }
  const wide: ProcEvent[] = [create(1, 2, 1)];
  for (let i = 0; i < 130_000; i++) wide.push(create(i + 2, 10 + i, 2));
  for (const events of [deep, wide]) {
    const f = await analyze(events, LINUX);
    const g = await analyze(events.slice(0, -1), LINUX);
    const text = renderTree(f);
    if (events === deep && !text.includes("(depth 19999) ")) {
      throw new Error("indentation not capped");
    }
    if (text.split("\n").length !== events.length + 1) throw new Error("lines");
    renderSummary(summarize(f));
    const d = diffForests(f, g);
    assertEquals([d.added.length, d.removed.length, d.changed.length], [
      0,
      1,
      0,
    ]);
    renderDiff(d, "a", "b");
  }
});

Deno.test("renderTree() keeps a process on one line: newlines, C1 and bidi controls in argv and image are escaped", async () => {
  const evil = "x\n[fake] INTACT\u009b2J\u202egnp.exe";
  const f = await analyze([
    create(1, 10, 1, {
      info: { image: `/tmp/${evil}`, argv: ["sh", evil], from: {} },
    }),
  ], LINUX);
  const text = renderTree(f);
  assertEquals(text.trimEnd().split("\n").length, 1, text);
  assertEquals(/[\u0080-\u009f\u202a-\u202e]/.test(text), false, text);
  assertEquals(text.includes("\\u009b2J"), true, text);
});

Deno.test("analyze() gives an exec rule's decision to the process that held the pid then, when it came before the exit of the pid's last holder (the enforcer reports at once, the kernel source a little later)", async () => {
  const denied = (t: number): ProcEvent => ({
    kind: "exec_denied",
    t,
    pid: 100,
    tid: 100,
    rule: "r",
    image: "/tmp/evil",
    ppid: 1,
    uid: 0,
    euid: 0,
  });
  const f = await analyze([
    create(0, 100, 1),
    denied(30), // sshd's own, while it ran
    denied(61), // the new holder's, before the old one's exit is known
    { kind: "process_exit", t: 50, pid: 100, tid: 100, status: 0 },
    create(60, 100, 1),
  ], LINUX);
  assertEquals(
    f.processes.map((p) => [p.start, p.decisions?.map((d) => d.t)]),
    [[0, [30]], [60, [61]]],
  );
});

Deno.test("analyze() lists a process's flags in their fixed order, whatever order they came in", async () => {
  const f = await analyze([
    create(1, 10, 1),
    create(2, 11, 10),
    // a name of its own that is not UTF-8, then its parent's exit, then
    // its pid taken again before its exit was seen
    { kind: "comm", t: 3, pid: 11, tid: 11, comm: "\ufffd", notUtf8: true },
    { kind: "process_exit", t: 5, pid: 10, tid: 10, status: 0 },
    create(8, 11, 1),
  ], LINUX);
  assertEquals(
    f.processes.find((p) => p.pid === 11 && p.start === 2)?.flags,
    ["reparented", "exit-missing", "comm-not-utf8"],
  );
});

Deno.test("analyze() links a snapshot to its parent's snapshot whatever their order, and not to one that started after it", async () => {
  const snap = (pid: number, ppid: number, start: number): ProcEvent => ({
    kind: "process_snapshot",
    t: 0,
    pid,
    tid: pid,
    ppid,
    start,
  });
  const f = await analyze([
    snap(30, 20, -50), // its parent's snapshot comes after it
    snap(40, 50, -40), // its "parent" started after it (a reused pid)
    snap(20, 1, -90),
    snap(50, 1, -10),
    create(5, 60, 20), // a creation: linked as it comes
  ], LINUX);
  const parentOf = Object.fromEntries(
    f.processes.map((p) => [p.pid, f.byId.get(p.parentId ?? "")?.pid]),
  );
  assertEquals(parentOf, {
    20: undefined,
    30: 20,
    40: undefined,
    50: undefined,
    60: 20,
  });
  assertEquals(
    f.processes.map((p) => p.pid),
    [20, 30, 40, 50, 60],
    "in the forest's order",
  );
  assertEquals(
    f.byId.get(f.processes[0].id)?.children.map((id) => f.byId.get(id)?.pid),
    [30, 60],
  );
});

Deno.test("analyze() never closes a loop of parents: two snapshots that name each other as parent keep a root, and the tree shows them (found by review: all vanished)", async () => {
  const f = await analyze([
    // 10's parent 11 is not there yet; 11 comes as 10's child (10 runs),
    // then 10 would be linked under 11's snapshot: a loop
    { kind: "process_snapshot", t: 1, pid: 10, tid: 10, ppid: 11, start: -5 },
    { kind: "process_snapshot", t: 1, pid: 11, tid: 11, ppid: 10, start: -6 },
    create(2, 12, 10),
  ], LINUX);
  // every process reaches a root
  for (const p of f.processes) {
    const seen = new Set<string>();
    let q: ProcessNode | undefined = p;
    while (q?.parentId !== undefined && !seen.has(q.id)) {
      seen.add(q.id);
      q = f.byId.get(q.parentId);
    }
    assertEquals(q?.parentId, undefined, `process ${p.pid} is in a loop`);
  }
  const tree = renderTree(f);
  for (const pid of [10, 11, 12]) {
    assertEquals(tree.includes(`[${pid}]`), true, tree);
  }
  // a ring of three, its snapshots in any order: one root, all shown
  const ring = await analyze([
    { kind: "process_snapshot", t: 1, pid: 20, tid: 20, ppid: 22, start: -5 },
    { kind: "process_snapshot", t: 1, pid: 21, tid: 21, ppid: 20, start: -7 },
    { kind: "process_snapshot", t: 1, pid: 22, tid: 22, ppid: 21, start: -6 },
  ], LINUX);
  assertEquals(ring.roots.length, 1, JSON.stringify(ring.processes));
  const shown = renderTree(ring);
  for (const pid of [20, 21, 22]) {
    assertEquals(shown.includes(`[${pid}]`), true, shown);
  }
});

Deno.test("analyze() attaches decisions left pending to the latest process of their pid started by then, else to one it makes, which later ones then find", async () => {
  const denied = (t: number, pid: number): ProcEvent => ({
    kind: "exec_denied",
    t,
    pid,
    tid: pid,
    rule: "r",
    image: "/x",
    ppid: 1,
    uid: 0,
    euid: 0,
  });
  const f = await analyze([
    create(10, 100, 1),
    { kind: "process_exit", t: 20, pid: 100, tid: 100, status: 0 },
    create(30, 100, 1),
    { kind: "process_exit", t: 40, pid: 100, tid: 100, status: 0 },
    // after both exits: pending to the end
    denied(25, 100), // the first holder's time: it had ended (20), but started
    denied(35, 100), // the second's
    denied(50, 200), // no process 200: an implicit one is made at 50
    denied(60, 200), // and takes this one too
  ], LINUX);
  assertEquals(
    f.processes.map((p) => [p.pid, p.start, p.decisions?.map((d) => d.t)]),
    [[100, 10, [25]], [100, 30, [35]], [200, 50, [50, 60]]],
  );
});
