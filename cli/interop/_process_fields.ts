/**
 * Helpers shared by the ECS and OCSF mappers.
 *
 * @module
 */
import type { ProcessInfo } from "../events/types.ts";
import { splitWindowsCommandLine } from "./split_windows_command_line.ts";

/** The executable's file name: the last path component (`/` or `\`). */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
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
