/**
 * Maps procrec events to OCSF Process Activity events (class_uid 1007,
 * category_uid 1 System Activity, schema 1.1.0).
 *
 * - `activity_id`: 1 Launch (creation), 2 Terminate (exit), 99 Other for an
 *   exec (`activity_name` "Exec") and a process running when the recording
 *   began (`activity_name` "Running"); `type_uid` = 1007 * 100 + activity_id.
 * - `time`: ms since the Unix epoch; `severity_id` 1 Informational.
 * - `process`: `pid`, `uid` (Sysmon ProcessGuid, else procrec's process
 *   id), `name`, `file` {`path`, `name`, `type_id` 1}, `cmd_line`,
 *   `created_time`, `terminated_time`, `user` {`name`, `domain`, `uid`},
 *   `parent_process` (the same, as far as known, on every event of the
 *   process), `file.hashes` [{`algorithm_id` 3, `algorithm` "SHA-256",
 *   `value`}], `container` {`uid`} (from the cgroup path).
 * - `actor.process`: the parent for a launch, the process itself otherwise
 *   (Sysmon and the kernel sources report no other terminator);
 *   `actor.user` {`uid`, `name`} the effective user of the process.
 * - `exit_code`: on Terminate when the source reported a status (128 + the
 *   signal for a process killed by a signal, and `unmapped.signal`
 *   {`number`, `name`}).
 * - A lost span is an event of its own: `activity_id` 99, `activity_name`
 *   "Lost", `severity_id` 3 Medium, `unmapped.lost` {`reason`, `count` (absent
 *   when unknown), `cpu`}.
 * - `unmapped`: `not_utf8` (the fields whose bytes were not UTF-8, each
 *   such sequence read as U+FFFD: `image`, `argv`, `comm`, `cwd`, `cred`,
 *   `cgroup`), `args_truncated`, `fileless` (memfd), `deleted_image` (the
 *   image's file unlinked when it ran), the same of the parent under
 *   `parent`, and `hash_state` (why `file.hashes` is absent: `changed`,
 *   `gone`, `error`, `skipped`); an exec rule's decision has
 *   `args_truncated` and `not_utf8` (`image`, `argv`, `parentImage`,
 *   `cgroup`), and `unsettled` when it names no process because it came out
 *   before the kernel's events had caught up with it.
 * - `device` {`hostname`, `type_id` 0, `os` {`name`, `type_id`}};
 *   `metadata` {`version`, `product` {`name` "procrec", `vendor_name`,
 *   `version`}}.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { decodeExitStatus } from "../analysis/decode_exit_status.ts";
import type { RecordingHeader } from "../log/mod.ts";
import { TOOL_VERSION } from "../version.ts";
import {
  AccountBook,
  argsOf,
  baseName,
  commandLineOf,
  containerIdOf,
  exactnessFields,
  lostFields,
  splitUser,
} from "./_process_fields.ts";
import type { JsonObject } from "./ecs_mapper.ts";
import { ProcessTable, type ProcessView } from "./process_table.ts";

/** The OCSF schema version the events follow. */
export const OCSF_VERSION = "1.1.0";
/** OCSF Process Activity. */
export const OCSF_PROCESS_ACTIVITY = 1007;

const OS = {
  linux: { name: "Linux", type_id: 200, type: "Linux" },
  windows: { name: "Windows", type_id: 100, type: "Windows" },
} as const;

/**
 * Returns a function that maps each event, in recording order, to an OCSF
 * Process Activity event, or `undefined` for other events. `table`
 * remembers the processes (as for `ecsMapper`).
 *
 * @example
 * ```ts
 * import { ocsfMapper } from "./ocsf_mapper.ts";
 * const toOcsf = ocsfMapper({ host: "h", os: "windows", bootId: "b", timeBase: { monoNs: 0n, utcNs: 5_000_000n } });
 * const e = toOcsf({ kind: "process_create", t: 0, pid: 8, tid: 0, ppid: 4, ptid: 0, creatorPid: 4,
 *   creatorTid: 0, start: 0, guid: "{g}", info: { image: "C:\\cmd.exe", cmdline: "cmd /c x", from: {} } }) as any;
 * if (e.type_uid !== 100701 || e.time !== 5 || e.process.uid !== "{g}" || e.process.file.name !== "cmd.exe") {
 *   throw new Error(JSON.stringify(e));
 * }
 * ```
 */
export function ocsfMapper(
  header: Pick<RecordingHeader, "host" | "os" | "bootId" | "timeBase">,
  table: ProcessTable = new ProcessTable(header.bootId),
): (event: ProcEvent) => JsonObject | undefined {
  const accounts = new AccountBook();
  const ms = (t: number) =>
    Number((header.timeBase.utcNs + BigInt(t)) / 1_000_000n);
  const proc = (v: ProcessView, parent?: ProcessView): JsonObject => {
    const p: JsonObject = { pid: v.pid, uid: v.entityId };
    const info = v.info;
    if (info?.image !== undefined) {
      const name = baseName(info.image, header.os);
      p.name = name;
      const file: JsonObject = { path: info.image, name, type_id: 1 };
      if (info.sha256 !== undefined) {
        file.hashes = [{
          algorithm_id: 3,
          algorithm: "SHA-256",
          value: info.sha256,
        }];
      }
      p.file = file;
    } else if (info?.comm !== undefined) p.name = info.comm;
    const cmd = commandLineOf(info);
    if (cmd !== undefined) p.cmd_line = cmd;
    else if (argsOf(info) !== undefined) p.cmd_line = argsOf(info)!.join(" ");
    if (Number.isFinite(v.start)) p.created_time = ms(v.start);
    if (info?.user !== undefined) {
      const u = splitUser(info.user);
      p.user = u.domain !== undefined
        ? { name: u.name, domain: u.domain }
        : { name: u.name };
    } else if (info?.uid !== undefined) {
      const name = accounts.users.get(info.uid);
      p.user = { uid: String(info.uid), ...(name ? { name } : {}) };
    }
    const container = containerIdOf(info);
    if (container !== undefined) p.container = { uid: container };
    if (parent) p.parent_process = proc(parent);
    return p;
  };
  // the reader refuses any other os; a header built elsewhere with one is
  // OCSF's "Other" (type_id 99), named as it was given
  const os = OS[header.os] ??
    { name: String(header.os), type_id: 99, type: "Other" };
  const common = (t: number) => ({
    category_uid: 1,
    category_name: "System Activity",
    class_uid: OCSF_PROCESS_ACTIVITY,
    class_name: "Process Activity",
    time: ms(t),
    metadata: {
      version: OCSF_VERSION,
      product: {
        name: "procrec",
        vendor_name: "procrec",
        version: TOOL_VERSION,
      },
    },
    device: {
      hostname: header.host,
      type_id: 0,
      os: { name: os.name, type_id: os.type_id, type: os.type },
    },
  });
  return (event) => {
    if (accounts.observe(event)) return undefined;
    if (event.kind === "lost") {
      return {
        activity_id: 99,
        activity_name: "Lost",
        ...common(event.t),
        type_uid: OCSF_PROCESS_ACTIVITY * 100 + 99,
        type_name: "Process Activity: Lost",
        severity_id: 3,
        severity: "Medium",
        unmapped: { lost: lostFields(event) },
      };
    }
    if (event.kind === "exec_denied" || event.kind === "exec_audited") {
      const denied = event.kind === "exec_denied";
      // (the process that called exec, to pivot to its other events)
      // (none when it came out before the kernel's events had caught up)
      const settled = !table.unsettled(event);
      const caller = settled ? table.holderAt(event.pid, event.t) : undefined;
      // (its parent when it called exec, as ppid and parentImage are: the
      // one it was created by may have exited since)
      const parent = settled ? table.holderAt(event.ppid, event.t) : undefined;
      return {
        activity_id: 1,
        activity_name: "Launch",
        ...common(event.t),
        type_uid: OCSF_PROCESS_ACTIVITY * 100 + 1,
        type_name: "Process Activity: Launch",
        severity_id: denied ? 3 : 1,
        severity: denied ? "Medium" : "Informational",
        status_id: denied ? 2 : 1,
        status: denied ? "Failure" : "Success",
        disposition_id: denied ? 2 : 1,
        disposition: denied ? "Blocked" : "Allowed",
        actor: {
          process: {
            pid: event.pid,
            ...(caller ? { uid: caller.entityId } : {}),
            user: { uid: String(event.uid) },
          },
        },
        process: {
          pid: event.pid,
          ...(caller ? { uid: caller.entityId } : {}),
          file: { path: event.image },
          ...(event.argv ? { cmd_line: event.argv.join(" ") } : {}),
          parent_process: {
            pid: event.ppid,
            ...(parent ? { uid: parent.entityId } : {}),
            ...(event.parentImage ? { file: { path: event.parentImage } } : {}),
          },
        },
        policy: { uid: event.rule, name: event.rule },
        unmapped: {
          decision: event.kind,
          ...(event.kind === "exec_audited" && event.exempt
            ? { exempt: true }
            : {}),
          ...(event.byContent ? { matched_by: "content" } : {}),
          ...(event.cgroup ? { cgroup: event.cgroup } : {}),
          ...(event.argvTruncated ? { args_truncated: true } : {}),
          ...(event.notUtf8 ? { not_utf8: [...event.notUtf8] } : {}),
          ...(settled ? {} : { unsettled: true }),
        },
      };
    }
    const ctx = table.observe(event);
    if (ctx === undefined) return undefined;
    let activityId: number;
    let activityName: string;
    switch (event.kind) {
      case "process_create":
        [activityId, activityName] = [1, "Launch"];
        break;
      case "process_exit":
        [activityId, activityName] = [2, "Terminate"];
        break;
      case "exec":
        [activityId, activityName] = [99, "Exec"];
        break;
      default:
        [activityId, activityName] = [99, "Running"];
    }
    const process = proc(ctx.self, ctx.parent);
    if (event.kind === "process_exit") process.terminated_time = ms(event.t);
    const actor = event.kind === "process_create" && ctx.parent
      ? proc(ctx.parent)
      : event.kind === "process_create"
      ? { pid: event.ppid }
      : proc(ctx.self);
    const out: JsonObject = {
      activity_id: activityId,
      activity_name: activityName,
      category_uid: 1,
      category_name: "System Activity",
      class_uid: OCSF_PROCESS_ACTIVITY,
      class_name: "Process Activity",
      type_uid: OCSF_PROCESS_ACTIVITY * 100 + activityId,
      type_name: `Process Activity: ${activityName}`,
      severity_id: 1,
      severity: "Informational",
      time: ms(event.t),
      metadata: {
        version: OCSF_VERSION,
        product: {
          name: "procrec",
          vendor_name: "procrec",
          version: TOOL_VERSION,
        },
      },
      device: {
        hostname: header.host,
        type_id: 0,
        os: { name: os.name, type_id: os.type_id, type: os.type },
      },
      actor: { process: actor },
      process,
    };
    if (event.kind === "process_exit") {
      const exit = decodeExitStatus(
        event.status,
        header.os,
        event.statusUnknown === true,
      );
      if (exit.kind === "code" || exit.kind === "ntstatus") {
        out.exit_code = exit.code ?? exit.raw;
      } else if (exit.kind === "signal" && exit.signal !== undefined) {
        out.exit_code = 128 + exit.signal;
        out.unmapped = {
          signal: {
            number: exit.signal,
            ...(exit.name !== undefined ? { name: exit.name } : {}),
          },
        };
      }
    }
    const info = ctx.self.info;
    const exact = exactnessFields(info);
    const parentExact = exactnessFields(ctx.parent?.info);
    if (exact || parentExact || info?.hashState !== undefined) {
      out.unmapped = {
        ...(out.unmapped as JsonObject | undefined),
        ...(info?.hashState !== undefined
          ? { hash_state: info.hashState }
          : {}),
        ...exact,
        ...(parentExact ? { parent: parentExact } : {}),
      };
    }
    if (info?.uid !== undefined) {
      const id = info.euid ?? info.uid;
      const name = accounts.users.get(id);
      (out.actor as JsonObject).user = {
        uid: String(id),
        ...(name ? { name } : {}),
      };
    }
    return out;
  };
}
