/**
 * The one table of Sigma `process_creation` fields procrec can answer, per
 * operating system, and where each value comes from. A field not in the
 * table (or not for the recording's OS) is one procrec does not have: a rule
 * that needs it is reported as not applicable, naming it.
 *
 * | Sigma field | Windows (driver, Sysmon import) | Linux |
 * |---|---|---|
 * | Image | image path | image path |
 * | CommandLine | command line | argv joined by spaces |
 * | OriginalFileName, Product, Company, Description | PE version fields (Sysmon) | - |
 * | ParentImage, ParentCommandLine, ParentUser | the parent's, at the creation | the parent's, at the exec |
 * | GrandParentImage | the grandparent's image | the grandparent's image |
 *
 * Parent and grandparent are the processes found as such at each one's
 * creation (a pid taken again later does not name them), or unknown. A
 * value that is empty, or on Windows `-` (Sysmon's placeholder for an
 * empty field, which the Sysmon import records as none), is no value
 * (`EventFields`).
 * | User | user name (`DOMAIN\user`) or SID | user name of the real uid (`accounts` events) |
 * | IntegrityLevel | integrity level | - |
 * | Hashes | Sysmon `Hashes`, else `SHA256=` of the image hash | `SHA256=` of the image hash |
 * | CurrentDirectory | working directory | working directory |
 * | LogonId, LogonGuid | Sysmon logon id / guid | LogonId: the audit login uid |
 * | TerminalSessionId | session id | - |
 * | ProcessId, ParentProcessId | pid, parent pid (none when 0: unknown) | pid, parent pid |
 * | ProcessGuid, ParentProcessGuid | Sysmon guids | - |
 * | Computer | host name | host name |
 *
 * @module
 */
import type { ProcessInfo } from "../events/types.ts";
import type { HuntSubject, ProcessView } from "./hunt_subject.ts";

/** Reads one field of a subject; `undefined` when the value is unknown. */
export type FieldGetter = (s: HuntSubject) => string | undefined;

/** One row of the table. */
export interface FieldSource {
  windows?: FieldGetter;
  linux?: FieldGetter;
}

const cmdline = (i?: ProcessInfo) => i?.cmdline ?? i?.argv?.join(" ");
const num = (n?: number) => n === undefined ? undefined : String(n);
const hashes = (i: ProcessInfo) =>
  i.hashes ?? (i.sha256 ? `SHA256=${i.sha256.toUpperCase()}` : undefined);
const linuxUser = (s: HuntSubject, v?: ProcessView) => {
  const uid = v?.info?.uid;
  return uid === undefined ? undefined : s.users?.get(uid);
};
const both = (g: FieldGetter): FieldSource => ({ windows: g, linux: g });
const win = (g: FieldGetter): FieldSource => ({ windows: g });

/**
 * Sigma field name → how to read it on each OS.
 *
 * @example
 * ```ts
 * import { FIELD_TABLE } from "./field_table.ts";
 * const s = { os: "linux" as const, host: "h",
 *   process: { pid: 5, ppid: 1, start: 0, info: { image: "/bin/ls", argv: ["ls", "-l"], from: {} } } };
 * if (FIELD_TABLE.CommandLine.linux!(s) !== "ls -l") throw new Error();
 * if (FIELD_TABLE.OriginalFileName.linux !== undefined) throw new Error();
 * ```
 */
export const FIELD_TABLE: Readonly<Record<string, FieldSource>> = {
  Image: {
    windows: (s) => win32Path(s.process.info.image),
    linux: (s) => s.process.info.image,
  },
  CommandLine: both((s) => cmdline(s.process.info)),
  OriginalFileName: win((s) => s.process.info.originalFileName),
  Product: win((s) => s.process.info.product),
  Company: win((s) => s.process.info.company),
  Description: win((s) => s.process.info.description),
  ParentImage: {
    windows: (s) => win32Path(s.parent?.info?.image),
    linux: (s) => s.parent?.info?.image,
  },
  ParentCommandLine: both((s) => cmdline(s.parent?.info)),
  GrandParentImage: {
    windows: (s) => win32Path(s.grandparent?.info?.image),
    linux: (s) => s.grandparent?.info?.image,
  },
  User: {
    windows: (s) => s.process.info.user,
    linux: (s) => s.process.info.user ?? linuxUser(s, s.process),
  },
  ParentUser: {
    windows: (s) => s.parent?.info?.user,
    linux: (s) => s.parent?.info?.user ?? linuxUser(s, s.parent),
  },
  IntegrityLevel: win((s) => s.process.info.integrityLevel),
  Hashes: both((s) => hashes(s.process.info)),
  CurrentDirectory: both((s) => s.process.info.cwd),
  LogonId: {
    windows: (s) => s.process.info.logonId,
    linux: (s) => num(s.process.info.loginUid),
  },
  LogonGuid: win((s) => s.process.info.logonGuid),
  TerminalSessionId: win((s) => num(s.process.info.sessionId)),
  // (pid 0: unknown, as the Sysmon import records a creation or
  // termination without ProcessId; no process procrec matches has it)
  ProcessId: both((s) => s.process.pid > 0 ? String(s.process.pid) : undefined),
  ParentProcessId: both((s) =>
    s.process.ppid > 0 ? String(s.process.ppid) : undefined
  ),
  ProcessGuid: win((s) => s.process.guid),
  ParentProcessGuid: win((s) => s.parent?.guid),
  Computer: both((s) => s.host),
};

/**
 * A Windows image path as Sysmon and Sigma write it: the driver records
 * the kernel's `\??\C:\...` (an NT path in the DOS devices directory),
 * which a rule anchored at `C:\` would never match (found by review).
 */
function win32Path(path: string | undefined): string | undefined {
  return path?.startsWith("\\??\\") ? path.slice(4) : path;
}

/** The field names of the table, in its order. */
export const FIELD_NAMES: readonly string[] = Object.keys(FIELD_TABLE);
