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
import type { Command } from "commander";
import {
  forestToJson,
  renderSummary,
  renderTree,
  summarize,
  type TreeFilter,
} from "../analysis/mod.ts";
import { UsageError } from "../errors.ts";
import { action, print, printErr } from "./_run.ts";
import { replayRecording, toJson } from "./_replay_recording.ts";
import { runDiff } from "./diff.ts";

const EXAMPLES = `
Examples:
  procrec replay build.cbor                       the process tree
  procrec replay build.cbor --summary             counts, lost events, spawners, failures
  procrec replay build.cbor --image gcc           gcc processes and their ancestors
  procrec replay build.cbor --subtree 4242        pid 4242 (or a process id {...}) and below
  procrec replay build.cbor --from 1.5s --to 3s   processes alive in that window
  procrec replay build.cbor --json                the forest as JSON
  procrec replay --diff baseline.cbor incident.cbor

Each line: command, [pid], start (since the recording began), duration or
"running", exit status, thread count, then {flags}: existing-before-recording,
seen-without-create, reparented, parent-differs-from-creator (with the
creator), in-lost-span, exit-missing. Filters combine; matching processes are
marked "*" and shown under their ancestors. Times take s, ms, us or ns
(default s). Problems met while reading go to stderr; a damaged recording
still shows every complete chunk.
`;

interface ReplayFlags {
  json?: boolean;
  pid?: string;
  image?: string;
  subtree?: string;
  from?: string;
  to?: string;
  summary?: boolean;
  ids?: boolean;
  wide?: boolean;
  diff?: string[];
  ignoreArgv?: string[];
  normalize?: boolean;
}

/**
 * Parses a time such as `1.5`, `1.5s`, `250ms`, `-2s` into ns.
 *
 * @example
 * ```ts
 * import { parseTime } from "./replay.ts";
 * if (parseTime("250ms", "--from") !== 250_000_000) throw new Error();
 * if (parseTime("2", "--to") !== 2_000_000_000) throw new Error();
 * ```
 */
export function parseTime(text: string, name: string): number {
  const m = /^([+-]?\d+(?:\.\d+)?)(ns|us|ms|s|m)?$/.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `${name} "${text}" is not a time (e.g. 1.5s, 250ms, 3)`,
    );
  }
  const unit = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9 }[m[2] ?? "s"]!;
  return Math.round(Number(m[1]) * unit);
}

function buildFilter(flags: ReplayFlags): TreeFilter {
  const filter: TreeFilter = {};
  if (flags.pid !== undefined) {
    if (!/^\d+$/.test(flags.pid)) {
      throw new UsageError(`--pid "${flags.pid}" is not a process id`);
    }
    filter.pid = Number(flags.pid);
  }
  if (flags.image !== undefined) filter.image = flags.image;
  if (flags.subtree !== undefined) filter.subtree = flags.subtree;
  if (flags.from !== undefined) filter.from = parseTime(flags.from, "--from");
  if (flags.to !== undefined) filter.to = parseTime(flags.to, "--to");
  return filter;
}

/** Adds `replay` to the program. */
export function register(program: Command): void {
  program
    .command("replay")
    .description(
      "replay a recording: its process tree, a summary, or (--diff) the diff of two",
    )
    .argument("[file]", "recording or bundle (bundle.zip#member.cbor)")
    .option("--json", "print JSON")
    .option("--summary", "print the summary instead of the tree")
    .option("--pid <pid>", "only processes with this pid")
    .option(
      "--image <substr>",
      "only processes whose image or argv contains this",
    )
    .option("--subtree <id|pid>", "only this process and its descendants")
    .option("--from <time>", "only processes alive at or after this time")
    .option("--to <time>", "only processes alive at or before this time")
    .option("--ids", "show each process's stable id")
    .option(
      "--wide",
      "also show each image's SHA-256 (or why it has none) and the container its cgroup names",
    )
    .option("--diff <files...>", "diff two recordings: --diff A B")
    .option(
      "--ignore-argv <regex...>",
      "with --diff: ignore argument parts that match",
    )
    .option("--no-normalize", "with --diff: keep temp paths and numeric ids")
    .addHelpText("after", EXAMPLES)
    .action(action(async (file: string | undefined, flags: ReplayFlags) => {
      if (flags.diff !== undefined) {
        const files = [...(file !== undefined ? [file] : []), ...flags.diff];
        if (files.length !== 2) {
          throw new UsageError(
            `--diff takes two recordings, got ${files.length}`,
          );
        }
        return await runDiff(files[0], files[1], {
          json: flags.json === true,
          ignoreArgv: flags.ignoreArgv ?? [],
          normalize: flags.normalize !== false,
        });
      }
      if (file === undefined) {
        throw new UsageError("replay needs a recording: procrec replay FILE");
      }
      const filter = buildFilter(flags);
      const { reader, forest } = await replayRecording(file);
      if (flags.summary) {
        const s = summarize(forest);
        await print(flags.json ? toJson(s) : renderSummary(s));
      } else if (flags.json) {
        await print(toJson({
          recording: reader.name,
          header: reader.header,
          report: reader.report,
          ...forestToJson(forest, filter),
        }));
      } else {
        await print(
          renderTree(forest, {
            filter,
            ids: flags.ids === true,
            wide: flags.wide === true,
          }),
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
