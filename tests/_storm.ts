/** The storm of the recording tests: build it, parse its ground truth, check a recording. */
import type { Exec, ProcEvent } from "../cli/events/types.ts";
import { ROOT } from "./_record_helpers.ts";

/** The storm's ground truth, parsed. */
export interface Truth {
  root: number;
  /** pid -> [parent, raw wait status] */
  procs: Map<number, [number, number]>;
  /** pid -> execs in order: [image, argv] */
  execs: Map<number, [string, string[]][]>;
  /** "pid/tid" of threads created and joined */
  threads: Set<string>;
  /** "pid/tid" of threads created that exec'd */
  execThreads: Set<string>;
}

/** Parses the truth file the storm wrote. */
export function parseTruth(text: string): Truth {
  const t: Truth = {
    root: 0,
    procs: new Map(),
    execs: new Map(),
    threads: new Set(),
    execThreads: new Set(),
  };
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [tag, a, b, ...rest] = line.split(" ");
    if (tag === "R") t.root = Number(a);
    else if (tag === "P") t.procs.set(Number(a), [Number(b), Number(rest[0])]);
    else if (tag === "X") {
      const list = t.execs.get(Number(a)) ?? [];
      list.push([b, rest.join(" ").split("\x1f")]);
      t.execs.set(Number(a), list);
    } else if (tag === "T") t.threads.add(`${a}/${b}`);
    else if (tag === "C") t.execThreads.add(`${a}/${b}`);
    else throw new Error(`bad truth line: ${line}`);
  }
  return t;
}

/** Builds the storm helper with gcc into `dir`; returns its path. */
export async function buildStorm(dir: string): Promise<string> {
  const out = `${dir}/storm`;
  const r = await new Deno.Command("gcc", {
    args: [
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-pthread",
      "-o",
      out,
      `${ROOT}tests/record_storm_helper.c`,
    ],
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(`gcc failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  return out;
}

/** Checks a recording against the storm's truth; returns figures. */
export function checkStorm(events: ProcEvent[], truth: Truth) {
  const creates = new Map<number, ProcEvent[]>();
  const exits = new Map<number, number[]>();
  const execs = new Map<number, Exec[]>();
  const tCreates = new Map<string, ProcEvent>();
  const tExits = new Set<string>();
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
    const l = m.get(k);
    if (l) l.push(v);
    else m.set(k, [v]);
  };
  let lost = 0;
  for (const e of events) {
    if (e.kind === "process_create") push(creates, e.pid, e);
    else if (e.kind === "process_exit") push(exits, e.pid, e.status);
    else if (e.kind === "exec") push(execs, e.pid, e);
    else if (e.kind === "thread_create") tCreates.set(`${e.pid}/${e.tid}`, e);
    else if (e.kind === "thread_exit") tExits.add(`${e.pid}/${e.tid}`);
    else if (e.kind === "lost") lost += e.count || 1;
  }
  const errors: string[] = [];
  const err = (s: string) => errors.length < 30 && errors.push(s);
  if (lost) err(`${lost} events lost`);

  const rootExit = exits.get(truth.root);
  if (!creates.get(truth.root)) err(`root ${truth.root}: no process_create`);
  if (JSON.stringify(rootExit) !== JSON.stringify([3 << 8])) {
    err(
      `root ${truth.root}: exits ${JSON.stringify(rootExit)}, expected [768]`,
    );
  }
  for (const [pid, [ppid, status]] of truth.procs) {
    const c = creates.get(pid);
    if (!c || c.length !== 1) {
      err(`pid ${pid}: ${c?.length ?? 0} process_create events`);
    } else if (c[0].kind === "process_create" && c[0].ppid !== ppid) {
      err(`pid ${pid}: parent ${c[0].ppid}, expected ${ppid}`);
    }
    const x = exits.get(pid);
    if (!x || x.length !== 1 || x[0] !== status) {
      err(
        `pid ${pid}: exit statuses ${JSON.stringify(x)}, expected [${status}]`,
      );
    }
  }
  let reached = 0, total = 0;
  for (const [pid, want] of truth.execs) {
    const got = execs.get(pid) ?? [];
    if (got.length !== want.length) {
      err(`pid ${pid}: ${got.length} execs, expected ${want.length}`);
      continue;
    }
    want.forEach(([image, argv], i) => {
      const info = got[i].info;
      total++;
      const imgFrom = info.from.image, argvFrom = info.from.argv;
      const known = (p: string | undefined) => p === "kernel" || p === "proc";
      if (known(imgFrom)) {
        if (info.image !== image) {
          err(`pid ${pid} exec ${i}: image ${info.image}, expected ${image}`);
        }
      } else if (imgFrom !== "gone" || info.image !== undefined) {
        err(
          `pid ${pid} exec ${i}: image provenance ${imgFrom} with value ${info.image}`,
        );
      }
      if (known(argvFrom)) {
        if (JSON.stringify(info.argv) !== JSON.stringify(argv)) {
          err(
            `pid ${pid} exec ${i}: argv ${
              JSON.stringify(info.argv)
            }, expected ${JSON.stringify(argv)}`,
          );
        }
      } else if (argvFrom !== "gone" || info.argv !== undefined) {
        err(
          `pid ${pid} exec ${i}: argv provenance ${argvFrom} with value ${info.argv}`,
        );
      }
      if (known(imgFrom) && known(argvFrom)) reached++;
    });
  }
  for (const key of truth.threads) {
    const c = tCreates.get(key);
    if (!c) err(`thread ${key}: no thread_create`);
    else if (
      c.kind === "thread_create" && c.creatorPid !== Number(key.split("/")[0])
    ) {
      err(`thread ${key}: creator ${c.creatorPid}`);
    }
    if (!tExits.has(key)) err(`thread ${key}: no thread_exit`);
  }
  for (const key of truth.execThreads) {
    if (!tCreates.has(key)) err(`exec'ing thread ${key}: no thread_create`);
  }
  return { errors, reached, total, lost };
}
