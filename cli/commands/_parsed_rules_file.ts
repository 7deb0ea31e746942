/**
 * Loads Sigma rule files with their parses kept in a file between runs
 * (`PROCREC_RULE_CACHE`: a path, or `off`; by default
 * `$XDG_CACHE_HOME/procrec/sigma-rules.json`, else
 * `$HOME/.cache/procrec/sigma-rules.json`). The entries are keyed by the
 * SHA-256 of each rule's text, so a changed file is parsed again; a damaged
 * or foreign file is not used (and is replaced). Failing to read or write it
 * only costs time. Needs `--allow-read`, `--allow-write`, `--allow-env`.
 *
 * @module
 */
import {
  keptFromText,
  keptToText,
  loadRuleSet,
  type ParsedEntry,
  type RuleSet,
} from "../hunt/mod.ts";
import type { RuleFile } from "./_rule_files.ts";

/** Entries kept at most (SigmaHQ has ~3,000 rules of all kinds). */
const MAX_ENTRIES = 20_000;

/** Where parses are kept, or `undefined` when off. */
export function parsedRulesPath(): string | undefined {
  const env = Deno.env.get("PROCREC_RULE_CACHE");
  if (env === "off" || env === "") return undefined;
  if (env) return env;
  const base = Deno.env.get("XDG_CACHE_HOME") ||
    (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : undefined);
  return base ? `${base}/procrec/sigma-rules.json` : undefined;
}

/** {@link loadRuleSet} over `files`, skipping the YAML of rules parsed in an earlier run. */
export async function loadRuleSetKept(files: RuleFile[]): Promise<RuleSet> {
  const path = parsedRulesPath();
  if (!path) return loadRuleSet(files);
  let before: Map<string, ParsedEntry> | undefined;
  try {
    before = keptFromText(await Deno.readTextFile(path));
  } catch {
    // none yet, or unreadable: parse everything
  }
  const kept = new Map(before);
  const set = loadRuleSet(files, { kept });
  if (kept.size !== (before?.size ?? -1)) {
    // the newest last; the oldest go first when there are too many
    const entries = [...kept];
    const trimmed = new Map(entries.slice(-MAX_ENTRIES));
    try {
      const dir = path.replace(/\/[^/]*$/, "") || "/";
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.${Deno.pid}.tmp`;
      try {
        await Deno.writeTextFile(tmp, keptToText(trimmed), { mode: 0o600 });
        await Deno.rename(tmp, path);
      } finally {
        await Deno.remove(tmp).catch(() => {});
      }
    } catch {
      // not kept: the next run parses again
    }
  }
  return set;
}
