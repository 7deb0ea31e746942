/**
 * Reads recordings (loose or in a bundle) and analyses them for the report
 * and the bundle's summary, through the one analysis entry point. Needs
 * `--allow-read`.
 *
 * @module
 */
import {
  analyze,
  analyzeChunks,
  type Forest,
  forestWithEnd,
  selectProcesses,
} from "../analysis/mod.ts";
import { looksLikeZip, openBundle } from "../bundle/mod.ts";
import {
  analysisChunks,
  eventsOfChunks,
  recordingEndUtcNs,
  type RecordingHeader,
  type RecordingReport,
  type RecordingSource,
} from "../log/mod.ts";
import type { ProcEvent } from "../events/types.ts";
import type { ReportInput, ReportRecording } from "../report/mod.ts";
import { asCliError, sourcesByBoot } from "./_input.ts";
import {
  absoluteSpan,
  openInputInSpan,
  spanOf,
  type TimeFlags,
  type TimeWindow,
  windowOn,
} from "./_time_span.ts";
import {
  describeRedaction,
  redactedOnTheFly,
  type Redactor,
} from "../redact/mod.ts";
import { type CompiledRule, huntLine, RuleHunter } from "../hunt/mod.ts";
import { printErr } from "./_run.ts";
import { importedIntegrityNote } from "../interop/imported_integrity.ts";
import { progressed, type ProgressMode } from "./_progress.ts";

/**
 * Reads every event of `reader` and analyses them, redacted by `redactor`
 * first when one is given; with a `window`, only the processes alive in it
 * (and their ancestors, for context) stay. `path`, the input as given, is
 * what the redaction of a recording already redacted names as its source.
 */
export async function analyzeReader(
  reader: RecordingSource,
  name: string,
  redactor?: Redactor,
  window: TimeWindow = {},
  rules?: CompiledRule[],
  progress: ReportProgress = { mode: "off" },
  path: string = name,
): Promise<ReportRecording> {
  // (whether the source was complete is known once it is read: the
  // header shown is made again then)
  const headerOf = (complete: boolean) =>
    redactor
      ? redactedOnTheFly(reader.header, redactor, { path, complete })
      : reader.header;
  const h = headerOf(false);
  const meta = { os: h.os, bootId: h.bootId };
  // the hunt sees what the report shows: the redacted events
  const hunter = rules ? new RuleHunter(name, h, rules) : undefined;
  // (the report shows how many threads, not each: they are counted)
  const detail = { detail: "processes" } as const;
  const chunks = await progressed(
    analysisChunks(reader),
    reader,
    progress.mode,
    `report: reading ${progress.path ?? name}`,
    progress.path,
  );
  const forest = redactor
    ? await analyze(
      redacted(eventsOfChunks(chunks), redactor, hunter),
      meta,
      detail,
    )
    : await analyzeChunks(hunted(chunks, hunter), meta, detail);
  const shown = inWindow(forest, window);
  const r = reader.report;
  const rec = reportRecordingOf(
    name,
    headerOf(r.complete && r.chainIntact),
    shown,
    r,
    recordingEndUtcNs(reader),
  );
  if (hunter) {
    const hunt = hunter.finish();
    printErr(`procrec: ${name}: ${huntLine(hunt)}\n`);
    // the hits of the processes the report shows
    const ids = new Set(shown.processes.map((n) => n.id));
    rec.detections = hunt.hits.filter((x) => ids.has(x.process)).map((x) => ({
      process: x.process,
      pid: x.pid,
      time: x.time,
      rule: { id: x.rule.id, title: x.rule.title, level: x.rule.level },
      image: x.image,
      cmdline: x.cmdline,
    }));
  }
  return rec;
}

/**
 * The last name of `path`, a directory's too (`../segs/` is `segs`; its
 * trailing separator left the report without a name: found by review).
 */
export function lastName(path: string): string {
  return path.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || path;
}

/** ` (boot ID)` for one boot's source of a recording that spans several. */
export function bootSuffix(
  boot: RecordingSource,
  whole: RecordingSource,
): string {
  return boot === whole ? "" : ` (boot ${boot.header.bootId})`;
}

/** The processes alive in `window`, with their ancestors (their parents in the tree). */
function inWindow(forest: Forest, window: TimeWindow): Forest {
  if (window.from === undefined && window.to === undefined) return forest;
  const { shown } = selectProcesses(forest, window);
  return {
    ...forest,
    processes: forest.processes.filter((n) => shown.has(n.id)),
  };
}

async function* hunted<C extends { readonly events: readonly ProcEvent[] }>(
  chunks: AsyncIterable<C>,
  hunter?: RuleHunter,
): AsyncGenerator<C> {
  for await (const c of chunks) {
    if (hunter) {
      for (let i = 0; i < c.events.length; i++) hunter.add(c.events[i]);
    }
    yield c;
  }
}

/**
 * What the report shows of one recording read and analysed. `endUtcNs`:
 * when it ended ({@link recordingEndUtcNs} of its reader: for a segment
 * directory, its last segment's trailer, which `r` lacks), until which a
 * process still running counts in the page and in summary.txt alike.
 */
export function reportRecordingOf(
  name: string,
  h: RecordingHeader,
  analysed: Forest,
  r: RecordingReport,
  endUtcNs: bigint | undefined = r.trailer?.endUtcNs,
): ReportRecording {
  const forest = forestWithEnd(analysed, endUtcNs, h.timeBase.utcNs);
  // (an import of an export of a damaged recording: what it came from)
  const imported = importedIntegrityNote(h.import);
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
      problems: [
        ...r.problems.map((p) => p.reason),
        ...(imported !== undefined ? [imported] : []),
      ],
      ...(endUtcNs !== undefined ? { endUtcNs: endUtcNs.toString() } : {}),
      ...(r.trailer ? { trailerEvents: r.trailer.events } : {}),
      ...(r.eventsMissing ? { eventsMissing: r.eventsMissing } : {}),
    },
  };
}

/** The progress line of a report's reads: its mode, and the input as given (for its 100%). */
export interface ReportProgress {
  mode: ProgressMode;
  path?: string;
}

async function* redacted(
  events: AsyncIterable<ProcEvent>,
  redactor: Redactor,
  hunter?: RuleHunter,
): AsyncGenerator<ProcEvent> {
  for await (const e of events) {
    const r = redactor.event(e);
    hunter?.add(r);
    yield r;
  }
}

/**
 * What a report of `path` shows: the recording, or a bundle's recordings
 * (all of them, or the one `member` names; `path#NAME` works too), redacted
 * by `redactor` when one is given; with `--from/--to` (`time`), the
 * processes alive in that span (a segment directory: only the segments
 * covering it are read).
 */
export async function reportInputFor(
  path: string,
  member?: string,
  redactor?: Redactor,
  time: TimeFlags = {},
  rules?: CompiledRule[],
  progress: ProgressMode = "off",
): Promise<ReportInput> {
  const base = lastName(path);
  if (!(await looksLikeZip(path))) {
    const { reader, window } = await openInputInSpan(path, time, member);
    const name = lastName(reader.name);
    // (a segment directory that spans a reboot: a recording per boot)
    const recordings: ReportRecording[] = [];
    for (const r of sourcesByBoot(reader)) {
      recordings.push(
        await analyzeReader(
          r,
          `${name}${bootSuffix(r, reader)}`,
          redactor,
          window,
          rules,
          { mode: progress, path },
          path,
        ),
      );
    }
    return { title: `procrec report: ${name}`, recordings };
  }
  const bundle = await asCliError(openBundle(path));
  try {
    // a directory's segments are one recording
    const names = member === undefined ? bundle.units : [member];
    const recordings: ReportRecording[] = [];
    for (const m of names) {
      const reader = await asCliError(
        bundle.openSource(m, absoluteSpan(time)),
      );
      const utcNs = BigInt(reader.header.timeBase.utcNs);
      for (const r of sourcesByBoot(reader)) {
        recordings.push(
          await analyzeReader(
            r,
            `${reader.name.slice(path.length + 1)}${bootSuffix(r, reader)}`,
            redactor,
            windowOn(spanOf(time, utcNs), utcNs),
            rules,
            { mode: progress },
            `${path}#${m}`,
          ),
        );
      }
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
