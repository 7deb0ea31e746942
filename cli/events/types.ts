/**
 * The closed union of process-lifecycle events that every part of procrec
 * speaks: the native sources produce them, the log writes and reads them, the
 * analysis consumes them.
 *
 * Times: `t` is nanoseconds since the recording's time base
 * (`RecordingHeader.timeBase`), on the source's monotonic clock; it is
 * negative for things that happened before the base (snapshot start times).
 *
 * @module
 */

/** Where a field's value came from. */
export type Provenance =
  | "kernel" // from the kernel at the moment of the event
  | "proc" // read from /proc/<pid>/ after the event
  | "gone" // the process was gone before it could be read: value unknown
  | "denied" // reading it was refused
  | "import"; // taken from an imported log (Sysmon, JSONL)

/** Fields of a process description whose provenance is tracked. */
export type InfoField =
  | "image"
  | "argv"
  | "comm"
  | "cwd"
  | "cred" // uid, gid, euid, egid, loginUid, sessionId, user, integrityLevel
  | "file" // dev, ino, fileless, deletedImage
  | "ns" // ns
  | "cgroup"; // cgroupId, cgroup

/** Namespace inode numbers of a process, as `/proc/PID/ns/NAME` links show them. */
export interface Namespaces {
  pid?: number;
  mnt?: number;
  net?: number;
  user?: number;
  cgroup?: number;
}

/** What is known of a process's image and arguments. */
export interface ProcessInfo {
  /** Executable path. */
  image?: string;
  /** Arguments (Linux argv). */
  argv?: string[];
  /** The command line as one string (Windows). */
  cmdline?: string;
  /** Short name (Linux comm). */
  comm?: string;
  cwd?: string;
  /** Real user and group ids. */
  uid?: number;
  gid?: number;
  /** Effective ids after the exec (differ from the real ones for a setuid/setgid image). */
  euid?: number;
  egid?: number;
  /** Audit login uid (absent when never set). */
  loginUid?: number;
  /** Audit session id (Linux); the logon session (Windows `TerminalSessionId`). */
  sessionId?: number;
  /** User name (Windows/Sysmon `User`) or the token user's SID. */
  user?: string;
  /** Windows integrity level (`Low`, `Medium`, `High`, `System`, or as Sysmon gives it). */
  integrityLevel?: string;
  /** The image file's device (stat `st_dev`) and inode at exec time. */
  dev?: number;
  ino?: number;
  /** The image had no name in any file system (memfd, anonymous). */
  fileless?: boolean;
  /** The image file had been unlinked when it was exec'd. */
  deletedImage?: boolean;
  /** cgroup v2 id and path. */
  cgroupId?: number;
  cgroup?: string;
  /** Namespace inode numbers. */
  ns?: Namespaces;
  /** The arguments were cut at the source's string limit. */
  argvTruncated?: boolean;
  /** SHA-256 of the image, lowercase hex (imported from Sysmon `Hashes`). */
  sha256?: string;
  /**
   * Why the image has no `sha256` (an `image_hash` status other than `ok`),
   * when an export joined the hash onto its exec; never recorded in `info`.
   */
  hashState?: HashStatus;
  /** Sysmon `Hashes` as given (`SHA256=...,MD5=...`). */
  hashes?: string;
  /** Sysmon PE version fields. */
  originalFileName?: string;
  description?: string;
  product?: string;
  company?: string;
  /** Sysmon `LogonId` (hex, as given) and `LogonGuid`. */
  logonId?: string;
  logonGuid?: string;
  /** Provenance of each field that was attempted. */
  from: Partial<Record<InfoField, Provenance>>;
  /**
   * The fields whose bytes were not UTF-8 (`image`, `argv` for argv or the
   * command line, `comm`, `cwd`, `cred` for the user, `cgroup`), in
   * {@link InfoField} order: each sequence that is not UTF-8 reads as U+FFFD,
   * so the text is not the exact name (format version 7; absent: all were
   * UTF-8). The file itself is still identified by `dev` and `ino`, and its
   * hash is taken from the exact path.
   */
  notUtf8?: InfoField[];
}

interface EventBase {
  /** Nanoseconds since the recording's time base. */
  t: number;
  /** Process id (Linux tgid). */
  pid: number;
  /** Thread id. */
  tid: number;
}

/** A new process. `pid`/`tid` are the new process and its first thread. */
export interface ProcessCreate extends EventBase {
  kind: "process_create";
  /** The kernel's parent. */
  ppid: number;
  /** The parent's thread that created it (Linux). */
  ptid: number;
  /** The creating process, when the OS reports it apart from the parent (Windows). */
  creatorPid: number;
  creatorTid: number;
  /** Process start on the event clock (identity), ns since the time base. */
  start: number;
  info?: ProcessInfo;
  /** A block rule denied the creation (Windows). */
  denied?: boolean;
  /** The OS's own id of the process (Sysmon ProcessGuid), kept as given. */
  guid?: string;
  parentGuid?: string;
}

/** A process that was already running when the recording started. */
export interface ProcessSnapshot extends EventBase {
  kind: "process_snapshot";
  ppid: number;
  start: number;
  info?: ProcessInfo;
  guid?: string;
}

/** A process replaced its image. */
export interface Exec extends EventBase {
  kind: "exec";
  info: ProcessInfo;
}

/** A process ended. `status` is raw: Linux wait status, Windows NTSTATUS. */
export interface ProcessExit extends EventBase {
  kind: "process_exit";
  status: number;
  guid?: string;
  /** The source did not report the status (Sysmon Event ID 5): `status` is 0 and means nothing. */
  statusUnknown?: boolean;
  /**
   * Not received (format 9): after a loss the source found the process
   * ended (the netlink source, by /proc, or by its pid taken by a new
   * process), and `t` is when it found it, not when the process ended.
   * True or absent.
   */
  inferred?: boolean;
}

/** A new thread of an existing process. */
export interface ThreadCreate extends EventBase {
  kind: "thread_create";
  creatorPid: number;
  creatorTid: number;
  /**
   * The source's verdict, when the creator is another process: `true` for a
   * remote thread creation, `false` for a process's first thread, which its
   * creator makes (Windows driver: `PR_F_REMOTE`). Absent when the creator
   * is the process itself, and in recordings made before the field.
   */
  remote?: boolean;
}

/** A thread ended. */
export interface ThreadExit extends EventBase {
  kind: "thread_exit";
  status: number;
  /** The OS said the process was already exiting (Windows), when known. */
  processExiting?: boolean;
}

/** A thread changed its name. */
export interface CommChange extends EventBase {
  kind: "comm";
  comm: string;
  /**
   * Its bytes were not UTF-8 (each invalid sequence reads as U+FFFD; a
   * sequence cut short by the kernel's 15-byte limit does not count), as
   * {@link ProcessInfo.notUtf8} says of a description's texts (format 7).
   */
  notUtf8?: true;
}

/** An image was mapped into a process (Windows, optional). */
export interface ImageLoad extends EventBase {
  kind: "image_load";
  image: string;
  base: number;
  size: number;
  /**
   * The image's name was not UTF-16 (an unpaired surrogate, which reads as
   * U+FFFD): the text is not the exact name (format 8). True or absent.
   */
  notUtf8?: true;
}

/**
 * The recorded host's account names (Linux `/etc/passwd`, `/etc/group`), at
 * the start and again whenever they change, so that a replay names users as
 * the host did. `pid`/`tid` are 0.
 */
export interface Accounts extends EventBase {
  kind: "accounts";
  /** `[uid, name]` pairs. */
  users: [number, string][];
  /** `[gid, name]` pairs. */
  groups: [number, string][];
}

/** What an exec rule decision says (`record --rules`). */
interface ExecDecisionBase extends EventBase {
  /** The id of the rule that decided. */
  rule: string;
  /** The kernel's path of the file that was (to be) executed. */
  image: string;
  /** The new arguments, when they could be read. */
  argv?: string[];
  argvTruncated?: boolean;
  /** The caller's parent, ids, and the parent's executable. */
  ppid: number;
  uid: number;
  euid: number;
  parentImage?: string;
  /** The file's device and inode (stat). */
  dev?: number;
  ino?: number;
  /**
   * The rule's `file` matched a copy of its file (the same size and
   * SHA-256 under another name), not the file itself (format 6).
   */
  byContent?: boolean;
  /** The caller's cgroup v2 path. */
  cgroup?: string;
  /**
   * The texts whose bytes were not UTF-8 (`image`, `argv`, `parentImage`,
   * `cgroup`, in that order): each sequence that is not UTF-8 reads as
   * U+FFFD, so the text is not the exact name (format 8; absent: all were
   * UTF-8). The file is still named exactly by `dev` and `ino`.
   */
  notUtf8?: DecisionTextField[];
}

/** The texts of an exec rule's decision that {@link ExecDenied.notUtf8} names. */
export type DecisionTextField = "image" | "argv" | "parentImage" | "cgroup";

/** An exec was denied by a rule (it failed with EPERM). `pid`/`tid` called execve. */
export interface ExecDenied extends ExecDecisionBase {
  kind: "exec_denied";
}

/** An exec matched an audit rule, and went on. */
export interface ExecAudited extends ExecDecisionBase {
  kind: "exec_audited";
  /** A deny rule matched a process that is never denied (the recorder, PID 1). */
  exempt?: boolean;
}

/** What became of the hashing of an image (`driver/include/procrec_abi.h` `enum pr_hash_status`). */
export type HashStatus = "ok" | "changed" | "gone" | "error" | "skipped";

/**
 * The SHA-256 of the image an exec (or a snapshot) ran, or why there is none,
 * from the recorder's hash worker, which runs apart from the capture and so
 * comes later in the stream. It belongs to the `exec`/`process_snapshot`
 * event of the same `pid` whose `t` is `execT`.
 */
export interface ImageHash extends EventBase {
  kind: "image_hash";
  /** `t` of the exec or snapshot event hashed for. */
  execT: number;
  status: HashStatus;
  /** Lowercase hex; only with `ok`. */
  sha256?: string;
  /** Taken from the cache: the file was not read again. */
  cached?: boolean;
  /** `exe`: read through /proc/PID/exe while the process ran it; `path`: by its path, after. */
  via?: "exe" | "path";
  /** Why not `ok`: `other-file`, `ctime-after-exec`, `changed-while-read`, `no-identity`, `no-path`, `path-missing`, `queue-full`, `stopped`, `too-large`, or an errno name. */
  reason?: string;
  /** The file's size in bytes, when it was opened. */
  size?: number;
}

/** Why events were lost. */
export type LostReason =
  | "enobufs"
  | "seq_gap"
  | "ring_full"
  | "bpf_reserve"
  | "driver_queue"
  | "decode"
  | "recording" // the recording itself was damaged (reader-side)
  | "disk" // segment mode: the disk was full; counted, written once space returned
  | "segment_missing" // a segment of a directory is not there (reader-side)
  | "retention" // retention deleted the segments of this span (reader-side)
  | "unclean_end"; // the recorder died; events after its last chunk are unknown (reader-side)

/** Events were lost at this point of the stream. `pid`/`tid` are 0. */
export interface Lost extends EventBase {
  kind: "lost";
  reason: LostReason;
  /** Events lost; unknown when `countUnknown` (ENOBUFS). */
  count: number;
  countUnknown?: boolean;
  /** CPU of a per-CPU count. */
  cpu?: number;
}

/** Every event procrec knows. */
export type ProcEvent =
  | ProcessCreate
  | ProcessSnapshot
  | Exec
  | ProcessExit
  | ThreadCreate
  | ThreadExit
  | CommChange
  | ImageLoad
  | Lost
  | Accounts
  | ExecDenied
  | ExecAudited
  | ImageHash;

/** The `kind` of each event. */
export type EventKind = ProcEvent["kind"];

/** All kinds, in schema code order (code = index + 1). */
export const EVENT_KINDS: readonly EventKind[] = [
  "process_create",
  "exec",
  "process_exit",
  "thread_create",
  "thread_exit",
  "comm",
  "lost",
  "process_snapshot",
  "image_load",
  "accounts",
  "exec_denied",
  "exec_audited",
  "image_hash",
];
