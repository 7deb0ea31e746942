/**
 * The `--json` form of a hunt: one object with the hits, each recording's
 * account (every rule that could not answer, with its reason) and the rule
 * files that did not load. Pure.
 *
 * @module
 */
import type { HuntReport } from "./render_hunt.ts";

/**
 * Plain data for `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { huntReportToJson } from "./hunt_report_to_json.ts";
 * const j = huntReportToJson({ files: 0, loaded: 0, problems: [], recordings: [] });
 * if (j.hits.length !== 0 || j.rules.loaded !== 0) throw new Error();
 * ```
 */
export function huntReportToJson(r: HuntReport) {
  return {
    hits: r.recordings.flatMap((x) => x.hits),
    recordings: r.recordings.map((x) => ({
      recording: x.recording,
      host: x.host,
      os: x.os,
      processCreations: x.subjects,
      rulesRun: x.applied,
      hits: x.hits.length,
      lost: x.lost,
      lostUnknown: x.lostUnknown,
      notApplicable: x.notApplicable.map((n) => ({
        id: n.rule.rule.id,
        title: n.rule.rule.title,
        file: n.rule.rule.file,
        reason: n.reason,
      })),
      partlyAnswered: (x.partial ?? []).map((p) => ({
        id: p.rule.rule.id,
        title: p.rule.rule.title,
        file: p.rule.rule.file,
        fieldsNotRecorded: p.fields,
      })),
    })),
    rules: {
      files: r.files,
      /** Rules compiled, and those run (after --level / --rule-id). */
      compiled: r.compiled ?? r.loaded,
      loaded: r.loaded,
      unsupported: r.problems.filter((p) => p.kind === "unsupported"),
      invalid: r.problems.filter((p) => p.kind === "invalid"),
    },
  };
}

/**
 * `JSON.stringify(huntReportToJson(r)) + "\n"` in pieces (a few hits each):
 * a hunt of millions of processes can hit more than one string holds.
 *
 * @example
 * ```ts
 * import { huntReportJsonPieces, huntReportToJson } from "./hunt_report_to_json.ts";
 * const r = { files: 0, loaded: 0, problems: [], recordings: [] };
 * const text = [...huntReportJsonPieces(r)].join("");
 * if (text !== JSON.stringify(huntReportToJson(r)) + "\n") throw new Error(text);
 * ```
 */
export function* huntReportJsonPieces(r: HuntReport): Generator<string> {
  const { hits, ...rest } = huntReportToJson(r);
  // (hits first, as JSON.stringify writes the object's keys)
  let block = '{"hits":[';
  for (let i = 0; i < hits.length; i++) {
    block += (i > 0 ? "," : "") + JSON.stringify(hits[i]);
    if (block.length >= 1 << 15) {
      yield block;
      block = "";
    }
  }
  yield `${block}],${JSON.stringify(rest).slice(1)}\n`;
}
