/**
 * Reads recordings (loose or in a bundle) and analyses them for the report
 * and the bundle's summary, through the one analysis entry point. Needs
 * `--allow-read`.
 *
 * @module
 */
import { analyze, analyzeChunks, type Forest } from "../analysis/mod.ts";
import { looksLikeZip, openBundle } from "../bundle/mod.ts";
import {
  analysisChunks,
  type RecordingHeader,
  type RecordingReport,
  type RecordingSource,
} from "../log/mod.ts";
import type { ProcEvent } from "../events/types.ts";
import type { ReportInput, ReportRecording } from "../report/mod.ts";
import { asCliError, openRecordingInput } from "./_input.ts";
import { describeRedaction, type Redactor } from "../redact/mod.ts";

/**
 * Reads every event of `reader` and analyses them, redacted by `redactor`
 * first when one is given.
 */
export async function analyzeReader(
  reader: RecordingSource,
  name: string,
  redactor?: Redactor,
): Promise<ReportRecording> {
  const h = redactor
    ? { ...redactor.header(reader.header), redaction: redactor.describe() }
    : reader.header;
  const meta = { os: h.os, bootId: h.bootId };
  const forest = redactor
    ? await analyze(redacted(reader.events(), redactor), meta)
    : await analyzeChunks(analysisChunks(reader), meta);
  return reportRecordingOf(name, h, forest, reader.report);
}

/** What the report shows of one recording read and analysed. */
export function reportRecordingOf(
  name: string,
  h: RecordingHeader,
  forest: Forest,
  r: RecordingReport,
): ReportRecording {
  return {
    name,
    header: {
      host: h.host,
      os: h.os,
      kernel: h.kernel,
      bootId: h.bootId,
      timeBaseUtcNs: h.timeBase.utcNs.toString(),
      source: { name: h.source?.name ?? "", reason: h.source?.reason ?? "" },
      tool: { name: h.tool?.name ?? "", version: h.tool?.version ?? "" },
      ...(h.command ? { command: { argv: h.command.argv } } : {}),
      ...(h.redaction ? { redaction: describeRedaction(h.redaction) } : {}),
    },
    forest,
    integrity: {
      complete: r.complete,
      chainIntact: r.chainIntact,
      problems: r.problems.map((p) => p.reason),
      ...(r.trailer
        ? {
          endUtcNs: r.trailer.endUtcNs.toString(),
          trailerEvents: r.trailer.events,
        }
        : {}),
      ...(r.eventsMissing ? { eventsMissing: r.eventsMissing } : {}),
    },
  };
}

async function* redacted(
  events: AsyncIterable<ProcEvent>,
  redactor: Redactor,
): AsyncGenerator<ProcEvent> {
  for await (const e of events) yield redactor.event(e);
}

/**
 * What a report of `path` shows: the recording, or a bundle's recordings
 * (all of them, or the one `member` names; `path#NAME` works too), redacted
 * by `redactor` when one is given.
 */
export async function reportInputFor(
  path: string,
  member?: string,
  redactor?: Redactor,
): Promise<ReportInput> {
  const base = path.split(/[\\/]/).pop() ?? path;
  if (!(await looksLikeZip(path))) {
    const reader = await openRecordingInput(path, { member });
    return {
      title: `procrec report: ${reader.name.split(/[\\/]/).pop()}`,
      recordings: [
        await analyzeReader(
          reader,
          reader.name.split(/[\\/]/).pop()!,
          redactor,
        ),
      ],
    };
  }
  const bundle = await asCliError(openBundle(path));
  try {
    const names = member === undefined ? bundle.recordings : [member];
    const recordings: ReportRecording[] = [];
    for (const m of names) {
      const reader = await asCliError(bundle.openRecording(m));
      recordings.push(
        await analyzeReader(
          reader,
          reader.name.slice(path.length + 1),
          redactor,
        ),
      );
    }
    const man = bundle.manifest;
    return {
      title: `procrec report: ${
        man.case.id ? `case ${man.case.id}, ` : ""
      }${base}`,
      recordings,
      bundle: {
        name: base,
        created: man.created,
        case: man.case,
        signed: bundle.signed,
      },
    };
  } finally {
    await bundle.close();
  }
}
