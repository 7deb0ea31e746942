/**
 * `procrec record`: records process and thread lifecycles from the kernel.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "../errors.ts";
import type { SourceName } from "../native/event_source.ts";
import { defaultOutputPath } from "../record/default_output_path.ts";
import { parseDuration } from "../record/parse_duration.ts";
import {
  parseRetention,
  parseRotation,
  type Retention,
  type Rotation,
} from "../record/parse_rotation.ts";
import { recordSession } from "../record/record_session.ts";
import {
  DEFAULT_HASH_CACHE,
  hashCachePath,
} from "../record/hash_cache_path.ts";
import { action, printErr, printSync } from "./_run.ts";
import { groupOption, modeOf, writeTextOutput } from "./_output.ts";
import { loadRedactor } from "./_redaction.ts";
import { addNatsOptions, natsAuth, type NatsFlags } from "./_nats_flags.ts";
import {
  addProcessFilterOptions,
  processFilter,
  type ProcessFilterFlags,
} from "./_filter_flags.ts";
// not analysis/mod.ts: the whole analysis would load with every recorder
// (--follow loads the follower when given)
import { isFiltering, type TreeFilter } from "../analysis/select_processes.ts";
import { TIME_MODES, type TimeMode } from "../analysis/format_time.ts";
import type { EventFollower } from "../analysis/event_follower.ts";
import type { ProcEvent } from "../events/types.ts";
import type { HeaderInit } from "../log/mod.ts";

/** Test hook: pause the library's kernel reader this many ms at start. */
export const PAUSE_READER_ENV = "PROCREC_TEST_PAUSE_READER_MS";
/** Test hook: piece bytes the publisher holds in memory at most. */
export const PUBLISH_HELD_ENV = "PROCREC_TEST_PUBLISH_HELD_BYTES";
/** Test hook: reading the event source fails after this many ms. */
export const FAIL_READ_ENV = "PROCREC_TEST_FAIL_READ_AFTER_MS";
/** Test hook: the image hash cache is saved this often while recording (ms). */
export const HASH_CACHE_SAVE_ENV = "PROCREC_TEST_HASH_CACHE_SAVE_MS";

interface RecordFlags extends NatsFlags, ProcessFilterFlags {
  follow?: boolean;
  json?: boolean;
  time?: string;
  publish?: string;
  publishWait?: string;
  output?: string;
  force?: boolean;
  duration?: string;
  source: string;
  onlyCommand?: boolean;
  ringBytes?: string;
  rcvbufBytes?: string;
  bpfRingBytes?: string;
  /** false with --no-image-hash. */
  imageHash?: boolean;
  /** --hash-cache FILE; false with --no-hash-cache. */
  hashCache?: string | boolean;
  statsOut?: string;
  group?: string;
  redact?: string;
  redactKey?: string;
  quiet?: boolean;
  rotate?: string;
  keep?: string;
  rules?: string;
  dryRun?: boolean;
}

const EXAMPLES = `
Examples:
  procrec record --duration 10s                  record the whole host for 10 s
  procrec record -o build.cbor -- make -j4       record a build, until it exits
  procrec record --only-command -- ./test.sh     keep only the command's subtree
  procrec record --source netlink -o x.cbor      use the proc connector
  procrec record --publish nats://10.0.0.5:4222,10.0.0.6:4222,10.0.0.7:4222 \
      --nats-creds host.creds                    also send it off the host
  procrec record -o /var/lib/procrec/ --rotate 1h --keep 7d
                                                 always on: hourly segments, a week kept
  procrec record --follow                        also print each start, exec and exit now
  procrec record --follow --failed --user www-data --json -o web.cbor
                                                 ... only www-data's failures, as JSON lines

--follow prints one line per process start, exec and exit as it happens,
flushed at once, on stdout: time (UTC by default; --time local|relative),
event, pid, ppid, user, then the command line or the exit status, the same
lines as replay --events. --json makes them JSON lines. The filters (--pid,
--image, --cmdline, --user, --failed, --signal, --flag, --hash, --container,
--exclude-kthreads) choose the lines, never what is recorded; --failed and
--signal match exit lines only (a start does not know its end), --hash
matches once the image's hash is known (it is taken after the exec, so
usually from the exit line on), and flags known only at the end
(reparented, in-lost-span) match nothing live. With
--follow the status line is not shown.

The summary (events, source, losses, then processes, spawners, failures) goes
to stderr, so the recorded command's own output on stdout stays clean;
--quiet leaves it out (warnings and errors are still printed). It is the
replay --summary of the recording: unless --follow, --redact, --rules or
segment mode needs each event in procrec itself, the
library encodes the events and the summary is computed from the recording
once it is closed (--quiet saves that work).

System-wide by default: every process and thread of the host. With a command,
the command's process tree is marked in the header, and procrec exits with the
command's exit status (128 + signal number when it was killed). Stop with
Ctrl-C, SIGTERM or SIGHUP: the recording is drained and closed properly.
The recording is written as NAME.incomplete (created exclusively: a second
recorder of the same output is refused; never through a link) and renamed
when closed; it is readable by its owner only (0600; 0640 to a group with
--group). The directory of -o must exist; the default recordings/ is made. Needs root
(CAP_NET_ADMIN for the proc connector, CAP_BPF and CAP_PERFMON for eBPF);
\`procrec doctor\` says what this host allows.

Exec rules: --rules FILE denies (EPERM) or audits the execs that its rules
match, while the recording runs, and records each decision (exec_denied,
exec_audited, with the rule's id, the file's path as the kernel names it and
the new arguments). A rule matches on the file's resolved path (a glob: *
is any run of characters, / included; ? one), the file itself (device and
inode taken at load: a hard link is the same file), the arguments
(contains, or a POSIX extended regex), the parent's image, the user (name
or uid) and the container id. The whole file is checked before anything is
loaded; each problem names the line and the field (exit 2). procrec itself
and PID 1 are never denied, and the rules end with the recorder, however it
ends (kill -9 included). --dry-run prints what each rule matches among the
running processes and exits. Example rule file (docs/exec-rules.md):
  rules:
    - id: no-tmp-binaries
      action: deny
      path: /tmp/*
    - id: nc-audit
      action: audit
      file: [/usr/bin/nc.openbsd]
      argv: {contains: "-e"}

Image hash cache: each exec'd image's SHA-256 is taken once per file state
(device, inode, size, mtime, ctime); the hashes are kept between runs in
${DEFAULT_HASH_CACHE} when running as root (--hash-cache FILE for
another, --no-hash-cache for none), so a recorder started again in the same
boot does not read unchanged images again (the first start reads every
running image). A hash from it is recorded as cached, like one from this
run's own cache. The file is used only if it was written in this
boot (boot_id), is a regular file owned by the recorder's user with mode
0600, in a directory that only root (or that user) may write, and is whole
(its checksum); otherwise it is ignored with one warning naming it, and
every image is read; an entry of a disk whose medium changed since (another
loop image, another stick: its diskseq) is dropped. It is written (a new
file renamed over the old one) once a minute while recording if images were
read since, so that other recorders of this boot find what a long one (the
flight recorder) hashed, and at a clean stop; a crash loses only the last
minute's update.

Redaction: --redact RULES --redact-key KEY replaces each secret that a rule
finds in a command line (argv, the image, comm, cwd, the header's command)
by [redacted:RULE:HMAC], the HMAC-SHA-256 of the secret under KEY, before
anything is written: equal secrets still diff as equal, and \`procrec redact
--check-guess\` tests a guess with the key. The header lists the rules and
names the key (never the key). Make a key with \`procrec keygen --redact -o
KEY\`; rules are JSON, e.g.
  {"rules": [{"name": "mysql-password", "flag": "-p", "separate": false,
              "command": "^mysql(dump|admin)?$"},
             {"name": "token", "flag": ["--token", "--password"]},
             {"name": "secret-env", "env": ".*(PASSWORD|SECRET).*", "flags": "i"},
             {"name": "bearer", "match": "Bearer\\s+(\\S+)", "flags": "i"}]}
(README "Redaction" has the details.)

With --publish, every sealed piece of the recording (header, each chunk,
trailer: the bytes written to the local file) is also published to the NATS
JetStream stream on PREFIX.<host>.<recording id>, in the background: the local
file is the spool, so publishing never slows the capture; pieces not yet
acknowledged are re-sent after a reconnect. At the end procrec waits up to
--publish-wait for acknowledgements and says what is still pending; send it
later with \`procrec publish REC --to URL\`. \`procrec collect\` brings the
recordings back, byte for byte.

Segment mode: an -o ending in / (or naming an existing directory) writes a
directory of segments, HOST-<UTC start>.cbor, each a complete recording
whose header lists the processes alive at its start and names its
predecessor (id and final hash), so the directory is one verifiable chain
(procrec verify DIR/; replay, report, export, diff and bundle create read it
as one recording). --rotate closes a segment at a size (64MiB) or an age
(1h; default 1h); SIGHUP closes it now. --keep deletes the oldest closed
segments beyond a total size (20GiB), an age (7d) or a count (100), and the
next header records each deletion. A full disk does not stop the recorder:
it counts the events it cannot write and records them as lost (reason
disk) once space returns. A new run in the same directory links to the last
segment there; one left unclosed by a killed recorder is a gap.
`;

function byteCount(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `--${name} "${text}" is not a byte count (e.g. 65536 or 16MiB)`,
    );
  }
  const unit = (m[2] ?? "").toUpperCase()[0];
  const n = Number(m[1]) *
    ({ K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[unit ?? ""] ?? 1);
  // (the library's field is 32 bits; each option's own range is the
  // library's to state: procrec_open refuses a size out of it, naming it)
  if (n > 0xffffffff) {
    throw new UsageError(
      `--${name} ${text} is above 4 GiB - 1 byte (4294967295), the most a size option holds`,
    );
  }
  // 0 is the library's "use the default": say so rather than pass it silently
  if (n === 0) {
    throw new UsageError(
      `--${name} ${text} is not a size (leave the option out for the default)`,
    );
  }
  return n;
}

/** Adds `record` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("record")
    .description(
      "record process and thread lifecycles from the kernel into a recording",
    )
    .argument(
      "[command...]",
      "command to run and record until it exits (after --)",
    )
    .option(
      "-o, --output <file>",
      "recording to write (default recordings/<host>-<UTC time>.cbor)",
    )
    .option("--duration <time>", "stop after this long (e.g. 30s, 5m)")
    .option(
      "--rotate <size|time>",
      "segment mode (-o DIR/): begin a new segment at this size or age (e.g. 64MiB, 1h; default 1h)",
    )
    .option(
      "--keep <size|age|count>",
      "segment mode: delete the oldest closed segments beyond this total size, age or count (e.g. 20GiB, 7d, 100)",
    )
    .option("-f, --force", "replace the output file if it exists")
    .option(
      "-q, --quiet",
      "print no summary at the end (only warnings and errors, on stderr)",
    )
    .addOption(groupOption())
    .addOption(
      new Option("--source <source>", "event source").choices([
        "auto",
        "ebpf",
        "netlink",
      ])
        .default("auto"),
    )
    .option(
      "--only-command",
      "keep only the command's process subtree (and every loss): the processes its members create, CLONE_PARENT too (with the netlink source, not one made so by a member that was re-parented: the proc connector names no creator)",
    )
    .option("--ring-bytes <n>", "the library's ring buffer size (e.g. 64MiB)")
    .option(
      "--rcvbuf-bytes <n>",
      "the proc connector's socket receive buffer size (4KiB to 1GiB - 1 byte)",
    )
    .option(
      "--bpf-ring-bytes <n>",
      "the eBPF source's ring buffer size: a power of two from 32KiB (the largest exec record) to 1GiB (e.g. 16MiB)",
    )
    .option(
      "--no-image-hash",
      "do not hash exec'd images (by default the library's worker records each image's SHA-256, off the capture path)",
    )
    .option(
      "--hash-cache <file>",
      `keep the image hashes between runs in FILE (default ${DEFAULT_HASH_CACHE} as root): loaded at start, saved each minute and at a clean stop; see "Image hash cache" below`,
    )
    .option(
      "--no-hash-cache",
      "read and hash every image afresh: no cache file is read or written",
    )
    .option(
      "--redact <rules>",
      "redact secrets found by these rules (JSON) before writing",
    )
    .option(
      "--redact-key <file>",
      "the HMAC key of --redact (procrec keygen --redact -o FILE)",
    )
    .option(
      "--rules <file>",
      "deny or audit execs by the rules of FILE (YAML or JSON) while recording; each decision is recorded",
    )
    .option(
      "--dry-run",
      "with --rules: print what each rule matches among the running processes, then exit",
    )
    .option(
      "--publish <url>",
      "also publish the recording to NATS JetStream: nats://HOST:PORT[,HOST:PORT...] (every seed server) or tls://...",
    )
    .option(
      "--publish-wait <time>",
      "with --publish: how long to wait at the end for acknowledgements",
      "10s",
    )
    .option(
      "--follow",
      "also print a line per process start, exec and exit as it happens (stdout)",
    )
    .option("--json", "with --follow: JSON lines")
    .option(
      "--time <utc|local|relative>",
      "with --follow: how times print (default utc)",
    );
  addProcessFilterOptions(cmd);
  addNatsOptions(cmd)
    .addOption(
      new Option(
        "--stats-out <file>",
        "write the library's final counters as JSON",
      ).hideHelp(),
    )
    .addHelpText("after", EXAMPLES)
    .action(action(async (command: string[], flags: RecordFlags) => {
      if (flags.onlyCommand && command.length === 0) {
        throw new UsageError("--only-command needs a command after --");
      }
      if (typeof flags.hashCache === "string" && flags.imageHash === false) {
        throw new UsageError(
          "--hash-cache needs image hashing (--no-image-hash turns it off)",
        );
      }
      if (flags.dryRun && flags.rules === undefined) {
        throw new UsageError("--dry-run needs --rules FILE");
      }
      // the rules' code (and its YAML parser) loads only with --rules
      const rules = flags.rules === undefined
        ? undefined
        : await import("../rules/mod.ts");
      const execRules = flags.rules === undefined || !rules
        ? undefined
        : { file: flags.rules, rules: await rules.loadExecRules(flags.rules) };
      // (before a dry run too, which prints what it matched redacted;
      // found by review: it printed the secrets --redact was given for)
      const redactor = await loadRedactor(
        { rules: flags.redact, key: flags.redactKey },
        "--redact",
      );
      if (flags.dryRun && execRules && rules) {
        console.log(
          rules.renderDryRun(
            execRules.rules,
            // a file rule also matches copies: their sizes, to hash those
            await rules.liveSubjects(
              new Set(
                execRules.rules.flatMap((r) => r.fileIds ?? [])
                  .flatMap(([, , size]) => size === undefined ? [] : [size]),
              ),
            ),
            undefined,
            redactor
              ? (p) => ({
                image: p.image === undefined
                  ? undefined
                  : redactor.text(p.image),
                argv: p.argv === undefined
                  ? undefined
                  : redactor.argv(p.argv, p.image),
              })
              : undefined,
          ).trimEnd(),
        );
        return 0;
      }
      const pause = Deno.env.get(PAUSE_READER_ENV);
      const failRead = Deno.env.get(FAIL_READ_ENV);
      const cacheSave = Deno.env.get(HASH_CACHE_SAVE_ENV);
      const publish = flags.publish === undefined ? undefined : {
        url: flags.publish,
        ...await natsAuth(flags.publish, flags),
        prefix: flags.subjectPrefix,
        heldBytes: Deno.env.get(PUBLISH_HELD_ENV) === undefined
          ? undefined
          : Number(Deno.env.get(PUBLISH_HELD_ENV)),
        closeTimeoutMs: parseDurationFlag(
          flags.publishWait ?? "10s",
          "--publish-wait",
        ),
        onNotice: (text: string) =>
          printErr(
            `${
              Deno.stderr.isTerminal() ? "\r\x1b[K" : ""
            }procrec: publish: ${text}\n`,
          ),
      };
      const follow = await followerOf(flags);
      const segments = await segmentMode(flags);
      const result = await recordSession({
        segments,
        output: flags.output ?? defaultOutputPath(Deno.hostname(), new Date()),
        overwrite: flags.force,
        mode: modeOf(flags.group),
        // the default directory is made (0700); a -o directory must exist
        makeDirectory: flags.output === undefined,
        durationMs: flags.duration === undefined
          ? undefined
          : parseDurationFlag(flags.duration),
        source: flags.source as SourceName,
        onlyCommand: flags.onlyCommand,
        ringBytes: byteCount("ring-bytes", flags.ringBytes),
        rcvbufBytes: byteCount("rcvbuf-bytes", flags.rcvbufBytes),
        bpfRingBytes: byteCount("bpf-ring-bytes", flags.bpfRingBytes),
        noHash: flags.imageHash === false,
        hashCache: hashCachePath(
          flags.hashCache,
          Deno.uid() ?? -1,
          flags.imageHash !== false,
        ),
        command: command.length ? command : undefined,
        pauseReaderMs: pause ? Number(pause) : undefined,
        failReadAfterMs: failRead ? Number(failRead) : undefined,
        hashCacheSaveMs: cacheSave ? Number(cacheSave) : undefined,
        // the status line would break into the followed lines
        statusLine: follow === undefined && Deno.stderr.isTerminal(),
        onEvent: follow,
        redactor,
        publish,
        execRules,
        summary: flags.quiet !== true,
      });
      const s = result.stats;
      const quiet = flags.quiet === true;
      if (!quiet) {
        printErr(
          `procrec: recorded ${result.events} events to ${result.path} (source ${result.source.name}: ${result.source.reason}); lost ${result.lost}\n`,
        );
      }
      if (redactor && !quiet) {
        const n = Object.entries(redactor.counts).map(([k, v]) => `${k} ${v}`);
        printErr(`procrec: redacted values per rule: ${n.join(", ")}\n`);
      }
      if (result.publish) {
        const p = result.publish;
        printErr(
          `procrec: published ${p.published} pieces to ${flags.publish}: ${p.acked} acknowledged, ${p.pending} pending\n`,
        );
        if (p.pending > 0) {
          // the recording is whole (its exit status says so); what did not
          // reach the stream is said, with the command that sends it
          printErr(
            `procrec: publish: not all of ${result.path} left this host: ${p.pending} pieces were not acknowledged within --publish-wait (${
              p.lastError ?? "no acknowledgement in time"
            }); ${
              p.gone > 0
                ? `${p.gone} of them cannot be sent: their segments were deleted (--keep) before the stream acknowledged them; `
                : ""
            }${
              p.unsendable > 0
                ? `${p.unsendable} of them the stream can never take as they are (above its max_payload or its message size limit: named above), nor can publish; `
                : ""
            }the local ${
              segments ? "segments hold" : "recording holds"
            } the others; send them with: procrec publish ${result.path} --to ${flags.publish}\n`,
          );
        }
      }
      if (result.unknownRecords > 0) {
        printErr(
          `procrec: skipped ${result.unknownRecords} records of kinds this version does not know (a newer library?)\n`,
        );
      }
      if (result.execArgvUnread > 0) {
        // a deny or an audit that rested on arguments nobody read (fail
        // closed): said even with -q, as each decision says it only to
        // whoever reads it
        const n = result.execArgvUnread;
        printErr(
          `procrec: exec rules: ${n} ${
            n === 1 ? "decision was" : "decisions were"
          } taken with the arguments unread (an argv matcher counted as matching: fail closed; no argv, argvTruncated)\n`,
        );
      }
      if (flags.statsOut) {
        const json = Object.fromEntries(
          Object.entries(s).map(([k, v]) => [k, Number(v)]),
        );
        await writeTextOutput(
          flags.statsOut,
          JSON.stringify({
            ...json,
            events: result.events,
            lost: result.lost,
            execArgvUnread: result.execArgvUnread,
            path: result.path,
            nativeEncoded: result.nativeEncoded,
          }) + "\n",
          { force: true, group: flags.group, what: "statistics" },
        );
      }
      // stdout belongs to the recorded command: the summary goes to stderr
      if (!quiet) printErr(result.summary);
      // a command that had not ended when the recording stopped: status 2
      return result.commandStatus ?? (command.length ? 2 : 0);
    }));
}

/**
 * The `--follow` printer: each event's line (if its process matches the
 * filters) written and flushed at once; undefined without --follow. The
 * filter options without --follow are a usage error.
 */
async function followerOf(
  flags: RecordFlags,
): Promise<((ev: ProcEvent, header: HeaderInit) => void) | undefined> {
  const filter: TreeFilter = processFilter(flags);
  if (!flags.follow) {
    if (isFiltering(filter) || flags.json || flags.time !== undefined) {
      throw new UsageError(
        "the filters, --json and --time of record go with --follow",
      );
    }
    return undefined;
  }
  const mode = flags.time ?? "utc";
  if (!(TIME_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(
      `--time "${mode}" is not a time format (${TIME_MODES.join(", ")})`,
    );
  }
  const { EventFollower } = await import("../analysis/event_follower.ts");
  const { timelineLine } = await import("../analysis/timeline_of.ts");
  let follower: EventFollower | undefined;
  let base = 0n;
  let broken = false;
  return (ev, header) => {
    if (!follower) {
      base = BigInt(header.timeBase.utcNs);
      follower = new EventFollower(
        { os: header.os, bootId: header.bootId },
        base,
        filter,
      );
    }
    if (broken) return;
    try {
      for (const row of follower.add(ev)) {
        printSync(
          (flags.json ? JSON.stringify(row) : timelineLine(row, {
            mode: mode as TimeMode,
            baseUtcNs: base,
          })) + "\n",
        );
      }
    } catch (e) {
      // the recording goes on whatever happens to the followed lines
      broken = true;
      printErr(
        `procrec: --follow stopped (the recording goes on): ${
          (e as Error).message
        }\n`,
      );
    }
  };
}

function parseDurationFlag(text: string, flag = "--duration"): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}

/** Segment mode when -o ends in / or names a directory; its rotation and retention. */
async function segmentMode(
  flags: RecordFlags,
): Promise<{ rotate: Rotation; keep?: Retention } | undefined> {
  const out = flags.output;
  const isDir = out !== undefined &&
    (/[/\\]$/.test(out) ||
      await Deno.stat(out).then((s) => s.isDirectory, () => false));
  if (!isDir) {
    for (const name of ["rotate", "keep"] as const) {
      if (flags[name] !== undefined) {
        throw new UsageError(
          `--${name} needs a segment directory: -o DIR/ (an -o ending in /)`,
        );
      }
    }
    return undefined;
  }
  if (flags.force) {
    throw new UsageError(
      `Cannot record to "${out}" with --force: it is a directory (segment mode), and segments are never replaced`,
    );
  }
  try {
    return {
      rotate: parseRotation(flags.rotate ?? "1h"),
      ...(flags.keep !== undefined ? { keep: parseRetention(flags.keep) } : {}),
    };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
