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

/**
 * The file's size at most (bytes of its entries' JSON): SigmaHQ's rules take
 * about 4 MB. A larger file (an older procrec's) is not read, and is
 * replaced.
 */
const MAX_KEPT_BYTES = 32 * 1024 * 1024;

/**
 * An entry larger than this is not kept (SigmaHQ's largest is under 40 KB;
 * a rule file of 1 MiB with a condition nested 100,000 deep parses to
 * 98 MB, which every later run would read back).
 */
const MAX_ENTRY_BYTES = 256 * 1024;

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
    if ((await Deno.stat(path)).size <= MAX_KEPT_BYTES + 1024) {
      before = keptFromText(await Deno.readTextFile(path));
    }
  } catch {
    // none yet, or unreadable: parse everything
  }
  const kept = new Map(before);
  const set = loadRuleSet(files, { kept });
  // the newest last; the oldest go first when there are too many
  const trimmed = kept.size !== (before?.size ?? -1)
    ? newestThatFit([...kept])
    : undefined;
  // (unless all it would hold is what was read: a parse too large to keep
  // must not have the file written again at every run)
  if (trimmed && !(before && sameKeys(trimmed, before))) {
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

/**
 * The newest of `entries` (the newest last) that fit {@link MAX_ENTRIES} and
 * {@link MAX_KEPT_BYTES}, leaving out any larger than
 * {@link MAX_ENTRY_BYTES}; in their order.
 */
function newestThatFit(
  entries: [string, ParsedEntry][],
): Map<string, ParsedEntry> {
  const keep: [string, ParsedEntry][] = [];
  const encoder = new TextEncoder();
  let bytes = 0;
  for (let i = entries.length - 1; i >= 0 && keep.length < MAX_ENTRIES; i--) {
    // (its key, quotes and separators: 70 bytes)
    const size = encoder.encode(JSON.stringify(entries[i][1])).length + 70;
    if (size > MAX_ENTRY_BYTES) continue;
    if (bytes + size > MAX_KEPT_BYTES) break;
    bytes += size;
    keep.push(entries[i]);
  }
  return new Map(keep.reverse());
}

/** Whether `a` holds the keys of `b` and no other. */
function sameKeys(
  a: ReadonlyMap<string, unknown>,
  b: ReadonlyMap<string, unknown>,
): boolean {
  if (a.size !== b.size) return false;
  for (const k of a.keys()) if (!b.has(k)) return false;
  return true;
}
