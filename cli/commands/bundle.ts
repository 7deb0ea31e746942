/**
 * `procrec bundle create`: packages recordings as an evidence bundle.
 * Needs `--allow-read` and `--allow-write`.
 *
 * @module
 */
import type { Command } from "commander";
import { pushAll } from "./_push_all.ts";
import {
  type BundleInput,
  createBundle,
  importPrivateKey,
  recordingMemberName,
  type SigningKey,
} from "../bundle/mod.ts";
import { CliError, UsageError } from "../errors.ts";
import type { RecordingReader } from "../log/mod.ts";
import { recordingEndUtcNs, SegmentSetReader } from "../log/mod.ts";
import { hasTimeFlags, spanOf, type UtcSpan } from "./_time_span.ts";
import {
  type ReportDetection,
  type ReportInput,
  reportPieces,
  type ReportRecording,
  ReportTooBigError,
  textSummaryPieces,
} from "../report/mod.ts";
import {
  analyzeReader,
  bootSuffix,
  reportRecordingOf,
} from "./_report_input.ts";
import { ForestBuilder } from "../analysis/mod.ts";
import type { ProcEvent } from "../events/types.ts";
import { action, print, printErr } from "./_run.ts";
import { groupOption, modeOf } from "./_output.ts";
import { utf8Blocks } from "./_stream_output.ts";
import { readKeyFile } from "./_input.ts";
import { INPUT_LIMITS, requireRegularFile } from "../io/mod.ts";
import { huntLine, RuleHunter } from "../hunt/mod.ts";
import { readRuleFiles } from "./_rule_files.ts";
import { loadRuleSetKept } from "./_parsed_rules_file.ts";

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

A segment directory (record -o DIR/ --rotate) is bundled as one recording:
its segment files, unchanged, under recordings/NAME/ (NAME: the directory's
name), each pinned and checked, and the links between them checked by verify;
replay, report and export of case.zip#NAME read them as the directory is read.
With --from/--to only the segments covering that span (absolute UTC times,
ISO-8601; offsets such as 90s from the oldest segment's start; clock times):
  procrec bundle create -o IR-43.zip --from 2026-12-02T10:00:00Z \\
      --to 2026-12-02T11:00:00Z /var/lib/procrec/
  procrec replay IR-43.zip#procrec
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
  rules?: string[];
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
    .argument(
      "<recordings...>",
      "recordings (files or segment directories) to include",
    )
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
      "--from <time>",
      "segment directories: only segments covering this time or later (UTC 2026-12-02T10:14:00Z, offset 90s, clock 10:14)",
    )
    .option(
      "--to <time>",
      "segment directories: only segments covering this time or earlier",
    )
    .option(
      "--rules <path>",
      "run these Sigma rules (a file or a directory; repeat for several): the hits go into manifest.json (detections), summary.txt and report.html",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(action(async (recordings: string[], flags: CreateFlags) => {
      const mode = modeOf(flags.group);
      const ruleFiles = flags.rules ? await readRuleFiles(flags.rules) : [];
      const ruleSet = flags.rules
        ? await loadRuleSetKept(ruleFiles)
        : undefined;
      for (const p of ruleSet?.problems ?? []) {
        printErr(`procrec: rules: ${p.message}\n`);
      }
      if (ruleSet && ruleSet.rules.length === 0) {
        throw new UsageError(
          `--rules ${
            flags.rules!.join(" ")
          }: no rule loaded (${ruleFiles.length} rule files)`,
        );
      }
      let signingKey: SigningKey | undefined;
      if (flags.sign !== undefined) {
        const pem = await readKeyFile(flags.sign, "private key");
        signingKey = await importPrivateKey(pem, flags.sign).catch((e) => {
          throw new CliError((e as Error).message);
        });
      }
      const now = new Date();
      const fail = (e: unknown) =>
        new CliError(
          `Cannot create bundle "${flags.output}": ${(e as Error).message}`,
        );
      // a segment directory is bundled as the segments covering --from/--to
      // under recordings/NAME/, read back as one recording NAME
      const inputs: BundleInput[] = [];
      const files: string[] = [];
      const dirs = new Map<string, { name: string; span: UtcSpan }>();
      for (const path of recordings) {
        if (!(await Deno.stat(path).catch(() => null))?.isDirectory) {
          inputs.push(path);
          files.push(path);
          continue;
        }
        const name = directoryMemberName(path);
        const same = [...dirs].find(([, d]) => d.name === name);
        if (same) {
          throw new CliError(
            `Cannot create bundle "${flags.output}": directories "${
              same[0]
            }" and "${path}" would both be recordings/${name}/; rename one`,
          );
        }
        // relative times count from the start of the oldest segment
        const whole = await SegmentSetReader.open([path]).catch((e) => {
          throw fail(e);
        });
        const span = hasTimeFlags(flags)
          ? spanOf(flags, BigInt(whole.header.timeBase.utcNs))
          : {};
        const set = await SegmentSetReader.open([path], span).catch((e) => {
          throw fail(e);
        });
        dirs.set(path, { name, span });
        for (const seg of set.segments) {
          inputs.push({
            path: seg.path,
            member: `recordings/${name}/${seg.name}`,
          });
          files.push(seg.path);
        }
      }
      for (const path of files) {
        // read twice (described and analysed, then copied and hashed again)
        await requireRegularFile(
          path,
          "recording",
          "a bundle reads each recording twice",
        ).catch((e) => {
          throw fail(e);
        });
      }
      // a directory is analysed as one recording (one per boot, when it
      // spans a reboot), in a read of its own
      const analysed = new Map<string, ReportRecording[]>();
      for (const [path, d] of dirs) {
        const reader = await SegmentSetReader.open([path], d.span).catch(
          (e) => {
            throw fail(e);
          },
        );
        const boots: ReportRecording[] = [];
        for (const r of reader.byBoot()) {
          boots.push(
            await analyzeReader(
              r,
              `${d.name}/${bootSuffix(r, reader)}`,
              undefined,
              {},
              ruleSet?.rules,
            ),
          );
        }
        analysed.set(path, boots);
      }
      const inSet = new Set(
        inputs.flatMap((i) => typeof i === "string" ? [] : [i.path]),
      );
      // each loose recording is analysed in the same read that describes it
      const read = new Map<
        string,
        { reader: RecordingReader; builder: ForestBuilder; hunter?: RuleHunter }
      >();
      const onRecording = (path: string, reader: RecordingReader) => {
        if (inSet.has(path)) return undefined;
        // (the report shows how many threads, not each: they are counted)
        const builder = new ForestBuilder({
          os: reader.header.os,
          bootId: reader.header.bootId,
        }, { detail: "processes" });
        const hunter = ruleSet
          ? new RuleHunter(
            path.split(/[\\/]/).pop()!,
            reader.header,
            ruleSet.rules,
          )
          : undefined;
        read.set(path, { reader, builder, hunter });
        return hunter
          ? (e: ProcEvent) => {
            builder.add(e);
            hunter.add(e);
          }
          : (e: ProcEvent) => builder.add(e);
      };
      // every hit, by bundle member, for the manifest
      const hits: (ReportDetection & { member: string })[] = [];
      const c = {
        ...(flags.case !== undefined ? { id: flags.case } : {}),
        ...(flags.examiner !== undefined ? { examiner: flags.examiner } : {}),
        ...(flags.note !== undefined ? { note: flags.note } : {}),
      };
      const base = flags.output.split(/[\\/]/).pop()!;
      const documents = () => {
        const units: ReportRecording[] = recordings.flatMap((path) => {
          const dir = analysed.get(path);
          if (dir) {
            for (const boot of dir) {
              pushAll(
                hits,
                (boot.detections ?? []).map((d) => ({
                  member: `recordings/${dirs.get(path)!.name}/`,
                  ...d,
                })),
              );
            }
            return dir;
          }
          const { reader, builder, hunter } = read.get(path)!;
          const name = path.split(/[\\/]/).pop()!;
          const r = reportRecordingOf(
            name,
            reader.header,
            builder.finish(),
            reader.report,
            recordingEndUtcNs(reader),
          );
          if (hunter) {
            const hunt = hunter.finish();
            printErr(`procrec: ${name}: ${huntLine(hunt)}\n`);
            r.detections = hunt.hits.map((x) => ({
              process: x.process,
              pid: x.pid,
              time: x.time,
              rule: { id: x.rule.id, title: x.rule.title, level: x.rule.level },
              image: x.image,
              cmdline: x.cmdline,
            }));
            pushAll(
              hits,
              r.detections.map((d) => ({
                member: recordingMemberName(path),
                ...d,
              })),
            );
          }
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
          recordings: units,
          bundle: {
            name: base,
            created: now.toISOString(),
            case: c,
            signed: signingKey !== undefined,
          },
        };
        const page = reportBytes(input);
        return [
          {
            name: "summary.txt",
            role: "summary" as const,
            // (in pieces: the tree of millions of processes is more
            // than a string holds)
            parts: encodedParts(textSummaryPieces(input)),
          },
          ...(page
            ? [{ name: "report.html", role: "report" as const, parts: page }]
            : []),
        ];
      };
      let made;
      try {
        made = await createBundle(flags.output, inputs, {
          case: c,
          signingKey,
          now,
          mode,
          documents,
          onRecording,
          detections: () =>
            ruleSet && {
              rules: {
                files: ruleFiles.length,
                loaded: ruleSet.rules.length,
                notLoaded: ruleSet.problems.map((p) => p.message),
              },
              hits: hits.map((x) => ({
                member: x.member,
                rule: {
                  ...(x.rule.id !== undefined ? { id: x.rule.id } : {}),
                  title: x.rule.title,
                  ...(x.rule.level !== undefined
                    ? { level: x.rule.level }
                    : {}),
                },
                pid: x.pid,
                process: x.process,
                time: x.time,
                ...(x.image !== undefined ? { image: x.image } : {}),
                ...(x.cmdline !== undefined ? { cmdline: x.cmdline } : {}),
              })),
            },
        });
      } catch (e) {
        throw new CliError((e as Error).message, 2, { cause: e });
      }
      const m = made.manifest;
      const segments = inSet.size
        ? ` (${dirs.size} segment director${
          dirs.size === 1 ? "y" : "ies"
        } as ${inSet.size} segment files)`
        : "";
      const lines = [
        `wrote ${made.path}: ${recordings.length} recording(s)${segments}, ${m.members.length} members`,
      ];
      for (const mem of m.members) {
        lines.push(`  ${mem.name}  ${mem.size} bytes  sha256 ${mem.sha256}`);
      }
      lines.push(
        made.signed
          ? `  manifest.sig  signed by ${signingKey!.fingerprint}`
          : "  unsigned (use --sign KEY to sign the manifest)",
      );
      const d = m.detections;
      if (d?.hitsTotal !== undefined) {
        lines.push(
          `  manifest.json lists the first ${d.hits.length} of ${d.hitsTotal} Sigma hits (a manifest is read whole: at most ${INPUT_LIMITS.manifest} bytes); summary.txt lists them all`,
        );
      }
      await print(lines.join("\n") + "\n");
      return 0;
    }));
}

/** The folder name a segment directory gets under `recordings/`. */
function directoryMemberName(path: string): string {
  const base = path.replace(/[\\/]+$/, "").split(/[\\/]/).pop() ?? "";
  return base.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+$/, "_") ||
    "segments";
}

/**
 * The report page's bytes (in blocks), or undefined (and a warning) when it would be
 * more than a browser can read: the bundle then holds its recordings and
 * summary.txt without report.html; `procrec report --from --to` makes the
 * report of a part of it.
 */
function reportBytes(input: ReportInput): Uint8Array[] | undefined {
  try {
    // (in pieces: the page of a big recording is more than a string holds)
    return encodedParts(reportPieces(input));
  } catch (e) {
    if (!(e instanceof ReportTooBigError)) throw e;
    printErr(
      `procrec: warning: no report.html in the bundle: ${e.message}; make the report of a part of it with procrec report BUNDLE --from TIME --to TIME\n`,
    );
    return undefined;
  }
}

/**
 * The UTF-8 bytes of a text given in pieces, as blocks of up to 1 MiB (never
 * joined: the bundle hashes and writes them in order).
 */
function encodedParts(pieces: Iterable<string>): Uint8Array[] {
  // (each block copied as it comes: utf8Blocks fills one buffer again and
  // again)
  const parts: Uint8Array[] = [];
  for (const block of utf8Blocks(pieces)) parts.push(block.slice());
  return parts;
}
