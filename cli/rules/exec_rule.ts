/**
 * The exec rules' types: a rule as the rule file gives it, and as it is
 * resolved for the kernel (user names to uids, `file:` paths to device and
 * inode, a container id to a cgroup glob).
 *
 * @module
 */

/** What a matching exec gets. */
export type ExecRuleAction = "deny" | "audit";

/** One rule of a rule file. Every matcher given must match (AND). */
export interface ExecRule {
  /** Names the rule in decisions (`[A-Za-z0-9._-]`, 1 to 64). */
  id: string;
  action: ExecRuleAction;
  /** Glob on the kernel's path of the executed file (`*` any run, `/` too; `?` one byte). */
  path?: string;
  /** The files themselves: device and inode taken when the rules load. */
  file?: string[];
  /** The new arguments, joined by single spaces: a substring, or a POSIX extended regular expression. */
  argv?: { contains: string } | { regex: string };
  /** Glob on the path of the parent process's executable. */
  parent?: string;
  /** The caller's real or effective user: a name or a uid. */
  user?: string | number;
  /** A container id (or its prefix, 12 to 64 hex digits), found in the cgroup path. */
  container?: string;
  /** Line of the rule in its file (1-based). */
  line: number;
}

/** A rule ready for the kernel. */
export interface ResolvedExecRule extends ExecRule {
  uid?: number;
  /**
   * `[dev, ino, size, sha256]` of each `file`, as stat(2) gives them and its
   * contents' SHA-256 (hex) when the rules load: the enforcer denies the file
   * itself, and a copy of it (same size and SHA-256) under any other name.
   */
  fileIds?: [dev: number, ino: number, size?: number, sha256?: string][];
  /** Glob on the cgroup v2 path (`*ID*` for `container`). */
  cgroup?: string;
}

/** Limits of one rule set (the C side's `PR_RULES_MAX`, `PR_RULE_FILES_MAX`, `PR_RULE_GLOB`). */
export const RULES_MAX = 32;
/** File identities in one rule set at most. */
export const RULE_FILES_MAX = 256;
/** Bytes of a glob or an argv text at most (NUL not counted). */
export const RULE_TEXT_MAX = 255;
