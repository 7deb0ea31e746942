/**
 * Whether recordings directories keep their evidence to their owner: a
 * directory, or a file in it, that other users can read (or write), or that
 * another user than this process's and root owns, is reported with the
 * files concerned and the command that fixes it. Needs
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
  /**
   * Directories others may write: they can delete or alter the evidence,
   * or make a writer.lock and hold it to keep every recorder out (found by
   * review: a 0777 directory was called only "readable").
   */
  writableDirs: string[];
  /** Files others may read or write. */
  openFiles: string[];
  /**
   * The directory, subdirectories and files owned by another user than this
   * process's and root: that user can delete or alter the evidence, or
   * forge a writer.pid (found by review: mode bits alone were looked at).
   */
  foreign: string[];
  entries: number;
}

/** This process's user id (undefined where it cannot be known). */
function ownUid(): number | undefined {
  try {
    return Deno.uid() ?? undefined;
  } catch {
    return undefined;
  }
}

/** Whether `st` is owned by another user than `me` and root. */
function foreignOwner(st: Deno.FileInfo, me: number | undefined): boolean {
  return me !== undefined && st.uid !== null && st.uid !== 0 && st.uid !== me;
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
    const f: DirFindings = {
      openDirs: [],
      writableDirs: [],
      openFiles: [],
      foreign: [],
      entries: 0,
    };
    await walk(dir, st, 0, f, ownUid());
    if (
      f.openDirs.length === 0 && f.openFiles.length === 0 &&
      f.foreign.length === 0
    ) {
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
    if (f.writableDirs.length) {
      parts.push(
        `other users can WRITE ${
          list(f.writableDirs)
        } (delete or alter recordings, or make and hold a writer.lock that keeps the recorder out)`,
      );
    }
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
    if (f.foreign.length) {
      parts.push(
        `owned by another user, who can delete or alter what is recorded: ${
          list(f.foreign)
        }`,
      );
    }
    const fixes = [
      ...(f.openDirs.length || f.openFiles.length
        ? [
          `chmod -R o-rwx ${quote(dir)} (new recordings are 0600 in a 0700 ` +
          `directory; --group NAME gives a group 0640/0750)`,
        ]
        : []),
      ...(f.foreign.length
        ? [`chown -R ${ownUid() ?? 0} ${quote(dir)} (the recorder's user)`]
        : []),
    ];
    checks.push({
      name,
      ok: true,
      warn: true,
      detail: `${
        f.writableDirs.length
          ? "evidence writable by others"
          : f.openDirs.length || f.openFiles.length
          ? "evidence readable by others"
          : "evidence in another user's hands"
      }: ${parts.join("; ")}`,
      fix: fixes.join("; "),
    });
  }
  return checks;
}

async function walk(
  dir: string,
  st: Deno.FileInfo,
  depth: number,
  f: DirFindings,
  me: number | undefined,
): Promise<void> {
  if ((st.mode ?? 0) & 0o007) f.openDirs.push(`${dir} (${octal(st.mode!)})`);
  if ((st.mode ?? 0) & 0o002) {
    f.writableDirs.push(`${dir} (${octal(st.mode!)})`);
  }
  if (foreignOwner(st, me)) f.foreign.push(`${dir} (uid ${st.uid})`);
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
    if (est.isDirectory) await walk(path, est, depth + 1, f, me);
    else {
      if (est.isFile && est.size > 0 && (est.mode ?? 0) & 0o006) {
        f.openFiles.push(`${path} (${octal(est.mode!)})`);
      }
      if (foreignOwner(est, me)) f.foreign.push(`${path} (uid ${est.uid})`);
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
