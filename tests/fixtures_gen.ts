/**
 * Generates the recordings in `fixtures/` from known workloads, and their
 * golden outputs (tree, summary, diffs). The workloads are scripts on a small
 * simulator that hands out pids and times from a variant, so the same
 * workload can be produced with other pids, other times and other
 * interleavings of independent events.
 *
 * Regenerate with:
 *   node_modules/.bin/deno run --allow-all tests/fixtures_gen.ts
 * `tests/replay_fixtures_test.ts` checks that regenerating gives the same
 * outputs.
 *
 * @module
 */
import type { ProcessInfo, ProcEvent } from "../cli/events/types.ts";
import { type HeaderInit, RecordingWriter } from "../cli/log/mod.ts";
import {
  analyze,
  type Forest,
  renderSummary,
  renderTree,
  summarize,
} from "../cli/analysis/mod.ts";
import { diffForests, renderDiff } from "../cli/diff/mod.ts";

/** Which pids and times a workload gets. */
export interface Variant {
  /** First pid handed out. */
  pidBase: number;
  /** Time of the first event (ns since the time base). */
  t0: number;
  /** Seed of the jitter added to every step. */
  seed: number;
  /** Largest jitter per step, ns (default 0). */
  jitter?: number;
}

/** The default variant of the committed fixtures. */
export const BASE: Variant = { pidBase: 1000, t0: 1_000_000, seed: 1 };

/** A process of the simulator. */
export interface SimProcess {
  pid: number;
  threads: number[];
}

/** A tiny process simulator that writes events. */
export class Sim {
  readonly events: ProcEvent[] = [];
  t: number;
  #next: number;
  #rand: () => number;
  #jitter: number;
  readonly os: "linux" | "windows";

  constructor(os: "linux" | "windows", v: Variant) {
    this.os = os;
    this.t = v.t0;
    this.#next = v.pidBase;
    this.#jitter = v.jitter ?? 0;
    let x = v.seed >>> 0 || 1;
    this.#rand = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 0x100000000;
    };
  }

  /** Advances time by `ns` plus jitter. */
  step(ns = 1_000_000): number {
    this.t += ns + Math.floor(this.#rand() * this.#jitter);
    return this.t;
  }

  #pid(): number {
    // Windows ids are multiples of 4
    const p = this.#next;
    this.#next += this.os === "windows" ? 4 : 1;
    return p;
  }

  /** A process running before the recording began. */
  snapshot(ppid: number, info: Partial<ProcessInfo>, ago = 5e9): SimProcess {
    const pid = this.#pid();
    const tid = this.os === "windows" ? this.#pid() : pid;
    this.events.push({
      kind: "process_snapshot",
      t: this.t,
      pid,
      tid,
      ppid,
      start: this.t - ago,
      info: { from: { image: "proc", argv: "proc" }, ...info },
    });
    return { pid, threads: [tid] };
  }

  /** A new process (Linux: a fork, same image as the parent unless given). */
  spawn(
    parent: SimProcess | number,
    info?: Partial<ProcessInfo>,
    creator?: SimProcess,
  ): SimProcess {
    const ppid = typeof parent === "number" ? parent : parent.pid;
    const ptid = typeof parent === "number" ? parent : parent.threads[0];
    const pid = this.#pid();
    const tid = this.os === "windows" ? this.#pid() : pid;
    const t = this.step();
    this.events.push({
      kind: "process_create",
      t,
      pid,
      tid,
      ppid,
      ptid,
      creatorPid: creator?.pid ?? ppid,
      creatorTid: creator?.threads[0] ?? ptid,
      start: t,
      ...(info
        ? { info: { from: { image: "kernel", argv: "kernel" }, ...info } }
        : {}),
    });
    return { pid, threads: [tid] };
  }

  /** The process replaces its image (Linux); `more`: identity fields. */
  exec(
    p: SimProcess,
    image: string,
    argv: string[],
    more: Partial<ProcessInfo> = {},
  ): void {
    this.events.push({
      kind: "exec",
      t: this.step(200_000),
      pid: p.pid,
      tid: p.threads[0],
      info: { image, argv, from: { image: "kernel", argv: "kernel" }, ...more },
    });
  }

  /** A fork then exec (Linux), or a create with image and command line (Windows). */
  run(
    parent: SimProcess | number,
    image: string,
    argv: string[],
    more: Partial<ProcessInfo> = {},
  ): SimProcess {
    if (this.os === "windows") {
      return this.spawn(parent, { image, cmdline: argv.join(" "), ...more });
    }
    const p = this.spawn(parent);
    this.exec(p, image, argv, more);
    return p;
  }

  /** A new thread in `p`, created by `creator` (default `p` itself). */
  thread(p: SimProcess, creator: SimProcess = p): number {
    const tid = this.#pid();
    this.events.push({
      kind: "thread_create",
      t: this.step(100_000),
      pid: p.pid,
      tid,
      creatorPid: creator.pid,
      creatorTid: creator.threads[0],
    });
    p.threads.push(tid);
    return tid;
  }

  /** One thread ends while the process goes on. */
  threadExit(p: SimProcess, tid: number, status = 0): void {
    this.events.push({
      kind: "thread_exit",
      t: this.step(100_000),
      pid: p.pid,
      tid,
      status,
      ...(this.os === "windows" ? { processExiting: false } : {}),
    });
    p.threads = p.threads.filter((x) => x !== tid);
  }

  /** The process ends: its remaining threads exit in a burst, then it. */
  exit(p: SimProcess, status = 0, after = 1_000_000): void {
    this.step(after);
    const win = this.os === "windows";
    // Linux: the other threads first, the leader (tid == pid) last
    const order = [...p.threads.slice(1), p.threads[0]].filter((x) =>
      x !== undefined
    );
    for (const tid of order) {
      this.events.push({
        kind: "thread_exit",
        t: this.step(20_000),
        pid: p.pid,
        tid,
        status: win ? status : 0,
        ...(win ? { processExiting: true } : {}),
      });
    }
    p.threads = [];
    this.events.push({
      kind: "process_exit",
      t: this.step(10_000),
      pid: p.pid,
      tid: p.pid,
      status,
    });
  }

  /** Events were lost here. */
  lost(reason: "ring_full" | "enobufs", count: number): void {
    this.events.push({
      kind: "lost",
      t: this.step(10_000),
      pid: 0,
      tid: 0,
      reason,
      count: reason === "enobufs" ? 0 : count,
      ...(reason === "enobufs" ? { countUnknown: true } : {}),
    });
  }
}

/** Linux wait status of an exit code. */
export const code = (c: number): number => c << 8;

/** A workload: a name, its OS and a script. */
export interface Workload {
  name: string;
  os: "linux" | "windows";
  script: (s: Sim) => void;
}

const SH = "/usr/bin/sh";

/** The fixture workloads. */
export const WORKLOADS: Workload[] = [
  {
    name: "pipeline",
    os: "linux",
    script: (s) => {
      const bash = s.snapshot(1, { image: "/usr/bin/bash", argv: ["-bash"] });
      const sh = s.run(bash, SH, [
        "sh",
        "-c",
        "cat /etc/passwd | grep root | wc -l",
      ]);
      const cat = s.run(sh, "/usr/bin/cat", ["cat", "/etc/passwd"]);
      const grep = s.run(sh, "/usr/bin/grep", ["grep", "root"]);
      const wc = s.run(sh, "/usr/bin/wc", ["wc", "-l"]);
      s.exit(cat, 0);
      s.exit(grep, 0);
      s.exit(wc, 0);
      s.exit(sh, 0);
    },
  },
  {
    name: "make",
    os: "linux",
    script: (s) => {
      const bash = s.snapshot(1, { image: "/usr/bin/bash", argv: ["bash"] });
      const make = s.run(bash, "/usr/bin/make", ["make", "-j2"]);
      const jobs = ["a", "b"].map((f) => {
        const sh = s.run(make, SH, ["sh", "-c", `gcc -c ${f}.c -o ${f}.o`]);
        const gcc = s.run(sh, "/usr/bin/gcc", [
          "gcc",
          "-c",
          `${f}.c`,
          "-o",
          `${f}.o`,
        ]);
        return { f, sh, gcc };
      });
      // the two jobs run concurrently: their events interleave
      const cc1 = jobs.map(({ f, gcc }) =>
        s.run(gcc, "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", [
          "cc1",
          `${f}.c`,
          "-o",
          `/tmp/cc${f === "a" ? "Xq12ab" : "Pz98cd"}.s`,
        ])
      );
      cc1.forEach((p) => s.exit(p, 0));
      const as = jobs.map(({ f, gcc }) =>
        s.run(gcc, "/usr/bin/as", [
          "as",
          "-o",
          `${f}.o`,
          `/tmp/cc${f === "a" ? "Xq12ab" : "Pz98cd"}.s`,
        ])
      );
      as.forEach((p) => s.exit(p, 0));
      jobs.forEach(({ sh, gcc }) => {
        s.exit(gcc, 0);
        s.exit(sh, 0);
      });
      const link = s.run(make, "/usr/bin/gcc", [
        "gcc",
        "-o",
        "app",
        "a.o",
        "b.o",
      ]);
      const collect = s.run(link, "/usr/libexec/gcc/collect2", [
        "collect2",
        "-o",
        "app",
      ]);
      const ld = s.run(collect, "/usr/bin/ld", [
        "ld",
        "-o",
        "app",
        "a.o",
        "b.o",
      ]);
      // a multi-threaded linker: its workers exit with it
      s.thread(ld);
      s.thread(ld);
      s.thread(ld);
      s.exit(ld, 0, 5_000_000);
      s.exit(collect, 0);
      s.exit(link, 0);
      s.exit(make, 0);
    },
  },
  {
    name: "failing",
    os: "linux",
    script: (s) => {
      const bash = s.snapshot(1, { image: "/usr/bin/bash", argv: ["bash"] });
      const sh = s.run(bash, SH, ["sh", "-c", "ls /nonexistent; exit 3"]);
      const ls = s.run(sh, "/usr/bin/ls", ["ls", "/nonexistent"]);
      s.exit(ls, code(2));
      s.exit(sh, code(3));
      const to = s.run(bash, "/usr/bin/timeout", [
        "timeout",
        "1",
        "sleep",
        "10",
      ]);
      const sl = s.run(to, "/usr/bin/sleep", ["sleep", "10"]);
      s.exit(sl, 15, 1_000_000_000);
      s.exit(to, code(124));
      const crash = s.run(bash, "/opt/app/crasher", [
        "./crasher",
        "--seed=31337",
      ]);
      s.exit(crash, 0x80 | 11);
      const k = s.run(bash, "/usr/bin/python3", [
        "python3",
        "-c",
        "import os; os.kill(os.getpid(), 9)",
      ]);
      s.exit(k, 9);
    },
  },
  {
    name: "orphans",
    os: "linux",
    script: (s) => {
      const init = s.snapshot(0, {
        image: "/usr/lib/systemd/systemd",
        argv: ["/sbin/init"],
      });
      const bash = s.snapshot(init.pid, {
        image: "/usr/bin/bash",
        argv: ["bash"],
      }, 3e9);
      const sh = s.run(bash, SH, ["sh", "-c", "(sleep 5 &); exit 0"]);
      const sub = s.spawn(sh); // the ( ) subshell: a fork without exec
      const sleep = s.run(sub, "/usr/bin/sleep", ["sleep", "5"]);
      s.exit(sub, 0);
      s.exit(sh, 0);
      // a daemon: double fork, the grandchild outlives both
      const d = s.run(bash, "/usr/sbin/exampled", ["exampled", "--daemon"]);
      const d1 = s.spawn(d);
      const d2 = s.spawn(d1);
      s.exit(d1, 0);
      s.exit(d, 0);
      // the daemon's worker thread ends on its own, long before anything else
      const w = s.thread(d2);
      s.step(50_000_000);
      s.threadExit(d2, w);
      s.lost("ring_full", 12);
      s.step(2_000_000_000);
      s.exit(sleep, 0);
      // d2 is still running when the recording ends
    },
  },
  {
    name: "windows",
    os: "windows",
    script: (s) => {
      const sys = "C:\\Windows\\System32\\";
      const services = s.snapshot(600, {
        image: `${sys}services.exe`,
        cmdline: `${sys}services.exe`,
      });
      const explorer = s.snapshot(5012, {
        image: "C:\\Windows\\explorer.exe",
        cmdline: "C:\\Windows\\Explorer.EXE",
      });
      const cmd = s.run(explorer, `${sys}cmd.exe`, [
        `"${sys}cmd.exe"`,
        "/c",
        "ping -n 1 127.0.0.1 & exit /b 1",
      ]);
      const ping = s.run(cmd, `${sys}PING.EXE`, [
        "ping",
        "-n",
        "1",
        "127.0.0.1",
      ]);
      s.thread(ping);
      s.exit(ping, 0);
      s.exit(cmd, 1);
      // a dropper spawns rundll32 with explorer as the reported parent
      const evil = s.run(
        explorer,
        "C:\\Users\\bob\\AppData\\Local\\Temp\\a1b2c3\\setup.exe",
        ["setup.exe", "/S"],
      );
      const spoofed = s.spawn(explorer, {
        image: `${sys}rundll32.exe`,
        cmdline:
          `rundll32.exe C:\\Users\\bob\\AppData\\Local\\Temp\\a1b2c3\\x.dll,Start`,
      }, evil);
      // and injects a thread into notepad
      const notepad = s.run(explorer, `${sys}notepad.exe`, ["notepad.exe"]);
      s.thread(notepad, evil);
      const crash = s.run(services, "C:\\Program Files\\Vendor\\agent.exe", [
        "agent.exe",
        "--service",
      ]);
      const w = s.thread(crash);
      s.threadExit(crash, w);
      s.exit(crash, 0xC0000005);
      const gs = s.run(explorer, "C:\\Tools\\bad.exe", ["bad.exe"]);
      s.exit(gs, 0xC0000409);
      s.exit(spoofed, 0xC000013A);
      s.exit(evil, 0);
      s.exit(notepad, 0);
    },
  },
];

const HASH_SUDO =
  "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
const HASH_NGINX =
  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const HASH_PAYLOAD =
  "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
const CONTAINER =
  "3f4e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";

/**
 * Workloads whose processes carry identity: users, setuid, hashes, a
 * container, a fileless image, cut arguments (Linux), and Sysmon-style
 * hashes and users (Windows). Separate from {@link WORKLOADS}, whose
 * recordings other tests pin.
 */
export const IDENTITY_WORKLOADS: Workload[] = [
  {
    name: "identity",
    os: "linux",
    script: (s) => {
      const alice = { uid: 1000, euid: 1000, gid: 1000, egid: 1000 };
      const bash = s.snapshot(1, {
        image: "/usr/bin/bash",
        argv: ["-bash"],
        ...alice,
      });
      const sudo = s.run(bash, "/usr/bin/sudo", ["sudo", "id"], {
        ...alice,
        euid: 0,
        sha256: HASH_SUDO,
      });
      s.exit(sudo, 0);
      const web = s.run(
        bash,
        "/usr/sbin/nginx",
        ["nginx", "-g", "daemon off;"],
        {
          uid: 33,
          euid: 33,
          gid: 33,
          egid: 33,
          sha256: HASH_NGINX,
          cgroup: `/system.slice/docker-${CONTAINER}.scope`,
        },
      );
      const worker = s.spawn(web); // a worker: forked, never exec'd
      const mem = s.run(bash, "/memfd:payload (deleted)", ["payload"], {
        ...alice,
        fileless: true,
        sha256: HASH_PAYLOAD,
      });
      s.exit(mem, 9);
      const long = ["curl", "-s", "https://example.invalid/" + "a".repeat(64)];
      const curl = s.run(bash, "/usr/bin/curl", long, {
        ...alice,
        argvTruncated: true,
      });
      s.exit(curl, code(6));
      s.exit(worker, 0);
    },
  },
  {
    name: "windows_identity",
    os: "windows",
    script: (s) => {
      const sys = "C:\\Windows\\System32\\";
      const explorer = s.snapshot(5012, {
        image: "C:\\Windows\\explorer.exe",
        cmdline: "C:\\Windows\\Explorer.EXE",
        user: "CORP\\bob",
      });
      const ps = s.run(
        explorer,
        `${sys}WindowsPowerShell\\v1.0\\powershell.exe`,
        [
          "powershell.exe",
          "-enc",
          "SQBFAFgA",
        ],
        {
          user: "CORP\\bob",
          sha256: HASH_NGINX.toUpperCase(),
          hashes:
            `SHA1=A94A8FE5CCB19BA61C4C0873D391E987982FBBD3,MD5=098F6BCD4621D373CADE4E832627B4F6,SHA256=${HASH_NGINX.toUpperCase()},IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744`,
        },
      );
      const who = s.run(ps, `${sys}whoami.exe`, ["whoami.exe", "/all"], {
        user: "CORP\\bob",
        hashes:
          `MD5=5A105E8B9D40E1329780D62EA2265D8A,SHA256=${HASH_SUDO.toUpperCase()}`,
      });
      s.exit(who, 0);
      s.exit(ps, 1);
    },
  },
];

/** The events of a workload under a variant. */
export function workloadEvents(w: Workload, v: Variant = BASE): ProcEvent[] {
  const s = new Sim(w.os, v);
  w.script(s);
  return s.events;
}

/** The header of a fixture recording. */
export function fixtureHeader(
  os: "linux" | "windows",
  name: string,
): HeaderInit {
  return {
    host: "fixture-host",
    os,
    kernel: os === "windows" ? "10.0.22631" : "6.1.0-fixture",
    bootId: `fixture-boot-${name}`,
    timeBase: { monoNs: 1_000_000_000n, utcNs: 1_767_225_600_000_000_000n },
    clock: { source: "fixture", monoToUtcNs: 1_767_225_599_000_000_000n },
    tool: { name: "procrec", version: "fixture" },
    source: { name: "fixture", reason: "generated by tests/fixtures_gen.ts" },
    options: {},
  };
}

/** Writes events as a recording (small chunks, so that damage tests have several). */
export async function writeRecording(
  path: string,
  os: "linux" | "windows",
  name: string,
  events: ProcEvent[],
  chunkEvents = 8,
): Promise<void> {
  const w = await RecordingWriter.create(path, fixtureHeader(os, name), {
    chunkEvents,
    flushIntervalMs: 0,
    overwrite: true,
  });
  for (const e of events) w.write(e);
  await w.close();
}

/** The second variant: other pids, other times (`*_b.cbor`). */
export const OTHER: Variant = {
  pidBase: 23000,
  t0: 7_000_000,
  seed: 99,
  jitter: 300_000,
};

/** Outputs whose text is committed beside the recordings. */
export function goldenOutputs(
  name: string,
  forest: Forest,
): Record<string, string> {
  return {
    [`${name}.tree.txt`]: renderTree(forest),
    [`${name}.summary.txt`]: renderSummary(summarize(forest)),
  };
}

/** Diffs committed as golden outputs: [name, a, b]. */
export const GOLDEN_DIFFS: [string, string, string][] = [
  ["pipeline_vs_failing", "pipeline.cbor", "failing.cbor"],
  ["make_vs_make_b", "make.cbor", "make_b.cbor"],
  ["make_vs_make_broken", "make.cbor", "make_broken.cbor"],
];

/** `make` with one change of each kind: a link that fails, an extra job, a missing cc1 of b.c, another flag. */
export const MAKE_BROKEN: Workload = {
  name: "make_broken",
  os: "linux",
  script: (s) => {
    const events = workloadEvents(WORKLOADS[1], BASE);
    // start from the base make and alter it
    const out: ProcEvent[] = [];
    let bCc1: number | undefined;
    for (const e of events) {
      if (
        e.kind === "exec" && e.info.argv?.[0] === "cc1" &&
        e.info.argv[1] === "b.c"
      ) {
        bCc1 = e.pid;
      }
    }
    for (const e of events) {
      if (bCc1 !== undefined && e.pid === bCc1) continue; // cc1 of b.c removed
      if (e.kind === "exec" && e.info.argv?.[0] === "ld") {
        out.push({
          ...e,
          info: { ...e.info, argv: [...e.info.argv, "--as-needed"] },
        });
        continue;
      }
      out.push(e);
    }
    // the link (gcc -o app) fails
    const linkGcc = events.find((e) =>
      e.kind === "exec" && e.info.argv?.[0] === "gcc" && e.info.argv[1] === "-o"
    )!;
    for (let i = 0; i < out.length; i++) {
      const e = out[i];
      if (e.kind === "process_exit" && e.pid === linkGcc.pid) {
        out[i] = { ...e, status: code(1) };
      }
    }
    s.events.push(...out);
    // an extra job under make, just before make's last thread exits
    const end = s.events.findIndex((e) =>
      e.kind === "thread_exit" && e.pid === 1001
    );
    const T = s.events[end].t;
    const info = { from: { image: "kernel", argv: "kernel" } } as const;
    s.events.splice(
      end,
      0,
      {
        kind: "process_create",
        t: T - 400_000,
        pid: 5000,
        tid: 5000,
        ppid: 1001,
        ptid: 1001,
        creatorPid: 1001,
        creatorTid: 1001,
        start: T - 400_000,
      },
      {
        kind: "exec",
        t: T - 300_000,
        pid: 5000,
        tid: 5000,
        info: { ...info, image: "/usr/bin/strip", argv: ["strip", "app"] },
      },
      { kind: "thread_exit", t: T - 200_000, pid: 5000, tid: 5000, status: 0 },
      { kind: "process_exit", t: T - 100_000, pid: 5000, tid: 5000, status: 0 },
    );
  },
};

/** Generates every fixture into `dir`; returns the files written (name to text for outputs). */
export async function generateFixtures(
  dir: string,
): Promise<Map<string, string>> {
  const outputs = new Map<string, string>();
  const forests = new Map<string, Forest>();
  const all: [Workload, Variant, string][] = [
    ...WORKLOADS.map((w) => [w, BASE, w.name] as [Workload, Variant, string]),
    [WORKLOADS[1], OTHER, "make_b"],
    [WORKLOADS[0], OTHER, "pipeline_b"],
    [WORKLOADS[4], OTHER, "windows_b"],
    [MAKE_BROKEN, BASE, "make_broken"],
    ...IDENTITY_WORKLOADS.map((w) =>
      [w, BASE, w.name] as [Workload, Variant, string]
    ),
  ];
  for (const [w, v, name] of all) {
    const events = workloadEvents(w, v);
    await writeRecording(`${dir}/${name}.cbor`, w.os, name, events);
    const forest = await analyze(events, {
      os: w.os,
      bootId: `fixture-boot-${name}`,
    });
    forests.set(`${name}.cbor`, forest);
    for (const [file, text] of Object.entries(goldenOutputs(name, forest))) {
      outputs.set(file, text);
    }
  }
  for (const [name, a, b] of GOLDEN_DIFFS) {
    const d = diffForests(forests.get(a)!, forests.get(b)!);
    outputs.set(`${name}.diff.txt`, renderDiff(d, a, b));
  }
  for (const [file, text] of outputs) {
    await Deno.writeTextFile(`${dir}/${file}`, text);
  }
  return outputs;
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? new URL("../fixtures", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const out = await generateFixtures(dir);
  console.log(`wrote ${out.size} outputs and their recordings to ${dir}`);
}
