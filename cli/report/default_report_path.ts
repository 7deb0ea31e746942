/**
 * The name `procrec report` writes when `-o` is left out. Pure.
 *
 * @module
 */

/**
 * The report's default name: the input's file name (a bundle member's after
 * the bundle's: `file` is the bundle, already split from `BUNDLE#MEMBER`) with `.cbor`, `.zip` or `.incomplete` replaced by `.html`,
 * in the current directory, never beside the evidence.
 *
 * @example
 * ```ts
 * import { defaultReportPath } from "./default_report_path.ts";
 * if (defaultReportPath("/cases/x/incident.cbor") !== "incident.html") throw new Error();
 * if (defaultReportPath("case.zip", "b.cbor") !== "case-b.html") throw new Error();
 * if (defaultReportPath("case#2.zip", "a/b#1.cbor") !== "case#2-b#1.html") throw new Error();
 * if (defaultReportPath("seg") !== "seg.html") throw new Error();
 * ```
 */
export function defaultReportPath(file: string, member?: string): string {
  const inner = member;
  const stem = (path: string) =>
    (path.replace(/[\\/]+$/, "").split(/[\\/]/).pop() ?? "")
      .replace(/(\.cbor)?(\.incomplete)?$/i, "")
      .replace(/\.zip$/i, "");
  const base = stem(file) || "report";
  return inner !== undefined && stem(inner) !== ""
    ? `${base}-${stem(inner)}.html`
    : `${base}.html`;
}
