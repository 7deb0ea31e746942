/**
 * The text an import prints at its end: what was read, what was made, and
 * every hole in the data it kept going through.
 *
 * @module
 */
import { escapeText } from "../text/mod.ts";
import type { SysmonImportStats } from "./sysmon_to_events.ts";
import type { Replacements } from "./parse_sysmon.ts";

const HOLES: [keyof SysmonImportStats, string][] = [
  [
    "terminateWithoutCreate",
    "terminations without a creation (kept as snapshots)",
  ],
  [
    "createWithoutTerminate",
    "creations without a termination (still running at the end)",
  ],
  [
    "parentSnapshots",
    "parents known only from their children (kept as snapshots)",
  ],
  [
    "parentsCreatedLater",
    "children created before their parent's creation time",
  ],
  [
    "terminateBeforeCreate",
    "terminations stamped before their creation (moved to it)",
  ],
  [
    "terminateBeforeChild",
    "terminations stamped before a child's creation (moved to it)",
  ],
  ["duplicateCreates", "duplicate creations (dropped)"],
  ["duplicateTerminates", "duplicate terminations (dropped)"],
  ["missingPid", "records without ProcessId"],
  [
    "missingPidRecovered",
    "  of which took the pid of another record of the process",
  ],
  ["pidReused", "pids reused under a new ProcessGuid (separate processes)"],
];

/**
 * Formats the summary of one recording made by an import.
 *
 * @example
 * ```ts
 * import { formatImportStats } from "./format_import_stats.ts";
 * const text = formatImportStats("a.cbor", "h", {
 *   records: 3, creates: 2, terminates: 1, processes: 2, pairs: 1,
 *   terminateWithoutCreate: 0, createWithoutTerminate: 1, parentSnapshots: 0,
 *   parentsCreatedLater: 0, terminateBeforeCreate: 0, terminateBeforeChild: 0, duplicateCreates: 0,
 *   duplicateTerminates: 0, missingPid: 0, missingPidRecovered: 0, pidReused: 0,
 * });
 * if (!text.includes("2 processes") || !text.includes("creations without")) throw new Error(text);
 * ```
 */
export function formatImportStats(
  path: string,
  host: string,
  s: SysmonImportStats,
): string {
  let out =
    `${escapeText(path)}: host ${
      escapeText(host)
    }: ${s.records} records, ${s.processes} processes, ` +
    `${s.creates} created, ${s.terminates} terminated, ${s.pairs} create/terminate pairs\n`;
  for (const [key, label] of HOLES) {
    if (s[key] > 0) out += `  ${String(s[key]).padStart(6)}  ${label}\n`;
  }
  return out;
}

/**
 * The line an import prints for an input whose bytes were not all text in
 * its encoding: how many sequences were read as U+FFFD, and where the first
 * was (the recorded texts hold U+FFFD in their place; the input's SHA-256 in
 * the header names the bytes as they were).
 *
 * @example
 * ```ts
 * import { formatReplacements } from "./format_import_stats.ts";
 * const line = formatReplacements("x.jsonl", { encoding: "UTF-8", count: 2, offset: 40, line: 3 });
 * if (line !== "x.jsonl: 2 sequences that are not UTF-8, read as U+FFFD; the first at line 3, byte offset 40\n") {
 *   throw new Error(line);
 * }
 * ```
 */
export function formatReplacements(name: string, r: Replacements): string {
  return `${escapeText(name)}: ${r.count} ${
    r.count === 1 ? "sequence" : "sequences"
  } that ${
    r.count === 1 ? "is" : "are"
  } not ${r.encoding}, read as U+FFFD; the first at line ${r.line}, byte offset ${r.offset}\n`;
}
