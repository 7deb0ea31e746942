/**
 * Helpers for the bundle, verify and report tests: a small but varied
 * recording (a shell and its children, a failure, a signal, threads, a lost
 * span), the CLI run as a subprocess, and zip surgery for tamper tests.
 *
 * @module
 */
import { Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import "../cli/bundle/_zip.ts"; // zip.js without web workers
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import { processCreate, testHeader } from "./_recording_helpers.ts";

import { procrec, ROOT, type Run, withTempDir } from "./_record_helpers.ts";

export { procrec } from "./_record_helpers.ts";

/** `procrec bundle create -o OUT ...args` (run in `cwd` if given). */
/** Every file member of the zip at `path`, by name. */
export async function unzip(path: string): Promise<Map<string, Uint8Array>> {
  const r = new ZipReader(new Uint8ArrayReader(await Deno.readFile(path)));
  const out = new Map<string, Uint8Array>();
  for (const e of await r.getEntries()) {
    if (e.directory) continue;
    out.set(e.filename, await e.getData(new Uint8ArrayWriter()));
  }
  await r.close();
  return out;
}

export function bundleCreate(
  out: string,
  args: readonly string[],
  cwd?: string,
): Promise<Run> {
  return procrec(["bundle", "create", "-o", out, ...args], { cwd });
}

const MS = 1_000_000;

function proc(
  t: number,
  pid: number,
  ppid: number,
  image: string,
  argv: string[],
): ProcEvent[] {
  return [
    processCreate(t, pid, ppid),
    {
      kind: "exec",
      t: t + MS / 10,
      pid,
      tid: pid,
      info: { image, argv, from: { image: "kernel", argv: "kernel" } },
    },
  ];
}

function exit(t: number, pid: number, status: number): ProcEvent {
  return { kind: "process_exit", t, pid, tid: pid, status };
}

/**
 * An incident-like workload: `sh` runs `ls` three times, a subshell that
 * exits 3 after `sleep`, a `python3` with a thread that is killed (SIGKILL),
 * and a `curl` that fails; a lost span sits in the middle. `variant` changes
 * the curl's argv, so two recordings differ.
 */
export function incidentEvents(variant = 0): ProcEvent[] {
  const e: ProcEvent[] = [];
  e.push({
    kind: "process_snapshot",
    t: 0,
    pid: 1,
    tid: 1,
    ppid: 0,
    start: -5_000 * MS,
    info: {
      image: "/sbin/init",
      argv: ["/sbin/init"],
      from: { image: "proc" },
    },
  });
  e.push(...proc(1 * MS, 100, 1, "/bin/sh", ["sh", "-c", "incident.sh"]));
  for (let i = 0; i < 3; i++) {
    const pid = 101 + i;
    e.push(...proc((2 + i) * MS, pid, 100, "/usr/bin/ls", ["ls", "/"]));
    e.push(exit((2 + i) * MS + MS / 2, pid, 0));
  }
  e.push(...proc(6 * MS, 104, 100, "/bin/sh", ["sh"]));
  e.push(...proc(7 * MS, 105, 104, "/usr/bin/sleep", ["sleep", "0.2"]));
  e.push(exit(207 * MS, 105, 0));
  e.push(exit(208 * MS, 104, 3 << 8));
  e.push(
    ...proc(210 * MS, 106, 100, "/usr/bin/python3", [
      "python3",
      "-c",
      "serve()",
    ]),
  );
  e.push({
    kind: "thread_create",
    t: 211 * MS,
    pid: 106,
    tid: 107,
    creatorPid: 106,
    creatorTid: 106,
  });
  e.push({
    kind: "lost",
    t: 230 * MS,
    pid: 0,
    tid: 0,
    reason: "ring_full",
    count: 5,
  });
  e.push(
    ...proc(240 * MS, 108, 100, "/usr/bin/curl", [
      "curl",
      "-s",
      variant ? "http://203.0.113.9/stage2" : "http://198.51.100.7/payload",
    ]),
  );
  e.push(exit(260 * MS, 108, 7 << 8));
  e.push({ kind: "thread_exit", t: 300 * MS, pid: 106, tid: 107, status: 9 });
  e.push(exit(300 * MS, 106, 9));
  e.push(exit(310 * MS, 100, 0));
  return e;
}

/** Writes `events` as a recording with small chunks (several per file). */
export async function writeIncident(
  path: string,
  events: ProcEvent[] = incidentEvents(),
  chunkEvents = 5,
): Promise<void> {
  const w = await RecordingWriter.create(path, testHeader(), {
    chunkEvents,
    flushIntervalMs: 0,
  });
  for (const ev of events) w.write(ev);
  await w.close();
}

/** The file names of the golden fixture recordings (fixtures/*.cbor), sorted. */
export async function fixtureRecordings(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}fixtures`)) {
    if (e.name.endsWith(".cbor")) names.push(e.name);
  }
  return names.sort();
}

/** Makes a temp dir, runs `fn` in it, removes it. */
export const inTempDir = <T>(fn: (dir: string) => Promise<T>): Promise<T> =>
  withTempDir(fn, "procrec-bundle-");

/**
 * A large tree: `n` processes under one shell, in batches of 1000 under
 * `make` processes, each child `cc -c job-I.c` exiting 0 (every 97th exits 1).
 */
export async function writeLarge(path: string, n: number): Promise<void> {
  const w = await RecordingWriter.create(path, testHeader(), {
    flushIntervalMs: 0,
  });
  const write = (es: ProcEvent[]) => es.forEach((e) => w.write(e));
  write(proc(0, 10, 1, "/bin/sh", ["sh", "build.sh"]));
  let t = MS;
  let pid = 11;
  for (let b = 0; b * 1000 < n; b++) {
    const make = pid++;
    write(proc(t, make, 10, "/usr/bin/make", ["make", `part-${b}`]));
    for (let i = b * 1000; i < Math.min(n, (b + 1) * 1000); i++) {
      const cc = pid++;
      t += 1000;
      write(proc(t, cc, make, "/usr/bin/cc", ["cc", "-c", `job-${i}.c`]));
      write([exit(t + 500, cc, i % 97 === 0 ? 1 << 8 : 0)]);
    }
    t += 1000;
    write([exit(t, make, 0)]);
  }
  write([exit(t + 1000, 10, 0)]);
  await w.close();
}
