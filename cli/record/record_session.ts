/**
 * A recording session: opens the native event source, optionally starts a
 * command, reads batches of C records without blocking the event loop,
 * decodes them, writes them to a crash-safe recording and feeds the live
 * analysis, then drains and closes cleanly.
 *
 * Needs `--allow-ffi`, `--allow-read`, `--allow-write` (output), `--allow-sys`,
 * `--allow-env`, `--allow-run` (with a command) and the capture privilege.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
// What a recorder needs at every start is imported here; the rest (the
// summary's analysis and the recording reader, segment mode, the live
// summaries) only when the run needs it: each module costs start-up time.
import type { HeaderInit, SealedPiece } from "../log/mod.ts";
import { RecordingWriter } from "../log/recording_writer.ts";
import type { Retention, Rotation } from "./parse_rotation.ts";
import type { SegmentWriter } from "./segment_writer.ts";
import type { ForestSummary } from "./live_summary.ts";
import { decodeRecords } from "../native/decode_records.ts";
import { NativeEventEncoder } from "../native/native_event_encoder.ts";
import { keepEncoded } from "./keep_encoded.ts";
import { readKernelFileOnce } from "../native/ffi.ts";
import {
  Control,
  EventSource,
  OPT_EXEC_RULES,
  OPT_NO_HASH,
  type SourceName,
  type SourceStats,
} from "../native/event_source.ts";
// not rules/mod.ts: its rule file parser loads the YAML library
import { encodeRuleSet } from "../rules/encode_rule_set.ts";
import { decidedWithArgvUnread } from "../rules/argv_unread.ts";
import type { ResolvedExecRule } from "../rules/exec_rule.ts";
import {
  buildRecordingHeader,
  hostMonoNs,
  sampleTimeBase,
} from "./recording_header.ts";
import { formatStatusLine } from "./status_line.ts";
import { SubtreeFilter } from "./subtree_filter.ts";
import { AccountWatcher } from "./account_watcher.ts";
import { requirePrivilege } from "./check_host.ts";
import { pathExists } from "../path_exists.ts";
import { keepChildrenAtExit } from "../keep_children.ts";
import { makeOutputDir, type OutputFile, type OutputMode } from "../io/mod.ts";
import { linuxSignalNumber } from "../analysis/decode_exit_status.ts";
import type { Redactor } from "../redact/mod.ts";
import type { PublishCounts } from "../log/mod.ts";
import type {
  PiecePublisher,
  PublisherOptions,
} from "../nats/piece_publisher.ts";

/** Options of {@link recordSession}. */
export interface RecordOptions {
  output: string;
  /** Replace an existing output file. */
  overwrite?: boolean;
  /** Who may read the recording (default 0600, directories 0700). */
  mode?: OutputMode;
  /**
   * Create the output's missing directories (the default recordings
   * directory); otherwise a missing directory is refused, as every command
   * refuses it.
   */
  makeDirectory?: boolean;
  /** Stop after this many ms (with a command: the command is sent SIGTERM). */
  durationMs?: number;
  source: SourceName;
  /** Keep only the command's subtree (and every `lost` event). */
  onlyCommand?: boolean;
  ringBytes?: number;
  rcvbufBytes?: number;
  bpfRingBytes?: number;
  /** Do not hash exec'd images (no `image_hash` events). */
  noHash?: boolean;
  /**
   * The image hash cache kept between runs (Linux): loaded at start, saved
   * at a clean stop ({@link EventSource.hashCacheFile}); a file the library
   * refuses is ignored with a warning on stderr. Undefined: none.
   */
  hashCache?: string;
  /** The command to start and record until it exits. */
  command?: string[];
  /** Test hook: pause the library's kernel reader for this long at start. */
  pauseReaderMs?: number;
  /**
   * Test hook: reading the event source fails once this many ms have passed,
   * as a failing source would (an error that is not a write error).
   */
  failReadAfterMs?: number;
  /** Show a live status line on stderr (a terminal). */
  statusLine?: boolean;
  /**
   * Redacts every event and the header before anything is written or
   * analysed: the secrets it finds reach neither the file nor the summary.
   */
  redactor?: Redactor;
  /** Publish every sealed piece to NATS JetStream (`--publish`). */
  publish?: PublisherOptions & {
    /** How long to wait for acknowledgements at close (ms). */
    closeTimeoutMs: number;
  };
  /** Segment mode: `output` is a directory of rotated segments. */
  segments?: { rotate: Rotation; keep?: Retention };
  /**
   * Called with each event once it is written (redacted, filtered as the
   * recording is), and with the recording's header (`record --follow`).
   * It must not throw; what it does never changes the recording.
   */
  onEvent?: (event: ProcEvent, header: HeaderInit) => void;
  /** Exec rules to enforce while recording (`--rules FILE`), and their file. */
  execRules?: { file: string; rules: ResolvedExecRule[] };
  /** Compute the closing summary (default true; `record --quiet` needs none). */
  summary?: boolean;
  /** Test hook: how often the image hash cache is saved while recording (ms). */
  hashCacheSaveMs?: number;
}

/**
 * Test hook: record through the TypeScript path (an object per event) even
 * where the library's chunk encoder could be used.
 */
export const JS_PATH_ENV = "PROCREC_TEST_JS_RECORD_PATH";

/** What a session did. */
export interface RecordResult {
  path: string;
  events: number;
  lost: number;
  /** The library's counters at the end. */
  stats: SourceStats;
  source: { name: string; reason: string };
  /** The command's exit status (128 + signal when killed), when a command ran and ended. */
  commandStatus?: number;
  /** Records of kinds this version does not know, skipped by their size. */
  unknownRecords: number;
  /**
   * Exec rule decisions taken with the arguments unread (an `argv` matcher
   * failed closed), whether or not a filter kept them; 0 without rules.
   */
  execArgvUnread: number;
  /** The closing summary ("" when not asked for): the replay summary of the recording. */
  summary: string;
  /** Events went through the library's chunk encoder (no object per event). */
  nativeEncoded: boolean;
  /** Publishing figures after the wait at close, with `publish`. */
  publish?: PublishCounts & {
    lastError?: string;
    /** Pending pieces whose file was deleted before they were acknowledged. */
    gone: number;
    /** Pending pieces that can never be sent as they are (too large). */
    unsendable: number;
  };
}

const READ_BUFFER_BYTES = 1 << 20;
const READ_TIMEOUT_MS = 100;
/** How often the account tables are checked for changes. */
const ACCOUNTS_POLL_MS = 1000;
/**
 * How often a running recorder saves its image hash cache when it read
 * images since the last save: other recorders of this boot then find what a
 * long one (the flight recorder) hashed, and a crash loses less.
 */
const HASH_CACHE_SAVE_MS = 60_000;
/** How long to keep draining after the command's exit for its last events. */
const DRAIN_GRACE_MS = 2000;
/**
 * How long a failed session waits for its command to end on SIGTERM
 * before it leaves it running (the user's command may ignore SIGTERM).
 */
const COMMAND_STOP_WAIT_MS = 3000;

/** An error preparing the output, naming the recording and the reason. */
function outputError(path: string, e: unknown): Error {
  const reason = e instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : e instanceof Deno.errors.NotADirectory
    ? "a parent is not a directory"
    : (e as Error).message;
  return new Error(`Cannot record to "${path}": ${reason}`);
}

/** The first of `paths` that exists (any kind of file), or undefined. */
async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    if (await pathExists(p).catch((e) => Promise.reject(outputError(p, e)))) {
      return p;
    }
  }
  return undefined;
}

/** A warning on stderr: the recording goes on. */
function warnLine(text: string): void {
  Deno.stderr.writeSync(
    new TextEncoder().encode(`procrec: warning: ${text}\n`),
  );
}

/** The shell's convention: the exit code, or 128 + signal number. */
export function exitStatusOf(status: Deno.CommandStatus): number {
  if (status.signal) return 128 + linuxSignalNumber(status.signal);
  return status.code;
}

/**
 * The shell's exit status of a command whose `child.status` rejected, or
 * undefined when it cannot be told. Deno names no real-time signal (34 to
 * 64): a command killed by one makes the status reject with "Invalid
 * signal: N", which gives 128 + N; otherwise the Linux wait status of the
 * command's `process_exit`, as the event source reported it, when it was
 * seen (found by review: the rejection went uncaught, and the recorder died
 * leaving its recording incomplete).
 *
 * @example
 * ```ts
 * import { rejectedExitStatus } from "./record_session.ts";
 * if (rejectedExitStatus(new TypeError("Invalid signal: 35")) !== 163) {
 *   throw new Error("real-time signal");
 * }
 * // SIGSEGV with a core dump (0x80), as the kernel reports it
 * if (rejectedExitStatus(new Error("?"), 0x8b) !== 139) throw new Error("core");
 * if (rejectedExitStatus(new Error("?"), 3 << 8) !== 3) throw new Error("code");
 * if (rejectedExitStatus(new Error("?")) !== undefined) throw new Error("none");
 * ```
 */
export function rejectedExitStatus(
  e: unknown,
  waitStatus?: number,
): number | undefined {
  const m = /^Invalid signal: (\d+)$/.exec((e as Error)?.message ?? "");
  if (m && Number(m[1]) > 0 && Number(m[1]) < 128) return 128 + Number(m[1]);
  if (waitStatus === undefined) return undefined;
  const signal = waitStatus & 0x7f;
  return signal !== 0 ? 128 + signal : (waitStatus >> 8) & 0xff;
}

/**
 * The initial pid namespace's `/proc/PID/ns/pid` link (`PROC_PID_INIT_INO`,
 * a constant of the kernel): both event sources report the pids of that
 * namespace, whichever namespace the recorder runs in.
 */
const INITIAL_PID_NS = "pid:[4026531836]";
/** The kernel thread flag among the flags of `/proc/PID/stat`. */
const PF_KTHREAD = 0x00200000;

/**
 * How the recorder's pids relate to the ones the event sources report:
 * `initial` (the recorder runs in the initial pid namespace: they are the
 * same), `host-proc` (a pid namespace, with a `/proc` of the initial
 * namespace, as `unshare --pid --fork` leaves it: `selfHostPid` is the
 * recorder's pid there) or `hidden` (a pid namespace whose `/proc` shows no
 * pid of the initial namespace, as in a container: the command's pid as the
 * sources name it cannot be known).
 */
export type PidView =
  | { kind: "initial" }
  | { kind: "host-proc"; selfHostPid: number }
  | { kind: "hidden"; namespace: string };

/**
 * {@link PidView} of this process, from the `/proc` at `proc`. A pid
 * namespace's `/proc` is that of the initial namespace when it shows
 * kthreadd (pid 2, a kernel thread: kernel threads live only there); its
 * `self` link then names the recorder's pid there.
 *
 * @example
 * ```ts
 * import { pidView } from "./record_session.ts";
 * const v = pidView();
 * if (!["initial", "host-proc", "hidden"].includes(v.kind)) throw new Error();
 * ```
 */
export function pidView(proc = "/proc"): PidView {
  let namespace: string;
  try {
    namespace = Deno.readLinkSync(`${proc}/self/ns/pid`);
  } catch (e) {
    // no pid namespaces (a kernel without them): pids are the host's
    if (e instanceof Deno.errors.NotFound) return { kind: "initial" };
    throw new Error(
      `Cannot read ${proc}/self/ns/pid (the recorder's pid namespace): ${
        (e as Error).message
      }`,
    );
  }
  if (namespace === INITIAL_PID_NS) return { kind: "initial" };
  const flags = Number(statFields(readOr(`${proc}/2/stat`))[6] ?? 0);
  if ((flags & PF_KTHREAD) !== 0) {
    // (Deno refuses to read this process's own files below /proc without
    // --allow-all; the link is read)
    const self = Number(readLinkOr(`${proc}/self`));
    if (Number.isInteger(self) && self > 0) {
      return { kind: "host-proc", selfHostPid: self };
    }
  }
  return { kind: "hidden", namespace };
}

/**
 * The pid the event sources give the recorder's child `childPid` (a pid
 * of the recorder's namespace), or undefined when it cannot be known (a
 * `hidden` {@link PidView}, or the child is not found). In a `host-proc`
 * view the child is the process of `proc` whose parent is the recorder and
 * whose innermost pid is `childPid` (the recorder starts no other process).
 * Called right after the spawn, with no await between: the child, even
 * ended, is not reaped before the event loop runs, and stays in `proc`.
 *
 * @example
 * ```ts
 * import { commandHostPid } from "./record_session.ts";
 * if (commandHostPid({ kind: "initial" }, 42) !== 42) throw new Error();
 * if (commandHostPid({ kind: "hidden", namespace: "pid:[1]" }, 42) !== undefined) {
 *   throw new Error();
 * }
 * ```
 */
export function commandHostPid(
  view: PidView,
  childPid: number,
  proc = "/proc",
): number | undefined {
  if (view.kind === "initial") return childPid;
  if (view.kind === "hidden") return undefined;
  for (const entry of Deno.readDirSync(proc)) {
    if (!/^\d+$/.test(entry.name)) continue;
    const status = readOr(`${proc}/${entry.name}/status`);
    if (Number(/^PPid:\s*(\d+)/m.exec(status)?.[1]) !== view.selfHostPid) {
      continue;
    }
    const nspid = /^NSpid:\s*(.*)$/m.exec(status)?.[1].trim().split(/\s+/);
    if (nspid && Number(nspid[nspid.length - 1]) === childPid) {
      return Number(entry.name);
    }
  }
  return undefined;
}

/** A file of /proc, or "" when it cannot be read (a process gone). */
function readOr(path: string): string {
  try {
    // (through libc: Deno wants --allow-all for /proc/PID files)
    return readKernelFileOnce(path, 16384);
  } catch {
    return "";
  }
}

/** A link's target, or "" when it cannot be read. */
function readLinkOr(path: string): string {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return "";
  }
}

/** The fields of a `/proc/PID/stat` after the command name: state first. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Records until the duration ends, a signal arrives or the command exits. */
export async function recordSession(
  opts: RecordOptions,
): Promise<RecordResult> {
  // the privilege check comes first: it is the likeliest failure
  requirePrivilege(opts.source);
  // the sources report the pids of the initial pid namespace: in another
  // (a container, unshare --pid) the command's pid there must be found,
  // or another process of the host would be followed in its place (found
  // by review: --only-command recorded a kernel thread, "lost 0")
  const view = opts.command ? pidView() : undefined;
  if (opts.onlyCommand && view?.kind === "hidden") {
    throw new Error(
      `Cannot record --only-command here: procrec runs in a pid namespace (${view.namespace}) whose /proc shows no pid of the host's, and the event sources report the host's pids, so the command cannot be told from the host's other processes. Run procrec in the host's pid namespace (a container: --pid=host) or with the host's /proc mounted at /proc, or leave out --only-command`,
    );
  }
  // the NATS clients load only with --publish: they would cost every other
  // recorder's start-up
  const nats = opts.publish
    ? await import("../nats/piece_publisher.ts")
    : undefined;
  const timeBase = sampleTimeBase();
  const src = EventSource.open({
    source: opts.source,
    ringBytes: opts.ringBytes,
    rcvbufBytes: opts.rcvbufBytes,
    bpfRingBytes: opts.bpfRingBytes,
    flags: (opts.execRules ? OPT_EXEC_RULES : 0) |
      (opts.noHash ? OPT_NO_HASH : 0),
  });
  const ruleIds = opts.execRules?.rules.map((r) => r.id) ?? [];
  let reserved: OutputFile | undefined;
  let writer: RecordingWriter | SegmentWriter | undefined;
  let publisher: PiecePublisher | undefined;
  /** The failure, if any, came from closing the recording. */
  let closing = false;
  const seg = opts.segments;
  let child: Deno.ChildProcess | undefined;
  const signals: [Deno.Signal, () => void][] = [];
  try {
    // --force replaces a file, never a directory (found only at the rename)
    if (
      !seg &&
      await Deno.stat(opts.output).then((st) => st.isDirectory, () => false)
    ) {
      throw new Error(`Cannot record to "${opts.output}": it is a directory`);
    }
    if (!seg && !opts.overwrite) {
      const found = await firstExisting([
        opts.output,
        `${opts.output}.incomplete`,
      ]);
      if (found === opts.output) {
        throw new Deno.errors.AlreadyExists(
          `Cannot record to "${opts.output}": the file exists (choose another with -o, or replace it with --force)`,
        );
      }
      if (found !== undefined) {
        // (the name a recorder holds while it records, or that one killed
        // left: `procrec verify` tells which it is)
        throw new Deno.errors.AlreadyExists(
          `Cannot record to "${opts.output}": "${found}" exists, a recording not closed (a recorder still writing it, or one that was killed; procrec verify "${found}" says what it holds). Choose another name with -o, or replace it with --force`,
        );
      }
    }
    if (!seg && opts.makeDirectory) {
      const dir = opts.output.replace(/[/\\][^/\\]*$/, "");
      if (dir !== opts.output && dir !== "") {
        await makeOutputDir(dir, opts.mode).catch((e) => {
          throw outputError(opts.output, e);
        });
      }
    }
    if (opts.execRules) {
      // this process is never denied; the rules hold from start to close
      try {
        src.control(
          Control.EXEC_RULES,
          encodeRuleSet(opts.execRules.rules, Deno.pid),
        );
      } catch (e) {
        throw new Error(
          `Cannot load the rule file "${opts.execRules.file}": ${
            (e as Error).message
          }`,
          { cause: e },
        );
      }
    }
    // the image hash cache of earlier runs in this boot, before the
    // snapshot's images are looked up
    const hashCache = opts.hashCache !== undefined && !opts.noHash &&
        Deno.build.os === "linux"
      ? { path: opts.hashCache, loaded: 0 } as {
        path: string;
        loaded: number;
        refused?: string;
      }
      : undefined;
    if (hashCache) {
      const r = src.hashCacheFile("load", hashCache.path);
      if (typeof r === "number") hashCache.loaded = r;
      else {
        hashCache.refused = r.warning;
        warnLine(r.warning);
      }
    }
    src.start();
    const source = src.info();
    const startedAt = Date.now();
    if (opts.pauseReaderMs) src.control(Control.PAUSE_READER);
    let paused = !!opts.pauseReaderMs;

    // signals are handled from here on, before the command can see any
    let stopping = false;
    let signalCount = 0;
    let commandStatus: number | undefined;
    /** The command ended (its status may still be unknown: see below). */
    let commandEnded = false;
    // SIGHUP (the terminal closed) stops the recording like SIGTERM does;
    // in segment mode it rotates instead (below)
    const stopSignals = seg
      ? ["SIGINT", "SIGTERM"] as const
      : ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    for (const sig of stopSignals) {
      const fn = () => {
        signalCount++;
        if (child && !commandEnded && signalCount === 1) {
          try {
            child.kill(sig);
          } catch { /* already gone */ }
        } else stopping = true;
        if (!child) stopping = true;
      };
      Deno.addSignalListener(sig, fn);
      signals.push([sig, fn]);
    }
    // NAME.incomplete, created exclusively before the command starts
    // (and after the signal handlers: a signal then closes it): a
    // second recorder of the same output stops here
    // (segment mode: the segment writer claims its directory)
    if (!seg) {
      reserved = await RecordingWriter.reserve(opts.output, {
        overwrite: opts.overwrite,
        mode: opts.mode,
      });
    }
    // segment mode: SIGHUP closes the segment and begins the next
    let rotateAsked = false;
    if (seg) {
      const fn = () => {
        rotateAsked = true;
      };
      Deno.addSignalListener("SIGHUP", fn);
      signals.push(["SIGHUP", fn]);
    }
    if (opts.command) {
      const [cmd, ...args] = opts.command;
      try {
        child = new Deno.Command(cmd, {
          args,
          stdin: "inherit",
          stdout: "inherit",
          stderr: "inherit",
        }).spawn();
      } catch (e) {
        const name = opts.redactor ? opts.redactor.text(cmd) : cmd;
        throw new Error(
          e instanceof Deno.errors.NotFound
            ? `Cannot run command "${name}": not found (not a file, nor in PATH)`
            : `Cannot run command "${name}": ${(e as Error).message}`,
        );
      }
    }
    // the command's pid as the sources report it: looked up now, before
    // anything awaits (the child is reaped only when the event loop runs)
    const childPid = child && view
      ? commandHostPid(view, child.pid)
      : undefined;
    if (child && childPid === undefined) {
      if (opts.onlyCommand) {
        throw new Error(
          `Cannot record --only-command: the command (pid ${child.pid} in procrec's pid namespace) is not found in /proc of the host's pid namespace`,
        );
      }
      // (the recording's pids are the host's: this one would name another)
      warnLine(
        `the header names no pid for the command: procrec runs in a pid namespace ${
          view?.kind === "hidden"
            ? `(${view.namespace}) whose /proc shows no pid of the host's`
            : "and its child was not found in the host's /proc"
        }, and the recording's pids are the host's (the command is pid ${child.pid} in procrec's namespace)`,
      );
    }
    const plainHeader = await buildRecordingHeader({
      timeBase,
      source,
      options: {
        source: opts.source,
        onlyCommand: !!opts.onlyCommand,
        ...(opts.durationMs !== undefined
          ? { durationMs: opts.durationMs }
          : {}),
        ...(opts.ringBytes ? { ringBytes: opts.ringBytes } : {}),
        ...(opts.rcvbufBytes ? { rcvbufBytes: opts.rcvbufBytes } : {}),
        ...(opts.bpfRingBytes ? { bpfRingBytes: opts.bpfRingBytes } : {}),
        ...(opts.noHash ? { noHash: true } : {}),
        ...(hashCache ? { hashCache } : {}),
        ...(opts.pauseReaderMs ? { pauseReaderMs: opts.pauseReaderMs } : {}),
        ...(opts.execRules
          ? {
            execRules: {
              file: opts.execRules.file,
              rules: opts.execRules.rules.map(({ fileIds: _f, ...r }) => r),
            },
          }
          : {}),
        ...(seg
          ? {
            rotate: seg.rotate,
            ...(seg.keep ? { keep: seg.keep } : {}),
          }
          : {}),
      },
      command: opts.command
        ? {
          argv: opts.command,
          pid: childPid,
          onlyCommand: !!opts.onlyCommand,
        }
        : undefined,
    });
    const redactor = opts.redactor;
    const header = redactor
      ? { ...redactor.header(plainHeader), redaction: redactor.describe() }
      : plainHeader;
    let chunkBytes = 0;
    if (opts.publish && nats) {
      publisher = nats.PiecePublisher.start(opts.publish, header.host);
      chunkBytes = nats.PUBLISH_CHUNK_BYTES;
    }
    const pub = publisher;
    const publishing = pub
      ? {
        onPiece: (p: SealedPiece) => pub.add(p),
        publishCounts: (id: string) => pub.counts(id),
        chunkBytes,
      }
      : {};
    writer = seg
      ? await (await import("./segment_writer.ts")).SegmentWriter.open(header, {
        dir: opts.output,
        rotate: seg.rotate,
        keep: seg.keep,
        writer: { mode: opts.mode, ...publishing },
        warn: (line) => Deno.stderr.writeSync(new TextEncoder().encode(line)),
      })
      : RecordingWriter.start(reserved!, header, publishing);
    const w = writer;
    const segments = seg ? writer as SegmentWriter : undefined;
    if (pub && segments) {
      // what earlier runs into this directory left unpublished (a recorder
      // killed, or the stream away when it ended: the unit restarts it) is
      // sent too: the publisher asks the stream which pieces it holds, as
      // `procrec publish DIR/` does (found by review: they stayed on the
      // host, and the collected chain read as tampered)
      const { listSegments } = await import("../log/segment_directory.ts");
      const earlier = (await listSegments(segments.dir)).segments
        .map((s) => s.path).filter((p) => p !== segments.path);
      if (earlier.length > 0) {
        pub.resend(
          earlier,
          `the ${earlier.length} ${
            earlier.length === 1 ? "segment" : "segments"
          } earlier runs left in ${segments.dir}`,
        );
      }
    }
    // the replay's analysis, fed live: its summary is the replay summary;
    // always on (segment mode), a summary in memory bounded by the live
    // processes instead (the full analysis grows with every process seen)
    const filter = child && opts.onlyCommand
      ? new SubtreeFilter(childPid!)
      : undefined;
    // the library encodes the events (no object per event in JavaScript)
    // unless a feature needs each event here: redaction, --follow, exec
    // rules (rule ids), segment mode (its live processes); --only-command
    // filters the encoded events by the fields the library gives for each
    const native = !redactor && !opts.onEvent && !seg &&
        !opts.execRules && Deno.env.get(JS_PATH_ENV) === undefined
      ? NativeEventEncoder.open(undefined, filter !== undefined)
      : undefined;
    const keepScratch = { buf: new Uint8Array(0) };
    const plain = native ? writer as RecordingWriter : undefined;
    const wantSummary = opts.summary !== false;
    // without the encoder, the summary is the live analysis, fed event by
    // event; with it, the recording is read back at close
    const analysis = native || !wantSummary
      ? undefined
      : seg
      ? new (await import("../analysis/bounded_summary.ts")).BoundedSummary(
        header,
      )
      : new (await import("./live_summary.ts")).ForestSummary(header);

    // --- stop conditions
    let sawCommandExit = false;
    /** The wait status of the command's `process_exit`, when the source gave it. */
    let commandWaitStatus: number | undefined;
    /** Deno's reason when the command's status rejected. */
    let commandRejection: Error | undefined;
    const childDone = child?.status.then((s) => {
      commandStatus = exitStatusOf(s);
      commandEnded = true;
    }, (e) => {
      // a real-time signal (or whatever Deno cannot say): the status is
      // taken from the error or from the event source, once drained
      commandStatus = rejectedExitStatus(e, commandWaitStatus);
      commandRejection = e as Error;
      commandEnded = true;
    });
    const deadline = opts.durationMs !== undefined
      ? startedAt + opts.durationMs
      : Infinity;

    // --- figures
    let events = 0;
    let lost = 0;
    let alive = 0;
    /** The latest event time (of the events written here one by one). */
    let lastT = 0;
    let unknownRecords = 0;
    let execArgvUnread = 0;
    const handleEncoded = (bytes: Uint8Array<ArrayBuffer>) => {
      for (const all of native!.encode(bytes, timeBase.monoNs, childPid ?? 0)) {
        unknownRecords += all.unknown;
        if (all.watchExit && !sawCommandExit) {
          sawCommandExit = true;
          // its wait status, should Deno give none (once: a decode of this read)
          for (const ev of decodeRecords(bytes, timeBase.monoNs).events) {
            if (ev.kind === "process_exit" && ev.pid === childPid) {
              if (!ev.inferred) commandWaitStatus ??= ev.status;
            }
          }
        }
        const b = filter ? keepEncoded(all, filter, keepScratch) : all;
        plain!.writeEncoded(b);
        events += b.events;
        for (const k of b.kinds) {
          if (k.key === "process_create" || k.key === "process_snapshot") {
            alive += k.count;
          } else if (k.key === "process_exit") alive -= k.count;
        }
        for (const l of b.lost) lost += l.count;
      }
    };
    const handle = (bytes: Uint8Array<ArrayBuffer>) => {
      if (native) return handleEncoded(bytes);
      const { events: evs, unknown } = decodeRecords(
        bytes,
        timeBase.monoNs,
        ruleIds,
      );
      unknownRecords += unknown;
      for (const raw of evs) {
        // what the enforcer did, for the whole host: before any filter
        if (decidedWithArgvUnread(raw)) execArgvUnread++;
        const ev = redactor ? redactor.event(raw) : raw;
        if (ev.kind === "process_exit" && ev.pid === childPid) {
          sawCommandExit = true;
          if (!ev.inferred) commandWaitStatus ??= ev.status;
        }
        if (filter && !filter.keep(ev)) continue;
        w.write(ev);
        analysis?.add(ev);
        if (ev.t > lastT) lastT = ev.t;
        opts.onEvent?.(ev, header);
        events++;
        count(ev);
      }
    };
    const count = (ev: ProcEvent) => {
      if (ev.kind === "process_create" || ev.kind === "process_snapshot") {
        alive++;
      } else if (ev.kind === "process_exit") alive--;
      else if (ev.kind === "lost") lost += ev.count;
    };
    let lastStatus = Date.now();
    let lastEvents = 0;
    const showStatus = (force = false) => {
      if (!opts.statusLine) return;
      const now = Date.now();
      if (!force && now - lastStatus < 1000) return;
      const rate = (events - lastEvents) * 1000 / Math.max(1, now - lastStatus);
      lastStatus = now;
      lastEvents = events;
      const line = formatStatusLine({
        elapsedMs: now - startedAt,
        events,
        rate,
        processes: alive,
        lost,
        publish: pub?.counts(),
      });
      Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${line}`));
    };

    // --- the read loop
    // the host's account names: now, then whenever they change
    const accountWatcher = Deno.build.os === "linux"
      ? new AccountWatcher()
      : undefined;
    let accountsCheckedAt = 0;
    const pollAccounts = async () => {
      if (!accountWatcher) return;
      accountsCheckedAt = Date.now();
      // the host's clock, as the time base and the kernel's events are
      const t = Number(hostMonoNs() - timeBase.monoNs);
      const raw = await accountWatcher.poll(t);
      if (!raw) return;
      const ev = redactor ? redactor.event(raw) : raw;
      w.write(ev);
      analysis?.add(ev);
      opts.onEvent?.(ev, header);
      events++;
    };
    await pollAccounts();
    // the image hash cache, saved now and then while recording when images
    // were read since (the library writes it: a few hundred KiB at most,
    // off the capture path); one warning and no more tries if it cannot be
    let cacheSavedAt = startedAt;
    let cacheSavedRead = 0n;
    let cacheSaving = hashCache !== undefined;
    const saveHashCache = () => {
      cacheSavedAt = Date.now();
      const read = src.stats().hashRead;
      if (read === cacheSavedRead) return;
      const r = src.hashCacheFile("save", hashCache!.path);
      if (typeof r === "number") cacheSavedRead = read;
      else {
        cacheSaving = false;
        warnLine(r.warning);
      }
    };
    const cacheSaveMs = opts.hashCacheSaveMs ?? HASH_CACHE_SAVE_MS;
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    const failReadAt = opts.failReadAfterMs !== undefined
      ? startedAt + opts.failReadAfterMs
      : Infinity;
    let commandEndedAt: number | undefined;
    let termSentAt: number | undefined;
    for (;;) {
      const n = await src.read(buf, READ_TIMEOUT_MS);
      if (n > 0) handle(buf.subarray(0, n));
      if (segments) {
        if (rotateAsked) {
          rotateAsked = false;
          segments.requestRotation();
        }
        await segments.tick();
      }
      const now = Date.now();
      if (now >= failReadAt) {
        throw new Error(
          `Cannot read the event source: a failure injected by the test hook (after ${opts.failReadAfterMs} ms)`,
        );
      }
      if (paused && now - startedAt >= opts.pauseReaderMs!) {
        src.control(Control.RESUME_READER);
        paused = false;
      }
      showStatus();
      if (now - accountsCheckedAt >= ACCOUNTS_POLL_MS) await pollAccounts();
      if (cacheSaving && now - cacheSavedAt >= cacheSaveMs) saveHashCache();
      if (stopping) break;
      if (now >= deadline) {
        if (!child || commandEnded) break;
        if (termSentAt === undefined) {
          termSentAt = now;
          try {
            child.kill("SIGTERM");
          } catch { /* already gone */ }
        } else if (now - termSentAt > DRAIN_GRACE_MS) break; // it ignores SIGTERM
      }
      if (child && commandEnded && !paused) {
        commandEndedAt ??= now;
        // everything up to the command's exit is in once its exit was read
        // and the library's ring is empty
        if (sawCommandExit && src.stats().ringUsed === 0n) break;
        if (now - commandEndedAt > DRAIN_GRACE_MS) break;
      }
    }
    // --- drain what the kernel already delivered, then close
    // (after stop nothing new arrives: read until the library's ring is
    // empty, however long that takes, so that nothing is dropped unseen)
    src.stop();
    for (;;) {
      const n = await src.read(buf, 10);
      if (n > 0) handle(buf.subarray(0, n));
      else if (src.stats().ringUsed === 0n) break;
      showStatus();
    }
    if (opts.statusLine) {
      Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
    }
    // a clean stop: the hash worker is done, its cache is saved for the
    // next run (a crash only loses this update)
    if (hashCache) {
      const r = src.hashCacheFile("save", hashCache.path);
      if (typeof r !== "number") warnLine(r.warning);
    }
    const stats = src.stats();
    closing = true;
    // the trailer's end time, taken here: the live summary counts a process
    // still running until it, as the replay of the recording does
    const endUtcNs = BigInt(Date.now()) * 1_000_000n;
    const path = segments
      ? await w.close()
      : await (w as RecordingWriter).close({ endUtcNs });
    // the events a full disk kept from the segments are lost too: in the
    // closing line and the summary, as they are in the directory (or on
    // stderr, when no segment could record them; found by review: the
    // summary said "lost: none")
    const diskLost = segments?.diskLostTotal ?? 0;
    if (diskLost > 0) {
      // (counted when handed to the writer: recorded are the others)
      events -= diskLost;
      lost += diskLost;
      analysis?.add({
        kind: "lost",
        t: lastT,
        pid: 0,
        tid: 0,
        reason: "disk",
        count: diskLost,
      });
    }
    let published: RecordResult["publish"];
    if (pub) {
      published = {
        ...await pub.close(opts.publish!.closeTimeoutMs),
        lastError: pub.lastError,
        gone: pub.gone,
        unsendable: pub.unsendable(),
      };
    }
    if (child && !commandEnded) {
      // stopped before the command ended (a second signal, or it ignored
      // SIGTERM at the end of --duration): leave it running
      Deno.stderr.writeSync(
        new TextEncoder().encode(
          `procrec: stopped recording; the command (pid ${child.pid}) is still running\n`,
        ),
      );
      child.unref();
      keepChildrenAtExit();
    } else if (child) {
      await childDone;
      // the event source's status, read until the end, when Deno had none
      commandStatus ??= rejectedExitStatus(commandRejection, commandWaitStatus);
      if (commandStatus === undefined) {
        warnLine(
          `the command (pid ${child.pid}) ended, but its exit status is unknown (${commandRejection?.message}; its exit was not recorded)`,
        );
      }
    }
    const summary = !wantSummary
      ? ""
      : analysis
      ? (segments ? analysis.finish() : (analysis as ForestSummary).finish(
        endUtcNs,
        header.timeBase.utcNs,
      ))
      : await (await import("./recording_summary.ts")).recordingSummary(
        path,
        header,
      );
    return {
      path,
      events,
      lost,
      stats,
      source,
      commandStatus,
      unknownRecords,
      execArgvUnread,
      summary,
      nativeEncoded: native !== undefined,
      publish: published,
    };
  } catch (e) {
    // an abandoned session is not complete: no trailer, no rename (a trailer
    // would make a recording cut short by an error look like a clean close)
    writer?.abandon();
    if (!writer) reserved?.discard(); // nothing recorded yet: no empty NAME.incomplete
    // what was sealed still goes out (bounded wait)
    await publisher?.close(opts.publish!.closeTimeoutMs);
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      // (a command that ignores SIGTERM is left running: waiting for it
      // hung the recorder, its signal handlers taking every later signal)
      let timer: number | undefined;
      const ended = await Promise.race([
        child.status.then(() => true, () => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), COMMAND_STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!ended) {
        Deno.stderr.writeSync(
          new TextEncoder().encode(
            `procrec: the command (pid ${child.pid}) did not end on SIGTERM within ${
              COMMAND_STOP_WAIT_MS / 1000
            } s: it is left running\n`,
          ),
        );
        child.unref();
        keepChildrenAtExit();
      }
    }
    // close() names what failed and where the recording is
    if (!writer || closing) throw e;
    const err = e as Error;
    throw new Error(
      `${err.message}; recording stopped: the events recorded until then are in "${
        writer instanceof RecordingWriter
          ? writer.tempPath
          : writer.path ?? writer.dir
      }", without a trailer (incomplete)`,
      { cause: e },
    );
  } finally {
    for (const [sig, fn] of signals) Deno.removeSignalListener(sig, fn);
    await src.close();
  }
}
