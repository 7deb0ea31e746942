/**
 * Groups Sysmon process records into recordings, one per host (the records'
 * `Computer`), or one per input file under a host name the user gives, and
 * builds each recording's header and events.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import type { HeaderInit } from "../log/mod.ts";
import { TOOL_VERSION } from "../version.ts";
import type { SysmonFileRecords } from "./read_sysmon_records.ts";
import { ImportInputError } from "./sysmon_input_error.ts";
import type { SysmonProcessRecord } from "./sysmon_process_record.ts";
import { type SysmonImportStats, sysmonToEvents } from "./sysmon_to_events.ts";

/** One input file with its SHA-256 (lower-case hex). */
export interface HashedSysmonFile extends SysmonFileRecords {
  sha256: string;
}

/** A recording to write. */
export interface SysmonRecordingPlan {
  /** The host, or, with a host given, the input file the recording is of. */
  key: string;
  header: HeaderInit;
  events: ProcEvent[];
  stats: SysmonImportStats;
}

/**
 * The recordings `files` make: without `host`, one per `Computer` across all
 * files (records without one are an error that says to give `--host`); with
 * `host`, one per file, named `host`. Files without process records make no
 * recording; none at all is an error.
 *
 * @example
 * ```ts
 * import { planSysmonRecordings } from "./plan_sysmon_recordings.ts";
 * const rec = { eventId: 1, utcNs: 5n, guid: "{a}", key: "{a}", pid: 4, file: "f", line: 1 } as const;
 * const plans = planSysmonRecordings([
 *   { name: "f", sha256: "00", skipped: 0, records: [{ ...rec, host: "A" }, { ...rec, host: "B" }] },
 * ]);
 * if (plans.map((p) => p.header.host).join() !== "A,B") throw new Error();
 * if (plans[0].header.timeBase.utcNs !== 5n || plans[0].header.os !== "windows") throw new Error();
 * ```
 */
export function planSysmonRecordings(
  files: readonly HashedSysmonFile[],
  host?: string,
): SysmonRecordingPlan[] {
  const groups = new Map<
    string,
    {
      key: string;
      host: string;
      files: HashedSysmonFile[];
      records: SysmonProcessRecord[];
    }
  >();
  for (const [index, f] of files.entries()) {
    for (const r of f.records) {
      const h = host ?? r.host;
      if (h === undefined) {
        throw new ImportInputError(
          r.file,
          r.line,
          "Computer",
          "is missing: name the host with --host",
        );
      }
      // (with a host given, one recording per input file: two files of one
      // name in two folders are two recordings, not one; found by review)
      const group = host === undefined ? h : `${index}`;
      let g = groups.get(group);
      if (g === undefined) {
        groups.set(
          group,
          g = {
            key: host === undefined ? h : f.name,
            host: h,
            files: [],
            records: [],
          },
        );
      }
      if (!g.files.includes(f)) g.files.push(f);
      g.records.push(r);
    }
  }
  if (groups.size === 0) {
    throw new RangeError(
      `Cannot import ${
        files.map((f) => `"${f.name}"`).join(", ")
      }: no Sysmon Event ID 1 or 5 records`,
    );
  }
  return [...groups.values()].map((g) => {
    const { timeBaseUtcNs, events, stats } = sysmonToEvents(g.records);
    return {
      key: g.key,
      header: sysmonHeader(g.host, timeBaseUtcNs, g.files),
      events,
      stats,
    };
  });
}

function sysmonHeader(
  host: string,
  utcNs: bigint,
  files: HashedSysmonFile[],
): HeaderInit {
  return {
    host,
    os: "windows",
    kernel: "unknown",
    bootId: `sysmon:${host}`,
    timeBase: { monoNs: 0n, utcNs },
    clock: { source: "sysmon UtcTime", monoToUtcNs: utcNs },
    tool: { name: "procrec", version: TOOL_VERSION },
    source: {
      name: "import",
      reason: "Sysmon Event ID 1 (process create) and 5 (process terminate)",
    },
    options: {},
    import: {
      format: "sysmon",
      files: files.map((f) => ({ name: f.name, sha256: f.sha256 })),
    },
  };
}
