/**
 * Sigma rules for the commands that show hits beside something else
 * (`replay --rules`, `replay --diff --rules`, `report --rules`,
 * `bundle create --rules`): read, compiled, and their problems on stderr.
 * Needs `--allow-read`.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { ProcEvent } from "../events/types.ts";
import {
  type CompiledRule,
  type RecordingHunt,
  RuleHunter,
} from "../hunt/mod.ts";
import { analysisChunks, type RecordingSource } from "../log/mod.ts";
import { readRuleFiles } from "./_rule_files.ts";
import { loadRuleSetKept } from "./_parsed_rules_file.ts";
import { printErr } from "./_run.ts";

/**
 * The rules under `paths`; rule files that do not load are named on stderr
 * (invalid or unsupported, with the reason). No rule at all is a usage error.
 */
export async function loadHuntRules(paths: string[]): Promise<CompiledRule[]> {
  const files = await readRuleFiles(paths);
  const set = await loadRuleSetKept(files);
  for (const p of set.problems) printErr(`procrec: rules: ${p.message}\n`);
  if (set.rules.length === 0) {
    throw new UsageError(
      `--rules ${paths.join(" ")}: no rule loaded (${files.length} rule files)`,
    );
  }
  return set.rules;
}

/**
 * Hunts a recording as it is read: `chunks` is the reader's, passed on
 * unchanged to whoever consumes it; the result is ready when they are done.
 */
export function huntAlong(
  name: string,
  reader: RecordingSource,
  rules: CompiledRule[],
): {
  chunks: AsyncGenerator<{ readonly events: readonly ProcEvent[] }>;
  result: () => RecordingHunt;
} {
  const hunter = new RuleHunter(name, reader.header, rules);
  async function* chunks() {
    for await (const c of analysisChunks(reader)) {
      for (let i = 0; i < c.events.length; i++) hunter.add(c.events[i]);
      yield c;
    }
  }
  return { chunks: chunks(), result: () => hunter.finish() };
}
