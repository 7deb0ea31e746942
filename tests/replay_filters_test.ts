/**
 * replay's filters and time forms against the golden fixtures (Linux and the
 * Windows-shaped one), and the user and kernel-thread filters on a forest
 * analysed from events: which processes each marks "*", that kinds combine
 * with AND and repeated values with OR, and that bad values exit 2.
 */
import {
  analyze,
  type Forest,
  selectProcesses,
  type TreeFilter,
} from "../cli/analysis/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import {
  assert,
  assertEquals,
  procrec as runProcrec,
  ROOT,
} from "./_record_helpers.ts";

const FAILING = "fixtures/failing.cbor"; // time base 2026-01-01T00:00:00Z
const WINDOWS = "fixtures/windows.cbor";

/** The pids replay marks as matching ("* "), sorted. */
async function marked(
  args: string[],
  env?: Record<string, string>,
): Promise<number[]> {
  const r = await runProcrec(["replay", ...args], { cwd: ROOT, env });
  assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return [...r.stdout.matchAll(/\* .*? \[(\d+)\]/g)].map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

Deno.test("--signal, --failed, --image, --cmdline select on the failing fixture; kinds AND, values OR", async () => {
  const cases: [string[], number[]][] = [
    [["--signal"], [1004, 1005, 1006]],
    [["--signal", "KILL", "--signal", "11"], [1005, 1006]],
    [["--signal", "sigterm"], [1004]],
    [["--signal", "any", "--signal", "9"], [1004, 1005, 1006]],
    [["--failed"], [1001, 1002, 1003, 1004, 1005, 1006]],
    [["--failed", "--signal", "TERM"], [1004]],
    [["--image", "sleep 10", "--image", "CRASHER"], [1003, 1004, 1005]],
    // the command text as the tree prints it, quotes included
    [["--image", "-c 'ls /non"], [1001]],
    [["--cmdline", "os\\.kill"], [1006]],
    [["--cmdline", "^sleep", "--cmdline", "^ls "], [1002, 1004]],
    [["--cmdline", "^sleep", "--failed", "--signal", "9"], []],
    [["--exclude-kthreads"], [1000, 1001, 1002, 1003, 1004, 1005, 1006]],
  ];
  for (const [args, want] of cases) {
    assertEquals(await marked([FAILING, ...args]), want, args.join(" "));
  }
});

Deno.test("time forms: offsets, ISO-8601 UTC and local clock times on the recording's day give the same window", async () => {
  const want = [1005, 1006]; // started at +1.010s and +1.012s
  const forms: [string, Record<string, string>?][] = [
    ["1s..2s"],
    ["1000ms..2"],
    ["2026-01-01T00:00:01Z..2026-01-01T00:00:02Z"],
    ["2026-01-01T01:00:01+01:00..2026-01-01T00:00:02.000Z"],
    ["00:00:01..00:00:02", { TZ: "UTC" }],
    ["01:00:01..01:00:02", { TZ: "Europe/Berlin" }],
  ];
  for (const [w, env] of forms) {
    assertEquals(await marked([FAILING, "--started-in", w], env), want, w);
  }
  assertEquals(await marked([FAILING, "--started-in", "0.5s..0.9s"]), []);
  // alive in the window: the sleeps that started before it, and bash
  const alive = await marked([FAILING, "--alive-in", "0.5s..0.9s"]);
  assertEquals(alive, [1000, 1003, 1004]);
  assertEquals(
    await marked([FAILING, "--from", "0.5s", "--to", "0.9s"]),
    alive,
  );
  assertEquals(
    await marked([FAILING, "--started-in", "0s..2s", "--signal"]),
    [1004, 1005, 1006],
  );
});

Deno.test("bad windows and values are usage errors (exit 2) that name the option", async () => {
  const bad: [string[], string][] = [
    [["--started-in", "2s..1s"], "inverted"],
    [["--started-in", "1s..1s"], "empty"],
    [["--started-in", "1s"], "FROM..TO"],
    [["--alive-in", "..2s"], "FROM..TO"],
    [["--from", "2s", "--to", "1s"], "inverted"],
    [["--started-in", "25:00..26:00"], "clock time"],
    [["--started-in", "yesterday..today"], "is not a time"],
    [["--signal", "bogus"], "not a signal"],
    [["--cmdline", "("], "not a regular expression"],
    [["--alive-in", "1s..2s", "--from", "1s"], "--alive-in"],
  ];
  for (const [args, text] of bad) {
    const r = await runProcrec(["replay", FAILING, ...args], { cwd: ROOT });
    assertEquals(r.code, 2, args.join(" "));
    assert(r.stderr.includes(text), `${args.join(" ")}: ${r.stderr}`);
    assertEquals(r.stdout, "");
  }
});

Deno.test("--summary summarizes the matching processes only", async () => {
  const r = await runProcrec(["replay", FAILING, "--summary", "--signal"], {
    cwd: ROOT,
  });
  assertEquals(r.code, 0, r.stderr);
  assert(/^processes: 3 \(3 exited/m.test(r.stdout), r.stdout);
  const all = await runProcrec(["replay", FAILING, "--summary"], { cwd: ROOT });
  assert(/^processes: 7 /m.test(all.stdout), all.stdout);
});

Deno.test("filters on the Windows-shaped fixture", async () => {
  const cases: [string[], number[]][] = [
    [["--failed"], [1016, 1044, 1064, 1076]],
    [["--image", "cmd.exe"], [1016]],
    [["--cmdline", "^ping -n"], [1024]],
    [["--image", "ping -n", "--failed"], [1016]],
    [["--signal"], []],
    [["--exclude-kthreads", "--image", "notepad"], [1052]],
  ];
  for (const [args, want] of cases) {
    assertEquals(await marked([WINDOWS, ...args]), want, args.join(" "));
  }
});

function create(pid: number, ppid: number, t: number): ProcEvent {
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
  };
}

async function hostForest(): Promise<Forest> {
  const events: ProcEvent[] = [
    {
      kind: "process_snapshot",
      t: 0,
      pid: 2,
      tid: 2,
      ppid: 0,
      start: 0,
      info: { comm: "kthreadd", from: {} },
    },
    {
      kind: "process_snapshot",
      t: 0,
      pid: 40,
      tid: 40,
      ppid: 2,
      start: 0,
      info: { comm: "kworker/0:1", from: {} },
    },
    create(100, 1, 10),
    {
      kind: "exec",
      t: 11,
      pid: 100,
      tid: 100,
      info: {
        image: "/usr/sbin/nginx",
        argv: ["nginx"],
        uid: 33,
        euid: 33,
        from: {},
      },
    },
    create(101, 1, 20),
    {
      kind: "exec",
      t: 21,
      pid: 101,
      tid: 101,
      info: {
        image: "/usr/bin/passwd",
        argv: ["passwd"],
        uid: 1000,
        euid: 0,
        from: {},
      },
    },
    create(102, 2, 30), // a kernel thread made while recording
  ];
  const f = await analyze(events, { os: "linux", bootId: "b" });
  f.accounts = {
    users: new Map([[0, "root"], [33, "www-data"], [1000, "alice"]]),
    groups: new Map(),
  };
  return f;
}

function pids(f: Forest, filter: TreeFilter): number[] {
  const { matched } = selectProcesses(f, filter);
  return f.processes.filter((n) => matched.has(n.id)).map((n) => n.pid)
    .sort((a, b) => a - b);
}

Deno.test("--user by name or uid, real or effective; --exclude-kthreads", async () => {
  const f = await hostForest();
  assertEquals(pids(f, { user: ["www-data"] }), [100]);
  assertEquals(pids(f, { user: ["33"] }), [100]);
  assertEquals(pids(f, { user: ["root"] }), [101]); // effective
  assertEquals(pids(f, { user: ["alice", "WWW-DATA"] }), [100, 101]);
  assertEquals(pids(f, { user: ["nobody"] }), []);
  assertEquals(pids(f, { excludeKthreads: true }), [100, 101]);
  assertEquals(
    pids(f, { excludeKthreads: true, user: ["alice"] }),
    [101],
  );
});

Deno.test("--events prints the flat timeline of the matching processes; --json makes JSON lines", async () => {
  const r = await runProcrec(
    ["replay", FAILING, "--events", "--signal", "KILL"],
    { cwd: ROOT },
  );
  assertEquals(r.code, 0, r.stderr);
  assertEquals(
    r.stdout.split("\n").filter((l) => l !== "").map((l) =>
      l.replace(/ +/g, " ")
    ),
    [
      "2026-01-01T00:00:01.012150000Z start pid 1006 ppid 1000 - bash",
      "2026-01-01T00:00:01.012350000Z exec pid 1006 ppid 1000 - python3 -c 'import os; os.kill(os.getpid(), 9)'",
      "2026-01-01T00:00:01.013380000Z exit pid 1006 ppid 1000 - signal 9 (SIGKILL)",
    ],
  );
  const j = await runProcrec(
    ["replay", FAILING, "--events", "--json", "--failed"],
    { cwd: ROOT },
  );
  assertEquals(j.code, 0, j.stderr);
  const rows = j.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(rows.filter((x) => x.event === "exit").length, 6);
  const times = rows.map((x) => x.t as number);
  assertEquals(times, [...times].sort((a, b) => a - b), "in time order");
  assertEquals(
    rows.find((x) => x.pid === 1001 && x.event === "exit")?.status,
    "exit 3",
  );
});
