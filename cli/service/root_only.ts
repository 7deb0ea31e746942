/**
 * Whether only root can change what the service runs as root, and where it
 * writes: a file, a directory above it, or any entry of a tree that another
 * user owns, that every user may write, or that a group other than root's
 * may write, is named with the reason. A directory above with the sticky
 * bit (/tmp) is no concern: others may add entries there, but not rename or
 * remove root's. Needs `--allow-read`.
 *
 * @module
 */

/** Something another user than root can change, and why. */
export interface NotRootOnly {
  /** The file or directory. */
  path: string;
  /** E.g. `owned by uid 65534`, `mode 0777: every user can write it`. */
  why: string;
}

/** The links followed at most in one path (as the kernel's limit). */
const MAX_LINKS = 40;

/** The entries of a tree looked at, at most. */
export const MAX_TREE_ENTRIES = 200_000;

/**
 * `path` and every directory the kernel looks in to reach it, links
 * followed one by one (the directory holding a link, then the link's
 * target): what another user than root can change there. A path that is
 * not there is looked at as far as it goes.
 *
 * @example
 * ```ts
 * import { pathNotRootOnly } from "./root_only.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/open`, { mode: 0o777 });
 * await Deno.chmod(`${dir}/open`, 0o777);
 * await Deno.writeTextFile(`${dir}/open/run`, "#!/bin/sh\n");
 * const found = await pathNotRootOnly(`${dir}/open/run`);
 * await Deno.remove(dir, { recursive: true });
 * if (Deno.uid() === 0 && found[0]?.path !== `${dir}/open`) {
 *   throw new Error(JSON.stringify(found));
 * }
 * ```
 */
export async function pathNotRootOnly(path: string): Promise<NotRootOnly[]> {
  const found: NotRootOnly[] = [];
  const seen = new Set<string>();
  const look = (p: string, st: Deno.FileInfo, above: boolean) => {
    if (seen.has(p)) return;
    seen.add(p);
    const why = notRootOnly(st, above);
    if (why) found.push({ path: p, why });
  };
  let cur = "/";
  try {
    look("/", await Deno.lstat("/"), true);
    const rest = path.split("/");
    let links = 0;
    while (rest.length) {
      const name = rest.shift()!;
      if (name === "" || name === ".") continue;
      if (name === "..") {
        cur = cur.replace(/\/[^/]*$/, "") || "/";
        continue;
      }
      const next = cur === "/" ? `/${name}` : `${cur}/${name}`;
      const st = await Deno.lstat(next);
      if (st.isSymlink) {
        // (the link lies in cur, looked at already: its target next)
        if (++links > MAX_LINKS) break;
        const target = await Deno.readLink(next);
        if (target.startsWith("/")) cur = "/";
        rest.unshift(...target.split("/"));
        continue;
      }
      look(next, st, rest.some((n) => n !== "" && n !== "."));
      cur = next;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return found;
}

/**
 * Every entry of the tree `dir` (itself included; links not followed, the
 * target of one that leads out of the tree looked at as
 * {@link pathNotRootOnly} does): what another user than root can change.
 * `cut` when the tree had more than {@link MAX_TREE_ENTRIES} entries and
 * the rest were not looked at.
 *
 * @example
 * ```ts
 * import { treeNotRootOnly } from "./root_only.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/cli`);
 * await Deno.writeTextFile(`${dir}/cli/main.ts`, "", { mode: 0o666 });
 * await Deno.chmod(`${dir}/cli/main.ts`, 0o666);
 * const { found } = await treeNotRootOnly(dir);
 * await Deno.remove(dir, { recursive: true });
 * if (Deno.uid() === 0 && found[0]?.path !== `${dir}/cli/main.ts`) {
 *   throw new Error(JSON.stringify(found));
 * }
 * ```
 */
export async function treeNotRootOnly(
  dir: string,
): Promise<{ found: NotRootOnly[]; cut: boolean }> {
  const found: NotRootOnly[] = [];
  const root = dir.replace(/\/+$/, "") || "/";
  let entries = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    if (++entries > MAX_TREE_ENTRIES) return { found, cut: true };
    const st = await Deno.lstat(p);
    if (st.isSymlink) {
      const real = await Deno.realPath(p).catch(() => undefined);
      if (real !== undefined && !real.startsWith(`${root}/`)) {
        found.push(...await pathNotRootOnly(real));
      }
      continue;
    }
    const why = notRootOnly(st, false);
    if (why) found.push({ path: p, why });
    if (st.isDirectory) {
      for await (const e of Deno.readDir(p)) stack.push(`${p}/${e.name}`);
    }
  }
  return { found, cut: false };
}

/**
 * Why another user than root can change the file `st` describes, if one
 * can: its owner, every user (mode o+w), its group when not root's (g+w).
 * A directory `above` what is looked for, with the sticky bit, lets others
 * add entries but not replace root's: no concern.
 */
function notRootOnly(st: Deno.FileInfo, above: boolean): string | undefined {
  const mode = st.mode ?? 0;
  const octal = (mode & 0o7777).toString(8).padStart(4, "0");
  if (st.uid !== null && st.uid !== 0) return `owned by uid ${st.uid}`;
  if (above && st.isDirectory && mode & 0o1000) return undefined;
  if (mode & 0o002) return `mode ${octal}: every user can write it`;
  if (mode & 0o020 && st.gid !== null && st.gid !== 0) {
    return `mode ${octal}: group ${st.gid} can write it`;
  }
  return undefined;
}
