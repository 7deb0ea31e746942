/**
 * The host's account tables (`/etc/passwd`, `/etc/group`) as `accounts`
 * events: once at the start of a recording and again whenever either file
 * changes. Needs read access to both files (`--allow-read`).
 *
 * @module
 */
import type { Accounts } from "../events/types.ts";

/** Where the tables are read from (tests point these elsewhere). */
export interface AccountFiles {
  passwd: string;
  group: string;
}

const DEFAULT_FILES: AccountFiles = {
  passwd: "/etc/passwd",
  group: "/etc/group",
};

/**
 * `[id, name]` pairs of a passwd or group file (`name:x:id:...` lines);
 * comments, blank and malformed lines are skipped. Pure.
 *
 * @example
 * ```ts
 * import { parseAccountFile } from "./account_watcher.ts";
 * const p = parseAccountFile("root:x:0:0::/root:/bin/sh\n# c\nnobody:x:65534:65534::/:/bin/false\nbad\n");
 * if (JSON.stringify(p) !== '[[0,"root"],[65534,"nobody"]]') throw new Error(JSON.stringify(p));
 * ```
 */
export function parseAccountFile(text: string): [number, string][] {
  const out: [number, string][] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 3 || f[0] === "" || !/^\d+$/.test(f[2])) continue;
    const id = Number(f[2]);
    if (Number.isSafeInteger(id)) out.push([id, f[0]]);
  }
  return out;
}

/** Reads the account tables when they change. */
export class AccountWatcher {
  #files: AccountFiles;
  #stamp = "";

  constructor(files: AccountFiles = DEFAULT_FILES) {
    this.#files = files;
  }

  /**
   * An `accounts` event at time `t` when the files differ from the last
   * read (always on the first call), else undefined. A file that cannot be
   * read counts as empty.
   */
  async poll(t: number): Promise<Accounts | undefined> {
    const stamp = (await Promise.all(
      [this.#files.passwd, this.#files.group].map((p) =>
        Deno.stat(p).then(
          (s) =>
            `${s.ino}:${s.size}:${s.mtime?.getTime()}:${s.ctime?.getTime()}`,
          () => "-",
        )
      ),
    )).join("/");
    if (stamp === this.#stamp) return undefined;
    this.#stamp = stamp;
    const read = (p: string) => Deno.readTextFile(p).catch(() => "");
    const [passwd, group] = await Promise.all([
      read(this.#files.passwd),
      read(this.#files.group),
    ]);
    return {
      kind: "accounts",
      t,
      pid: 0,
      tid: 0,
      users: parseAccountFile(passwd),
      groups: parseAccountFile(group),
    };
  }
}
