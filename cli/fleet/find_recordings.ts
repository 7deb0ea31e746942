/**
 * Expands the paths `fleet` and `search` were given into recordings: a file
 * is itself, a directory is every `*.cbor`, `*.cbor.incomplete` and bundle
 * (`*.zip`) below it, sorted by path. A pipe, FIFO or device is refused (it
 * would be opened as a file, and a FIFO blocks at open). Needs
 * `--allow-read`.
 *
 * @module
 */

/**
 * The recording and bundle files under `paths`.
 *
 * @example
 * ```ts
 * import { findRecordings } from "./find_recordings.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/h1`);
 * await Deno.writeTextFile(`${dir}/h1/a.cbor`, "");
 * await Deno.writeTextFile(`${dir}/h1/notes.txt`, "");
 * const found = await findRecordings([dir]);
 * await Deno.remove(dir, { recursive: true });
 * if (found.length !== 1 || !found[0].endsWith("h1/a.cbor")) throw new Error(String(found));
 * ```
 */
export async function findRecordings(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number) => {
    if (depth > 16) return;
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const e of entries) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) {
        // pieces a collector holds for later are not recordings
        if (!e.name.endsWith(".ahead")) await walk(p, depth + 1);
      } else if (e.isFile && /\.(cbor|cbor\.incomplete|zip)$/.test(e.name)) {
        out.push(p);
      }
    }
  };
  for (const p of paths) {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(p);
    } catch (e) {
      throw new Error(`Cannot read "${p}": ${(e as Error).message}`);
    }
    if (st.isDirectory) await walk(p.replace(/\/+$/, ""), 0);
    else if (st.isFile) out.push(p);
    else {
      // (opened as a file, a FIFO nobody writes to would block for ever)
      throw new Error(
        `Cannot read "${p}": it is a pipe, FIFO or device, not a file or a directory; fleet and search read each recording more than once: save it to a file first`,
      );
    }
  }
  return out;
}
