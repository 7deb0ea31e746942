/**
 * Reads procrec's own JSON lines (see `procrec_json.ts`) back into a header
 * and events, checking each event against the recording schema.
 *
 * @module
 */
import { EVENT_KINDS, type ProcEvent } from "../events/types.ts";
import {
  decodeEvent,
  encodeEvent,
  FORMAT_NAME,
  READABLE_VERSIONS,
  type RecordingHeader,
} from "../log/mod.ts";
import { fromJson, PROCREC_JSONL_VERSION } from "./procrec_json.ts";
import { type Line, readLines } from "./read_lines.ts";
import { ImportInputError } from "./sysmon_input_error.ts";

/** An export being read: its header first, then its events. */
export interface ProcrecJsonInput {
  /** Reads and checks the first line. */
  header(): Promise<RecordingHeader>;
  /** The events, after the header. */
  events: AsyncGenerator<ProcEvent>;
}

/**
 * Reads an export of `export --format jsonl`; throws `ImportInputError`
 * naming the file, line and field of anything malformed.
 *
 * @example
 * ```ts
 * import { procrecEventLine, procrecHeaderLine } from "./procrec_json.ts";
 * import { readProcrecJsonLines } from "./read_procrec_json_lines.ts";
 * const header = { format: "procrec", version: 1, host: "h", os: "linux", kernel: "6",
 *   bootId: "b", timeBase: { monoNs: 0n, utcNs: 1n }, clock: { source: "s", monoToUtcNs: 1n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "t", reason: "doc" }, options: {} } as const;
 * const text = procrecHeaderLine(header) + "\n" +
 *   procrecEventLine({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "sh" }) + "\n";
 * const input = readProcrecJsonLines([new TextEncoder().encode(text)], "x.jsonl");
 * if ((await input.header()).timeBase.utcNs !== 1n) throw new Error();
 * const events = await Array.fromAsync(input.events);
 * if (events.length !== 1 || events[0].kind !== "comm") throw new Error();
 * ```
 */
export function readProcrecJsonLines(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file: string,
): ProcrecJsonInput {
  const lines = readLines(chunks, { file });
  let header: Promise<RecordingHeader> | undefined;
  const readHeader = async (): Promise<RecordingHeader> => {
    const first = await nextLine(lines);
    if (first === undefined) {
      throw new ImportInputError(
        file,
        1,
        undefined,
        "is empty, expected a procrec header line",
      );
    }
    return checkHeader(parse(first, file), file, first.no);
  };
  async function* events(): AsyncGenerator<ProcEvent> {
    await (header ??= readHeader());
    for (let l = await nextLine(lines); l; l = await nextLine(lines)) {
      yield checkEvent(parse(l, file), file, l.no);
    }
  }
  return { header: () => header ??= readHeader(), events: events() };
}

async function nextLine(
  lines: AsyncGenerator<Line>,
): Promise<Line | undefined> {
  for (;;) {
    const r = await lines.next();
    if (r.done) return undefined;
    if (r.value.text.trim() !== "") return r.value;
  }
}

function parse(line: Line, file: string): unknown {
  try {
    return fromJson(line.text);
  } catch (e) {
    throw new ImportInputError(
      file,
      line.no,
      undefined,
      `is not JSON (${(e as Error).message})`,
    );
  }
}

function checkHeader(v: unknown, file: string, no: number): RecordingHeader {
  const fail = (field: string, detail: string): never => {
    throw new ImportInputError(file, no, field, detail);
  };
  const o = v as Record<string, unknown>;
  if (typeof o !== "object" || o === null || o.procrec !== "jsonl") {
    fail(
      "procrec",
      'is missing, expected "jsonl" (a procrec JSON lines export)',
    );
  }
  if (o.version !== PROCREC_JSONL_VERSION) {
    fail(
      "version",
      `is ${JSON.stringify(o.version)}, expected ${PROCREC_JSONL_VERSION}`,
    );
  }
  const h = o.header as Record<string, unknown>;
  if (typeof h !== "object" || h === null) fail("header", "is missing");
  if (
    h.format !== FORMAT_NAME || !READABLE_VERSIONS.includes(h.version as number)
  ) {
    fail(
      "header.version",
      `is ${JSON.stringify(h.version)} of ${
        JSON.stringify(h.format)
      }, expected ${READABLE_VERSIONS.join(" or ")} of "${FORMAT_NAME}"`,
    );
  }
  for (const k of ["host", "kernel", "bootId"]) {
    if (typeof h[k] !== "string") fail(`header.${k}`, "is not text");
  }
  if (h.os !== "linux" && h.os !== "windows") {
    fail(
      "header.os",
      `is ${JSON.stringify(h.os)}, expected "linux" or "windows"`,
    );
  }
  const tb = h.timeBase as Record<string, unknown> | undefined;
  if (typeof tb?.monoNs !== "bigint" || typeof tb?.utcNs !== "bigint") {
    fail("header.timeBase", "is not {monoNs, utcNs} as big integers");
  }
  const clock = h.clock as Record<string, unknown> | undefined;
  if (typeof clock?.monoToUtcNs !== "bigint") {
    fail("header.clock", "is not {source, monoToUtcNs}");
  }
  for (const k of ["tool", "source", "options"]) {
    if (typeof h[k] !== "object" || h[k] === null) {
      fail(`header.${k}`, "is missing");
    }
  }
  return h as unknown as RecordingHeader;
}

function checkEvent(v: unknown, file: string, no: number): ProcEvent {
  const o = v as Record<string, unknown>;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new ImportInputError(file, no, undefined, "is not a JSON object");
  }
  if (!EVENT_KINDS.includes(o.kind as ProcEvent["kind"])) {
    throw new ImportInputError(
      file,
      no,
      "kind",
      `is ${JSON.stringify(o.kind)}, expected one of ${EVENT_KINDS.join(", ")}`,
    );
  }
  try {
    return decodeEvent(encodeEvent(o as unknown as ProcEvent));
  } catch (e) {
    throw new ImportInputError(file, no, undefined, (e as Error).message);
  }
}
