/**
 * `procrec hunt`: runs Sigma process_creation rules over recordings,
 * segment directories, bundles and bundle members.
 *
 * @module
 */
import { PROGRESS_HELP, progressed, progressMode } from "./_progress.ts";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { looksLikeZip, openBundle } from "../bundle/mod.ts";
import {
  type CompiledRule,
  type HuntReport,
  huntReportJsonPieces,
  renderHuntPieces,
  RuleHunter,
  SIGMA_LEVELS,
  type SigmaLevel,
} from "../hunt/mod.ts";
import { analysisChunks, type RecordingSource } from "../log/mod.ts";
import { pathExists } from "../path_exists.ts";
import { openRecordingInput, sourcesByBoot } from "./_input.ts";
import { readRuleFiles } from "./_rule_files.ts";
import { loadRuleSetKept } from "./_parsed_rules_file.ts";
import { action, printErr } from "./_run.ts";
import { printPieces } from "./_stream_output.ts";

interface HuntFlags {
  rules: string[];
  json?: boolean;
  level?: string;
  ruleId?: string[];
  progress?: boolean;
}

/** Rule files that did not load, said when none did. */
const MAX_PROBLEMS_SAID = 5;

const HELP = `
--rules takes Sigma rule files or directories of them (every *.yml / *.yaml
below, e.g. a SigmaHQ checkout); repeat it for several. INPUT is a recording, a segment directory (record -o DIR/ --rotate), a
bundle (every recording in it) or one recording of a bundle (case.zip#a.cbor).

Each process creation is matched: a Windows creation (driver or Sysmon
import), a Linux exec, or a process found running at the start; with its
parent and grandparent as they were then. Matching follows the Sigma
specification: case-insensitive unless |cased or |re; wildcards * and ?
(\\* \\? \\\\ are the characters); modifiers contains, startswith, endswith,
all, re (with |i |m |s), base64, base64offset, utf16le, utf16be, utf16, wide,
windash, cased, exists, fieldref, lt/lte/gt/gte; conditions with and, or,
not, parentheses, 1 of / all of / any of with wildcards and them. A field
with no value, an empty one and (Windows) Sysmon's "-" are alike: each
matches null, '' and (Windows) '-' in a rule, and no other value.

Fields (Windows / Linux): Image, CommandLine, ParentImage, ParentCommandLine,
GrandParentImage, User, ParentUser, CurrentDirectory, Hashes, LogonId (Linux:
the login uid), ProcessId, ParentProcessId, Computer; Windows only:
OriginalFileName, Product, Company, Description, IntegrityLevel, LogonGuid,
TerminalSessionId, ProcessGuid, ParentProcessGuid.

Nothing fails silently: a rule for another OS or that needs a field procrec
does not have (or that no process of the recording has) is listed as not
applicable with the reason; a rule using a feature the engine lacks
(aggregations, near, timeframe, cidr) as unsupported, naming it; a file that
is not a Sigma rule as invalid, naming the field.

Each hit: level, rule title and id; host, recording, pid, UTC time, event;
image, command line, user; parents (nearest first; [pid] when the parent is
not in the recording; at most 64, then "..." when the chain goes on). --json
prints one object: hits, each recording's account with every not-applicable
rule, and the rules that did not load.

Parsed rules are kept between runs (YAML parsing is most of the loading
time), by the SHA-256 of each rule file's text, so an edited file is parsed
again: in $PROCREC_RULE_CACHE (a file path; "off" keeps nothing), by default
$XDG_CACHE_HOME/procrec/sigma-rules.json or ~/.cache/procrec/sigma-rules.json.
A damaged file is not used. replay, report and bundle create --rules use it
too.

Exit status: 0 no hit, 1 hits, 2 on errors (an input or rule file that
cannot be read, an invalid rule; hits found elsewhere are still printed).

Examples:
  procrec hunt --rules sigma/rules/linux incident.cbor
  procrec hunt --rules sigma/rules --level high case.zip --json
  procrec hunt --rules my-rules/ --rule-id 5f92fff9-82e2-48eb-8fc1-8b133556a551 segments/
`;

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Adds `hunt` to the program. */
export function register(program: Command): void {
  program
    .command("hunt")
    .description(
      "run Sigma process_creation rules over recordings, segment directories and bundles",
    )
    .argument(
      "<input...>",
      "recordings, segment directories, bundles or bundle members",
    )
    .requiredOption(
      "--rules <path>",
      "a Sigma rule file or a directory of them (repeat for several)",
      collect,
    )
    .option("--json", "print one JSON object: hits, accounts, rule problems")
    .option(
      "--level <level>",
      `only rules of this level or higher (${SIGMA_LEVELS.join(", ")})`,
    )
    .option(
      "--rule-id <id>",
      "only the rule with this id (repeat for several)",
      collect,
    )
    .option("--progress", PROGRESS_HELP)
    .option("--no-progress", "never show the progress line")
    .addHelpText("after", HELP)
    .action(action(async (inputs: string[], flags: HuntFlags) => {
      const files = await readRuleFiles(flags.rules);
      const set = await loadRuleSetKept(files);
      const rules = selectRules(set.rules, flags);
      if (rules.length === 0) {
        throw new UsageError(
          `hunt: no rule to run: ${files.length} rule files, ${set.rules.length} loaded` +
            (flags.level || flags.ruleId
              ? ", none selected by --level/--rule-id"
              : "") +
            // why the files did not load (the first few), when none did
            (set.rules.length > 0 ? [] : set.problems).slice(
              0,
              MAX_PROBLEMS_SAID,
            ).map((p) => `\n  ${p.message}`).join("") +
            (set.rules.length === 0 && set.problems.length > MAX_PROBLEMS_SAID
              ? `\n  and ${
                set.problems.length - MAX_PROBLEMS_SAID
              } more rule files that did not load`
              : ""),
        );
      }
      const report: HuntReport = {
        files: files.length,
        loaded: rules.length,
        compiled: set.rules.length,
        problems: set.problems,
        recordings: [],
      };
      let failed = 0;
      const mode = progressMode(flags.progress);
      for (const input of inputs) {
        try {
          for await (const { name, source } of openInputs(input)) {
            const hunter = new RuleHunter(name, source.header, rules);
            const chunks = await progressed(
              analysisChunks(source),
              source,
              mode,
              `hunt: reading ${name}`,
              name,
            );
            for await (const c of chunks) {
              for (let i = 0; i < c.events.length; i++) hunter.add(c.events[i]);
            }
            report.recordings.push(hunter.finish());
          }
        } catch (e) {
          failed++;
          printErr(`procrec: hunt: ${(e as Error).message}\n`);
        }
      }
      // (in pieces: a hunt of millions of processes can hit more than one
      // string holds)
      await printPieces(
        flags.json ? huntReportJsonPieces(report) : renderHuntPieces(report),
      );
      const invalid = set.problems.filter((p) => p.kind === "invalid");
      for (const p of invalid) printErr(`procrec: hunt: ${p.message}\n`);
      if (failed || invalid.length) return 2;
      return report.recordings.some((r) => r.hits.length) ? 1 : 0;
    }));
}

function selectRules(rules: CompiledRule[], f: HuntFlags): CompiledRule[] {
  let out = rules;
  if (f.level !== undefined) {
    const min = SIGMA_LEVELS.indexOf(f.level.toLowerCase() as SigmaLevel);
    if (min < 0) {
      throw new UsageError(
        `--level "${f.level}": expected one of ${SIGMA_LEVELS.join(", ")}`,
      );
    }
    out = out.filter((r) =>
      r.rule.level !== undefined && SIGMA_LEVELS.indexOf(r.rule.level) >= min
    );
  }
  if (f.ruleId?.length) {
    const ids = new Set(f.ruleId.map((s) => s.toLowerCase()));
    const known = new Set(rules.map((r) => r.rule.id?.toLowerCase()));
    const unknown = [...ids].filter((i) => !known.has(i));
    if (unknown.length) {
      throw new UsageError(
        `--rule-id ${unknown.join(", ")}: no loaded rule has this id`,
      );
    }
    out = out.filter((r) => ids.has(r.rule.id?.toLowerCase() ?? ""));
  }
  return out;
}

/**
 * The recordings of one input: a whole bundle gives each of its recordings;
 * anything else is opened as `replay` opens it.
 */
async function* openInputs(
  input: string,
): AsyncGenerator<{ name: string; source: RecordingSource }> {
  if (
    await pathExists(input) && (await Deno.stat(input)).isFile &&
    await looksLikeZip(input)
  ) {
    const bundle = await openBundle(input);
    try {
      for (const m of bundle.recordings) {
        yield { name: `${input}#${m}`, source: await bundle.openRecording(m) };
      }
    } finally {
      await bundle.close();
    }
    return;
  }
  // (a segment directory that spans a reboot: each boot hunted alone, or
  // a process of the next boot had the parent of the pid it reused)
  const whole = await openRecordingInput(input);
  for (const source of sourcesByBoot(whole)) {
    yield {
      name: source === whole
        ? input
        : `${input} (boot ${source.header.bootId})`,
      source,
    };
  }
}
