/**
 * Whether a path exists (a dangling link counts). Needs `--allow-read`.
 *
 * @example
 * ```ts
 * import { pathExists } from "./path_exists.ts";
 * if (!(await pathExists("."))) throw new Error("cwd is missing");
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
