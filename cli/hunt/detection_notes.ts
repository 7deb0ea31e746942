/**
 * Hits as notes on the process tree's lines: `sigma: TITLE (LEVEL)` by
 * process id, each rule once per process. Pure.
 *
 * @module
 */
import type { HuntHit } from "./rule_hunter.ts";

/**
 * The notes of each hit process.
 *
 * @example
 * ```ts
 * import { detectionNotes } from "./detection_notes.ts";
 * const hit = { rule: { title: "Curl", level: "low", file: "r.yml" }, process: "{p}" };
 * const notes = detectionNotes([hit, hit] as unknown as Parameters<typeof detectionNotes>[0]);
 * if (notes.get("{p}")?.join() !== "sigma: Curl (low)") throw new Error();
 * ```
 */
export function detectionNotes(
  hits: readonly HuntHit[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const h of hits) {
    const note = `sigma: ${h.rule.title}${
      h.rule.level ? ` (${h.rule.level})` : ""
    }`;
    const list = out.get(h.process);
    if (!list) out.set(h.process, [note]);
    else if (!list.includes(note)) list.push(note);
  }
  return out;
}

/**
 * One line saying what a hunt of one recording did, for commands that show
 * hits beside something else (`replay --rules`).
 *
 * @example
 * ```ts
 * import { huntLine } from "./detection_notes.ts";
 * const line = huntLine({ hits: [], applied: 3, notApplicable: [] } as unknown as Parameters<typeof huntLine>[0]);
 * if (line !== "sigma: 0 hits; 3 rules run, 0 not applicable here") throw new Error(line);
 * ```
 */
export function huntLine(
  h: {
    hits: readonly HuntHit[];
    applied: number;
    notApplicable: readonly unknown[];
  },
): string {
  const rules = new Set(h.hits.map((x) => x.rule.file)).size;
  return `sigma: ${h.hits.length} hit${h.hits.length === 1 ? "" : "s"}${
    h.hits.length ? ` of ${rules} rule${rules === 1 ? "" : "s"}` : ""
  }; ${h.applied} rules run, ${h.notApplicable.length} not applicable here`;
}
