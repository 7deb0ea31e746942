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
    detail: string,
  ) {
    super(
      `Cannot import "${file}": line ${line}: ${
        field === undefined ? "" : `field "${field}" `
      }${detail}`,
    );
    this.name = "ImportInputError";
  }
}
