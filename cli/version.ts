/**
 * procrec's version, from one place: the `version` of the repository's
 * `package.json`, which the Debian package build (`make deb`) also reads.
 * The commit it was built from comes from `build-info.json` beside `cli/`
 * (written by the package build) or, in a git checkout, from git.
 *
 * @module
 */
import pkg from "../package.json" with { type: "json" };

/** The version of procrec written into every recording. */
export const TOOL_VERSION: string = pkg.version;

/** What `procrec --version` prints: the version and the commit it came from. */
export async function versionLine(): Promise<string> {
  return `procrec ${TOOL_VERSION} (commit ${await buildCommit()})`;
}

/**
 * The commit procrec was built from: `build-info.json`'s `commit` in an
 * installed copy, else `git rev-parse --short=12 HEAD` (with `-dirty` when the
 * work tree has changes) in a checkout, else `unknown`. Needs `--allow-read`
 * and, in a checkout, `--allow-run=git`.
 *
 * @example
 * ```ts
 * import { buildCommit } from "./version.ts";
 * const commit = await buildCommit();
 * if (!/^([0-9a-f]{7,40}(-dirty)?|unknown)$/.test(commit)) throw new Error(commit);
 * ```
 */
export async function buildCommit(): Promise<string> {
  const root = new URL("../", import.meta.url);
  try {
    const info = JSON.parse(
      await Deno.readTextFile(new URL("build-info.json", root)),
    );
    if (typeof info?.commit === "string") return info.commit;
  } catch { /* not an installed copy */ }
  try {
    const dir = decodeURIComponent(root.pathname);
    const git = (...args: string[]) =>
      new Deno.Command("git", { args: ["-C", dir, ...args], stderr: "null" })
        .output();
    const head = await git("rev-parse", "--short=12", "HEAD");
    if (!head.success) return "unknown";
    const commit = new TextDecoder().decode(head.stdout).trim();
    const status = await git("status", "--porcelain", "--untracked-files=no");
    const dirty = status.success && status.stdout.length > 0;
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return "unknown";
  }
}
