/**
 * Turns one host's Sysmon Event ID 1 and 5 records into procrec events.
 *
 * Decisions, each counted in {@link SysmonImportStats} and none fatal:
 * - Order: records are sorted by `UtcTime` (stable; at equal times creations
 *   before terminations, and a parent's creation before its children's).
 *   `t` counts from the earliest `UtcTime` kept (after the moves below).
 * - Identity: `ProcessGuid`, compared without regard to case. A second
 *   Event ID 1 or 5 for the same GUID is dropped (`duplicateCreates`,
 *   `duplicateTerminates`); the earliest is kept.
 * - A termination whose `UtcTime` is earlier than its own creation, or than
 *   the creation of one of its children (Sysmon stamps a creation when it
 *   reports it, which can be after a short-lived creator has exited), is moved
 *   to that latest creation's time (`terminateBeforeCreate`,
 *   `terminateBeforeChild`), so that the process is alive when its children
 *   are created.
 * - A process never created in the log (a termination without creation, or a
 *   parent named by `ParentProcessGuid` only) becomes a `process_snapshot`
 *   placed just before the first record that names it, so that the analysis,
 *   which links by pid and time order, finds it alive there. Its description
 *   comes from the child's `ParentImage`, `ParentCommandLine`, `ParentUser`
 *   and `ParentProcessId`, else from the termination's `Image` and
 *   `ProcessId`; its start from the time Sysmon encodes in the GUID, never
 *   later than that first record; its parent is unknown (ppid 0).
 *   (`terminateWithoutCreate`, `parentSnapshots`)
 * - A creation without termination stays running (`createWithoutTerminate`).
 * - A record without `ProcessId` takes the pid of another record of the same
 *   GUID; with none it is kept with pid 0 (`missingPid`, `missingPidRecovered`).
 * - A pid seen again under another GUID is a new process (`pidReused`).
 * - Sysmon gives no exit status: exits carry `statusUnknown: true`. Sysmon
 *   gives no thread ids: `tid`, `ptid`, `creatorTid` are 0; the creator is
 *   the parent.
 *
 * @module
 */
import type {
  ProcessCreate,
  ProcessExit,
  ProcessInfo,
  ProcessSnapshot,
  ProcEvent,
} from "../events/types.ts";
import { guidStartSeconds } from "./sysmon_guid.ts";
import {
  SYSMON_PROCESS_CREATE,
  type SysmonProcessRecord,
} from "./sysmon_process_record.ts";

/** What an import met, for the report at its end. */
export interface SysmonImportStats {
  /** Event ID 1 and 5 records read. */
  records: number;
  /** Creations and terminations kept (after dropping duplicates). */
  creates: number;
  terminates: number;
  /** Distinct processes (GUIDs) in the recording, snapshots included. */
  processes: number;
  /** Processes with both a creation and a termination. */
  pairs: number;
  terminateWithoutCreate: number;
  createWithoutTerminate: number;
  /** Parents known only from their children, recorded as snapshots. */
  parentSnapshots: number;
  /** Children whose parent's creation comes later in time. */
  parentsCreatedLater: number;
  terminateBeforeCreate: number;
  /** Terminations stamped before a child's creation, moved to it. */
  terminateBeforeChild: number;
  duplicateCreates: number;
  duplicateTerminates: number;
  /** Records without `ProcessId`; of them, those whose pid another record gave. */
  missingPid: number;
  missingPidRecovered: number;
  /** Processes whose pid an earlier process of another GUID had. */
  pidReused: number;
}

/** The events of one recording and what making them met. */
export interface SysmonEvents {
  /** UTC ns of t = 0: the earliest `UtcTime`. */
  timeBaseUtcNs: bigint;
  events: ProcEvent[];
  stats: SysmonImportStats;
}

interface Known {
  pid: number;
}

/**
 * Converts the records of one host (any order) into time-ordered events.
 *
 * @example
 * ```ts
 * import { sysmonToEvents } from "./sysmon_to_events.ts";
 * const base = { file: "f", line: 1, utcNs: 1_000_000n };
 * const { events, stats } = sysmonToEvents([
 *   { ...base, eventId: 5, guid: "{B}", key: "{b}", pid: 8, utcNs: 3_000_000n },
 *   { ...base, eventId: 1, guid: "{B}", key: "{b}", pid: 8, parentGuid: "{A}", parentKey: "{a}", ppid: 4 },
 * ]);
 * const kinds = events.map((e) => e.kind).join();
 * if (kinds !== "process_snapshot,process_create,process_exit") throw new Error(kinds);
 * if (stats.pairs !== 1 || stats.parentSnapshots !== 1 || events[2].t !== 2_000_000) throw new Error();
 * ```
 */
export function sysmonToEvents(
  records: readonly SysmonProcessRecord[],
): SysmonEvents {
  const stats: SysmonImportStats = {
    records: records.length,
    creates: 0,
    terminates: 0,
    processes: 0,
    pairs: 0,
    terminateWithoutCreate: 0,
    createWithoutTerminate: 0,
    parentSnapshots: 0,
    parentsCreatedLater: 0,
    terminateBeforeCreate: 0,
    terminateBeforeChild: 0,
    duplicateCreates: 0,
    duplicateTerminates: 0,
    missingPid: 0,
    missingPidRecovered: 0,
    pidReused: 0,
  };
  if (records.length === 0) {
    throw new RangeError("Cannot convert Sysmon records: there are none");
  }
  const order = new Map(records.map((r, i) => [r, i]));
  // creations: the earliest per GUID
  const creates = new Map<string, SysmonProcessRecord>();
  for (const r of records) {
    if (r.eventId !== SYSMON_PROCESS_CREATE) continue;
    const had = creates.get(r.key);
    if (had === undefined) creates.set(r.key, r);
    else {
      stats.duplicateCreates++;
      if (r.utcNs < had.utcNs) creates.set(r.key, r);
    }
  }
  // the latest creation of each parent's children
  const lastChild = new Map<string, bigint>();
  for (const r of creates.values()) {
    if (r.parentKey === undefined) continue;
    const had = lastChild.get(r.parentKey);
    if (had === undefined || r.utcNs > had) lastChild.set(r.parentKey, r.utcNs);
  }
  // terminations: the earliest per GUID, moved to their own creation's time,
  // or their last child's, when earlier
  const terms = new Map<string, SysmonProcessRecord>();
  for (const r of records) {
    if (r.eventId === SYSMON_PROCESS_CREATE) continue;
    const had = terms.get(r.key);
    if (had === undefined) terms.set(r.key, r);
    else {
      stats.duplicateTerminates++;
      if (r.utcNs < had.utcNs) terms.set(r.key, r);
    }
  }
  for (const [key, r] of terms) {
    const own = creates.get(key)?.utcNs;
    const child = lastChild.get(key);
    if (own !== undefined && r.utcNs < own) stats.terminateBeforeCreate++;
    else if (child !== undefined && r.utcNs < child) {
      stats.terminateBeforeChild++;
    }
    const bound = own === undefined || (child !== undefined && child > own)
      ? child
      : own;
    if (bound !== undefined && r.utcNs < bound) {
      const moved = { ...r, utcNs: bound };
      order.set(moved, order.get(r)!);
      terms.set(key, moved);
    }
  }
  // pids by GUID, for records that lack one
  const pidOf = new Map<string, number>();
  for (const r of records) {
    if (r.pid !== undefined && !pidOf.has(r.key)) pidOf.set(r.key, r.pid);
  }
  // at equal times a parent's creation goes before its children's
  const depth = new Map<SysmonProcessRecord, number>();
  const depthOf = (r: SysmonProcessRecord, seen = 0): number => {
    let d = depth.get(r);
    if (d !== undefined) return d;
    const p = r.parentKey !== undefined ? creates.get(r.parentKey) : undefined;
    d = p !== undefined && p !== r && p.utcNs === r.utcNs && seen < 64
      ? depthOf(p, seen + 1) + 1
      : 0;
    depth.set(r, d);
    return d;
  };
  const kept = [...creates.values(), ...terms.values()];
  kept.sort((a, b) =>
    a.utcNs < b.utcNs
      ? -1
      : a.utcNs > b.utcNs
      ? 1
      : a.eventId !== b.eventId
      ? a.eventId - b.eventId
      : (a.eventId === SYSMON_PROCESS_CREATE ? depthOf(a) - depthOf(b) : 0) ||
        order.get(a)! - order.get(b)!
  );
  let base = kept[0].utcNs;
  for (const r of kept) if (r.utcNs < base) base = r.utcNs;

  const rel = (ns: bigint): number => {
    const t = ns - base;
    if (t > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(
        `Cannot convert Sysmon records: they span more than ${
          Math.floor(Number.MAX_SAFE_INTEGER / 86_400e9)
        } days`,
      );
    }
    return Number(t);
  };
  const startOf = (guid: string, t: number): number => {
    const s = guidStartSeconds(guid);
    if (s === undefined) return t;
    const start = BigInt(s) * 1_000_000_000n - base;
    if (start > BigInt(t) || start < BigInt(Number.MIN_SAFE_INTEGER)) return t;
    return Number(start);
  };

  const events: ProcEvent[] = [];
  const known = new Map<string, Known>();
  const lastKeyOfPid = new Map<number, string>();
  const pidFor = (r: SysmonProcessRecord): number => {
    if (r.pid !== undefined) return r.pid;
    stats.missingPid++;
    const p = pidOf.get(r.key);
    if (p !== undefined) stats.missingPidRecovered++;
    return known.get(r.key)?.pid ?? p ?? 0;
  };
  const remember = (key: string, pid: number) => {
    known.set(key, { pid });
    if (pid === 0) return;
    const last = lastKeyOfPid.get(pid);
    if (last !== undefined && last !== key) stats.pidReused++;
    lastKeyOfPid.set(pid, key);
  };
  const snapshot = (
    key: string,
    guid: string,
    pid: number,
    t: number,
    info: ProcessInfo | undefined,
  ) => {
    const ev: ProcessSnapshot = {
      kind: "process_snapshot",
      t,
      pid,
      tid: 0,
      ppid: 0,
      start: startOf(guid, t),
      guid,
    };
    if (info) ev.info = info;
    events.push(ev);
    remember(key, pid);
  };

  for (const r of kept) {
    const t = rel(r.utcNs);
    if (r.eventId === SYSMON_PROCESS_CREATE) {
      stats.creates++;
      let ppid = r.ppid;
      if (r.parentKey !== undefined) {
        const parent = known.get(r.parentKey);
        if (parent === undefined && creates.has(r.parentKey)) {
          stats.parentsCreatedLater++;
        } else if (parent === undefined) {
          stats.parentSnapshots++;
          snapshot(
            r.parentKey,
            r.parentGuid!,
            r.ppid ?? pidOf.get(r.parentKey) ?? 0,
            t,
            info(r.parentImage, r.parentCmdline, undefined, r.parentUser),
          );
        }
        ppid ??= known.get(r.parentKey)?.pid;
      }
      const pid = pidFor(r);
      const ev: ProcessCreate = {
        kind: "process_create",
        t,
        pid,
        tid: 0,
        ppid: ppid ?? 0,
        ptid: 0,
        creatorPid: ppid ?? 0,
        creatorTid: 0,
        start: t,
        guid: r.guid,
      };
      const i = info(r.image, r.cmdline, r.cwd, r.user);
      if (i) {
        addSysmonFields(i, r);
        ev.info = i;
      }
      if (r.parentGuid !== undefined) ev.parentGuid = r.parentGuid;
      events.push(ev);
      remember(r.key, pid);
    } else {
      stats.terminates++;
      let pid: number;
      if (!creates.has(r.key)) stats.terminateWithoutCreate++;
      if (!known.has(r.key)) {
        pid = pidFor(r);
        snapshot(
          r.key,
          r.guid,
          pid,
          t,
          info(r.image, undefined, undefined, r.user),
        );
      } else {
        pid = known.get(r.key)!.pid;
        if (r.pid === undefined) {
          stats.missingPid++;
          if (pid !== 0) stats.missingPidRecovered++;
        }
      }
      const ev: ProcessExit = {
        kind: "process_exit",
        t,
        pid,
        tid: 0,
        status: 0,
        guid: r.guid,
        statusUnknown: true,
      };
      events.push(ev);
    }
  }
  stats.processes = known.size;
  for (const key of creates.keys()) {
    if (terms.has(key)) stats.pairs++;
    else stats.createWithoutTerminate++;
  }
  return { timeBaseUtcNs: base, events, stats };
}

/** Event ID 1's hash, PE and logon fields, kept as Sysmon gives them. */
function addSysmonFields(i: ProcessInfo, r: SysmonProcessRecord): void {
  for (
    const k of [
      "hashes",
      "sha256",
      "originalFileName",
      "description",
      "product",
      "company",
      "logonId",
      "logonGuid",
    ] as const
  ) {
    if (r[k] !== undefined) i[k] = r[k];
  }
  if (r.integrityLevel !== undefined) {
    i.integrityLevel = r.integrityLevel;
    i.from.cred = "import";
  }
  if (r.terminalSessionId !== undefined) {
    i.sessionId = r.terminalSessionId;
    i.from.cred = "import";
  }
}

function info(
  image: string | undefined,
  cmdline: string | undefined,
  cwd: string | undefined,
  user: string | undefined,
): ProcessInfo | undefined {
  const out: ProcessInfo = { from: {} };
  if (image !== undefined) {
    out.image = image;
    out.from.image = "import";
  }
  if (cmdline !== undefined) {
    out.cmdline = cmdline;
    out.from.argv = "import";
  }
  if (cwd !== undefined) {
    out.cwd = cwd;
    out.from.cwd = "import";
  }
  if (user !== undefined) {
    out.user = user;
    out.from.cred = "import";
  }
  return Object.keys(out.from).length > 0 ? out : undefined;
}
