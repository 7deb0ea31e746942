/**
 * Whether recordings directories keep their evidence to their owner: a
 * directory, or a file in it, that other users can read (or write) is
 * reported with the files concerned and the command that fixes it. Needs
 * `--allow-read` for the directories.
 *
 * Looks at the directories that exist (a missing one is no concern: record
 * makes it 0700) and at files that hold something (an empty `.gitkeep` holds
 * no evidence), down to {@link MAX_DEPTH} levels (segment directories)
 * and at most {@link MAX_ENTRIES} entries; links are not followed.
 *
 * @module
 */
import type { HostCheck } from "./check_host.ts";

/** Levels of subdirectories looked into. */
export const MAX_DEPTH = 3;
/** Entries looked at per directory given, at most. */
export const MAX_ENTRIES = 100_000;

/** What {@link checkRecordingDirs} found in one directory. */
interface DirFindings {
  /** Directories (the given one included) others may list or enter. */
  openDirs: string[];
  /** Files others may read or write. */
  openFiles: string[];
  entries: number;
}

/**
 * One check per directory that exists: ok when neither it nor anything in
 * it is open to other users, else a warning (`warn: true`) that names them.
 *
 * @example
 * ```ts
 * import { checkRecordingDirs } from "./check_recording_dirs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.chmod(dir, 0o755);
 * await Deno.writeTextFile(`${dir}/a.cbor`, "x", { mode: 0o644 });
 * await Deno.chmod(`${dir}/a.cbor`, 0o644);
 * const [c] = await checkRecordingDirs([dir]);
 * await Deno.remove(dir, { recursive: true });
 * if (!c.warn || !c.detail.includes("a.cbor")) throw new Error(c.detail);
 * ```
 */
export async function checkRecordingDirs(dirs: string[]): Promise<HostCheck[]> {
  const checks: HostCheck[] = [];
  for (const dir of [...new Set(dirs)]) {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(dir);
    } catch {
      continue; // nothing written there yet
    }
    const name = `recordings directory ${dir}`;
    if (!st.isDirectory) {
      checks.push({
        name,
        ok: true,
        warn: true,
        detail: `"${dir}" is not a directory`,
      });
      continue;
    }
    const f: DirFindings = { openDirs: [], openFiles: [], entries: 0 };
    await walk(dir, st, 0, f);
    if (f.openDirs.length === 0 && f.openFiles.length === 0) {
      checks.push({
        name,
        ok: true,
        detail:
          `readable by its owner (and group) only: ${f.entries} entries looked at${
            f.entries >= MAX_ENTRIES ? " (the first ones)" : ""
          }`,
      });
      continue;
    }
    const parts: string[] = [];
    if (f.openDirs.length) {
      parts.push(`other users can list or enter ${list(f.openDirs)}`);
    }
    if (f.openFiles.length) {
      parts.push(
        `${f.openFiles.length} file(s) other users can read or write: ${
          list(f.openFiles)
        }`,
      );
    }
    checks.push({
      name,
      ok: true,
      warn: true,
      detail: `evidence readable by others: ${parts.join("; ")}`,
      fix: `chmod -R o-rwx ${quote(dir)} (new recordings are 0600 in a 0700 ` +
        `directory; --group NAME gives a group 0640/0750)`,
    });
  }
  return checks;
}

async function walk(
  dir: string,
  st: Deno.FileInfo,
  depth: number,
  f: DirFindings,
): Promise<void> {
  if ((st.mode ?? 0) & 0o007) f.openDirs.push(`${dir} (${octal(st.mode!)})`);
  if (depth > MAX_DEPTH) return;
  let entries: Deno.DirEntry[];
  try {
    entries = [];
    for await (const e of Deno.readDir(dir)) {
      if (++f.entries > MAX_ENTRIES) break;
      entries.push(e);
    }
  } catch {
    return; // unreadable to us: nothing to say about it
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    let est: Deno.FileInfo;
    try {
      est = await Deno.lstat(path);
    } catch {
      continue;
    }
    if (est.isDirectory) await walk(path, est, depth + 1, f);
    else if (est.isFile && est.size > 0 && (est.mode ?? 0) & 0o006) {
      f.openFiles.push(`${path} (${octal(est.mode!)})`);
    }
  }
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, "0");
}

function list(items: string[]): string {
  const shown = items.slice(0, 5).join(", ");
  return items.length > 5 ? `${shown} and ${items.length - 5} more` : shown;
}

function quote(path: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(path)
    ? path
    : `'${path.replace(/'/g, "'\\''")}'`;
}
