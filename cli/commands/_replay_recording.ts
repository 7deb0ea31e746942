/**
 * What `replay` and `diff` share (kept here so that neither command imports
 * the other): a recording read through the analysis with its problems on
 * stderr. Needs `--allow-read`.
 *
 * @module
 */
import {
  analyzeChunks,
  type Forest,
  type ForestOptions,
} from "../analysis/mod.ts";
import {
  analysisChunks,
  type RecordingReport,
  type RecordingSource,
} from "../log/mod.ts";
import { escapeText } from "../text/mod.ts";
import { openRecordingInput, requireOneBoot } from "./_input.ts";
import { printErr } from "./_run.ts";
import { progressed, type ProgressMode } from "./_progress.ts";
import type { CompiledRule, RecordingHunt } from "../hunt/mod.ts";

/** A recording read through the analysis. */
export interface ReplayedRecording {
  reader: RecordingSource;
  forest: Forest;
  /** The Sigma hunt run along, when rules were given. */
  hunt?: RecordingHunt;
}

/**
 * Opens a recording (or a bundle member), feeds its events through the
 * analysis (and the Sigma `rules`, when given) and writes the reader's
 * problems to stderr (`options`: what the analysis keeps). Throws a
 * {@link CliError} (exit 2) when the input is not a recording.
 */
export async function replayRecording(
  path: string | string[],
  span: { fromUtcNs?: bigint; toUtcNs?: bigint } = {},
  rules?: CompiledRule[],
  options: ForestOptions = {},
  progress: { mode: ProgressMode; label?: string } = { mode: "off" },
  /** The input, already opened (not yet read) by the caller. */
  opened?: RecordingSource,
): Promise<ReplayedRecording> {
  const reader = opened ?? await openRecordingInput(path, span);
  // one analysis is of one boot (the caller splits a recording that spans
  // reboots, or it is refused here)
  requireOneBoot(reader, "analyse");
  // (the hunt's code is loaded only when rules are given)
  const hunt = rules
    ? (await import("./_hunt_rules.ts")).huntAlong(
      Array.isArray(path) ? path.join(" ") : path,
      reader,
      rules,
    )
    : undefined;
  const chunks = await progressed(
    hunt?.chunks ?? analysisChunks(reader),
    reader,
    progress.mode,
    progress.label ?? `reading ${reader.name}`,
    path,
  );
  const forest = await analyzeChunks(chunks, {
    os: reader.header.os,
    bootId: reader.header.bootId,
  }, options);
  printErr(renderReadProblems(reader.report));
  return { reader, forest, ...(hunt ? { hunt: hunt.result() } : {}) };
}

/** The reader's problems as lines for stderr ("" when there are none). */
export function renderReadProblems(report: RecordingReport): string {
  if (report.problems.length === 0) return "";
  const SHOWN = 50;
  const listed = report.problems.filter((p) => p.type !== "omitted");
  const lines = listed.slice(0, SHOWN).map((p) =>
    `procrec: recording "${report.name}": ${
      p.chunk !== undefined ? `chunk ${p.chunk}, ` : ""
    }offset ${p.offset}: ${p.type}: ${escapeText(p.reason)}\n`
  );
  const counts = Object.entries(report.problemCounts);
  const total = counts.reduce((n, [, k]) => n + (k ?? 0), 0);
  if (total > lines.length) {
    lines.push(
      `procrec: recording "${report.name}": ... ${
        total - lines.length
      } more problems (${total} in all: ${
        counts.map(([t, k]) => `${t} ${k}`).join(", ")
      })\n`,
    );
  }
  lines.push(
    `procrec: recording "${report.name}": read ${report.chunks} chunks, ${report.events} events; ${report.eventsMissing} events known missing; ${
      report.complete ? "complete" : "incomplete"
    }\n`,
  );
  return lines.join("");
}
