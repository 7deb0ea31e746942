/**
 * The text summary of recordings (a bundle's `summary.txt`): per recording,
 * its metadata and integrity, then the summary and the process tree exactly
 * as `procrec replay` renders them. Pure.
 *
 * @module
 */
import { renderSummary, renderTreeLines, summarize } from "../analysis/mod.ts";
import type { ReportInput } from "./report_input.ts";
import { isoFromNs } from "../text/iso_from_ns.ts";
import { escapeEvidence, escapeText } from "../text/escape_text.ts";

/**
 * Renders the text summary.
 *
 * @example
 * ```ts
 * import { analyze } from "../analysis/mod.ts";
 * import { renderTextSummary } from "./render_text_summary.ts";
 * const forest = await analyze([], { os: "linux", bootId: "b" });
 * const text = renderTextSummary({ title: "t", recordings: [{
 *   name: "a.cbor", forest,
 *   header: { host: "h", os: "linux", kernel: "6", bootId: "b", timeBaseUtcNs: "0",
 *     source: { name: "test", reason: "" }, tool: { name: "procrec", version: "0" } },
 *   integrity: { complete: true, chainIntact: true, problems: [] },
 * }] });
 * if (!text.includes("host: h") || !text.includes("(no processes)")) throw new Error(text);
 * ```
 */
export function renderTextSummary(input: ReportInput): string {
  return [...textSummaryPieces(input)].join("");
}

/**
 * {@link renderTextSummary} in pieces (a line or a few each): the process
 * tree of a recording of millions of processes is more than one string
 * holds.
 */
export function* textSummaryPieces(input: ReportInput): Generator<string> {
  for (const line of summaryLines(input)) yield line + "\n";
}

/** The text summary's lines (a line may hold several: the summary's). */
function* summaryLines(input: ReportInput): Generator<string> {
  const out: string[] = [];
  // (every text from evidence or a manifest escaped, newlines too: one
  // would start a line of its own; a backslash of the evidence before `u`
  // and four hex digits too, so that every \uXXXX read is an escape)
  const e = escapeEvidence;
  out.push(e(input.title));
  if (input.bundle) {
    const c = input.bundle.case;
    out.push(
      `bundle: ${e(input.bundle.name)}, created ${e(input.bundle.created)}`,
    );
    if (c.id !== undefined) out.push(`case: ${e(c.id)}`);
    if (c.examiner !== undefined) out.push(`examiner: ${e(c.examiner)}`);
    if (c.note !== undefined) out.push(`note: ${e(c.note)}`);
  }
  for (const r of input.recordings) {
    const h = r.header;
    const i = r.integrity;
    out.push("", `== recording ${e(r.name)} ==`);
    out.push(`host: ${e(h.host)}  os: ${e(h.os)}  kernel: ${e(h.kernel)}`);
    out.push(`boot id: ${e(h.bootId)}`);
    out.push(
      `started: ${isoFromNs(BigInt(h.timeBaseUtcNs))}` +
        (i.endUtcNs ? `  ended: ${isoFromNs(BigInt(i.endUtcNs))}` : ""),
    );
    out.push(
      `source: ${e(h.source.name)}  recorder: ${e(h.tool.name)} ${
        e(h.tool.version)
      }`,
    );
    // (its markers are read with it: which key, and the redactions before)
    if (h.redaction !== undefined) out.push(`redaction: ${e(h.redaction)}`);
    out.push(
      `integrity: ${i.complete ? "complete" : "INCOMPLETE"}, ${
        i.chainIntact ? "chain intact" : "chain BROKEN"
      }`,
    );
    // (the tool's own messages, which may quote evidence as JSON)
    for (const p of i.problems) out.push(`  problem: ${escapeText(p)}`);
    out.push("", "-- summary --");
    out.push(renderSummary(summarize(r.forest)).trimEnd());
    const notes = new Map<string, string[]>();
    if (r.detections !== undefined) {
      out.push("", `-- detections (Sigma): ${r.detections.length} --`);
      for (const d of r.detections) {
        out.push(
          `${e(d.rule.level ?? "-")}  ${e(d.rule.title)}  [${
            e(d.rule.id ?? "no id")
          }]  pid ${d.pid}  ${d.time}  ${
            d.image !== undefined ? e(d.image) : "?"
          }${
            // (JSON escapes C0; C1, bidi and invisible characters too)
            d.cmdline !== undefined
              ? `  ${escapeText(JSON.stringify(d.cmdline))}`
              : ""}`,
        );
        const note = `sigma: ${d.rule.title}`;
        const list = notes.get(d.process) ?? [];
        if (!list.includes(note)) list.push(note);
        notes.set(d.process, list);
      }
    }
    out.push("", "-- process tree --");
    yield* out.splice(0);
    // (as renderTree(...).trimEnd(): its last line's end trimmed, and
    // blank lines at its end left out)
    const tree = renderTreeLines(r.forest, { notes });
    let last = tree.length - 1;
    while (last >= 0 && tree[last].trimEnd() === "") last--;
    for (let k = 0; k < last; k++) yield tree[k];
    yield last >= 0 ? tree[last].trimEnd() : "";
  }
  yield* out;
}
