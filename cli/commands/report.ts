/**
 * `procrec report`: writes the HTML report of a recording or a bundle.
 * Needs `--allow-read` and `--allow-write`.
 *
 * @module
 */
import type { Command } from "commander";
import { defaultReportPath, renderReport } from "../report/mod.ts";
import { reportInputFor } from "./_report_input.ts";
import { action, print } from "./_run.ts";
import { groupOption, writeTextOutput } from "./_output.ts";
import { loadRedactor } from "./_redaction.ts";

const EXAMPLES = `
Examples:
  procrec report incident.cbor                         writes incident.html
  procrec report incident.cbor -o /cases/i.html -f     replace an earlier report
  procrec report case.zip -o case.html                 every recording of the bundle
  procrec report case.zip --member b.cbor -o b.html    one of them

One self-contained HTML file: no network, no external script or style. Open
it in any browser: the process tree (click the triangles, or double-click a
row, to expand and collapse), search by image or argv (Enter: next match),
a timeline of process lifetimes coloured by exit status, lost spans in
orange, and the recording's metadata and integrity.

--redact RULES --redact-key KEY redacts the recording's secrets before the
report is made, as record --redact does (see procrec record --help).
`;

/** Adds `report` to the program. */
export function register(program: Command): void {
  program
    .command("report")
    .description("write the HTML report of a recording or a bundle")
    .argument("<input>", "recording or bundle")
    .option(
      "-o, --output <file>",
      "HTML file to write (default: the input's name with .html, in the current directory)",
    )
    .option("--member <name>", "one recording of a bundle")
    .option("-f, --force", "replace the output file if it exists")
    .addOption(groupOption())
    .option(
      "--redact <rules>",
      "redact secrets found by these rules (JSON) first",
    )
    .option("--redact-key <file>", "the HMAC key of --redact")
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
        },
      ) => {
        const redactor = await loadRedactor(
          { rules: flags.redact, key: flags.redactKey },
          "--redact",
        );
        const report = await reportInputFor(input, flags.member, redactor);
        const html = renderReport(report);
        const output = flags.output ?? defaultReportPath(input, flags.member);
        await writeTextOutput(output, html, {
          force: flags.force,
          group: flags.group,
          what: "report",
        });
        const procs = report.recordings.reduce(
          (s, r) => s + r.forest.processes.length,
          0,
        );
        await print(
          `wrote ${output}: ${report.recordings.length} recording(s), ${procs} processes, ${html.length} bytes\n`,
        );
        return 0;
      },
    ));
}
