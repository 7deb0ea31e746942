/**
 * Reads Sysmon events exported as JSON lines: one flat object per event as
 * NXLog, HELK and Logstash write them (`EventID`, `Hostname` or `Computer`,
 * the `EventData` fields at the top level), or Winlogbeat's nested shape
 * (`winlog.event_id`, `winlog.computer_name`, `winlog.event_data`).
 *
 * @module
 */
import { readLines } from "./read_lines.ts";
import { ImportInputError, notJsonDetail } from "./sysmon_input_error.ts";
import type { SysmonRecord } from "./sysmon_record.ts";

/**
 * Yields one {@link SysmonRecord} per non-blank line of `chunks`. Throws
 * {@link ImportInputError} naming the file, line and field for a line that is
 * not a JSON object or has no usable Event ID.
 *
 * @example
 * ```ts
 * import { parseSysmonJsonLines } from "./parse_sysmon_json_lines.ts";
 * const line = JSON.stringify({ EventID: 1, Hostname: "h", ProcessId: "42", UtcTime: "2020-01-01 00:00:00.000" });
 * const [r] = await Array.fromAsync(parseSysmonJsonLines([new TextEncoder().encode(line)], "x.jsonl"));
 * if (r.eventId !== 1 || r.host !== "h" || r.data.ProcessId !== "42") throw new Error();
 * ```
 */
export async function* parseSysmonJsonLines(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file: string,
): AsyncGenerator<SysmonRecord> {
  for await (const { text, no } of readLines(chunks, { file })) {
    const trimmed = text.trim();
    if (trimmed === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(
        trimmed.charCodeAt(0) === 0xfeff ? trimmed.slice(1) : trimmed,
      );
    } catch (e) {
      throw new ImportInputError(
        file,
        no,
        undefined,
        notJsonDetail(e),
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ImportInputError(file, no, undefined, "is not a JSON object");
    }
    yield wellFormed(jsonRecord(value as Record<string, unknown>, file, no));
  }
}

/**
 * `r`, refused (see {@link SysmonRecord.refused}) when a text of it is not
 * all Unicode: a JSON escape of half a surrogate pair (`\ud800`) is none,
 * and was written to the recording as bytes that are no UTF-8 (found by
 * review).
 */
function wellFormed(r: SysmonRecord): SysmonRecord {
  const check = (field: string, v: string | undefined) => {
    if (r.refused || v === undefined || v.isWellFormed()) return;
    const at = [...v].find((c) => {
      const u = c.charCodeAt(0);
      return c.length === 1 && u >= 0xd800 && u <= 0xdfff;
    })!;
    r.refused = {
      field,
      detail: `holds half a surrogate pair (\\u${
        at.charCodeAt(0).toString(16)
      }), which is no character: expected text`,
    };
  };
  check("host", r.host);
  check("provider", r.provider);
  for (const [k, v] of Object.entries(r.data)) {
    check("a field name", k);
    check(k, v);
  }
  return r;
}

function jsonRecord(
  obj: Record<string, unknown>,
  file: string,
  line: number,
): SysmonRecord {
  const winlog = obj.winlog;
  if (isObject(winlog) && isObject(winlog.event_data)) {
    return {
      eventId: eventId(winlog.event_id, "winlog.event_id", file, line),
      host: text(winlog.computer_name) ?? hostName(obj),
      provider: text(winlog.provider_name) ?? text(winlog.channel),
      data: flat(winlog.event_data),
      file,
      line,
    };
  }
  const idField = !("EventID" in obj) && "event_id" in obj
    ? "event_id"
    : "EventID";
  return {
    eventId: eventId(obj[idField], idField, file, line),
    host: text(obj.Computer) ?? text(obj.Hostname) ?? text(obj.ComputerName) ??
      hostName(obj),
    provider: text(obj.SourceName) ?? text(obj.ProviderName) ??
      text(obj.Channel),
    data: flat(obj),
    file,
    line,
  };
}

function eventId(
  v: unknown,
  field: string,
  file: string,
  line: number,
): number {
  const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n === "number" && Number.isSafeInteger(n) && n >= 0) return n;
  throw new ImportInputError(
    file,
    line,
    field,
    v === undefined
      ? "is missing"
      : `is ${JSON.stringify(v)}, expected an integer`,
  );
}

/** ECS-shaped `host.name`; a bare string `host` is the collector, not the subject. */
function hostName(obj: Record<string, unknown>): string | undefined {
  return isObject(obj.host) ? text(obj.host.name) : undefined;
}

function flat(obj: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === "string") out[k] = v;
    else if (typeof v === "number" && Number.isFinite(v)) out[k] = String(v);
  }
  return out;
}

function text(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
