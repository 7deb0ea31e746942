/**
 * Maps procrec events to Elastic Common Schema documents, one per process
 * lifecycle event, ready for an Elasticsearch or OpenSearch `_bulk` load.
 *
 * Fields (ECS types in brackets): `@timestamp` [date]; `ecs.version`
 * [keyword]; `event.kind` (`event`), `event.category` (`["process"]`),
 * `event.type` (`["start"]` creation and exec (`event.action` tells them
 * apart), `["end"]` exit, `["info"]` a process running when the recording
 * began), `event.action`,
 * `event.module`, `event.dataset` [keyword], `event.sequence` [long];
 * `host.name`, `host.os.type` [keyword]; `process.entity_id` (Sysmon
 * ProcessGuid, else procrec's process id) [keyword], `process.pid` [long],
 * `process.executable`, `process.name` [keyword], `process.args` [keyword
 * array], `process.args_count` [long], `process.command_line` [wildcard],
 * `process.working_directory` [keyword], `process.start`, `process.end`
 * [date], `process.exit_code` [long], `process.thread.id` [long],
 * `process.parent.*` (the same for the parent, as far as known, on every
 * document of the process, execs included); `process.hash.sha256`,
 * `process.pe.original_file_name`, `process.pe.description`,
 * `process.pe.product`, `process.pe.company` (imported Sysmon fields;
 * `process.hash.sha256` also from a live recording's `image_hash`, which the
 * export joins onto its exec; `procrec.hash_state` says why there is none:
 * `changed`, `gone`, `error`, `skipped`);
 * `user.name`, `user.domain`, `user.id` [keyword], `user.effective.id`,
 * `user.effective.name` (a setuid image), `group.id`, `group.name`;
 * `container.id` (from the cgroup path); `procrec.not_utf8` (the fields
 * whose bytes were not UTF-8, each such sequence read as U+FFFD: `image`,
 * `argv`, `comm`, `cwd`, `cred`, `cgroup`), `procrec.args_truncated`,
 * `procrec.fileless` (memfd), `procrec.deleted_image` (the image's file
 * unlinked when it ran), and the same of the parent under
 * `procrec.parent`; an exec rule's decision has
 * `procrec.decision.args_truncated` and `procrec.decision.not_utf8`
 * (`image`, `argv`, `parentImage`, `cgroup`), and `procrec.decision.unsettled`
 * when it names no process because it came out before the kernel's events
 * had caught up with it (`DecisionSettler` of settle_decisions.ts).
 *
 * `process.exit_code` is absent when the source reported no status
 * (Sysmon); a process killed by a signal has `process.exit_code` 128 + the
 * signal number (as a shell reports it) and `procrec.signal` {`number`,
 * `name`}. A lost span is a document of its own: `event.kind`
 * `pipeline_error`, `event.action` `lost`, `procrec.lost` {`reason`,
 * `count` (absent when unknown), `cpu`}.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { decodeExitStatus } from "../analysis/decode_exit_status.ts";
import type { RecordingHeader } from "../log/mod.ts";
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
import { ProcessTable, type ProcessView } from "./process_table.ts";
import { isoFromNs } from "../text/iso_from_ns.ts";

/** The ECS version the documents follow. */
export const ECS_VERSION = "8.11.0";

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/**
 * Returns a function that maps each event, in recording order, to an ECS
 * document, or `undefined` for events that are not a process's creation,
 * exec, exit or snapshot. `table` remembers the processes (a
 * `DecisionSettler` of settle_decisions.ts shares it, to hold decisions
 * back until the exits before them have come).
 *
 * @example
 * ```ts
 * import { ecsMapper } from "./ecs_mapper.ts";
 * const toEcs = ecsMapper({ host: "h", os: "linux", bootId: "b", timeBase: { monoNs: 0n, utcNs: 0n } });
 * toEcs({ kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1, creatorPid: 1,
 *   creatorTid: 1, start: 0, info: { image: "/bin/ls", argv: ["ls", "-l"], from: {} } });
 * const doc = toEcs({ kind: "process_exit", t: 2_000_000, pid: 5, tid: 5, status: 0x100 }) as any;
 * if (doc.process.exit_code !== 1 || doc.process.name !== "ls" || doc["@timestamp"] !== "1970-01-01T00:00:00.002000000Z") {
 *   throw new Error(JSON.stringify(doc));
 * }
 * ```
 */
export function ecsMapper(
  header: Pick<RecordingHeader, "host" | "os" | "bootId" | "timeBase">,
  table: ProcessTable = new ProcessTable(header.bootId),
): (event: ProcEvent) => JsonObject | undefined {
  const utc = (t: number) => isoFromNs(header.timeBase.utcNs + BigInt(t));
  const accounts = new AccountBook();
  let sequence = 0;
  const proc = (v: ProcessView): JsonObject => {
    const p: JsonObject = { entity_id: v.entityId, pid: v.pid };
    const info = v.info;
    if (info?.image !== undefined) {
      p.executable = info.image;
      p.name = baseName(info.image, header.os);
    } else if (info?.comm !== undefined) p.name = info.comm;
    const args = argsOf(info);
    if (args !== undefined) {
      p.args = args;
      p.args_count = args.length;
    }
    const cmd = commandLineOf(info);
    if (cmd !== undefined) p.command_line = cmd;
    if (info?.cwd !== undefined) p.working_directory = info.cwd;
    if (Number.isFinite(v.start)) p.start = utc(v.start);
    if (info?.sha256 !== undefined) p.hash = { sha256: info.sha256 };
    const pe: JsonObject = {};
    if (info?.originalFileName !== undefined) {
      pe.original_file_name = info.originalFileName;
    }
    if (info?.description !== undefined) pe.description = info.description;
    if (info?.product !== undefined) pe.product = info.product;
    if (info?.company !== undefined) pe.company = info.company;
    if (Object.keys(pe).length > 0) p.pe = pe;
    return p;
  };
  const base = (t: number, kind: string, type: string, action: string) => ({
    "@timestamp": utc(t),
    ecs: { version: ECS_VERSION },
    event: {
      kind,
      category: ["process"],
      type: [type],
      action,
      module: "procrec",
      dataset: "procrec.process",
      sequence: sequence++,
    },
    host: { name: header.host, os: { type: header.os } },
  });
  return (event) => {
    if (accounts.observe(event)) return undefined;
    if (event.kind === "lost") {
      return {
        ...base(event.t, "pipeline_error", "info", "lost"),
        procrec: { lost: lostFields(event) },
      };
    }
    if (event.kind === "exec_denied" || event.kind === "exec_audited") {
      const denied = event.kind === "exec_denied";
      // (the process that called exec, to pivot to its other documents)
      // (none when it came out before the kernel's events had caught up)
      const settled = !table.unsettled(event);
      const caller = settled ? table.holderAt(event.pid, event.t) : undefined;
      // (its parent when it called exec, as ppid and parentImage are: the
      // one it was created by may have exited since)
      const parent = settled ? table.holderAt(event.ppid, event.t) : undefined;
      const doc = base(
        event.t,
        "event",
        denied ? "denied" : "allowed",
        event.kind,
      );
      return {
        ...doc,
        // ECS: "denied"/"allowed" are types of intrusion_detection
        event: {
          ...doc.event,
          category: ["process", "intrusion_detection"],
          type: ["start", denied ? "denied" : "allowed"],
          outcome: denied ? "failure" : "success",
        },
        process: {
          ...(caller ? { entity_id: caller.entityId } : {}),
          pid: event.pid,
          thread: { id: event.tid },
          executable: event.image,
          ...(event.argv ? { args: event.argv } : {}),
          parent: {
            ...(parent ? { entity_id: parent.entityId } : {}),
            pid: event.ppid,
            ...(event.parentImage ? { executable: event.parentImage } : {}),
          },
        },
        user: { id: String(event.uid), effective: { id: String(event.euid) } },
        rule: { id: event.rule, name: event.rule },
        procrec: {
          decision: {
            action: denied ? "deny" : "audit",
            ...(event.kind === "exec_audited" && event.exempt
              ? { exempt: true }
              : {}),
            ...(event.byContent ? { matched_by: "content" } : {}),
            ...(event.cgroup ? { cgroup: event.cgroup } : {}),
            ...(event.argvTruncated ? { args_truncated: true } : {}),
            ...(settled ? {} : { unsettled: true }),
            ...(event.notUtf8 ? { not_utf8: [...event.notUtf8] } : {}),
          },
        },
      };
    }
    const ctx = table.observe(event);
    if (ctx === undefined) return undefined;
    const process = proc(ctx.self);
    let type: string;
    switch (event.kind) {
      case "process_create":
        type = "start";
        break;
      case "process_snapshot":
        type = "info";
        break;
      case "exec":
        type = "start";
        break;
      default:
        type = "end";
    }
    if (event.tid !== 0) process.thread = { id: event.tid };
    if (ctx.parent) process.parent = proc(ctx.parent);
    else if (event.kind === "process_create" && event.ppid !== 0) {
      process.parent = { pid: event.ppid };
    }
    let signal: JsonObject | undefined;
    if (event.kind === "process_exit") {
      process.end = utc(event.t);
      const exit = decodeExitStatus(
        event.status,
        header.os,
        event.statusUnknown === true,
      );
      if (exit.kind === "code" || exit.kind === "ntstatus") {
        process.exit_code = exit.code ?? exit.raw;
      } else if (exit.kind === "signal" && exit.signal !== undefined) {
        process.exit_code = 128 + exit.signal;
        signal = {
          number: exit.signal,
          ...(exit.name !== undefined ? { name: exit.name } : {}),
        };
      }
    }
    const doc: JsonObject = {
      ...base(event.t, "event", type, event.kind),
      process,
    };
    const info = ctx.self.info;
    const exact = exactnessFields(info);
    const parentExact = exactnessFields(ctx.parent?.info);
    if (signal || info?.hashState !== undefined || exact || parentExact) {
      doc.procrec = {
        ...(signal ? { signal } : {}),
        ...(info?.hashState !== undefined
          ? { hash_state: info.hashState }
          : {}),
        ...exact,
        ...(parentExact ? { parent: parentExact } : {}),
      };
    }
    if (info?.user !== undefined) doc.user = splitUser(info.user);
    else if (info?.uid !== undefined) {
      const user: JsonObject = { id: String(info.uid) };
      const name = accounts.users.get(info.uid);
      if (name !== undefined) user.name = name;
      if (info.euid !== undefined && info.euid !== info.uid) {
        const ename = accounts.users.get(info.euid);
        user.effective = {
          id: String(info.euid),
          ...(ename !== undefined ? { name: ename } : {}),
        };
      }
      doc.user = user;
    }
    if (info?.gid !== undefined) {
      const name = accounts.groups.get(info.gid);
      doc.group = {
        id: String(info.gid),
        ...(name !== undefined ? { name } : {}),
      };
    }
    const container = containerIdOf(info);
    if (container !== undefined) doc.container = { id: container };
    return doc;
  };
}
