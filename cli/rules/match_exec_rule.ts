/**
 * The exec rules' matching in TypeScript, as `driver/linux/exec_match.c`
 * does it in the enforcer, for `record --rules FILE --dry-run`. Pure.
 *
 * @module
 */
import type { ResolvedExecRule } from "./exec_rule.ts";
import { matchArgvRegex } from "./match_argv_regex.ts";

/**
 * Whether `s` matches the glob `pat`: `*` any run of characters (`/`
 * included, also none), `?` exactly one, every other character itself.
 *
 * @example
 * ```ts
 * import { globMatch } from "./match_exec_rule.ts";
 * if (!globMatch("/usr/bin/*", "/usr/bin/x/y") || globMatch("/a?", "/a")) throw new Error();
 * ```
 */
export function globMatch(pat: string, s: string): boolean {
  const p8 = new TextEncoder().encode(pat), s8 = new TextEncoder().encode(s);
  let p = 0, i = 0, star = -1, mark = 0;
  while (i < s8.length) {
    if (p < p8.length && p8[p] === 0x2a) {
      star = p++;
      mark = i;
    } else if (p < p8.length && (p8[p] === 0x3f || p8[p] === s8[i])) {
      p++;
      i++;
    } else if (star >= 0) {
      p = star + 1;
      i = ++mark;
    } else return false;
  }
  while (p < p8.length && p8[p] === 0x2a) p++;
  return p === p8.length;
}

/** What is known of a process (or of an exec) to match rules against. */
export interface ExecSubject {
  image?: string;
  dev?: number;
  ino?: number;
  uid?: number;
  euid?: number;
  parent?: string;
  cgroup?: string;
  /** Arguments. */
  argv?: string[];
  /** The image's size and SHA-256 (hex), where known: a `file` rule matches a copy by them. */
  size?: number;
  sha256?: string;
}

/**
 * How `rule`'s `file` matcher matches `s`: `"file"` (the same device and
 * inode), `"content"` (a copy: the same size and SHA-256, as the enforcer
 * denies it), or `undefined` (no match, or no `file` matcher).
 *
 * @example
 * ```ts
 * import { fileMatch } from "./match_exec_rule.ts";
 * import type { ResolvedExecRule } from "./exec_rule.ts";
import { matchArgvRegex } from "./match_argv_regex.ts";
 * const r: ResolvedExecRule = { id: "x", action: "deny", line: 1, fileIds: [[8, 12, 3, "ab"]] };
 * if (fileMatch(r, { dev: 8, ino: 12 }) !== "file") throw new Error();
 * if (fileMatch(r, { dev: 8, ino: 99, size: 3, sha256: "ab" }) !== "content") throw new Error();
 * if (fileMatch(r, { dev: 8, ino: 99, size: 3, sha256: "cd" }) !== undefined) throw new Error();
 * ```
 */
export function fileMatch(
  rule: ResolvedExecRule,
  s: ExecSubject,
): "file" | "content" | undefined {
  if (!rule.fileIds) return undefined;
  if (
    s.dev !== undefined && s.ino !== undefined &&
    rule.fileIds.some(([d, i]) => d === s.dev && i === s.ino)
  ) return "file";
  if (
    s.size !== undefined && s.sha256 !== undefined &&
    rule.fileIds.some(([, , size, sha]) =>
      size === s.size && sha !== undefined && sha === s.sha256
    )
  ) return "content";
  return undefined;
}

/**
 * Whether every matcher of `rule` matches `s`; a matcher on a value that is
 * not known does not match (as in the enforcer); a `file` matcher matches
 * the same file or a copy ({@link fileMatch}). A regex is tried on the
 * arguments' bytes as the enforcer's POSIX ERE tries it
 * ({@link matchArgvRegex}; the rule file admits only expressions that read
 * the same in both).
 *
 * @example
 * ```ts
 * import { ruleMatches } from "./match_exec_rule.ts";
 * const r = { id: "x", action: "deny", path: "*\/nc", uid: 0, line: 1 } as const;
 * if (!ruleMatches(r, { image: "/usr/bin/nc", uid: 5, euid: 0 })) throw new Error();
 * ```
 */
export function ruleMatches(rule: ResolvedExecRule, s: ExecSubject): boolean {
  if (rule.fileIds && fileMatch(rule, s) === undefined) return false;
  if (rule.uid !== undefined && s.uid !== rule.uid && s.euid !== rule.uid) {
    return false;
  }
  if (
    rule.path !== undefined &&
    (s.image === undefined || !globMatch(rule.path, s.image))
  ) return false;
  if (
    rule.parent !== undefined &&
    (s.parent === undefined || !globMatch(rule.parent, s.parent))
  ) {
    return false;
  }
  if (
    rule.cgroup !== undefined &&
    (s.cgroup === undefined || !globMatch(rule.cgroup, s.cgroup))
  ) {
    return false;
  }
  if (rule.argv !== undefined) {
    if (s.argv === undefined) return false;
    const line = s.argv.join(" ");
    if ("regex" in rule.argv) {
      if (!matchArgvRegex(rule.argv.regex, line)) return false;
    } else if (!line.includes(rule.argv.contains)) return false;
  }
  return true;
}
