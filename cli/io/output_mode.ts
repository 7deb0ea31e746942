/**
 * The modes of what procrec writes: evidence files 0600 and directories 0700,
 * or 0640 and 0750 owned by a group of analysts (`--group NAME`). Key files
 * are always 0600. Needs `--allow-read` for `/etc/group` when a group is named.
 *
 * @module
 */

/** Who may read an output besides its owner. */
export interface OutputMode {
  /** Mode of a file (0600, or 0640 with a group). */
  file: number;
  /** Mode of a directory (0700, or 0750 with a group). */
  dir: number;
  /** Group id the outputs are given, if any. */
  gid?: number;
  /** The group as the user named it, for messages. */
  groupName?: string;
}

/** Owner only: 0600 files, 0700 directories. */
export const PRIVATE_MODE: OutputMode = Object.freeze({
  file: 0o600,
  dir: 0o700,
});

/**
 * The output mode for `--group NAME` (a name from `/etc/group` or a number);
 * {@link PRIVATE_MODE} without a group.
 *
 * @example
 * ```ts
 * import { outputMode } from "./output_mode.ts";
 * const m = outputMode("0");
 * if (m.file !== 0o640 || m.dir !== 0o750 || m.gid !== 0) throw new Error();
 * if (outputMode(undefined).file !== 0o600) throw new Error();
 * ```
 */
export function outputMode(group: string | undefined): OutputMode {
  if (group === undefined) return PRIVATE_MODE;
  const gid = /^\d+$/.test(group) ? Number(group) : lookUpGroup(group);
  return { file: 0o640, dir: 0o750, gid, groupName: group };
}

function lookUpGroup(name: string): number {
  let text = "";
  try {
    text = Deno.readTextFileSync("/etc/group");
  } catch (e) {
    throw new Error(
      `Cannot look up group "${name}": cannot read /etc/group (${
        (e as Error).message
      })`,
      { cause: e },
    );
  }
  for (const line of text.split("\n")) {
    const [n, , gid] = line.split(":");
    if (n === name && /^\d+$/.test(gid ?? "")) return Number(gid);
  }
  throw new Error(
    `Cannot look up group "${name}": no such group in /etc/group`,
  );
}
