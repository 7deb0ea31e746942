/**
 * Reads procrec's own JSON lines (see `procrec_json.ts`) back into a header
 * and events, checking each event against the recording schema.
 *
 * @module
 */
import {
  EVENT_KINDS,
  type InfoField,
  type ProcEvent,
  type Provenance,
} from "../events/types.ts";
import {
  decodeEvent,
  encodeEvent,
  FORMAT_NAME,
  INFO_FIELDS,
  PROVENANCE,
  READABLE_VERSIONS,
  type RecordingHeader,
  TEXT_INFO_FIELDS,
} from "../log/mod.ts";
import { checkHeaderFields } from "../log/check_header_fields.ts";
import {
  fromJson,
  PROCREC_JSONL_READABLE,
  PROCREC_JSONL_VERSION,
  type ProcrecJsonEnd,
  toJson,
} from "./procrec_json.ts";
import { type Line, readLines } from "./read_lines.ts";
import { ImportInputError, notJsonDetail } from "./sysmon_input_error.ts";

/** An export being read: its header first, then its events. */
export interface ProcrecJsonInput {
  /** Reads and checks the first line. */
  header(): Promise<RecordingHeader>;
  /** The events, after the header. */
  events: AsyncGenerator<ProcEvent>;
  /**
   * Once the events are read: the export's version and, for version 2, its
   * end line (absent: the export was cut short before it).
   */
  ending(): { version: number; end?: ProcrecJsonEnd };
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
  // (an export is UTF-8: other bytes are damage, never read as U+FFFD)
  const lines = readLines(chunks, { file, strictUtf8: true });
  let header: Promise<RecordingHeader> | undefined;
  let version = 0;
  let end: ProcrecJsonEnd | undefined;
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
    const o = parse(first, file);
    const h = checkHeader(o, file, first.no);
    version = (o as { version: number }).version;
    return h;
  };
  async function* events(): AsyncGenerator<ProcEvent> {
    await (header ??= readHeader());
    let count = 0, last = 1;
    for (let l = await nextLine(lines); l; l = await nextLine(lines)) {
      last = l.no;
      const v = parse(l, file);
      if (end !== undefined) {
        throw new ImportInputError(
          file,
          l.no,
          undefined,
          "follows the end line, expected nothing after it",
        );
      }
      if (version >= 2 && isEndLine(v)) {
        end = checkEnd(v, file, l.no);
        continue;
      }
      count++;
      yield checkEvent(v, file, l.no);
    }
    if (end !== undefined && end.events !== count) {
      throw new ImportInputError(
        file,
        last,
        "events",
        `of the end line is ${end.events}, but ${count} event lines precede it: lines were removed or added`,
      );
    }
  }
  return {
    header: () => header ??= readHeader(),
    events: events(),
    ending: () => ({ version, ...(end ? { end } : {}) }),
  };
}

/** Whether a parsed line is an end line (`{"procrec":"end",...}`). */
function isEndLine(v: unknown): boolean {
  return typeof v === "object" && v !== null &&
    (v as { procrec?: unknown }).procrec === "end";
}

/**
 * The end line of an export, when `text` (its last line) is one, checked;
 * `undefined` when it is none (a version 1 export, or one cut short).
 * Throws `ImportInputError` naming `file`, `no` and the field at fault.
 *
 * @example
 * ```ts
 * import { parseEndLine } from "./read_procrec_json_lines.ts";
 * const end = parseEndLine('{"procrec":"end","events":0,"complete":false,"chainIntact":true,"problems":["x"]}', "e.jsonl", 2);
 * if (end?.complete !== false || end.problems[0] !== "x") throw new Error();
 * if (parseEndLine('{"kind":"comm"}', "e.jsonl", 2) !== undefined) throw new Error();
 * ```
 */
export function parseEndLine(
  text: string,
  file: string,
  no: number,
): ProcrecJsonEnd | undefined {
  let v: unknown;
  try {
    v = fromJson(text);
  } catch {
    return undefined;
  }
  return isEndLine(v) ? checkEnd(v, file, no) : undefined;
}

function checkEnd(v: unknown, file: string, no: number): ProcrecJsonEnd {
  const fail = (field: string, detail: string): never => {
    throw new ImportInputError(file, no, field, detail);
  };
  const o = v as Record<string, unknown>;
  if (!Number.isSafeInteger(o.events) || (o.events as number) < 0) {
    fail("events", `is ${shown(o.events)}, expected a count of event lines`);
  }
  if (o.endUtcNs !== undefined && typeof o.endUtcNs !== "bigint") {
    fail("endUtcNs", `is ${shown(o.endUtcNs)}, expected {"$bigint":"..."}`);
  }
  for (const k of ["complete", "chainIntact"]) {
    if (typeof o[k] !== "boolean") {
      fail(k, `is ${shown(o[k])}, expected true or false`);
    }
  }
  if (
    !Array.isArray(o.problems) ||
    !o.problems.every((p) => typeof p === "string")
  ) {
    fail("problems", `is ${shown(o.problems)}, expected an array of texts`);
  }
  return {
    events: o.events as number,
    ...(o.endUtcNs !== undefined ? { endUtcNs: o.endUtcNs as bigint } : {}),
    complete: o.complete as boolean,
    chainIntact: o.chainIntact as boolean,
    problems: o.problems as string[],
  };
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
      notJsonDetail(e),
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
  if (!PROCREC_JSONL_READABLE.includes(o.version as number)) {
    fail(
      "version",
      `is ${shown(o.version)}, expected ${
        PROCREC_JSONL_READABLE.join(" or ")
      } (this procrec writes ${PROCREC_JSONL_VERSION})`,
    );
  }
  const h = o.header as Record<string, unknown>;
  if (typeof h !== "object" || h === null || Array.isArray(h)) {
    fail("header", `is ${shown(h)}, expected the recording's header (a map)`);
  }
  if (
    h.format !== FORMAT_NAME || !READABLE_VERSIONS.includes(h.version as number)
  ) {
    fail(
      "header.version",
      `is ${shown(h.version)} of ${shown(h.format)}, expected ${
        READABLE_VERSIONS.join(" or ")
      } of "${FORMAT_NAME}"`,
    );
  }
  // an export writes a segment's final hashes (byte strings) as JSON does a
  // Uint8Array: {"0": 122, "1": 169, ...}; they are read back as bytes
  const seg = h.segment as Record<string, unknown> | undefined;
  if (typeof seg === "object" && seg !== null) {
    const prev = seg.previous as Record<string, unknown> | undefined;
    if (typeof prev === "object" && prev !== null) {
      prev.finalHash = bytesOfJson(prev.finalHash);
    }
    if (Array.isArray(seg.deleted)) {
      for (const d of seg.deleted) {
        if (typeof d === "object" && d !== null) {
          d.finalHash = bytesOfJson(d.finalHash);
        }
      }
    }
  }
  // every other field as the recording reader checks it: what this accepts,
  // the recording written from it reads
  checkHeaderFields(h, (field, detail) => fail(`header.${field}`, detail));
  return h as unknown as RecordingHeader;
}

/**
 * A value of the input as a message shows it: JSON as the export writes it
 * (big integers as `{"$bigint":"..."}`), cut at 60 characters; `missing`
 * when it is not there.
 */
function shown(v: unknown): string {
  if (v === undefined) return "missing";
  const text = toJson(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

/** `v` as bytes when it is a Uint8Array as JSON writes it, else as it is. */
function bytesOfJson(v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  const n = Object.keys(o).length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const b = o[i];
    if (typeof b !== "number" || !Number.isInteger(b) || b < 0 || b > 255) {
      return v;
    }
    out[i] = b;
  }
  return out;
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
      `is ${shown(o.kind)}, expected one of ${EVENT_KINDS.join(", ")}`,
    );
  }
  if (o.info !== undefined) checkInfo(o.info, file, no);
  try {
    return decodeEvent(encodeEvent(o as unknown as ProcEvent));
  } catch (e) {
    throw new ImportInputError(file, no, undefined, (e as Error).message);
  }
}

/**
 * An event's `info`, as far as encoding it needs (the schema's decoding
 * checks each field after): an object whose `from` is an object of
 * provenances and whose `ns`, when there, an object.
 */
function checkInfo(info: unknown, file: string, no: number): void {
  const fail = (field: string, detail: string): never => {
    throw new ImportInputError(file, no, field, detail);
  };
  const isObject = (v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(info)) {
    fail("info", `is ${shown(info)}, expected an object`);
  }
  const i = info as Record<string, unknown>;
  if (!isObject(i.from)) {
    fail(
      "info.from",
      `is ${shown(i.from)}, expected an object of provenances (${
        INFO_FIELDS.join(", ")
      })`,
    );
  }
  const from = i.from as Record<string, unknown>;
  for (const f of INFO_FIELDS) {
    const p = from[f];
    if (p !== undefined && !PROVENANCE.includes(p as Provenance)) {
      fail(
        `info.from.${f}`,
        `is ${shown(p)}, expected one of ${
          PROVENANCE.filter((x) => x).join(", ")
        }`,
      );
    }
  }
  if (
    i.notUtf8 !== undefined &&
    (!Array.isArray(i.notUtf8) || i.notUtf8.length === 0 ||
      new Set(i.notUtf8).size !== i.notUtf8.length ||
      !i.notUtf8.every((f) => TEXT_INFO_FIELDS.includes(f as InfoField)))
  ) {
    fail(
      "info.notUtf8",
      `is ${shown(i.notUtf8)}, expected a list of distinct field names among ${
        TEXT_INFO_FIELDS.join(", ")
      }`,
    );
  }
  if (i.ns !== undefined && !isObject(i.ns)) {
    fail(
      "info.ns",
      `is ${shown(i.ns)}, expected an object of namespace numbers`,
    );
  }
}
