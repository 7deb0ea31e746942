/**
 * Helpers shared by the ECS and OCSF mappers.
 *
 * @module
 */
import type { Lost, ProcessInfo, ProcEvent } from "../events/types.ts";
import { containerOf } from "../analysis/container_of.ts";
import { splitWindowsCommandLine } from "./split_windows_command_line.ts";

/**
 * The executable's file name: the last path component (after `/`, and on
 * Windows after `\` too: on Linux a backslash is a character of a name, and
 * `/tmp/evil\sshd` is not `sshd`; found by review).
 *
 * @example
 * ```ts
 * import { baseName } from "./_process_fields.ts";
 * if (baseName("C:\\Windows\\cmd.exe", "windows") !== "cmd.exe") throw new Error();
 * if (baseName("/tmp/evil\\sshd", "linux") !== "evil\\sshd") throw new Error();
 * ```
 */
export function baseName(path: string, os: string): string {
  const i = os === "windows"
    ? Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"))
    : path.lastIndexOf("/");
  return path.slice(i + 1);
}

/** Arguments: argv when recorded, else the Windows command line split. */
export function argsOf(info: ProcessInfo | undefined): string[] | undefined {
  if (info?.argv !== undefined) return info.argv;
  if (info?.cmdline !== undefined) return splitWindowsCommandLine(info.cmdline);
  return undefined;
}

/** The command line: as recorded, else argv joined with blanks. */
export function commandLineOf(
  info: ProcessInfo | undefined,
): string | undefined {
  return info?.cmdline ?? info?.argv?.join(" ");
}

/** `DOMAIN\name` split, for Windows user names. */
export function splitUser(
  user: string,
): { name: string; domain?: string } {
  const i = user.indexOf("\\");
  return i < 0 ? { name: user } : {
    name: user.slice(i + 1),
    domain: user.slice(0, i),
  };
}

/** Account names seen in `accounts` events, by id. */
export class AccountBook {
  users = new Map<number, string>();
  groups = new Map<number, string>();

  /** Takes an `accounts` event's tables; true when `event` was one. */
  observe(event: ProcEvent): boolean {
    if (event.kind !== "accounts") return false;
    this.users = new Map(event.users);
    this.groups = new Map(event.groups);
    return true;
  }
}

/** The container id a process's cgroup names, when any. */
export function containerIdOf(
  info: ProcessInfo | undefined,
): string | undefined {
  return info?.cgroup !== undefined ? containerOf(info.cgroup)?.id : undefined;
}

/** A lost span as one document's fields: reason, count (absent when unknown), cpu. */
export function lostFields(e: Lost): Record<string, unknown> {
  return {
    reason: e.reason,
    ...(e.countUnknown ? {} : { count: e.count }),
    ...(e.cpu !== undefined ? { cpu: e.cpu } : {}),
  };
}

/**
 * What a process's description says of its own exactness, as a document's
 * fields (absent when nothing is to be said): `not_utf8`, the fields whose
 * bytes were not UTF-8 and so read with U+FFFD (procrec's names: `image`,
 * `argv`, `comm`, `cwd`, `cred`, `cgroup`); `args_truncated`, the arguments
 * were cut at the source's limit; `fileless`, the image had no name in any
 * file system (memfd); `deleted_image`, its file had been unlinked when it
 * ran. Neither ECS nor OCSF has a field for these, and a document without
 * them passes an altered or cut name for the exact one.
 *
 * @example
 * ```ts
 * import { exactnessFields } from "./_process_fields.ts";
 * const f = exactnessFields({ from: {}, image: "/tmp/\ufffd", notUtf8: ["image"], fileless: true });
 * if (JSON.stringify(f) !== '{"not_utf8":["image"],"fileless":true}') throw new Error(JSON.stringify(f));
 * if (exactnessFields({ from: {} }) !== undefined) throw new Error();
 * ```
 */
export function exactnessFields(
  info: ProcessInfo | undefined,
): Record<string, unknown> | undefined {
  if (info === undefined) return undefined;
  const out: Record<string, unknown> = {};
  if (info.notUtf8 !== undefined && info.notUtf8.length > 0) {
    out.not_utf8 = [...info.notUtf8];
  }
  if (info.argvTruncated) out.args_truncated = true;
  if (info.fileless) out.fileless = true;
  if (info.deletedImage) out.deleted_image = true;
  return Object.keys(out).length > 0 ? out : undefined;
}
