/**
 * A Sysmon Event ID 1 or 5, checked and reduced to what a process tree
 * needs.
 *
 * @module
 */
import { guidKey } from "./sysmon_guid.ts";
import { ImportInputError } from "./sysmon_input_error.ts";
import type { SysmonRecord } from "./sysmon_record.ts";
import { parseSysmonUtcTime } from "./utc_time.ts";

/** Sysmon Event ID of a process creation. */
export const SYSMON_PROCESS_CREATE = 1;
/** Sysmon Event ID of a process termination. */
export const SYSMON_PROCESS_TERMINATE = 5;

/** What the importer keeps of one Event ID 1 or 5. */
export interface SysmonProcessRecord {
  eventId: 1 | 5;
  host?: string;
  /** `UtcTime`, ns since the Unix epoch. */
  utcNs: bigint;
  /** `ProcessGuid` as given, and its comparison key. */
  guid: string;
  key: string;
  /** `ProcessId`; absent in damaged records. */
  pid?: number;
  parentGuid?: string;
  parentKey?: string;
  ppid?: number;
  image?: string;
  cmdline?: string;
  user?: string;
  cwd?: string;
  parentImage?: string;
  parentCmdline?: string;
  parentUser?: string;
  /** Event ID 1's executable and logon fields, as Sysmon gives them. */
  hashes?: string;
  /** The SHA256 of `Hashes`, lower-case hex, when it names one. */
  sha256?: string;
  originalFileName?: string;
  description?: string;
  product?: string;
  company?: string;
  integrityLevel?: string;
  logonId?: string;
  logonGuid?: string;
  terminalSessionId?: number;
  file: string;
  line: number;
}

/**
 * Checks a record and keeps its process fields; `undefined` for a record that
 * is not a Sysmon Event ID 1 or 5 (another Event ID or another provider).
 * Throws {@link ImportInputError} naming the field for a missing or malformed
 * `UtcTime` or `ProcessGuid`, or a pid that is not a number. A missing
 * `ProcessId` is not an error: the importer counts it.
 *
 * @example
 * ```ts
 * import { sysmonProcessRecord } from "./sysmon_process_record.ts";
 * const r = sysmonProcessRecord({ eventId: 5, host: "h", file: "f", line: 1,
 *   data: { UtcTime: "2020-09-04 07:06:21.388", ProcessGuid: "{A-1}", ProcessId: "8" } });
 * if (r?.pid !== 8 || r.key !== "{a-1}") throw new Error();
 * ```
 */
export function sysmonProcessRecord(
  rec: SysmonRecord,
): SysmonProcessRecord | undefined {
  if (
    rec.eventId !== SYSMON_PROCESS_CREATE &&
    rec.eventId !== SYSMON_PROCESS_TERMINATE
  ) return undefined;
  if (rec.provider !== undefined && !/sysmon/i.test(rec.provider)) {
    return undefined;
  }
  if (rec.refused) {
    throw new ImportInputError(
      rec.file,
      rec.line,
      rec.refused.field,
      rec.refused.detail,
    );
  }
  const d = rec.data;
  const fail = (field: string, detail: string): never => {
    throw new ImportInputError(rec.file, rec.line, field, detail);
  };
  const time = d.UtcTime;
  if (time === undefined) fail("UtcTime", "is missing");
  const utcNs = parseSysmonUtcTime(time);
  if (utcNs === undefined) {
    fail("UtcTime", `is "${time}", expected YYYY-MM-DD HH:MM:SS.fff (UTC)`);
  }
  const key = guidKey(d.ProcessGuid);
  if (key === undefined) {
    fail(
      "ProcessGuid",
      d.ProcessGuid === undefined
        ? "is missing"
        : `is "${d.ProcessGuid}", expected a GUID`,
    );
  }
  const out: SysmonProcessRecord = {
    eventId: rec.eventId,
    host: rec.host,
    utcNs: utcNs!,
    guid: d.ProcessGuid.trim(),
    key: key!,
    file: rec.file,
    line: rec.line,
  };
  const pid = optionalPid(d, "ProcessId", fail);
  if (pid !== undefined) out.pid = pid;
  setText(out, "image", d.Image);
  setText(out, "user", d.User);
  if (rec.eventId === SYSMON_PROCESS_CREATE) {
    setText(out, "cmdline", d.CommandLine);
    setText(out, "cwd", d.CurrentDirectory);
    const parentKey = guidKey(d.ParentProcessGuid);
    if (parentKey !== undefined) {
      out.parentGuid = d.ParentProcessGuid.trim();
      out.parentKey = parentKey;
    }
    const ppid = optionalPid(d, "ParentProcessId", fail);
    if (ppid !== undefined) out.ppid = ppid;
    setText(out, "parentImage", d.ParentImage);
    setText(out, "parentCmdline", d.ParentCommandLine);
    setText(out, "parentUser", d.ParentUser);
    setText(out, "hashes", d.Hashes);
    const sha = /(?:^|,)\s*SHA256=([0-9A-Fa-f]{64})\s*(?:,|$)/.exec(
      d.Hashes ?? "",
    );
    if (sha) out.sha256 = sha[1].toLowerCase();
    setText(out, "originalFileName", d.OriginalFileName);
    setText(out, "description", d.Description);
    setText(out, "product", d.Product);
    setText(out, "company", d.Company);
    setText(out, "integrityLevel", d.IntegrityLevel);
    setText(out, "logonId", d.LogonId);
    setText(out, "logonGuid", d.LogonGuid);
    const session = d.TerminalSessionId?.trim();
    if (session !== undefined && /^\d+$/.test(session)) {
      out.terminalSessionId = Number(session);
    }
  }
  return out;
}

function optionalPid(
  d: Record<string, string>,
  field: string,
  fail: (field: string, detail: string) => never,
): number | undefined {
  const v = d[field]?.trim();
  if (v === undefined || v === "" || v === "-") return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) {
    fail(field, `is "${v}", expected a process id`);
  }
  return Number(v);
}

type TextField =
  | "image"
  | "cmdline"
  | "user"
  | "cwd"
  | "parentImage"
  | "parentCmdline"
  | "parentUser"
  | "hashes"
  | "originalFileName"
  | "description"
  | "product"
  | "company"
  | "integrityLevel"
  | "logonId"
  | "logonGuid";

function setText(
  out: SysmonProcessRecord,
  name: TextField,
  v: string | undefined,
): void {
  if (v !== undefined && v !== "" && v !== "-") out[name] = v;
}
