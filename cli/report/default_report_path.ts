/**
 * The name `procrec report` writes when `-o` is left out. Pure.
 *
 * @module
 */

/**
 * The report's default name: the input's file name (a bundle member's after
 * the bundle's) with `.cbor`, `.zip` or `.incomplete` replaced by `.html`,
 * in the current directory, never beside the evidence.
 *
 * @example
 * ```ts
 * import { defaultReportPath } from "./default_report_path.ts";
 * if (defaultReportPath("/cases/x/incident.cbor") !== "incident.html") throw new Error();
 * if (defaultReportPath("case.zip", "b.cbor") !== "case-b.html") throw new Error();
 * if (defaultReportPath("case.zip#a/b.cbor") !== "case-b.html") throw new Error();
 * if (defaultReportPath("seg") !== "seg.html") throw new Error();
 * ```
 */
export function defaultReportPath(input: string, member?: string): string {
  const hash = input.indexOf("#");
  const file = hash >= 0 ? input.slice(0, hash) : input;
  const inner = member ?? (hash >= 0 ? input.slice(hash + 1) : undefined);
  const stem = (path: string) =>
    (path.replace(/[\\/]+$/, "").split(/[\\/]/).pop() ?? "")
      .replace(/(\.cbor)?(\.incomplete)?$/i, "")
      .replace(/\.zip$/i, "");
  const base = stem(file) || "report";
  return inner !== undefined && stem(inner) !== ""
    ? `${base}-${stem(inner)}.html`
    : `${base}.html`;
}
