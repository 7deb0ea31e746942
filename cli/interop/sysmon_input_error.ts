/**
 * The error every Sysmon or JSONL importer throws for input it cannot read.
 *
 * @module
 */

/**
 * Input that is not what the importer reads: the message names the file, the
 * line (1-based) and, when one is at fault, the field.
 *
 * @example
 * ```ts
 * import { ImportInputError } from "./sysmon_input_error.ts";
 * const e = new ImportInputError("a.jsonl", 3, "UtcTime", "is \"x\", expected YYYY-MM-DD HH:MM:SS.fff");
 * if (!e.message.includes("line 3") || !e.message.includes('"UtcTime"')) throw e;
 * ```
 */
export class ImportInputError extends SyntaxError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | undefined,
    readonly detail: string,
  ) {
    super(
      `Cannot import "${file}": line ${line}: ${
        field === undefined ? "" : `field "${field}" `
      }${detail}`,
    );
    this.name = "ImportInputError";
  }
}

/**
 * What an importer says of a line `JSON.parse` (or a parser over it) threw
 * on: its syntax error, or that it is nested too deeply to read (a stack
 * overflow, whose own words name no input).
 *
 * @example
 * ```ts
 * import { notJsonDetail } from "./sysmon_input_error.ts";
 * const deep = notJsonDetail(new RangeError("Maximum call stack size exceeded"));
 * if (!deep.includes("nested too deeply")) throw new Error(deep);
 * let bad = "";
 * try { JSON.parse("{"); } catch (e) { bad = notJsonDetail(e); }
 * if (!bad.startsWith("is not JSON (")) throw new Error(bad);
 * ```
 */
export function notJsonDetail(e: unknown): string {
  if (e instanceof RangeError) {
    return "is nested too deeply to read as JSON (more levels than the parser's stack holds)";
  }
  return `is not JSON (${(e as Error)?.message ?? String(e)})`;
}
