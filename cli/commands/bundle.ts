/**
 * `procrec bundle create`: packages recordings as an evidence bundle.
 * Needs `--allow-read` and `--allow-write`.
 *
 * @module
 */
import type { Command } from "commander";
import {
  createBundle,
  importPrivateKey,
  type SigningKey,
} from "../bundle/mod.ts";
import { CliError } from "../errors.ts";
import type { RecordingReader } from "../log/mod.ts";
import { SegmentSetReader } from "../log/mod.ts";
import { parseUtcTime } from "./replay.ts";
import { UsageError } from "../errors.ts";
import {
  renderReport,
  renderTextSummary,
  type ReportInput,
  type ReportRecording,
} from "../report/mod.ts";
import { reportRecordingOf } from "./_report_input.ts";
import { ForestBuilder } from "../analysis/mod.ts";
import type { ProcEvent } from "../events/types.ts";
import { action, print, printErr } from "./_run.ts";
import { groupOption, modeOf } from "./_output.ts";
import { readKeyFile } from "./_input.ts";
import { requireRegularFile } from "../io/mod.ts";

const EXAMPLES = `
Examples:
  procrec bundle create -o IR-42.zip incident.cbor baseline.cbor \\
      --case IR-42 --examiner "A. Responder" --note "host web-3" --sign ir-team.key

The bundle is a zip: the recordings unchanged under recordings/, manifest.json
(every member's size and SHA-256; per recording host, OS, kernel, boot id, UTC
time range, counts per kind, lost counts, final chain hash; the case; tool and
format versions; creation time), summary.txt (summary and process tree per
recording), report.html (the HTML report), and with --sign, manifest.sig: an
Ed25519 signature over the exact bytes of manifest.json, which pins everything
else. Check it with: procrec verify IR-42.zip --key ir-team.key.pub

A segment directory (record -o DIR/ --rotate) is bundled as its segment
files, summarized as one recording; with --from/--to (UTC, ISO-8601) only the
segments covering that span:
  procrec bundle create -o IR-43.zip --from 2026-12-02T10:00:00Z \
      --to 2026-12-02T11:00:00Z /var/lib/procrec/
`;

interface CreateFlags {
  output: string;
  case?: string;
  examiner?: string;
  note?: string;
  sign?: string;
  group?: string;
  from?: string;
  to?: string;
}

/** Adds `bundle` (with `bundle create`) to the program. */
export function register(program: Command): void {
  const bundle = program
    .command("bundle")
    .description(
      "package recordings as an evidence bundle (see: bundle create)",
    );
  bundle
    .command("create")
    .description("write an evidence bundle of recordings")
    .argument("<recordings...>", "recordings to include")
    .requiredOption("-o, --output <file>", "bundle (.zip) to write")
    .option("--case <id>", "case id")
    .option("--examiner <name>", "who made the bundle")
    .option("--note <text>", "a note for the case")
    .option(
      "--sign <private-key>",
      "sign the manifest with this key (procrec keygen)",
    )
    .addOption(groupOption())
    .option(
      "--from <utc>",
      "segment directories: only segments covering this UTC time or later",
    )
    .option(
      "--to <utc>",
      "segment directories: only segments covering this UTC time or earlier",
    )
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(action(async (recordings: string[], flags: CreateFlags) => {
      const mode = modeOf(flags.group);
      let signingKey: SigningKey | undefined;
      if (flags.sign !== undefined) {
        const pem = await readKeyFile(flags.sign, "private key");
        signingKey = await importPrivateKey(pem, flags.sign).catch((e) => {
          throw new CliError((e as Error).message);
        });
      }
      const span = {
        fromUtcNs: utcFlag(flags.from, "--from"),
        toUtcNs: utcFlag(flags.to, "--to"),
      };
      const now = new Date();
      // a segment directory is bundled as its segments (those covering
      // --from/--to), each a complete recording
      const files: string[] = [];
      for (const path of recordings) {
        if ((await Deno.stat(path).catch(() => null))?.isDirectory) {
          const set = await SegmentSetReader.open([path], span).catch((e) => {
            throw new CliError(
              `Cannot create bundle "${flags.output}": ${(e as Error).message}`,
            );
          });
          files.push(...set.segments.map((s) => s.path));
        } else files.push(path);
      }
      recordings = files;
      for (const path of recordings) {
        // read twice (described and analysed, then copied and hashed again)
        await requireRegularFile(
          path,
          "recording",
          "a bundle reads each recording twice",
        ).catch((e) => {
          throw new CliError(
            `Cannot create bundle "${flags.output}": ${(e as Error).message}`,
          );
        });
      }
      // each recording is analysed in the same read that describes it
      const read = new Map<
        string,
        { reader: RecordingReader; builder: ForestBuilder }
      >();
      const onRecording = (path: string, reader: RecordingReader) => {
        const builder = new ForestBuilder({
          os: reader.header.os,
          bootId: reader.header.bootId,
        });
        read.set(path, { reader, builder });
        return (e: ProcEvent) => builder.add(e);
      };
      const c = {
        ...(flags.case !== undefined ? { id: flags.case } : {}),
        ...(flags.examiner !== undefined ? { examiner: flags.examiner } : {}),
        ...(flags.note !== undefined ? { note: flags.note } : {}),
      };
      const base = flags.output.split(/[\\/]/).pop()!;
      const documents = () => {
        const analysed: ReportRecording[] = recordings.map((path) => {
          const { reader, builder } = read.get(path)!;
          const name = path.split(/[\\/]/).pop()!;
          const r = reportRecordingOf(
            name,
            reader.header,
            builder.finish(),
            reader.report,
          );
          if (!r.integrity.complete) {
            printErr(
              `procrec: warning: recording "${path}" is incomplete or damaged; bundled as is ` +
                `(verify will report it): ${
                  r.integrity.problems[0] ?? "no trailer"
                }\n`,
            );
          }
          return r;
        });
        const input: ReportInput = {
          title: `procrec evidence bundle ${c.id ? `for case ${c.id}` : base}`,
          recordings: analysed,
          bundle: {
            name: base,
            created: now.toISOString(),
            case: c,
            signed: signingKey !== undefined,
          },
        };
        return [
          {
            name: "summary.txt",
            role: "summary" as const,
            bytes: enc.encode(renderTextSummary(input)),
          },
          {
            name: "report.html",
            role: "report" as const,
            bytes: enc.encode(renderReport(input)),
          },
        ];
      };
      const enc = new TextEncoder();
      let made;
      try {
        made = await createBundle(flags.output, files, {
          case: c,
          signingKey,
          now,
          mode,
          documents,
          onRecording,
        });
      } catch (e) {
        throw new CliError((e as Error).message, 2, { cause: e });
      }
      const m = made.manifest;
      const lines = [
        `wrote ${made.path}: ${m.recordings.length} recording(s), ${m.members.length} members`,
      ];
      for (const mem of m.members) {
        lines.push(`  ${mem.name}  ${mem.size} bytes  sha256 ${mem.sha256}`);
      }
      lines.push(
        made.signed
          ? `  manifest.sig  signed by ${signingKey!.fingerprint}`
          : "  unsigned (use --sign KEY to sign the manifest)",
      );
      await print(lines.join("\n") + "\n");
      return 0;
    }));
}

function utcFlag(text: string | undefined, name: string): bigint | undefined {
  if (text === undefined) return undefined;
  const t = parseUtcTime(text, name);
  if (t === undefined) {
    throw new UsageError(
      `${name} "${text}" is not a UTC time (e.g. 2026-12-02T10:14:00Z)`,
    );
  }
  return t;
}
