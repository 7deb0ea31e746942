/**
 * What an imported recording's header says of the recording its export was
 * made from, as one line for verify's notes and the report. Pure.
 *
 * @module
 */
import type { ImportInfo } from "../log/schema.ts";

/**
 * The line, when the export said its recording was incomplete or its chain
 * broken (`import.integrity`, JSON lines version 2); `undefined` when it
 * was whole or the import tells nothing of it.
 *
 * @example
 * ```ts
 * import { importedIntegrityNote } from "./imported_integrity.ts";
 * const note = importedIntegrityNote({ format: "jsonl", files: [],
 *   integrity: { complete: false, chainIntact: false, problems: ["offset 9: damaged: x"] } });
 * if (note !== "imported from an export of a recording that was incomplete, its chain broken: offset 9: damaged: x") throw new Error(note);
 * if (importedIntegrityNote({ format: "jsonl", files: [] }) !== undefined) throw new Error();
 * ```
 */
export function importedIntegrityNote(
  imp: ImportInfo | undefined,
): string | undefined {
  const i = imp?.integrity;
  if (!i || (i.complete && i.chainIntact)) return undefined;
  const what = [
    ...(i.complete ? [] : ["incomplete"]),
    ...(i.chainIntact ? [] : ["its chain broken"]),
  ].join(", ");
  const first = i.problems.slice(0, 3).join("; ");
  const more = i.problems.length > 3
    ? ` (and ${i.problems.length - 3} more)`
    : "";
  return `imported from an export of a recording that was ${what}${
    first ? `: ${first}${more}` : ""
  }`;
}
