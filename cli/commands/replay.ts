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
  analyze,
  forestToJson,
  renderSummary,
  renderTree,
  summarize,
  type TreeFilter,
} from "../analysis/mod.ts";
import { UsageError } from "../errors.ts";
import { type SegmentEntry, SegmentSetReader } from "../log/mod.ts";
import { asCliError } from "./_input.ts";
import { action, print, printErr } from "./_run.ts";
import {
  renderReadProblems,
  replayRecording,
  toJson,
} from "./_replay_recording.ts";
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
  procrec replay /var/lib/procrec/ --from 2026-12-02T10:14:00Z --to 2026-12-02T10:20:00Z
                                                  a segment directory, only the segments of that span

Each line: command, [pid], start (since the recording began), duration or
"running", exit status, thread count, then {flags}: existing-before-recording,
seen-without-create, reparented, parent-differs-from-creator (with the
creator), in-lost-span, exit-missing. Filters combine; matching processes are
marked "*" and shown under their ancestors. Times take s, ms, us or ns
(default s) since the recording began, or an absolute UTC time in ISO-8601
(2026-12-02T10:14:00Z). Problems met while reading go to stderr; a damaged
recording still shows every complete chunk. A segment directory (record -o
DIR/ --rotate) or several segment files replay as one recording; with
absolute --from/--to only the segments covering that span are read; a
missing or retention-deleted segment is a lost span with its reason.
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
 * Parses an absolute UTC time (ISO-8601 with a zone, e.g.
 * `2026-12-02T10:14:00Z`) into UTC ns; undefined when `text` is not one.
 *
 * @example
 * ```ts
 * import { parseUtcTime } from "./replay.ts";
 * if (parseUtcTime("1970-01-01T00:00:01.5Z") !== 1_500_000_000n) throw new Error();
 * if (parseUtcTime("2s") !== undefined) throw new Error();
 * ```
 */
export function parseUtcTime(text: string, name = "time"): bigint | undefined {
  const m =
    /^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)$/
      .exec(text.trim());
  if (!m) return undefined;
  const ms = Date.parse(m[1] + m[3]);
  if (Number.isNaN(ms)) {
    throw new UsageError(`${name} "${text}" is not a valid UTC time`);
  }
  const frac = m[2] ? BigInt(m[2].slice(1).padEnd(9, "0")) : 0n;
  return BigInt(ms) * 1_000_000n + frac;
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
      `${name} "${text}" is not a time (e.g. 1.5s, 250ms, 3, or 2026-12-02T10:14:00Z)`,
    );
  }
  const unit = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9 }[m[2] ?? "s"]!;
  return Math.round(Number(m[1]) * unit);
}

function buildFilter(
  flags: ReplayFlags,
  timeBaseUtcNs: bigint,
): TreeFilter {
  const filter: TreeFilter = {};
  if (flags.pid !== undefined) {
    if (!/^\d+$/.test(flags.pid)) {
      throw new UsageError(`--pid "${flags.pid}" is not a process id`);
    }
    filter.pid = Number(flags.pid);
  }
  if (flags.image !== undefined) filter.image = flags.image;
  if (flags.subtree !== undefined) filter.subtree = flags.subtree;
  const at = (text: string, name: string) => {
    const utc = parseUtcTime(text, name);
    return utc === undefined
      ? parseTime(text, name)
      : Number(utc - timeBaseUtcNs);
  };
  if (flags.from !== undefined) filter.from = at(flags.from, "--from");
  if (flags.to !== undefined) filter.to = at(flags.to, "--to");
  return filter;
}

/** Adds `replay` to the program. */
export function register(program: Command): void {
  program
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
    .action(action(async (inputs: string[], flags: ReplayFlags) => {
      if (flags.diff !== undefined) {
        const files = [...inputs, ...flags.diff];
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
      if (inputs.length === 0) {
        throw new UsageError("replay needs a recording: procrec replay FILE");
      }
      const span = {
        fromUtcNs: flags.from !== undefined
          ? parseUtcTime(flags.from, "--from")
          : undefined,
        toUtcNs: flags.to !== undefined
          ? parseUtcTime(flags.to, "--to")
          : undefined,
      };
      const boots = await bootsOf(inputs, span);
      if (boots.length > 1) {
        return await replayBoots(boots, span, flags);
      }
      const { reader, forest } = await replayRecording(inputs, span);
      const filter = buildFilter(flags, BigInt(reader.header.timeBase.utcNs));
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

/**
 * The segments of a directory (or of several segment files) per boot: more
 * than one list when the recording spans a reboot; none for other input.
 */
async function bootsOf(
  inputs: string[],
  span: { fromUtcNs?: bigint; toUtcNs?: bigint },
): Promise<SegmentEntry[][]> {
  const dir = inputs.length === 1 &&
    (await Deno.stat(inputs[0]).catch(() => undefined))?.isDirectory;
  if (!dir && inputs.length === 1) return [];
  const set = await asCliError(SegmentSetReader.open(inputs, span));
  return set.boots();
}

/**
 * A recording that spans reboots: one forest per boot (process identity
 * includes the boot id), each under its heading, the reboot between them.
 */
async function replayBoots(
  boots: SegmentEntry[][],
  span: { fromUtcNs?: bigint; toUtcNs?: bigint },
  flags: ReplayFlags,
): Promise<number> {
  const out: string[] = [];
  const json: unknown[] = [];
  for (const [i, segs] of boots.entries()) {
    const h = segs[0].header;
    const reader = await asCliError(
      SegmentSetReader.open(segs.map((s) => s.path), span),
    );
    const forest = await analyze(reader.events(), {
      os: h.os,
      bootId: h.bootId,
    });
    printErr(renderReadProblems(reader.report));
    const filter = buildFilter(flags, BigInt(h.timeBase.utcNs));
    const first = segs[0].name, last = segs[segs.length - 1].name;
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
        ...(flags.summary ? { summary: summarize(forest) } : {
          header: reader.header,
          report: reader.report,
          ...forestToJson(forest, filter),
        }),
      });
    } else if (flags.summary) {
      out.push(title + renderSummary(summarize(forest)) + "\n");
    } else {
      out.push(
        title + renderTree(forest, { filter, ids: flags.ids === true }) + "\n",
      );
    }
  }
  await print(flags.json ? toJson({ boots: json }) : out.join(""));
  return 0;
}
