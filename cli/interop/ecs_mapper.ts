/**
 * Maps procrec events to Elastic Common Schema documents, one per process
 * lifecycle event, ready for an Elasticsearch or OpenSearch `_bulk` load.
 *
 * Fields (ECS types in brackets): `@timestamp` [date]; `ecs.version`
 * [keyword]; `event.kind` (`event`), `event.category` (`["process"]`),
 * `event.type` (`["start"]` creation, `["end"]` exit, `["change"]` exec,
 * `["info"]` a process running when the recording began), `event.action`,
 * `event.module`, `event.dataset` [keyword], `event.sequence` [long];
 * `host.name`, `host.os.type` [keyword]; `process.entity_id` (Sysmon
 * ProcessGuid, else procrec's process id) [keyword], `process.pid` [long],
 * `process.executable`, `process.name` [keyword], `process.args` [keyword
 * array], `process.args_count` [long], `process.command_line` [wildcard],
 * `process.working_directory` [keyword], `process.start`, `process.end`
 * [date], `process.exit_code` [long], `process.thread.id` [long],
 * `process.parent.*` (the same for the parent, as far as known); `user.name`,
 * `user.domain`, `user.id` [keyword].
 *
 * `process.exit_code` is absent when the source reported no status (Sysmon)
 * or the process was killed by a signal (Linux: no ECS field holds it).
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { decodeExitStatus } from "../analysis/decode_exit_status.ts";
import type { RecordingHeader } from "../log/mod.ts";
import {
  argsOf,
  baseName,
  commandLineOf,
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
 * exec, exit or snapshot.
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
): (event: ProcEvent) => JsonObject | undefined {
  const table = new ProcessTable(header.bootId);
  const utc = (t: number) => isoFromNs(header.timeBase.utcNs + BigInt(t));
  let sequence = 0;
  const proc = (v: ProcessView): JsonObject => {
    const p: JsonObject = { entity_id: v.entityId, pid: v.pid };
    const info = v.info;
    if (info?.image !== undefined) {
      p.executable = info.image;
      p.name = baseName(info.image);
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
    return p;
  };
  return (event) => {
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
        type = "change";
        break;
      default:
        type = "end";
    }
    if (event.tid !== 0) process.thread = { id: event.tid };
    if (ctx.parent) process.parent = proc(ctx.parent);
    else if (event.kind === "process_create" && event.ppid !== 0) {
      process.parent = { pid: event.ppid };
    }
    if (event.kind === "process_exit") {
      process.end = utc(event.t);
      const exit = decodeExitStatus(
        event.status,
        header.os,
        event.statusUnknown === true,
      );
      if (exit.kind === "code" || exit.kind === "ntstatus") {
        process.exit_code = exit.code ?? exit.raw;
      }
    }
    const doc: JsonObject = {
      "@timestamp": utc(event.t),
      ecs: { version: ECS_VERSION },
      event: {
        kind: "event",
        category: ["process"],
        type: [type],
        action: event.kind,
        module: "procrec",
        dataset: "procrec.process",
        sequence: sequence++,
      },
      host: { name: header.host, os: { type: header.os } },
      process,
    };
    const info = ctx.self.info;
    if (info?.user !== undefined) doc.user = splitUser(info.user);
    else if (info?.uid !== undefined) doc.user = { id: String(info.uid) };
    return doc;
  };
}
