/**
 * The flat timeline of a forest (`replay --events`): one row per process
 * start, exec and exit, in time order, for the processes a filter matches.
 * Pure.
 *
 * @module
 */
import { oneLine } from "./_format.ts";
import type { ExecStep, Forest, ProcessNode } from "./forest.ts";
import { type CommandSource, commandText } from "./command_text.ts";
import { userLabel } from "./process_identity.ts";
import {
  isFiltering,
  selectProcesses,
  type TreeFilter,
} from "./select_processes.ts";
import { isoFromNs } from "../text/mod.ts";
import { formatTime, type TimeStyle } from "./format_time.ts";

/** One row of the timeline. */
export interface TimelineRow {
  /** UTC, ISO-8601 with nine fraction digits. */
  time: string;
  /** ns since the recording's time base. */
  t: number;
  event: "start" | "exec" | "exit";
  pid: number;
  ppid: number;
  user?: string;
  /** start and exec: the command (argv quoted, or command line, or image). */
  command?: string;
  /** exit: the status as the tree prints it. */
  status?: string;
}

/**
 * The timeline rows of the processes `filter` matches (all without one).
 * A process running before the recording has no start row.
 *
 * @example
 * ```ts
 * import { analyze } from "./analyze.ts";
 * import { timelineOf } from "./timeline_of.ts";
 * const f = await analyze([
 *   { kind: "process_create", t: 5, pid: 6, tid: 6, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 5 },
 *   { kind: "process_exit", t: 9, pid: 6, tid: 6, status: 256 },
 * ], { os: "linux", bootId: "b" });
 * const rows = timelineOf(f, 0n);
 * if (rows.map((r) => r.event).join() !== "start,exit") throw new Error();
 * if (rows[1].status !== "exit 1" || rows[1].time !== "1970-01-01T00:00:00.000000009Z") throw new Error(JSON.stringify(rows));
 * ```
 */
export function timelineOf(
  forest: Forest,
  baseUtcNs: bigint,
  filter?: TreeFilter,
): TimelineRow[] {
  const matched = isFiltering(filter)
    ? selectProcesses(forest, filter!).matched
    : undefined;
  const rows: TimelineRow[] = [];
  const row = (
    n: ProcessNode,
    t: number,
    event: TimelineRow["event"],
    rest: Partial<TimelineRow>,
  ) => rows.push(timelineRow(forest, baseUtcNs, n, t, event, rest));
  for (const n of forest.processes) {
    if (matched && !matched.has(n.id)) continue;
    if (!n.flags.includes("existing-before-recording")) {
      row(n, n.start, "start", { command: startCommand(n) });
    }
    for (const e of n.execs) {
      if (e.via === "exec") row(n, e.t, "exec", { command: commandText(e) });
    }
    if (n.end !== undefined && n.exit) {
      row(n, n.end, "exit", { status: n.exit.text });
    }
  }
  const order = { start: 0, exec: 1, exit: 2 };
  return rows.sort((a, b) =>
    a.t - b.t || a.pid - b.pid || order[a.event] - order[b.event]
  );
}

/**
 * What process `n` ran at its start, as its start row shows it: the first
 * step before any exec that names a command. On Linux the creation step
 * holds only credentials, and the image a fork runs is its parent's (the
 * `fork` step, copied): `record --follow` showed that, while `replay
 * --events` showed the creation step's `?` (found comparing the two).
 *
 * @example
 * ```ts
 * import { startCommand } from "./timeline_of.ts";
 * const from = {};
 * const n = { execs: [
 *   { t: 1, via: "create" as const, uid: 0, from },
 *   { t: 1, via: "fork" as const, argv: ["sh", "-c", "x"], from },
 *   { t: 2, via: "exec" as const, argv: ["x"], from },
 * ] };
 * if (startCommand(n) !== "sh -c x") throw new Error(startCommand(n));
 * if (startCommand({ execs: [n.execs[2]] }) !== "x") throw new Error();
 * ```
 */
export function startCommand(
  n: Pick<ProcessNode, "execs"> & CommandSource,
): string {
  for (const e of n.execs) {
    if (e.via === "exec") break;
    const c = commandText(e);
    if (c !== "?") return c;
  }
  return commandText(n.execs[0] ?? n);
}

/**
 * One row about process `n` at `t` (ns since the time base): its pid,
 * ppid and user at `t` ({@link credentialsAt}: a row before a setuid exec
 * shows who the process was then, not who it became), and `rest` (the
 * command or the exit status). `forest.byId` finds the parent whose
 * credentials a fork took.
 *
 * @example
 * ```ts
 * import { timelineRow } from "./timeline_of.ts";
 * const n = { id: "x", pid: 7, start: 0, ppid: 1, children: [], execs: [],
 *   threads: [], flags: [] };
 * const r = timelineRow({ meta: { os: "linux", bootId: "b" } }, 0n, n, 1e9, "exit", { status: "exit 0" });
 * if (r.time !== "1970-01-01T00:00:01.000000000Z" || r.pid !== 7) throw new Error();
 * ```
 */
export function timelineRow(
  forest: Pick<Forest, "meta" | "accounts"> & {
    byId?: Pick<Forest["byId"], "get">;
  },
  baseUtcNs: bigint,
  n: ProcessNode,
  t: number,
  event: TimelineRow["event"],
  rest: Partial<TimelineRow>,
): TimelineRow {
  const user = userLabel(credentialsAt(forest, n, t), forest.accounts);
  return {
    time: isoFromNs(baseUtcNs + BigInt(Math.round(t))),
    t,
    event,
    pid: n.pid,
    ppid: n.ppid,
    ...(user !== undefined ? { user } : {}),
    ...rest,
  };
}

/** Whether a step told credentials (Linux ids, or a Windows user). */
function hasCredentials(s: ExecStep): boolean {
  return s.uid !== undefined || s.user !== undefined;
}

/**
 * The step whose credentials process `n` had at `t`: its latest step at or
 * before `t` that told them (an exec records its own uid and euid); before
 * any (a fork, which copies its parent's), its parent's at its start, and
 * so on up; else none (`undefined`: not a later identity).
 *
 * @example
 * ```ts
 * import { credentialsAt } from "./timeline_of.ts";
 * import type { ProcessNode } from "./forest.ts";
 * const parent: ProcessNode = { id: "p", pid: 1, start: 0, ppid: 0,
 *   children: [], threads: [], flags: [],
 *   execs: [{ t: 0, via: "exec", uid: 0, euid: 0, from: {} }] };
 * const child: ProcessNode = { id: "c", pid: 2, start: 5, ppid: 1,
 *   parentId: "p", children: [], threads: [], flags: [],
 *   execs: [{ t: 5, via: "fork", from: {} },
 *     { t: 9, via: "exec", uid: 65534, euid: 0, from: {} }] };
 * const byId = new Map([["p", parent], ["c", child]]);
 * if (credentialsAt({ byId }, child, 5)?.uid !== 0) throw new Error("at fork: the parent's");
 * if (credentialsAt({ byId }, child, 9)?.uid !== 65534) throw new Error("at the exec: its own");
 * // (no parent in the recording: none, not the later exec's)
 * if (credentialsAt({}, child, 5) !== undefined) throw new Error("a later identity");
 * ```
 */
export function credentialsAt(
  forest: { byId?: Pick<Forest["byId"], "get"> },
  n: ProcessNode,
  t: number,
): ExecStep | undefined {
  let p: ProcessNode | undefined = n, at = t;
  // (up the parents, each once: a forest's parent edges have no cycle, but
  // a bound costs nothing)
  for (let hops = 0; p !== undefined && hops < 4096; hops++) {
    let cred: ExecStep | undefined;
    for (const s of p.execs) {
      if (s.t > at) break;
      if (hasCredentials(s)) cred = s;
    }
    if (cred) return cred;
    at = p.start;
    p = p.parentId !== undefined ? forest.byId?.get(p.parentId) : undefined;
  }
  // (none known by then: no later identity shown on an earlier row; found
  // by review)
  return undefined;
}

/**
 * A row as one line: time (UTC as in the row, or as `time` says, with nine
 * fraction digits), event, pid, ppid, user, then the command or the exit
 * status.
 *
 * @example
 * ```ts
 * import { timelineLine } from "./timeline_of.ts";
 * const line = timelineLine({ time: "T", t: 0, event: "exit", pid: 6, ppid: 1, status: "exit 1" });
 * if (line !== "T  exit   pid 6  ppid 1  -  exit 1") throw new Error(line);
 * const forged = timelineLine({ time: "T", t: 0, event: "exec", pid: 6, ppid: 1, command: "a\nT  exec" });
 * if (forged.includes("\n")) throw new Error(forged);
 * ```
 */
export function timelineLine(r: TimelineRow, time?: TimeStyle): string {
  const when = time ? formatTime(r.t, { ...time, digits: 9 }) : r.time;
  // (the user and the command are evidence: a newline in them would start
  // a line of the attacker's own)
  return `${when}  ${r.event.padEnd(5)}  pid ${r.pid}  ppid ${r.ppid}  ${
    r.user !== undefined ? oneLine(r.user) : "-"
  }  ${r.command !== undefined ? oneLine(r.command) : r.status ?? ""}`;
}
