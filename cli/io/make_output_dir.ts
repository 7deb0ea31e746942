/**
 * Creates an output directory (a recordings directory, a segment directory)
 * with mode 0700 (0750 with a group), whatever the umask. Needs
 * `--allow-read` and `--allow-write`.
 *
 * @module
 */
import { type OutputMode, PRIVATE_MODE } from "./output_mode.ts";

/**
 * Makes `path` and any missing parents; each directory it creates gets
 * `mode.dir` and `mode.gid`. An existing directory is left as it is; a link
 * at `path` is refused (it could point anywhere).
 *
 * @example
 * ```ts
 * import { makeOutputDir } from "./make_output_dir.ts";
 * const dir = await Deno.makeTempDir();
 * await makeOutputDir(`${dir}/a/b`);
 * const st = await Deno.stat(`${dir}/a/b`);
 * if ((st.mode! & 0o777) !== 0o700) throw new Error(st.mode!.toString(8));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function makeOutputDir(
  path: string,
  mode: OutputMode = PRIVATE_MODE,
): Promise<void> {
  const st = await Deno.lstat(path).catch(() => undefined);
  if (st?.isDirectory) return;
  if (st?.isSymlink) {
    throw new Error(
      `Cannot use directory "${path}": it is a symbolic link; give the real directory`,
    );
  }
  if (st) {
    throw new Error(`Cannot use directory "${path}": it is not a directory`);
  }
  const parent = path.replace(/\/+[^/]*\/*$/, "");
  if (parent !== "" && parent !== path) await makeOutputDir(parent, mode);
  try {
    await Deno.mkdir(path, { mode: mode.dir });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      // made by someone else in between: use it only if it is a directory
      const again = await Deno.lstat(path);
      if (again.isDirectory) return;
    }
    throw new Error(
      `Cannot create directory "${path}": ${(e as Error).message}`,
      { cause: e },
    );
  }
  await Deno.chmod(path, mode.dir);
  if (mode.gid !== undefined) await Deno.chown(path, null, mode.gid);
}
