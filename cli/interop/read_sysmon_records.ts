/**
 * Reads one input's Sysmon process records, whatever its shape.
 *
 * @module
 */
import {
  parseSysmon,
  type Replacements,
  type SysmonFormat,
} from "./parse_sysmon.ts";
import {
  type SysmonProcessRecord,
  sysmonProcessRecord,
} from "./sysmon_process_record.ts";

/** The process records of one input. */
export interface SysmonFileRecords {
  name: string;
  /** `undefined` for an input with nothing but white space. */
  format?: SysmonFormat;
  records: SysmonProcessRecord[];
  /** Events that are not Sysmon Event ID 1 or 5, skipped. */
  skipped: number;
  /**
   * Bytes that are not text in the input's encoding, read as U+FFFD
   * (absent: none).
   */
  replaced?: Replacements;
}

/**
 * Reads every Event ID 1 and 5 of `chunks` (JSON lines or event XML), keeping
 * only their process fields; throws `ImportInputError` for malformed input.
 *
 * @example
 * ```ts
 * import { readSysmonRecords } from "./read_sysmon_records.ts";
 * const lines = [
 *   { EventID: 1, Hostname: "h", UtcTime: "2020-01-01 00:00:00.000", ProcessGuid: "{a}", ProcessId: "4" },
 *   { EventID: 3, Hostname: "h" },
 * ].map((o) => JSON.stringify(o)).join("\n");
 * const r = await readSysmonRecords([new TextEncoder().encode(lines)], "x.jsonl");
 * if (r.records.length !== 1 || r.skipped !== 1 || r.format !== "jsonl") throw new Error();
 * ```
 */
export async function readSysmonRecords(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  name: string,
): Promise<SysmonFileRecords> {
  const input = parseSysmon(chunks, name);
  const records: SysmonProcessRecord[] = [];
  let skipped = 0;
  for await (const rec of input.records) {
    const r = sysmonProcessRecord(rec);
    if (r === undefined) skipped++;
    else records.push(r);
  }
  const replaced = input.replaced();
  return {
    name,
    format: input.format(),
    records,
    skipped,
    ...(replaced && replaced.count > 0 ? { replaced } : {}),
  };
}
