/**
 * Resolves parsed rules for the kernel: user names to uids (the host's
 * /etc/passwd), `file:` paths to their device and inode (stat, following
 * links: the file that would be executed) and their contents' size and
 * SHA-256 (so that a copy is denied too), a container id to a cgroup glob.
 * Needs `--allow-read`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  type ExecRule,
  type ResolvedExecRule,
  RULE_FILES_MAX,
} from "./exec_rule.ts";

/** The SHA-256 (hex) of a file's contents, read in 1 MiB pieces. */
export function sha256OfFile(path: string): string {
  const f = Deno.openSync(path, { read: true });
  try {
    return sha256OfOpenFile(f);
  } finally {
    f.close();
  }
}

/** The SHA-256 (hex) of an open file's contents from where it stands. */
export function sha256OfOpenFile(f: Deno.FsFile): string {
  const h = createHash("sha256");
  const buf = new Uint8Array(1 << 20);
  for (;;) {
    const n = f.readSync(buf);
    if (n === null) break;
    h.update(buf.subarray(0, n));
  }
  return h.digest("hex");
}

/** Reads /etc/passwd into name → uid (empty when it cannot be read). */
export function readPasswd(path = "/etc/passwd"): Map<string, number> {
  const users = new Map<string, number>();
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return users;
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && /^\d+$/.test(f[2])) users.set(f[0], Number(f[2]));
  }
  return users;
}

/**
 * Resolves every rule; throws a `SyntaxError` listing each problem as
 * `NAME:LINE: field F: ...` (a user that does not exist, a file that cannot
 * be stat'ed, too many files).
 *
 * ```ts ignore
 * const resolved = resolveExecRules(parseExecRules(text, "r.yaml"), "r.yaml");
 * ```
 */
export function resolveExecRules(
  rules: ExecRule[],
  name: string,
  users: Map<string, number> = readPasswd(),
): ResolvedExecRule[] {
  const problems: string[] = [];
  let files = 0;
  const out = rules.map((r): ResolvedExecRule => {
    const x: ResolvedExecRule = { ...r };
    if (typeof r.user === "number") x.uid = r.user;
    else if (typeof r.user === "string") {
      const uid = users.get(r.user);
      if (uid === undefined) {
        problems.push(
          `${name}:${r.line}: field user: no user "${r.user}" in /etc/passwd`,
        );
      } else x.uid = uid;
    }
    if (r.file) {
      x.fileIds = [];
      for (const f of r.file) {
        try {
          const st = Deno.statSync(f);
          if (!st.isFile) throw new Error("not a regular file");
          x.fileIds.push([st.dev, st.ino!, st.size, sha256OfFile(f)]);
        } catch (e) {
          problems.push(
            `${name}:${r.line}: field file: cannot stat "${f}": ${
              (e as Error).message
            }`,
          );
        }
      }
      files += r.file.length;
    }
    if (r.container) x.cgroup = `*${r.container}*`;
    return x;
  });
  if (files > RULE_FILES_MAX) {
    problems.push(
      `${name}: field file: ${files} files in all, at most ${RULE_FILES_MAX}`,
    );
  }
  if (problems.length) {
    throw new SyntaxError(
      `Cannot load the rule file "${name}":\n  ${problems.join("\n  ")}`,
    );
  }
  return out;
}
