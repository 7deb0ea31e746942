/**
 * `procrec export REC --format jsonl|ecs|ocsf [-o FILE] [--bulk]`: one
 * event per line, streamed (constant memory apart from the processes alive
 * at a time). Needs `--allow-read` for the recording and `--allow-write` for
 * `-o`.
 *
 * - `jsonl`: procrec's own events, a header line first; `import jsonl` reads
 *   it back into the same events.
 * - `ecs`: Elastic Common Schema documents; with `--bulk`, each preceded by a
 *   `{"create":{}}` action line, a body for
 *   `curl -H 'Content-Type: application/x-ndjson' -XPOST
 *   http://localhost:9200/procrec/_bulk --data-binary @events.ndjson`
 *   (Elasticsearch or OpenSearch; `create` works for indices and data
 *   streams; `--index NAME` names the index in every action line).
 * - `ocsf`: OCSF Process Activity (class 1007) events.
 *
 * @module
 */
import type { Command } from "commander";
import { action, printErr } from "./_run.ts";
import { openInputInSpan, type TimeFlags } from "./_time_span.ts";
import { requireOneBoot, splitMember } from "./_input.ts";
import { groupOption, modeOf } from "./_output.ts";
import { escapeText } from "../text/mod.ts";
import { inputInfo, openOutput } from "../io/mod.ts";
import { CliError, UsageError } from "../errors.ts";
import { MAX_LINE_CHARS } from "../interop/read_lines.ts";
import { joinImageHashes } from "../interop/join_image_hashes.ts";
import { DecisionSettler } from "../interop/settle_decisions.ts";
import {
  ecsMapper,
  type JsonObject,
  ocsfMapper,
  ProcessTable,
  procrecEndLine,
  procrecEventLine,
  procrecHeaderLine,
  SpanStart,
  toJson,
} from "../interop/mod.ts";
import type { ProcEvent } from "../events/types.ts";
import { loadRedactor } from "./_redaction.ts";
import { redactedOnTheFly } from "../redact/redacted_header.ts";
import { withoutQuotedValues } from "../redact/quiet_message.ts";
import {
  PROGRESS_HELP,
  progressed,
  type ProgressMode,
  progressMode,
} from "./_progress.ts";
import {
  analysisChunks,
  eventsOfChunks,
  recordingEndUtcNs,
} from "../log/mod.ts";

const FORMATS = ["jsonl", "ecs", "ocsf"] as const;

/** Adds `export`. */
export function register(program: Command): void {
  program
    .command("export")
    .description(
      "write a recording's events as JSON lines: procrec's own (jsonl),\n" +
        "Elastic Common Schema (ecs) or OCSF Process Activity (ocsf)",
    )
    .argument(
      "<recording>",
      "recording, bundle or segment directory to export",
    )
    .option("--format <format>", "jsonl, ecs or ocsf", "jsonl")
    .option(
      "--from <time>",
      "only events at or after this time (UTC 2026-12-02T10:14:00Z, offset 90s, clock 10:14)",
    )
    .option("--to <time>", "only events at or before this time")
    .option("-o, --output <file>", "write here instead of stdout")
    .option("--bulk", "interleave _bulk action lines (ecs, ocsf)")
    .option("--index <name>", "index named in the _bulk action lines")
    .option("-f, --force", "replace an existing output file")
    .addOption(groupOption())
    .option(
      "--redact <rules>",
      "redact secrets found by these rules (JSON) on the way out",
    )
    .option("--redact-key <file>", "the HMAC key of --redact")
    .option("--progress", PROGRESS_HELP)
    .option("--no-progress", "never show the progress line")
    .addHelpText(
      "after",
      `
Examples:
  procrec export run.cbor -o run.jsonl                  procrec's own events
  procrec import jsonl run.jsonl -o copy.cbor           ...read back unchanged
  procrec export run.cbor --format ocsf                 OCSF on stdout
  procrec export run.cbor --format ecs --bulk -o run.ndjson
  curl -H 'Content-Type: application/x-ndjson' -XPOST \\
    http://localhost:9200/procrec/_bulk --data-binary @run.ndjson
  procrec export run.cbor --redact rules.json --redact-key redact.key -o run.jsonl
  procrec export /var/lib/procrec/ --from 2026-12-02T10:14:00Z --to 2026-12-02T10:20:00Z

--from/--to keep the events of a span: absolute UTC times (ISO-8601), offsets
from the recording's start (90s, 250ms) or clock times on its day (10:14);
a segment directory reads only the segments covering the span. In jsonl, a
span that begins after the recording does starts with the processes running
at --from, as process_snapshot events at that time (with the image hashes and
account names known by then): its import has their images, parents and
commands.

In ecs and ocsf, an image hash goes on its exec's document, and an exec
rule's decision names the process that held its pid at its time: the
decision's document comes out up to a second of event time after where it
was recorded, once the kernel's exits and creations before it have come
(past 16,384 waiting at once, the earliest names no process and says
"unsettled"; they are counted).

--redact redacts as record --redact does (see procrec record --help); the
header line lists the rules. Of a recording already redacted, it keeps that
redaction too, as the one of the source it names (read twice then: first to
say whether it is complete). For a redacted recording that names its source
by its keyed hash, use procrec redact.`,
    )
    .action(action(exportRecording));
}

interface Opts {
  format: string;
  output?: string;
  bulk?: boolean;
  index?: string;
  force?: boolean;
  group?: string;
  redact?: string;
  redactKey?: string;
  from?: string;
  to?: string;
  progress?: boolean;
}

async function exportRecording(path: string, opts: Opts): Promise<number> {
  const format = opts.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) {
    throw new UsageError(
      `Cannot export "${path}": format "${opts.format}" is unknown, expected ${
        FORMATS.join(", ")
      }`,
    );
  }
  if ((opts.bulk || opts.index !== undefined) && format === "jsonl") {
    throw new UsageError(
      `Cannot export "${path}": --bulk and --index apply to ecs and ocsf`,
    );
  }
  const redactor = await loadRedactor(
    { rules: opts.redact, key: opts.redactKey },
    "--redact",
  );
  const { reader, window } = await openInputInSpan(path, opts);
  // (an export is of one boot: its processes' parents are found by pid)
  requireOneBoot(
    reader,
    "export",
    "export one boot at a time, with --from/--to within it",
  );
  const from = window.from ?? -Infinity;
  const to = window.to ?? Infinity;
  // (by itself only when the lines go to a file: on a terminal's stdout,
  // or through a pipe to a pager on it, a line rewritten on stderr would
  // be drawn over them; --progress shows it anyway)
  const mode = opts.progress === undefined && opts.output === undefined
    ? "off"
    : progressMode(opts.progress);
  // a recording already redacted keeps its redaction, as that of the
  // source the header line names, which says whether the source was
  // complete: the line comes first, so the source is read to its end
  // before, as procrec redact reads its own (once more, only then)
  const whole = redactor && reader.header.redaction && format === "jsonl"
    ? await readsWhole(path, opts, mode)
    : undefined;
  if (whole === null) {
    printErr(
      `procrec: warning: "${path}" is read once (a pipe or device): the header line cannot say whether it is complete, so its redaction.source says it is not; the end line says what was found\n`,
    );
  }
  const header = redactor
    ? redactedOnTheFly(reader.header, redactor, {
      path,
      complete: whole === true,
    })
    : reader.header;
  const out = await openExportOutput(
    opts.output,
    opts.force === true,
    opts.group,
  );
  const action = opts.bulk || opts.index !== undefined
    ? toJson({
      create: opts.index !== undefined ? { _index: opts.index } : {},
    }) + "\n"
    : "";
  let map: (e: ProcEvent) => string | undefined;
  let settler: DecisionSettler | undefined;
  if (format === "jsonl") {
    await out.write(procrecHeaderLine(header) + "\n");
    map = (e) => procrecEventLine(e) + "\n";
  } else {
    settler = new DecisionSettler(new ProcessTable(header.bootId));
    const m: (e: ProcEvent) => JsonObject | undefined = format === "ecs"
      ? ecsMapper(header, settler.table)
      : ocsfMapper(header, settler.table);
    map = (e) => {
      const doc = m(e);
      // documents hold no big integers: the plain (fast) stringify
      return doc === undefined
        ? undefined
        : action + JSON.stringify(doc) + "\n";
    };
  }
  /** (jsonl, with --from) what stands at the span's start for the events before it. */
  const spanStart = format === "jsonl" && Number.isFinite(from)
    ? new SpanStart(header.os)
    : undefined;
  let written = 0;
  /** Lines (1 = the header) longer than import jsonl reads. */
  const tooLong: number[] = [];
  let skipped = 0;
  let outside = 0;
  let done = false;
  try {
    // ECS and OCSF documents are made event by event: a hash written after
    // its exec is put on it first (version 5 recordings have them)
    const read = eventsOfChunks(
      await progressed(
        analysisChunks(reader),
        reader,
        mode,
        `export: reading ${path}`,
        path,
      ),
    );
    const joined = settler !== undefined && header.version >= 5
      ? joinImageHashes(read)
      : read;
    // the span's events, redacted, as the documents are made of them; for
    // ECS and OCSF every event, whose documents are made but those outside
    // the span not written: the process table sees the creations before
    // the span, so that a process has the entity id, image and parent the
    // whole export gives it (found by review: one created before --from
    // had another id, made from its exit's time, and no executable)
    const outsideSpan = (e: ProcEvent) => e.t < from || e.t > to;
    // for JSON lines, the events before the span are not written but stand
    // at its start for what they made (SpanStart): the processes then
    // running, as snapshots, as in a segment's header (found by review: one
    // started before --from had no image, parent or command in the import,
    // though replay --from shows them)
    let before = spanStart;
    const chosen = async function* (events: AsyncIterable<ProcEvent>) {
      const out = (e: ProcEvent) => redactor ? redactor.event(e) : e;
      for await (const e of events) {
        if (before !== undefined && e.t >= from) {
          for (const s of before.events(from)) yield out(s);
          before = undefined;
        }
        if (settler === undefined && outsideSpan(e)) {
          outside++;
          before?.observe(e);
        } else yield out(spanStart?.inSpan(e) ?? e);
      }
      // (a span after the last event: its start is in the recording when
      // the recording ended after it)
      const end = recordingEndUtcNs(reader);
      if (
        before !== undefined && end !== undefined &&
        header.timeBase.utcNs + BigInt(Math.trunc(from)) <= end
      ) {
        for (const s of before.events(from)) yield out(s);
      }
    };
    // (ECS, OCSF) an exec rule's decision also waits for the kernel source's
    // exits and creations before it (reported a little later): they tell
    // whose decision it is
    const events = settler === undefined
      ? chosen(joined)
      : settler.settle(chosen(joined));
    for await (const e of events) {
      const line = map(e);
      if (settler !== undefined && outsideSpan(e)) outside++;
      else if (line === undefined) skipped++;
      else {
        written++;
        // (JSON writes a backslash as two characters, a control as six: a
        // huge command line can make a line import jsonl does not take)
        if (format === "jsonl" && line.length > MAX_LINE_CHARS + 1) {
          tooLong.push(written + 1);
        }
        await out.write(line);
      }
    }
    if (format === "jsonl") {
      // what the events cannot tell: how many there are, when the
      // recording ended, and what its reader found of its integrity
      const r = reader.report;
      // (the header line said what the first read found)
      if (
        typeof whole === "boolean" && whole !== (r.complete && r.chainIntact)
      ) {
        throw new CliError(
          `Cannot export "${path}": it changed while it was read (first read ${
            whole ? "" : "not "
          }complete and intact, then ${whole ? "not" : "so"})`,
        );
      }
      const end = recordingEndUtcNs(reader);
      await out.write(
        procrecEndLine({
          events: written,
          // (an export of a span ends where the span does: its import
          // is a recording of the span, not of the whole; found by review)
          ...(end !== undefined
            ? {
              endUtcNs: Number.isFinite(to) &&
                  header.timeBase.utcNs + BigInt(Math.trunc(to)) < end
                ? header.timeBase.utcNs + BigInt(Math.trunc(to))
                : end,
            }
            : {}),
          complete: r.complete,
          chainIntact: r.chainIntact,
          // (with --redact, without the values they quote: a damaged
          // event's message quotes its text; found by review)
          problems: r.problems.map((p) => {
            const text = `offset ${p.offset}: ${p.type}: ${p.reason}`;
            return redactor ? redactor.text(withoutQuotedValues(text)) : text;
          }),
        }) + "\n",
      );
    }
    done = true;
  } catch (e) {
    // a reader that stopped early (`| head`) is no error
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  } finally {
    // a failed export leaves no output file (nor its temporary file)
    await out.close(done).catch((e) => {
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    });
  }
  const r = reader.report;
  let note = `${
    opts.output ?? "stdout"
  }: ${written} ${format} lines from ${r.events} events`;
  if (skipped > 0) {
    note +=
      ` (${skipped} thread, comm, image-load, image-hash or account events not mapped)`;
  }
  if (outside > 0) note += ` (${outside} outside --from/--to)`;
  if (spanStart !== undefined && spanStart.processes > 0) {
    note +=
      ` (${spanStart.processes} processes running at --from written as snapshots)`;
  }
  if (settler !== undefined && settler.unsettled > 0) {
    note +=
      ` (${settler.unsettled} exec rule decisions name no process: more than ${settler.maxHeld} waited for the kernel's events at once)`;
  }
  printErr(note + "\n");
  if (tooLong.length > 0) {
    printErr(
      `  warning: ${tooLong.length} line${
        tooLong.length === 1 ? " is" : "s are"
      } longer than the ${MAX_LINE_CHARS} characters a line import jsonl reads (line ${
        tooLong.slice(0, 5).join(", ")
      }${
        tooLong.length > 5 ? ", ..." : ""
      }): this file does not read back whole\n`,
    );
  }
  for (const p of r.problems) {
    printErr(
      `  warning: ${path}: offset ${p.offset}: ${p.type}: ${
        escapeText(p.reason)
      }\n`,
    );
  }
  return 0;
}

interface Output {
  write(text: string): Promise<void> | void;
  /** Flushes; a file output is renamed into place when `ok`, else removed. */
  close(ok: boolean): Promise<void>;
}

/**
 * A buffered writer to stdout or to a file made by the output opener
 * (`cli/io/open_output.ts`: a new file, never through a link, renamed over
 * the output when the export is whole), flushing every MiB.
 */
async function openExportOutput(
  path: string | undefined,
  force: boolean,
  group: string | undefined,
): Promise<Output> {
  const mode = modeOf(group);
  const file = path === undefined ? undefined : await openOutput(path, {
    force,
    mode,
    what: "export",
  }).catch((e) => {
    throw new CliError((e as Error).message, 2, { cause: e });
  });
  const enc = new TextEncoder();
  let pending: string[] = [];
  let size = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    // on stdout (a terminal, perhaps) no control character of the evidence
    // goes out raw; JSON.stringify leaves DEL, C1 and bidi controls as they
    // are, and their \uXXXX escapes mean the same JSON
    const text = pending.join("");
    const bytes = enc.encode(file ? text : escapeText(text, "\n"));
    pending = [];
    size = 0;
    if (file) return file.writeSync(bytes);
    let off = 0;
    while (off < bytes.length) {
      off += await Deno.stdout.write(bytes.subarray(off));
    }
  };
  return {
    write(text) {
      pending.push(text);
      size += text.length;
      if (size >= 1 << 20) return flush();
    },
    async close(ok) {
      if (!file) return await flush();
      if (!ok) return file.discard();
      try {
        await flush();
        await file.commit();
      } catch (e) {
        file.discard();
        throw new CliError((e as Error).message, 2, { cause: e });
      }
    },
  };
}

/**
 * Whether the recording `path` (in the span of `time`) reads complete with
 * its chain intact, read to its end; null for one on a pipe or device (or
 * standard input), which can be read only once.
 */
async function readsWhole(
  path: string,
  time: TimeFlags,
  mode: ProgressMode,
): Promise<boolean | null> {
  const { file } = await splitMember(path);
  const directory = await Deno.stat(file).then(
    (s) => s.isDirectory,
    () => false,
  );
  if (!directory) {
    const info = await inputInfo(file, "recording").catch(() => undefined);
    if (info?.kind !== "file") return null;
  }
  const { reader } = await openInputInSpan(path, time);
  const chunks = await progressed(
    analysisChunks(reader),
    reader,
    mode,
    `export: checking ${path}`,
    path,
  );
  for await (const _ of chunks) { /* to the end: its integrity */ }
  return reader.report.complete && reader.report.chainIntact;
}
