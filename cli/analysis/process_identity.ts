/**
 * Who a process runs as and what marks its image, from its exec chain. Pure.
 *
 * @module
 */
import { containerOf, type ContainerRef } from "./container_of.ts";
import type { ExecStep, ProcessNode } from "./forest.ts";

/** Account names by id, as the recorded host had them (`accounts` events). */
export interface AccountNames {
  users: ReadonlyMap<number, string>;
  groups: ReadonlyMap<number, string>;
}

/** Marks of a process's identity that a reader must not miss. */
export type IdentityFlag =
  /** The effective user differs from the real one after the exec. */
  | "setuid"
  /** The effective group differs from the real one after the exec. */
  | "setgid"
  /** The image has no name in any file system (memfd). */
  | "fileless"
  /** The image file was unlinked when it was exec'd. */
  | "deleted-image"
  /** Its arguments were cut at capture. */
  | "argv-truncated"
  /** A Linux child that forked and never exec'd (runs its parent's image). */
  | "no-exec"
  /**
   * A text of its image step (image, arguments, comm, cwd, user, cgroup)
   * had bytes that are not UTF-8, shown as U+FFFD (`ExecStep.notUtf8`).
   */
  | "not-utf8";

/** The identity of a process now: the latest step that told each part. */
export interface ProcessIdentity {
  /** The step that told the credentials. */
  cred?: ExecStep;
  /** The step of the current image. */
  image?: ExecStep;
  container?: ContainerRef;
  flags: IdentityFlag[];
}

/**
 * The current identity of a process: credentials from the latest step that
 * carries them, image marks from the latest step, and its flags.
 *
 * @example
 * ```ts
 * import { identityOf } from "./process_identity.ts";
 * const id = identityOf({
 *   execs: [{ t: 0, via: "exec", image: "/usr/bin/passwd", uid: 65534,
 *     euid: 0, gid: 65534, egid: 65534, from: {} }],
 *   flags: [],
 * });
 * if (id.flags.join() !== "setuid" || id.cred?.euid !== 0) throw new Error();
 * ```
 */
export function identityOf(
  n: Pick<ProcessNode, "execs" | "flags">,
  os: "linux" | "windows" = "linux",
): ProcessIdentity {
  let cred: ExecStep | undefined;
  for (let i = n.execs.length - 1; i >= 0 && !cred; i--) {
    const s = n.execs[i];
    if (s.uid !== undefined || s.user !== undefined) cred = s;
  }
  const image = n.execs[n.execs.length - 1];
  const flags: IdentityFlag[] = [];
  if (
    cred?.euid !== undefined && cred.uid !== undefined && cred.euid !== cred.uid
  ) {
    flags.push("setuid");
  }
  if (
    cred?.egid !== undefined && cred.gid !== undefined && cred.egid !== cred.gid
  ) {
    flags.push("setgid");
  }
  if (image?.fileless) flags.push("fileless");
  if (image?.deletedImage) flags.push("deleted-image");
  if (image?.argvTruncated) flags.push("argv-truncated");
  if (
    os === "linux" && n.execs.length > 0 &&
    n.execs.every((s) => s.via === "fork" || s.via === "create") &&
    n.execs.some((s) => s.via === "fork") &&
    !n.flags.includes("existing-before-recording")
  ) flags.push("no-exec");
  if (image?.notUtf8 !== undefined) flags.push("not-utf8");
  let cgroup: string | undefined;
  for (let i = n.execs.length - 1; i >= 0 && cgroup === undefined; i--) {
    cgroup = n.execs[i].cgroup;
  }
  const container = cgroup !== undefined ? containerOf(cgroup) : undefined;
  return { cred, image, container, flags };
}

/**
 * `user NAME` for a tree line: the real user's name (or uid), with the
 * effective one when it differs (`nobody as root`); Windows' user as given.
 * Names are those the step recorded (the host's tables at the exec), else
 * those of `names` (the latest tables).
 *
 * @example
 * ```ts
 * import { userLabel } from "./process_identity.ts";
 * const names = { users: new Map([[0, "root"], [65534, "nobody"]]), groups: new Map() };
 * const s = { t: 0, via: "exec" as const, uid: 65534, euid: 0, from: {} };
 * if (userLabel(s, names) !== "nobody as root") throw new Error(userLabel(s, names));
 * if (userLabel({ ...s, euid: 65534 }) !== "uid 65534") throw new Error();
 * ```
 */
export function userLabel(
  s: ExecStep | undefined,
  names?: AccountNames,
): string | undefined {
  if (!s) return undefined;
  if (s.uid === undefined) return s.user;
  const name = (id: number) => names?.users.get(id) ?? `uid ${id}`;
  const real = s.userName ?? name(s.uid);
  return s.euid !== undefined && s.euid !== s.uid
    ? `${real} as ${s.effectiveUserName ?? name(s.euid)}`
    : real;
}
