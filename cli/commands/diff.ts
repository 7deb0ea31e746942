/**
 * `procrec diff A B` (also `procrec replay --diff A B`): the deterministic
 * diff of two recordings' process trees. Exit status 0 same, 1 different,
 * 2 error. Needs `--allow-read`.
 *
 * @module
 */
import type { Command } from "commander";
import { ForestDiffer, renderDiffLines } from "../diff/mod.ts";
import { UsageError } from "../errors.ts";
import { action, print, printErr, stdoutColor } from "./_run.ts";
import { redactionMismatch } from "../redact/mod.ts";
import { replayRecording } from "./_replay_recording.ts";
import { printJson, printLines } from "./_stream_output.ts";
import { PROGRESS_HELP, type ProgressMode, progressMode } from "./_progress.ts";

const EXAMPLES = `
Examples:
  procrec diff baseline.cbor incident.cbor
  procrec diff a.cbor b.cbor --json
  procrec diff a.cbor b.cbor --ignore-argv '--seed=\\S+'

Processes match by canonical path (image and normalized argv under matched
ancestors), never by pid or time. Temp paths (/tmp/X, ...\\Temp\\X), UUIDs,
long hex strings and numbers of 4 or more digits are normalized unless
--no-normalize. Output: "no differences" when they are the same; else "-" removed, "+" added (whole subtrees), "~" changed
(exit status, argv, thread count), context lines unprefixed; a changed
command line longer than 60 characters shows only its changed tokens,
[-removed-] and {+added+}, with a little context. Coloured on a terminal
(not with NO_COLOR, never into a file or pipe). Byte-identical
on every run. Exit status: 0 same, 1 different, 2 error. Redaction markers
([redacted:RULE:HMAC]) compare whole: equal secrets redacted with the same
key are equal; a note on stderr says when the keys differ.
`;

/** What `diff --json` writes a member at a time ({@link printJson}). */
const OPEN_DIFF_JSON = new Set(["", "added", "removed", "changed"]);

/** Options of {@link runDiff}. */
export interface RunDiffOptions {
  json: boolean;
  ignoreArgv: string[];
  normalize: boolean;
  /** The progress line while each recording is read (default `off`). */
  progress?: ProgressMode;
}

/** Diffs two recordings and prints the result; returns the exit status. */
export async function runDiff(
  a: string,
  b: string,
  options: RunDiffOptions,
): Promise<number> {
  const ignoreArgv = options.ignoreArgv.map((r) => {
    try {
      return new RegExp(r, "g");
    } catch (e) {
      throw new UsageError(
        `--ignore-argv "${r}" is not a regular expression: ${
          (e as Error).message
        }`,
      );
    }
  });
  // one forest at a time: A is reduced to what the diff needs (and let go)
  // before B is analysed
  const differ = new ForestDiffer({ ignoreArgv, volatile: options.normalize });
  const progress = options.progress ?? "off";
  const { side: sa, redaction: redA } = await diffSide(differ, a, {
    mode: progress,
    label: `diff: reading ${a} (1 of 2)`,
  });
  const { side: sb, redaction: redB } = await diffSide(differ, b, {
    mode: progress,
    label: `diff: reading ${b} (2 of 2)`,
  });
  const note = redactionMismatch(redA, redB);
  if (note) printErr(`procrec: note: ${note}\n`);
  const diff = differ.diff(sa, sb);
  if (options.json) {
    const { lines: _lines, ...rest } = diff;
    // (in pieces: a diff of whole recordings can be too big for a string)
    await printJson({ a, b, ...rest }, OPEN_DIFF_JSON);
  } else {
    // an empty diff says so: silence reads like a command that did nothing
    const color = stdoutColor();
    if (diff.same) await print("no differences\n");
    // (a line at a time: the diff of two big recordings that differ
    // throughout is more than one string holds)
    else await printLines(renderDiffLines(diff, a, b, { color }), color);
  }
  return diff.same ? 0 : 1;
}

/**
 * One recording analysed (keeping only what the diff reads: the tree, its
 * commands, exits and thread counts) and reduced to a side of the diff.
 */
async function diffSide(
  differ: ForestDiffer,
  path: string,
  progress: { mode: ProgressMode; label: string },
) {
  const { reader, forest } = await replayRecording(path, {}, undefined, {
    detail: "tree",
  }, progress);
  return { side: differ.side(forest), redaction: reader.header.redaction };
}

/** Adds `diff` to the program. */
export function register(program: Command): void {
  program
    .command("diff")
    .description(
      "diff the process trees of two recordings (exit 0 same, 1 different)",
    )
    .argument("<a>", "recording or bundle (bundle.zip#member.cbor)")
    .argument("<b>", "recording or bundle")
    .option("--json", "print the diff as JSON")
    .option("--ignore-argv <regex...>", "ignore argument parts that match")
    .option("--no-normalize", "keep temp paths and numeric ids")
    .option("--progress", PROGRESS_HELP)
    .option("--no-progress", "never show the progress line")
    .addHelpText("after", EXAMPLES)
    .action(action(
      async (
        a: string,
        b: string,
        flags: {
          json?: boolean;
          ignoreArgv?: string[];
          normalize?: boolean;
          progress?: boolean;
        },
      ) =>
        await runDiff(a, b, {
          json: flags.json === true,
          ignoreArgv: flags.ignoreArgv ?? [],
          normalize: flags.normalize !== false,
          progress: progressMode(flags.progress),
        }),
    ));
}
