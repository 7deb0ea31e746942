/**
 * What `procrec search` looks for, and whether one process description
 * matches it. Pure.
 *
 * @module
 */
import type { ProcessInfo } from "../events/types.ts";
import type { ExecStep, ProcessNode } from "../analysis/forest.ts";
import { hashesOf } from "../analysis/select_processes.ts";

/** A search: every given criterion must match (AND). */
export interface SearchQuery {
  /** An image: a full path (with `/` or `\`) or a file name, case-insensitive. */
  image?: string;
  /** A regular expression over the command line (argv joined by spaces, or the Windows command line). */
  cmdline?: RegExp;
  /**
   * The start of a hash of the image, lowercase hex (as `hashPrefix` of
   * `cli/analysis/select_processes.ts` makes it), when the recording has
   * hashes: the rule of `replay --hash`.
   */
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
 * What a recording tells of a process description in events of its own,
 * joined to it: a Linux recording names users in `accounts` events and
 * hashes images in `image_hash` events that come after the exec.
 */
export interface JoinedFacts {
  /** The name the host's accounts gave the description's uid at that moment. */
  userName?: string;
  /**
   * The image's hashes as the analysis joined them: its step (an exec's,
   * a creation's or a snapshot's) once the recording was read whole; the
   * description alone has only what it carries itself (Sysmon's).
   */
  image?: Pick<ExecStep, "sha256" | "hashes">;
}

/**
 * Whether `info` (an exec's or a creation's process description) matches the
 * query's image, command line, hash and user criteria (not the time), with
 * what `joined` adds to it.
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
 * // a Linux exec names its user by uid: the name comes from an accounts event
 * if (!matchesInfo(info, { user: "root" }, "linux", { userName: "root" })) throw new Error("name");
 * // and its hash from an image_hash event, joined to its step
 * const step = { sha256: "4add4bb89d8ca0e3" };
 * if (matchesInfo(info, { hash: "4add4b" })) throw new Error("not in the description");
 * if (!matchesInfo(info, { hash: "4add4b" }, "linux", { image: step })) throw new Error("prefix");
 * ```
 */
export function matchesInfo(
  info: ProcessInfo,
  q: SearchQuery,
  os = "linux",
  joined: JoinedFacts = {},
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
    const byAccount = joined.userName !== undefined &&
      joined.userName.toLowerCase() === q.user.toLowerCase();
    if (!byName && !byUid && !byAccount) return false;
  }
  if (
    q.hash !== undefined && !hasHashPrefix(joined.image ?? info, q.hash)
  ) return false;
  return true;
}

/**
 * Whether an image (an exec step of the analysis, or a process description)
 * has a hash that starts with `prefix`: the SHA-256 the recorder took, or
 * any of Sysmon's `Hashes` (SHA256, SHA1, MD5, IMPHASH), any case. The
 * hashes are read by the analysis's own `hashesOf`, so that search and
 * `replay --hash` agree on what a hash is.
 *
 * @example
 * ```ts
 * import { hasHashPrefix } from "./search_query.ts";
 * const sysmon = { hashes: "SHA1=A94A8FE5,MD5=5A105E8B,SHA256=9F86D081" };
 * if (!hasHashPrefix(sysmon, "5a105e") || !hasHashPrefix(sysmon, "9F86D081")) throw new Error();
 * if (hasHashPrefix({ sha256: "4add4bb8" }, "add4")) throw new Error("a prefix, not a part");
 * ```
 */
export function hasHashPrefix(
  image: Pick<ExecStep, "sha256" | "hashes">,
  prefix: string,
): boolean {
  const want = prefix.toLowerCase();
  // (hashesOf reads only the steps of a process: one step is all there is)
  const one = { execs: [image] } as unknown as ProcessNode;
  return hashesOf(one).some((h) => h.startsWith(want));
}

/** Whether the query has at least one criterion besides time. */
export function hasCriteria(q: SearchQuery): boolean {
  return q.image !== undefined || q.cmdline !== undefined ||
    q.hash !== undefined || q.user !== undefined;
}
