/**
 * `procrec replay FILE`: feeds a recording through the analysis and prints
 * the process tree (or `--summary`, or `--json`); `replay --diff A B` diffs
 * two recordings like `procrec diff`. Needs `--allow-read`.
 *
 * Damaged input degrades: the tree of every readable chunk is printed and the
 * reader's problems (chunk, offset, why) go to stderr. Input that is not a
 * recording is one error, exit status 2.
 *
 * @module
 */
import { printJson, printLines, printPieces } from "./_stream_output.ts";
import { PROGRESS_HELP, progressed, progressMode } from "./_progress.ts";
import type { Command } from "commander";
import {
  analyzeChunks,
  checkWindow,
  FILTER_FLAGS,
  type Forest,
  forestToJson,
  forestWithEnd,
  isFiltering,
  parseIsoInstant,
  parseTimePoint,
  parseTimeWindow,
  renderSummaryLines,
  renderTreeLines,
  restrictForest,
  summarize,
  TIME_MODES,
  timelineLine,
  timelineOf,
  type TimeMode,
  type TimeStyle,
  type TreeFilter,
} from "../analysis/mod.ts";
import { UsageError } from "../errors.ts";
import {
  addProcessFilterOptions,
  collect,
  processFilter,
  type ProcessFilterFlags,
  usage,
} from "./_filter_flags.ts";
import {
  analysisChunks,
  recordingEndUtcNs,
  type RecordingSource,
  SegmentSetReader,
} from "../log/mod.ts";
import { openRecordingInput, sourcesByBoot } from "./_input.ts";
import { action, printErr, stdoutColor } from "./_run.ts";
import { renderReadProblems, replayRecording } from "./_replay_recording.ts";
import { runDiff } from "./diff.ts";
// (not ../hunt/mod.ts: the rules' parser and compiler are loaded only with
// --rules, by loadHuntRules)
import { detectionNotes, huntLine } from "../hunt/detection_notes.ts";
import { newInB } from "../hunt/new_in_b.ts";
import type { CompiledRule } from "../hunt/compile_rule.ts";

/** The rules of --rules, compiled (their code loaded only then). */
async function loadHuntRules(files: string[]): Promise<CompiledRule[]> {
  return await (await import("./_hunt_rules.ts")).loadHuntRules(files);
}

const EXAMPLES = `
Examples:
  procrec replay build.cbor                       the process tree
  procrec replay build.cbor --summary             counts, lost events, spawners, failures
  procrec replay build.cbor --image gcc           gcc processes and their ancestors
  procrec replay build.cbor --subtree 4242        pid 4242 (or a process id {...}) and below
  procrec replay build.cbor --from 1.5s --to 3s   processes alive in that window
  procrec replay host.cbor --started-in 10:14..10:15   started in that minute (local clock)
  procrec replay host.cbor --started-in 2026-12-02T10:14:00Z..2026-12-02T10:15:00Z
  procrec replay host.cbor --signal KILL --user www-data   killed by SIGKILL, as www-data
  procrec replay host.cbor --failed --exclude-kthreads --summary
  procrec replay host.cbor --image curl --image wget --cmdline 'https?://'
  procrec replay host.cbor --flag setuid --flag fileless   setuid or fileless images
  procrec replay host.cbor --hash 9f86d081             images whose hash starts so
  procrec replay host.cbor --container 3f4e2a          processes in that container
  procrec replay host.cbor --at 10:14:30 --time utc    what ran at 10:14:30, UTC times
  procrec replay host.cbor --summary --all --wide      every failure, commands uncut
  procrec replay build.cbor --json                the forest as JSON
  procrec replay host.cbor --events --failed      a flat timeline of failed processes
  procrec replay host.cbor --events --json        the same as JSON lines
  procrec replay --diff baseline.cbor incident.cbor
  procrec replay /var/lib/procrec/ --from 2026-12-02T10:14:00Z --to 2026-12-02T10:20:00Z
                                                  a segment directory, processes alive in that span

Each line: command, [pid], start (since the recording began), duration or
"running" ("unknown (damaged)" when the recording's tail, where its exit would
be, was damaged), exit status, thread count, then {flags}:
existing-before-recording, seen-without-create, reparented,
parent-differs-from-creator (with the creator), in-lost-span, exit-missing,
exit-inferred (its exit was not received: after a loss the recorder found it
ended, and its end is when it looked), end-lost, denied, comm-not-utf8 (a command name it took had bytes that are not
UTF-8),
and the image's: setuid, setgid, fileless, deleted-image, argv-truncated,
no-exec, not-utf8 (a name of its image's exec had bytes that are not UTF-8,
shown as U+FFFD). Matching processes are marked "*" and shown under their
ancestors.

Filters combine: every kind given must hold (AND); a kind given several
times (--image, --cmdline, --user, --signal, --flag, --hash, --container)
takes any of its values (OR). --flag takes: ${FILTER_FLAGS.join(", ")}.
--hash matches the start of any hash of any image the process ran: the
SHA-256 the recorder took, or any of Sysmon's Hashes (SHA256, SHA1, MD5,
IMPHASH) for an import. --container matches the start of a container id or
pod uid, or a systemd-nspawn machine name, as the process's cgroup names it.
--summary summarizes the matching processes (event counts stay the whole
recording's). Put the recording before a bare --signal (it takes an optional
value).

Times: an offset from the recording's start (1.5s, 250ms, -2s, 3; units ns,
us, ms, s, m; default s), an ISO-8601 instant (2026-12-02T10:14:00Z or with
+01:00), or a clock time HH:MM[:SS[.frac]] on the recording's day in the
local time zone (TZ). --alive-in FROM..TO (or --from/--to) keeps processes
alive at some moment of the window; --started-in FROM..TO those that started
in it (both ends included); --at T keeps those alive at T. An inverted or
empty window is a usage error.

--time utc|local|relative chooses how times print: utc is ISO-8601 with Z,
local is ISO-8601 with the local offset (TZ), relative is the offset since
the recording began (+1.234s). The default is relative for the tree and
--summary (short, and the same across recordings, as diff compares them) and
utc for --events. --json always carries both (ns offsets and the time base).

On a terminal, failures are red, flags yellow and matches bold (not with
NO_COLOR set, never into a file or a pipe).

Problems met while reading go to stderr; a damaged recording still shows
every complete chunk. A segment directory (record -o DIR/ --rotate) or
several segment files replay as one recording, every segment read whatever
the window (a process started in it may end segments later, and the same
window gives the same answer however it is written); a missing or
retention-deleted segment is a lost span with its reason.
`;

/** What `replay --json` writes a member at a time ({@link printJson}). */
const OPEN_FOREST_JSON = new Set([
  "",
  "roots",
  "processes",
  "lost",
  "problems",
  "detections",
]);
/** Where `replay --summary --json` is written a member at a time (`--all`: every failure). */
const OPEN_SUMMARY_JSON = new Set(["", "failures"]);
/** The same for a recording that spans reboots: each boot's forest. */
const OPEN_BOOTS_JSON = new Set([
  "",
  "boots",
  ...[...OPEN_FOREST_JSON].map((p) => p === "" ? "boots/*" : `boots/*/${p}`),
  "boots/*/summary",
  "boots/*/summary/failures",
]);
/**
 * Where `replay --json` holds only what JSON writes as is (no bigint, bytes
 * or map: a process is made of event fields the schema checked): written
 * without the replacer.
 */
const PLAIN_FOREST_JSON = new Set(["processes/*"]);
const PLAIN_BOOTS_JSON = new Set(["boots/*/processes/*"]);

export interface ReplayFlags extends ProcessFilterFlags {
  json?: boolean;
  at?: string;
  time?: string;
  all?: boolean;
  startedIn?: string;
  aliveIn?: string;
  subtree?: string;
  from?: string;
  to?: string;
  summary?: boolean;
  events?: boolean;
  ids?: boolean;
  wide?: boolean;
  diff?: string[];
  ignoreArgv?: string[];
  normalize?: boolean;
  rules?: string[];
  hitsOnly?: boolean;
  progress?: boolean;
}

/**
 * Parses an absolute UTC time (ISO-8601 with a zone, e.g.
 * `2026-12-02T10:14:00Z`) into UTC ns; undefined when `text` is not one. A
 * date or time that does not exist (`2026-02-31`, `T24:00`) is a
 * {@link UsageError} naming `name` and the text: the same parser as
 * `parseTimePoint`'s ({@link parseIsoInstant}).
 *
 * @example
 * ```ts
 * import { parseUtcTime } from "./replay.ts";
 * if (parseUtcTime("1970-01-01T00:00:01.5Z") !== 1_500_000_000n) throw new Error();
 * if (parseUtcTime("2s") !== undefined) throw new Error();
 * let refused = false;
 * try { parseUtcTime("2026-02-31T00:00Z", "--from"); } catch { refused = true; }
 * if (!refused) throw new Error("February 31 was taken");
 * ```
 */
export function parseUtcTime(text: string, name = "time"): bigint | undefined {
  return usage(() => parseIsoInstant(text, name));
}

function buildFilter(flags: ReplayFlags, baseUtcNs: bigint): TreeFilter {
  const filter: TreeFilter = {};
  Object.assign(filter, processFilter(flags));
  if (flags.subtree !== undefined) filter.subtree = flags.subtree;
  if (flags.aliveIn !== undefined) {
    if (flags.from !== undefined || flags.to !== undefined) {
      throw new UsageError("--alive-in and --from/--to are the same: use one");
    }
    const w = usage(() =>
      parseTimeWindow(flags.aliveIn!, "--alive-in", baseUtcNs)
    );
    filter.from = w.from;
    filter.to = w.to;
  }
  if (flags.from !== undefined) {
    filter.from = usage(() => parseTimePoint(flags.from!, "--from", baseUtcNs));
  }
  if (flags.to !== undefined) {
    filter.to = usage(() => parseTimePoint(flags.to!, "--to", baseUtcNs));
  }
  if (flags.from !== undefined && flags.to !== undefined) {
    usage(() => checkWindow(filter.from!, filter.to!, "--from/--to"));
  }
  if (flags.at !== undefined) {
    if (
      flags.aliveIn !== undefined || flags.from !== undefined ||
      flags.to !== undefined
    ) {
      throw new UsageError("--at and --alive-in/--from/--to: use one");
    }
    const t = usage(() => parseTimePoint(flags.at!, "--at", baseUtcNs));
    filter.from = t;
    filter.to = t;
  }
  if (flags.startedIn !== undefined) {
    const w = usage(() =>
      parseTimeWindow(flags.startedIn!, "--started-in", baseUtcNs)
    );
    filter.startedFrom = w.from;
    filter.startedTo = w.to;
  }
  return filter;
}

/** The `--time` style, or the default `fallback` mode. */
function timeStyle(
  flags: ReplayFlags,
  baseUtcNs: bigint,
  fallback: TimeMode,
): TimeStyle {
  const mode = flags.time ?? fallback;
  if (!(TIME_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(
      `--time "${mode}" is not a time format (${TIME_MODES.join(", ")})`,
    );
  }
  return { mode: mode as TimeMode, baseUtcNs };
}

/** Adds `replay` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("replay")
    .description(
      "replay a recording: its process tree, a summary, or (--diff) the diff of two",
    )
    .argument(
      "[files...]",
      "recording, bundle (bundle.zip#member.cbor), segment directory or segment files",
    )
    .option("--json", "print JSON")
    .option("--summary", "print the summary instead of the tree")
    .option(
      "--events",
      "print a flat timeline instead of the tree: one line per start, exec and exit (UTC time, event, pid, ppid, user, command or exit status); with --json, JSON lines",
    );
  addProcessFilterOptions(cmd)
    .option("--subtree <id|pid>", "only this process and its descendants")
    .option(
      "--started-in <from..to>",
      "only processes that started in this window",
    )
    .option(
      "--alive-in <from..to>",
      "only processes alive at some moment of this window (as --from and --to)",
    )
    .option(
      "--at <time>",
      "only processes alive at this time (with their ancestors), as a tree",
    )
    .option("--from <time>", "only processes alive at or after this time")
    .option("--to <time>", "only processes alive at or before this time")
    .option("--ids", "show each process's stable id")
    .option(
      "--wide",
      "uncut command lines; in the tree also each image's SHA-256 (or why it has none) and the container its cgroup names",
    )
    .option(
      "--time <utc|local|relative>",
      "how times print: utc, local (TZ) or relative to the recording's start (default: relative for the tree and --summary, utc for --events)",
    )
    .option(
      "--all",
      "with --summary: every failure, not only the first 20 (use --wide for uncut commands)",
    )
    .option("--diff <files...>", "diff two recordings: --diff A B")
    .option(
      "--ignore-argv <regex...>",
      "with --diff: ignore argument parts that match",
    )
    .option("--no-normalize", "with --diff: keep temp paths and numeric ids")
    .option(
      "--rules <path>",
      "run these Sigma rules (a file or a directory; repeat for several): hits show as {sigma: TITLE (LEVEL)} on their lines, in --json as detections; with --diff, the detections new in B",
      collect,
    )
    .option(
      "--hits-only",
      "with --rules: only the processes a rule hit (with their ancestors)",
    )
    .option("--progress", PROGRESS_HELP)
    .option("--no-progress", "never show the progress line")
    .addHelpText("after", EXAMPLES)
    .action(action(async (inputs: string[], flags: ReplayFlags) => {
      if (flags.diff !== undefined) {
        const files = [...inputs, ...flags.diff];
        if (files.length !== 2) {
          throw new UsageError(
            `--diff takes two recordings, got ${files.length}`,
          );
        }
        const status = await runDiff(files[0], files[1], {
          json: flags.json === true,
          ignoreArgv: flags.ignoreArgv ?? [],
          normalize: flags.normalize !== false,
          progress: progressMode(flags.progress),
        });
        if (flags.rules === undefined) return status;
        const fresh = await newDetections(files[0], files[1], flags);
        return fresh ? Math.max(status, 1) : status;
      }
      if (flags.hitsOnly && flags.rules === undefined) {
        throw new UsageError("--hits-only goes with --rules");
      }
      const rules = flags.rules ? await loadHuntRules(flags.rules) : undefined;
      if (inputs.length === 0) {
        throw new UsageError("replay needs a recording: procrec replay FILE");
      }
      checkTimeFlags(flags);
      // (a segment directory, or a bundle's, that spans a reboot: a forest
      // per boot; every segment read, see checkTimeFlags)
      const opened = await openRecordingInput(
        inputs.length === 1 ? inputs[0] : inputs,
      );
      const boots = sourcesByBoot(opened);
      if (boots.length > 1) {
        if (rules) {
          throw new UsageError(
            "--rules: this recording spans reboots; hunt it with procrec hunt --rules",
          );
        }
        return await replayBoots(boots as SegmentSetReader[], flags);
      }
      const replayed = await replayRecording(
        inputs,
        {},
        rules,
        { detail: replayDetail(flags, rules) },
        { mode: progressMode(flags.progress) },
        opened,
      );
      const { reader, hunt } = replayed;
      const forest = withRecordingEnd(replayed.forest, reader);
      const base = BigInt(reader.header.timeBase.utcNs);
      const filter = buildFilter(flags, base);
      if (hunt) {
        printErr(`procrec: ${huntLine(hunt)}\n`);
        if (flags.hitsOnly) {
          filter.ids = new Set(hunt.hits.map((h) => h.process));
        }
      }
      if (flags.all && !flags.summary) {
        throw new UsageError("--all goes with --summary");
      }
      if (flags.events) {
        const rows = timelineOf(forest, base, filter);
        const time = timeStyle(flags, base, "utc");
        // (in blocks: the text of millions of events is too big for a
        // string; each line made as it is written, not all held at once)
        await printPieces(
          (function* () {
            for (const r of rows) {
              yield (flags.json ? JSON.stringify(r) : timelineLine(r, time)) +
                "\n";
            }
          })(),
        );
      } else if (flags.summary) {
        const s = summarize(restrictForest(forest, filter), {
          all: flags.all === true,
        });
        const color = !flags.json && stdoutColor();
        // (in pieces: --all lists every failed process, more than a string
        // holds for a big recording)
        if (flags.json) await printJson(s, OPEN_SUMMARY_JSON);
        else {
          await printLines(
            renderSummaryLines(s, {
              time: timeStyle(flags, base, "relative"),
              wide: flags.wide === true,
              color,
            }),
            color,
          );
        }
      } else if (flags.json) {
        // (in pieces: the JSON of millions of events is too big for a string)
        await printJson(
          {
            recording: reader.name,
            header: reader.header,
            report: reader.report,
            ...forestToJson(forest, filter),
            ...(hunt ? { detections: hunt.hits } : {}),
          },
          OPEN_FOREST_JSON,
          PLAIN_FOREST_JSON,
        );
      } else {
        const color = stdoutColor();
        await printLines(
          renderTreeLines(forest, {
            filter,
            notes: hunt ? detectionNotes(hunt.hits) : undefined,
            ids: flags.ids === true,
            wide: flags.wide === true,
            time: timeStyle(flags, base, "relative"),
            color,
          }),
          color,
        );
        if (forest.problems.length > 0) {
          printErr(
            forest.problems.slice(0, 20).map((p) =>
              `procrec: analysis: ${p.type}: ${p.message}\n`
            ).join("") +
              (forest.problems.length > 20
                ? `procrec: analysis: ... ${forest.problems.length - 20} more\n`
                : ""),
          );
        }
      }
      return 0;
    }));
}

/**
 * Checks every time the filters give (each end of --from/--to, --at,
 * --alive-in, --started-in) before the recording is read: a time that is
 * not one, or a date that does not exist, is a {@link UsageError} then, not
 * after a long read. (Their values need the recording's time base:
 * {@link buildFilter}.)
 *
 * The segments of a directory are all read, whatever the window: a process
 * started in it may end segments later (its exit, its status, its
 * duration), and reading from a later segment turns the processes alive at
 * its start into ones running before the recording (no start, their
 * ancestors' images and the account names lost). Found by review: an
 * ISO-8601 window read only the segments it covered, and gave another
 * answer than the same window written as offsets.
 */
function checkTimeFlags(flags: ReplayFlags): void {
  const point = (text: string | undefined, name: string) => {
    if (text !== undefined) usage(() => parseTimePoint(text, name, 0n));
  };
  point(flags.from, "--from");
  point(flags.to, "--to");
  point(flags.at, "--at");
  for (
    const [text, name] of [
      [flags.aliveIn, "--alive-in"],
      [flags.startedIn, "--started-in"],
    ] as const
  ) {
    const ends = text?.split("..");
    if (ends?.length === 2) {
      for (const end of ends) if (end.trim() !== "") point(end, name);
    }
  }
}

/**
 * The forest with the recording's end ({@link Forest.end}), once `reader`
 * has been read ({@link recordingEndUtcNs}).
 */
function withRecordingEnd(forest: Forest, reader: RecordingSource): Forest {
  return forestWithEnd(
    forest,
    recordingEndUtcNs(reader),
    reader.header.timeBase.utcNs,
  );
}

/**
 * What the analysis keeps for what the command prints: every thread for the
 * forest as JSON; for the summary of the whole recording (no filter, which
 * may look at exec steps, no rules) only what the summary reads (no exec
 * steps, the counts of ended processes' threads); else everything but the
 * threads of ended processes, counted (the tree, the timeline and the
 * summary read no more). A filter that does not parse counts as one here
 * (the command then says what is wrong with it).
 *
 * @example
 * ```ts
 * import { replayDetail } from "./replay.ts";
 * if (replayDetail({ json: true }, undefined) !== "full") throw new Error();
 * if (replayDetail({ summary: true }, undefined) !== "tree") throw new Error();
 * if (replayDetail({ summary: true, pid: "5" }, undefined) !== "processes") {
 *   throw new Error();
 * }
 * ```
 */
export function replayDetail(
  flags: ReplayFlags,
  rules: unknown,
): "full" | "processes" | "tree" {
  if (flags.json && !flags.events && !flags.summary) return "full";
  if (!flags.summary || flags.events || rules !== undefined) {
    return "processes";
  }
  try {
    // (the time base matters only to the values, not to whether it filters)
    return isFiltering(buildFilter(flags, 0n)) ? "processes" : "tree";
  } catch {
    return "processes";
  }
}

/**
 * A recording that spans reboots: one forest per boot (process identity
 * includes the boot id), each under its heading, the reboot between them.
 */
async function replayBoots(
  readers: SegmentSetReader[],
  flags: ReplayFlags,
): Promise<number> {
  const out: string[] = [];
  const json: unknown[] = [];
  const boots = readers.map((r) => r.segments);
  for (const [i, reader] of readers.entries()) {
    const segs = reader.segments;
    const h = segs[0].header;
    const chunks = await progressed(
      analysisChunks(reader),
      reader,
      progressMode(flags.progress),
      `reading boot ${h.bootId} (${i + 1} of ${boots.length})`,
    );
    const forest = withRecordingEnd(
      await analyzeChunks(chunks, {
        os: h.os,
        bootId: h.bootId,
      }, { detail: flags.json && !flags.summary ? "full" : "processes" }),
      reader,
    );
    printErr(renderReadProblems(reader.report));
    const base = BigInt(h.timeBase.utcNs);
    const filter = buildFilter(flags, base);
    const summary = () =>
      summarize(restrictForest(forest, filter), { all: flags.all === true });
    const first = segs[0].name, last = segs[segs.length - 1].name;
    if (flags.events) {
      // each boot's timeline in turn (its times are UTC by default; with
      // --json, lines of JSON only, as for one boot: found by review, the
      // tree was printed instead)
      const time = timeStyle(flags, base, "utc");
      const rows = timelineOf(forest, base, filter);
      const heading = flags.json
        ? ""
        : `${i > 0 ? "\n" : ""}boot ${h.bootId}: ${segs.length} segment${
          segs.length === 1 ? "" : "s"
        }, ${first} to ${last}\n`;
      // (written a boot at a time, each line made as it is written: the
      // timeline of millions of events is not held at once; found by review)
      await printPieces(
        (function* () {
          if (heading) yield heading;
          for (const r of rows) {
            yield (flags.json
              ? JSON.stringify({ bootId: h.bootId, ...r })
              : timelineLine(r, time)) + "\n";
          }
        })(),
      );
      continue;
    }
    if (i > 0) {
      const before = boots[i - 1][boots[i - 1].length - 1];
      out.push(
        `reboot: boot ${
          boots[i - 1][0].header.bootId
        } ended with ${before.name}${
          before.closed ? "" : " (not closed: the host stopped while recording)"
        }; boot ${h.bootId} began with ${first}\n\n`,
      );
    }
    const title = `boot ${h.bootId}: ${segs.length} segment${
      segs.length === 1 ? "" : "s"
    }, ${first} to ${last}\n`;
    if (flags.json) {
      json.push({
        bootId: h.bootId,
        segments: segs.map((s) => s.name),
        ...(flags.summary ? { summary: summary() } : {
          header: reader.header,
          report: reader.report,
          ...forestToJson(forest, filter),
        }),
      });
    } else if (flags.summary) {
      out.push(title);
      for (
        const line of renderSummaryLines(summary(), {
          time: timeStyle(flags, base, "relative"),
          wide: flags.wide === true,
        })
      ) out.push(line + "\n");
      out.push("\n");
    } else {
      // (a line at a time: a boot's tree can be more than a string holds)
      // (as renderTree(...) + "\n": an empty tree is one empty line)
      const lines = renderTreeLines(forest, {
        filter,
        ids: flags.ids === true,
        wide: flags.wide === true,
        time: timeStyle(flags, base, "relative"),
      });
      out.push(title);
      if (lines.length === 0) out.push("\n");
      for (const line of lines) out.push(line + "\n");
      out.push("\n");
    }
  }
  if (flags.json && !flags.events) {
    await printJson({ boots: json }, OPEN_BOOTS_JSON, PLAIN_BOOTS_JSON);
  } else await printPieces(out);
  return 0;
}

/**
 * `replay --diff A B --rules R`: hunts both and prints the detections of B
 * that A does not have (same rule, same image and command line); whether
 * there are any.
 */
async function newDetections(
  a: string,
  b: string,
  flags: ReplayFlags,
): Promise<boolean> {
  const rules = await loadHuntRules(flags.rules!);
  const mode = progressMode(flags.progress);
  const ra = await replayRecording(a, {}, rules, {}, {
    mode,
    label: `hunt: reading ${a} (1 of 2)`,
  });
  const rb = await replayRecording(b, {}, rules, {}, {
    mode,
    label: `hunt: reading ${b} (2 of 2)`,
  });
  const fresh = newInB(ra.hunt!.hits, rb.hunt!.hits);
  // (in pieces: a hunt of millions of processes can find more new
  // detections than one string holds)
  if (flags.json) {
    await printPieces(
      (function* () {
        yield '{"newDetections":[';
        for (let i = 0; i < fresh.length; i++) {
          yield (i > 0 ? "," : "") + JSON.stringify(fresh[i]);
        }
        yield "]}\n";
      })(),
    );
  } else {
    await printPieces(
      (function* () {
        yield `\ndetections new in ${b}: ${fresh.length}\n`;
        for (const h of fresh) {
          yield `  ${h.rule.level ?? "-"}  ${h.rule.title}  [${
            h.rule.id ?? "no id"
          }]  pid ${h.pid}  ${h.image ?? "?"}${
            h.cmdline !== undefined ? `  ${JSON.stringify(h.cmdline)}` : ""
          }\n`;
        }
      })(),
    );
  }
  return fresh.length > 0;
}
