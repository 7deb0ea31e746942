/**
 * The shapes the analysis produces: a forest of processes, each with its exec
 * chain, threads and decoded exit status. Plain data (apart from the
 * {@link Forest.byId} index), so that a command can print it as JSON with
 * {@link forestToJson}.
 *
 * @module
 */
import type {
  DecisionTextField,
  EventKind,
  InfoField,
  LostReason,
  ProcessInfo,
  Provenance,
} from "../events/types.ts";
import type { AccountNames } from "./process_identity.ts";

/** What the analysis needs to know of the recording. */
export interface ForestMeta {
  os: "linux" | "windows";
  /** Boot id: with pid and start, a process's identity. */
  bootId: string;
}

/** An exit status decoded for the OS that produced it. */
export interface ExitStatus {
  /** The raw value: Linux wait status, Windows NTSTATUS / exit code. */
  raw: number;
  /** `code`: exited with a code; `signal`: killed by a signal (Linux); `ntstatus`: a Windows status that is not a small exit code; `unknown`: the source did not report it. */
  kind: "code" | "signal" | "ntstatus" | "unknown";
  /** Exit code (Linux 0-255; Windows the 32-bit value). */
  code?: number;
  /** Signal number (Linux). */
  signal?: number;
  /** Symbolic name: `SIGKILL`, `STATUS_ACCESS_VIOLATION`, when known. */
  name?: string;
  /** A core dump was written (Linux). */
  coreDumped?: boolean;
  /** Exit code 0 / STATUS_SUCCESS. */
  success: boolean;
  /** One short line: `exit 3`, `signal 9 (SIGKILL)`, `0xC0000005 STATUS_ACCESS_VIOLATION`. */
  text: string;
}

/** Fields of a process description that identify who ran what, where. */
export const IDENTITY_FIELDS = [
  "cwd",
  "uid",
  "gid",
  "euid",
  "egid",
  "loginUid",
  "sessionId",
  "user",
  "integrityLevel",
  "dev",
  "ino",
  "fileless",
  "deletedImage",
  "cgroupId",
  "cgroup",
  "ns",
  "sha256",
  "hashes",
  "originalFileName",
  "description",
  "product",
  "company",
  "logonId",
  "logonGuid",
  "notUtf8",
] as const;

/** Who ran an image, which file it was, in which cgroup and namespaces. */
export type ImageIdentity = Pick<ProcessInfo, typeof IDENTITY_FIELDS[number]>;

/** One image a process ran: the one it was created with, then each exec. */
export interface ExecStep extends ImageIdentity {
  /** ns since the time base. */
  t: number;
  /** Which event told it; `fork`: not told, copied from the parent (a Linux fork runs its parent's image). */
  via: "create" | "snapshot" | "exec" | "fork";
  image?: string;
  argv?: string[];
  /** Windows command line. */
  cmdline?: string;
  argvTruncated?: boolean;
  /** Provenance of each field, as the source said. */
  from: Partial<Record<InfoField, Provenance>>;
  /** The image's hash could not be taken: the file `changed` or was `gone` before it was read, or reading it failed (`error`) or was `skipped`. */
  hashState?: "changed" | "gone" | "error" | "skipped";
  /** Why (with {@link hashState}): the `image_hash` reason, e.g. `ctime-after-exec`, `path-missing`, `EACCES`. */
  hashReason?: string;
  /** The hash came from the recorder's cache (the file was not read again). */
  hashCached?: boolean;
  /** User and group names as the host had them at the exec (from `accounts` events). */
  userName?: string;
  effectiveUserName?: string;
  groupName?: string;
}

/** How a thread's exit relates to its process's exit. */
export type ThreadExitClass =
  /** Part of the process's exit (the exit burst, or the OS said so). */
  | "teardown"
  /** Ended while the process went on. */
  | "standalone"
  /** The last thread: its exit ended the process. */
  | "last-thread";

/** A thread of a process. */
export interface ThreadInfo {
  tid: number;
  /** Creation, ns since the time base; absent when not seen. */
  start?: number;
  /** Exit, ns since the time base; absent while running or when not seen. */
  end?: number;
  /** Raw exit status (absent when the exit was inferred). */
  status?: number;
  /** Its exit was not reported: it ended with its process's exit. */
  endInferred?: boolean;
  /** Set once the thread exited and its class is known. */
  exitClass?: ThreadExitClass;
  /** The process's first thread. */
  main: boolean;
  /** Created by another process (remote thread creation, Windows). */
  remote: boolean;
  creatorPid?: number;
  creatorTid?: number;
  /** The OS said the process was exiting when the thread exited (Windows). */
  processExiting?: boolean;
}

/** Attributes of a process that a reader must not miss. */
export type ProcessFlag =
  /** Running before the recording began (a snapshot, not a creation). */
  | "existing-before-recording"
  /** First seen through another event: its creation is missing. */
  | "seen-without-create"
  /** Its parent exited first: the OS re-parented it (to a subreaper or init). */
  | "reparented"
  /** The OS reported a parent that is not the creating process (Windows; parent-pid spoofing shows this way). */
  | "parent-differs-from-creator"
  /** Its lifetime overlaps a span where events were lost. */
  | "in-lost-span"
  /** A new process took its pid before its exit was seen. */
  | "exit-missing"
  /** Its exit was not received but found after a loss (`ProcessExit.inferred`): its end is when the source looked. */
  | "exit-inferred"
  /** A block rule denied its creation (Windows). */
  | "denied"
  /** It was running when the recording's tail was lost to damage: whether and how it ended is unknown. */
  | "end-lost"
  /** A command name it took (a `comm` event) had bytes that are not UTF-8 (`CommChange.notUtf8`). */
  | "comm-not-utf8";

/** An exec rule's decision about an exec this process attempted (`record --rules`). */
export interface ExecDecision {
  /** ns since the time base. */
  t: number;
  action: "denied" | "audited";
  /** The rule's id. */
  rule: string;
  /** The kernel's path of the file. */
  image: string;
  argv?: string[];
  /** A deny rule matched a process that is never denied (the recorder, PID 1). */
  exempt?: boolean;
  /** A `file` rule matched a copy of its file (same size and SHA-256), not the file itself. */
  byContent?: boolean;
  /** Its texts whose bytes were not UTF-8 (read with U+FFFD): `ExecDenied.notUtf8`. */
  notUtf8?: DecisionTextField[];
}

/**
 * What a decision's line says besides its image and rule: `a copy by
 * content`, `not UTF-8: image, argv`.
 *
 * @example
 * ```ts
 * import { decisionNotes, type ExecDecision } from "./forest.ts";
 * const d: ExecDecision = { t: 1, action: "denied", rule: "r", image: "/tmp/\ufffd", byContent: true, notUtf8: ["image"] };
 * if (decisionNotes(d) !== ", a copy by content, not UTF-8: image") throw new Error(decisionNotes(d));
 * ```
 */
export function decisionNotes(d: ExecDecision): string {
  return `${d.byContent ? ", a copy by content" : ""}${
    d.notUtf8 ? `, not UTF-8: ${d.notUtf8.join(", ")}` : ""
  }`;
}

/** One process: identity, ancestry, images, threads, exit. */
export interface ProcessNode {
  /** Stable id from (boot id, pid, start), rendered like Sysmon's ProcessGuid. */
  id: string;
  pid: number;
  /** Start, ns since the time base (negative: before it). */
  start: number;
  /** Exit, ns since the time base, when seen. */
  end?: number;
  /** The parent pid the OS reported at creation. */
  ppid: number;
  /** The parent's id, when the parent is in the recording. */
  parentId?: string;
  /** The creating process (Windows may differ from the parent). */
  creatorPid?: number;
  creatorId?: string;
  /** Children (by parent edge), ids ordered by start. */
  children: string[];
  /** Images in order: creation, then each exec. */
  execs: ExecStep[];
  /** The image it runs now (the last exec's), when known. */
  image?: string;
  argv?: string[];
  cmdline?: string;
  comm?: string;
  exit?: ExitStatus;
  /**
   * Its threads, main first. Empty for an ended process of a forest
   * analysed with `detail: "processes"` or `"tree"` ({@link Forest.detail}):
   * then {@link endedThreads} counts them ({@link threadCount}).
   */
  threads: ThreadInfo[];
  /**
   * Its threads counted, when they were left out of {@link threads} (an
   * ended process of a `detail: "processes"` or `"tree"` forest); absent
   * otherwise. Processes with the same counts share one frozen object.
   */
  endedThreads?: ThreadTally;
  flags: ProcessFlag[];
  /** When its parent exited while it ran. */
  reparentedAt?: number;
  /**
   * `unknown (damaged)`: no exit was seen and the recording's tail, where it
   * would be, was lost to damage (see the `end-lost` flag); absent otherwise.
   */
  endState?: "unknown (damaged)";
  /** The OS's own ids, kept as given (Sysmon ProcessGuid). */
  guid?: string;
  parentGuid?: string;
  /** Exec rule decisions about its execs, in order. */
  decisions?: ExecDecision[];
}

/** A span of the stream where events are missing. */
export interface LostSpan {
  /** The latest event before the loss (ns since the time base). */
  from: number;
  /** The loss record itself: events between `from` and `to` may be missing. */
  to: number;
  reason: LostReason;
  count: number;
  countUnknown: boolean;
  cpu?: number;
}

/** An invariant the events broke; reported, never thrown. */
export interface AnalysisProblem {
  t: number;
  pid: number;
  tid: number;
  type:
    | "thread-exit-after-process-exit"
    | "exit-without-create"
    | "child-before-parent"
    | "exit-before-start";
  message: string;
}

/** Everything the analysis knows at the end. */
export interface Forest {
  meta: ForestMeta;
  /** Every process, ordered by start, then pid, then id. */
  processes: ProcessNode[];
  /** Processes without a parent in the recording, same order. */
  roots: string[];
  /** Index of {@link processes} by id. */
  byId: ReadonlyMap<string, ProcessNode>;
  lost: LostSpan[];
  problems: AnalysisProblem[];
  /** Events seen per kind. */
  counts: Partial<Record<EventKind, number>>;
  events: number;
  /** Time of the first and last event (ns since the time base). */
  first?: number;
  last?: number;
  /**
   * The recording's end (ns since the time base), when it is later than
   * {@link last}: a recording of a quiet host ends long after its last
   * event (the trailer's end time), and a process without an exit was
   * alive until then. Absent: the recording ends with its last event (one
   * without a trailer, cut short). Set by whoever read the recording
   * (`replay`, from the trailer), not by the analysis.
   */
  end?: number;
  /** The recorded host's account names (the latest `accounts` event). */
  accounts?: AccountNames;
  /**
   * The {@link ForestOptions.detail} it was analysed with, unless `"full"`
   * (then absent: everything).
   */
  detail?: "processes" | "tree";
}

/** The threads of an ended process, counted (see {@link ProcessNode.endedThreads}). */
export interface ThreadTally {
  readonly threads: number;
  /** Made by another process ({@link ThreadInfo.remote}). */
  readonly remote: number;
  /** By {@link ThreadInfo.exitClass}. */
  readonly teardown: number;
  readonly standalone: number;
  readonly lastThread: number;
}

/** What an analysis keeps. */
export interface ForestOptions {
  /**
   * `"full"` (the default): everything. `"processes"`: the threads of a
   * process that ended are replaced by their counts
   * ({@link ProcessNode.endedThreads}: how many, how many remote, how many of
   * each exit class), in less memory and time; all else is kept (what the
   * tree view, the timeline, filters and the report read). `"tree"`: also no
   * exec steps, each process's {@link ProcessNode.execs} stays empty (its
   * image, arguments and command line are still those of its last exec):
   * what the diff and the summary read.
   */
  detail?: "full" | "processes" | "tree";
}

/**
 * The number of threads of a process, in a forest of either
 * {@link ForestOptions.detail}.
 *
 * @example
 * ```ts
 * import { analyze, threadCount } from "./mod.ts";
 * const events = [
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 0 },
 *   { kind: "thread_create", t: 1, pid: 5, tid: 6, creatorPid: 5, creatorTid: 5 },
 *   { kind: "process_exit", t: 2, pid: 5, tid: 5, status: 0 },
 * ] as const;
 * const meta = { os: "linux", bootId: "b" } as const;
 * const full = await analyze(events, meta);
 * const tree = await analyze(events, meta, { detail: "tree" });
 * if (threadCount(full.processes[0]) !== 2) throw new Error("full");
 * if (tree.processes[0].threads.length !== 0) throw new Error("left out");
 * if (threadCount(tree.processes[0]) !== 2) throw new Error("tree");
 * ```
 */
export function threadCount(n: ProcessNode): number {
  return n.endedThreads?.threads ?? n.threads.length;
}
