/**
 * `procrec report`: writes the HTML report of a recording or a bundle.
 * Needs `--allow-read` and `--allow-write`.
 *
 * @module
 */
import type { Command } from "commander";
import {
  defaultReportPath,
  reportPieces,
  ReportTooBigError,
} from "../report/mod.ts";
import { CliError } from "../errors.ts";
import { PROGRESS_HELP, progressMode } from "./_progress.ts";
import { reportInputFor } from "./_report_input.ts";
import { splitMember } from "./_input.ts";
import { action, print } from "./_run.ts";
import { groupOption, writeTextOutput } from "./_output.ts";
import { loadRedactor } from "./_redaction.ts";
import { loadHuntRules } from "./_hunt_rules.ts";

const EXAMPLES = `
Examples:
  procrec report incident.cbor                         writes incident.html
  procrec report incident.cbor -o /cases/i.html -f     replace an earlier report
  procrec report case.zip -o case.html                 every recording of the bundle
  procrec report case.zip --member b.cbor -o b.html    one of them
  procrec report /var/lib/procrec/ --from 2026-12-02T10:14:00Z --to 2026-12-02T10:20:00Z

One self-contained HTML file: no network, no external script or style. Open
it in any browser: the process tree (click the triangles, or double-click a
row, to expand and collapse; it opens with kernel threads folded and the
paths to the latest processes open); chips that keep the processes that
failed, were killed by a signal, ran before the recording, overlap a loss,
ran a fileless or a setuid image; a timeline of process starts to drag a
time window on (it keeps the processes started, or alive, in it and zooms
the lifetime bars); search by image, argv, pid, user, hash or exit status
(pid:N ppid:N user:U hash:H exit:X for one field; Enter: next match);
lifetimes coloured by exit status, lost spans in orange (damaged chunks
among them, with UTC bounds), and the recording's metadata and integrity
(the events a damaged recording is missing). A process whose end was in a
damaged tail shows "unknown (damaged)".

--from/--to keep the processes alive in a span (with their ancestors):
absolute UTC times (ISO-8601), offsets from the recording's start (90s) or
clock times on its day (10:14); a segment directory reads only the segments
covering the span.

The page holds a row of data per process, and a browser reads the data as
one string of at most 536,870,888 characters (Chromium's longest): about 2.6
million processes of 200 characters each, fewer with long command lines.
Past that, report writes nothing, says how many processes there were and
exits 2; --from/--to make the report of a part.

--rules PATH (Sigma rules, as procrec hunt takes them) adds a Detections
section (every hit: level, rule, recording, pid, time, image, command line)
and marks the rows of the processes hit ("sigma"; the rule is among the
flags in the row's details).

--redact RULES --redact-key KEY redacts the recording's secrets before the
report is made, as record --redact does (see procrec record --help).
`;

/** Adds `report` to the program. */
export function register(program: Command): void {
  program
    .command("report")
    .description("write the HTML report of a recording or a bundle")
    .argument("<input>", "recording, bundle or segment directory")
    .option(
      "-o, --output <file>",
      "HTML file to write (default: the input's name with .html, in the current directory)",
    )
    .option("--member <name>", "one recording of a bundle")
    .option(
      "--from <time>",
      "only processes alive at or after this time (UTC 2026-12-02T10:14:00Z, offset 90s, clock 10:14)",
    )
    .option("--to <time>", "only processes alive at or before this time")
    .option("-f, --force", "replace the output file if it exists")
    .addOption(groupOption())
    .option(
      "--redact <rules>",
      "redact secrets found by these rules (JSON) first",
    )
    .option("--redact-key <file>", "the HMAC key of --redact")
    .option(
      "--rules <path>",
      "run these Sigma rules (a file or a directory; repeat for several): a Detections section lists the hits, their rows are marked",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--progress", PROGRESS_HELP)
    .option("--no-progress", "never show the progress line")
    .addHelpText("after", EXAMPLES)
    .action(action(
      async (
        input: string,
        flags: {
          output?: string;
          member?: string;
          force?: boolean;
          group?: string;
          redact?: string;
          redactKey?: string;
          from?: string;
          to?: string;
          rules?: string[];
          progress?: boolean;
        },
      ) => {
        const redactor = await loadRedactor(
          { rules: flags.redact, key: flags.redactKey },
          "--redact",
        );
        const rules = flags.rules
          ? await loadHuntRules(flags.rules)
          : undefined;
        const report = await reportInputFor(
          input,
          flags.member,
          redactor,
          {
            from: flags.from,
            to: flags.to,
          },
          rules,
          progressMode(flags.progress),
        );
        const split = await splitMember(input);
        const output = flags.output ??
          defaultReportPath(split.file, split.member ?? flags.member);
        let bytes: number;
        try {
          // (in pieces: the page of a big recording is more than a string holds)
          bytes = await writeTextOutput(output, reportPieces(report), {
            force: flags.force,
            group: flags.group,
            what: "report",
          });
        } catch (e) {
          if (!(e instanceof ReportTooBigError)) throw e;
          throw new CliError(
            `${e.message}; nothing was written. Make the report of a part: --from and --to keep the processes alive in a time span${
              report.recordings.length > 1
                ? ", --member one recording of the bundle"
                : ""
            }`,
            2,
          );
        }
        const procs = report.recordings.reduce(
          (s, r) => s + r.forest.processes.length,
          0,
        );
        await print(
          `wrote ${output}: ${report.recordings.length} recording(s), ${procs} processes, ${bytes} bytes\n`,
        );
        return 0;
      },
    ));
}
