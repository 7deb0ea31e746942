/**
 * Reads the Sigma rule files `hunt --rules` names: a file is itself, a
 * directory every `*.yml` / `*.yaml` below it, sorted by path; a FIFO or a
 * device is read once, up to the limit. Needs `--allow-read`.
 *
 * @module
 */
import { CliError } from "../errors.ts";
import { InputError, readInputBytes } from "../io/read_input.ts";

/** A rule file larger than this is refused (SigmaHQ's largest is ~20 KiB). */
export const MAX_RULE_BYTES = 1024 * 1024;

/** A rule file's path and text. */
export interface RuleFile {
  path: string;
  text: string;
  /** Why it could not be read (too large, not UTF-8): listed, not loaded. */
  unreadable?: string;
}

/** Directories deeper than this below a rules path are not read (and said). */
const MAX_RULE_DEPTH = 32;

/**
 * The rule files under `paths`. A path that cannot be read is a
 * {@link CliError} naming it; a file too large or not UTF-8 comes back
 * {@link RuleFile.unreadable}, so that the rules beside it still load.
 * Symbolic links in a directory are followed (a directory reached twice is
 * read once).
 */
export async function readRuleFiles(paths: string[]): Promise<RuleFile[]> {
  const files: string[] = [];
  const seen = new Set<string>();
  /** Links that lead nowhere, by path: listed, not skipped (found by review). */
  const broken: string[] = [];
  /** Directories below the depth read: listed, not skipped (found by review). */
  const tooDeep: string[] = [];
  const walk = async (dir: string, depth: number) => {
    if (depth > MAX_RULE_DEPTH) {
      tooDeep.push(dir);
      return;
    }
    // (a link back up the tree is read once)
    const real = await Deno.realPath(dir).catch(() => dir);
    if (seen.has(real)) return;
    seen.add(real);
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const e of entries) {
      const p = `${dir}/${e.name}`;
      let { isDirectory, isFile } = e;
      if (e.isSymlink) {
        // (found by review: links were skipped without a word)
        const st = await Deno.stat(p).catch(() => undefined);
        if (!st && /\.ya?ml$/i.test(e.name)) broken.push(p);
        isDirectory = st?.isDirectory ?? false;
        isFile = st?.isFile ?? false;
      }
      if (isDirectory) await walk(p, depth + 1);
      else if (isFile && /\.ya?ml$/i.test(e.name)) files.push(p);
    }
  };
  for (const p of paths) {
    try {
      const st = await Deno.stat(p);
      if (st.isDirectory) await walk(p.replace(/\/+$/, ""), 0);
      else files.push(p);
    } catch (e) {
      throw new CliError(
        `Cannot read rules "${p}": ${(e as Error).message}`,
        2,
        { cause: e },
      );
    }
  }
  const out: RuleFile[] = [];
  for (const path of broken) {
    out.push({ path, text: "", unreadable: "a symbolic link to nothing" });
  }
  for (const path of tooDeep) {
    out.push({
      path,
      text: "",
      unreadable:
        `a directory more than ${MAX_RULE_DEPTH} levels below the rules path given: not read (give it as a path of its own)`,
    });
  }
  // a file reached twice (a link to a rule file beside it) is read once,
  // by its own name when it is reached by it
  const byReal = new Map<string, { path: string; own: boolean }>();
  for (const path of files) {
    const real = await Deno.realPath(path).catch(() => path);
    const own = await Deno.lstat(path).then((st) => !st.isSymlink, () => false);
    const before = byReal.get(real);
    if (before === undefined || (own && !before.own)) {
      byReal.set(real, { path, own });
    }
  }
  const wanted = new Set([...byReal.values()].map((c) => c.path));
  for (const path of files) {
    if (!wanted.has(path)) continue;
    wanted.delete(path);
    try {
      // (through the input reader: a FIFO does not block at open, and
      // /dev/zero stops at the limit instead of filling the memory)
      const bytes = await readInputBytes(path, {
        what: "rule file",
        maxBytes: MAX_RULE_BYTES,
      });
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        out.push({ path, text: "", unreadable: "is not UTF-8 text" });
        continue;
      }
      out.push({ path, text });
    } catch (e) {
      // (one file too large among many: the others still load)
      if (e instanceof InputError && e.message.includes(" is larger than ")) {
        out.push({ path, text: "", unreadable: e.message });
        continue;
      }
      throw new CliError(
        e instanceof InputError
          ? e.message
          : `Cannot read rule file "${path}": ${(e as Error).message}`,
        2,
        { cause: e },
      );
    }
  }
  return out;
}
