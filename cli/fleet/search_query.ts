/**
 * What `procrec search` looks for, and whether one process description
 * matches it. Pure.
 *
 * @module
 */
import type { ProcessInfo } from "../events/types.ts";

/** A search: every given criterion must match (AND). */
export interface SearchQuery {
  /** An image: a full path (with `/` or `\`) or a file name, case-insensitive. */
  image?: string;
  /** A regular expression over the command line (argv joined by spaces, or the Windows command line). */
  cmdline?: RegExp;
  /** A hash (hex, case-insensitive) of the image, when the recording has hashes. */
  hash?: string;
  /** A user name or numeric uid. */
  user?: string;
  /** UTC ns bounds, inclusive. */
  fromUtcNs?: bigint;
  toUtcNs?: bigint;
}

/** The command line of an exec: the Windows command line, or argv joined by spaces. */
export function commandLineOf(info: ProcessInfo): string | undefined {
  return info.cmdline ?? info.argv?.join(" ");
}

/** The file name: after the last `/` (and on Windows `\\`: on Linux it is a character of a name). */
function baseName(path: string, os: string): string {
  return os === "windows"
    ? path.replace(/^.*[\\/]/, "")
    : path.replace(/^.*\//, "");
}

/**
 * Whether `info` (an exec's or a creation's process description) matches the
 * query's image, command line, hash and user criteria (not the time).
 *
 * @example
 * ```ts
 * import { matchesInfo } from "./search_query.ts";
 * const info = { image: "/usr/bin/curl", argv: ["curl", "-s", "http://x"], uid: 0, from: {} };
 * if (!matchesInfo(info, { image: "curl", cmdline: /http:/ })) throw new Error("should match");
 * if (matchesInfo(info, { image: "/bin/curl" })) throw new Error("full path differs");
 * if (!matchesInfo(info, { user: "0" })) throw new Error("uid");
 * // on Linux a backslash is part of the name: /tmp/evil\\sshd is not sshd
 * if (matchesInfo({ image: "/tmp/evil\\sshd", from: {} }, { image: "sshd" }, "linux")) throw new Error();
 * ```
 */
export function matchesInfo(
  info: ProcessInfo,
  q: SearchQuery,
  os = "linux",
): boolean {
  if (q.image !== undefined) {
    if (!info.image) return false;
    const want = q.image.toLowerCase();
    const have = info.image.toLowerCase();
    if (/[\\/]/.test(want) ? have !== want : baseName(have, os) !== want) {
      return false;
    }
  }
  if (q.cmdline) {
    const c = commandLineOf(info);
    if (c === undefined || !q.cmdline.test(c)) return false;
  }
  if (q.user !== undefined) {
    const byName = info.user !== undefined &&
      info.user.toLowerCase() === q.user.toLowerCase();
    const byUid = info.uid !== undefined && String(info.uid) === q.user;
    if (!byName && !byUid) return false;
  }
  if (q.hash !== undefined) {
    const want = q.hash.toLowerCase();
    if (!hashValues(info).some((h) => h.toLowerCase() === want)) return false;
  }
  return true;
}

/** Every hash-like string a process description carries (fields named *hash* or *sha*). */
function hashValues(info: ProcessInfo): string[] {
  const out: string[] = [];
  const visit = (v: unknown, key: string, depth: number) => {
    if (depth > 3) return;
    if (typeof v === "string" && /hash|sha|md5/i.test(key)) out.push(v);
    else if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
      for (const [k, x] of Object.entries(v)) visit(x, k, depth + 1);
    }
  };
  visit(info, "", 0);
  return out;
}

/** Whether the query has at least one criterion besides time. */
export function hasCriteria(q: SearchQuery): boolean {
  return q.image !== undefined || q.cmdline !== undefined ||
    q.hash !== undefined || q.user !== undefined;
}
