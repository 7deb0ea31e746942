/**
 * Renders the result of `procrec hunt` as text: each hit with its rule and
 * process in context, then what was run where, and every rule that could not
 * answer with its reason. Pure.
 *
 * @module
 */
import { escapeEvidence } from "../text/mod.ts";
import type { RecordingHunt } from "./rule_hunter.ts";
import type { RuleProblem } from "./load_rule_set.ts";

/** All a hunt found, over every input. */
export interface HuntReport {
  /** Rule files read. */
  files: number;
  /** Rules loaded (after `--level` / `--rule-id`). */
  loaded: number;
  /** Rules compiled before `--level` / `--rule-id` chose among them, when they did. */
  compiled?: number;
  problems: RuleProblem[];
  recordings: RecordingHunt[];
}

/** Reasons shared by more rules than this are counted, not listed. */
const LIST_UP_TO = 3;

/**
 * The text report.
 *
 * @example
 * ```ts
 * import { renderHunt } from "./render_hunt.ts";
 * const t = renderHunt({ files: 1, loaded: 1, problems: [], recordings: [{ recording: "r.cbor", host: "h",
 *   os: "linux", subjects: 2, applied: 1, lost: 0, lostUnknown: false, notApplicable: [], hits: [{
 *   rule: { title: "Curl", level: "low", id: "x", file: "r.yml" }, host: "h", recording: "r.cbor", pid: 6,
 *   process: "{p}", time: "2026-01-01T00:00:00.000000000Z", utcNs: "0", t: 0, event: "exec",
 *   image: "/usr/bin/curl", cmdline: "curl x", parents: ["/bin/sh[5]"] }] }] });
 * if (!t.includes("low  Curl") || !t.includes("parents: /bin/sh[5]") || !t.includes("1 hit")) throw new Error(t);
 * ```
 */
export function renderHunt(r: HuntReport): string {
  return renderHuntPieces(r).join("");
}

/**
 * The text of {@link renderHunt} in pieces (a hit, or a line, each): a hunt
 * of millions of processes can hit more than one string holds.
 */
export function renderHuntPieces(r: HuntReport): string[] {
  const out: string[] = [];
  for (const rec of r.recordings) {
    for (const h of rec.hits) {
      // (every text from evidence or a rule escaped, newlines too: one
      // would start a line of the attacker's own)
      const e = escapeEvidence;
      out.push(
        `${e(h.rule.level ?? "-")}  ${e(h.rule.title)}  [${
          e(h.rule.id ?? "no id")
        }]\n` +
          `    ${e(h.host)}  ${
            e(h.recording)
          }  pid ${h.pid}  ${h.time}  ${h.event}\n` +
          `    ${h.image !== undefined ? e(h.image) : "?"}${
            h.cmdline !== undefined ? `  ${JSON.stringify(h.cmdline)}` : ""
          }${h.user !== undefined ? `  user ${e(h.user)}` : ""}\n` +
          `    parents: ${
            h.parents.length ? h.parents.map((p) => e(p)).join(" < ") : "-"
          }\n`,
      );
    }
  }
  const hits = r.recordings.reduce((n, x) => n + x.hits.length, 0);
  const rulesHit = new Set(
    r.recordings.flatMap((x) => x.hits.map((h) => h.rule.file)),
  ).size;
  out.push(
    `${hits} hit${hits === 1 ? "" : "s"} of ${rulesHit} rule${
      rulesHit === 1 ? "" : "s"
    } in ${r.recordings.length} recording${
      r.recordings.length === 1 ? "" : "s"
    }\n`,
  );
  const invalid = r.problems.filter((p) => p.kind === "invalid");
  const unsupported = r.problems.filter((p) => p.kind === "unsupported");
  out.push(
    `rules: ${r.files} files, ${
      r.compiled !== undefined && r.compiled !== r.loaded
        ? `${r.compiled} compiled, ${r.loaded} selected (--level/--rule-id)`
        : `${r.loaded} loaded`
    }, ${unsupported.length} unsupported, ${invalid.length} invalid\n`,
  );
  for (const p of [...unsupported, ...invalid]) {
    out.push(`  ${p.kind}: ${p.file}: ${p.field}: ${p.reason}\n`);
  }
  for (const rec of r.recordings) {
    const lost = rec.lost || rec.lostUnknown
      ? `, ${
        rec.lostUnknown ? "an unknown number of" : rec.lost
      } events lost (processes in those spans were not hunted)`
      : "";
    out.push(
      `${rec.recording}: ${rec.host} (${rec.os}), ${rec.subjects} process creations, ${rec.applied} rules run, ${rec.hits.length} hits${lost}\n`,
    );
    const byReason = new Map<string, string[]>();
    for (const n of rec.notApplicable) {
      const list = byReason.get(n.reason) ?? [];
      list.push(n.rule.rule.file);
      byReason.set(n.reason, list);
    }
    const reasons = [...byReason].sort((a, b) =>
      b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)
    );
    for (const [reason, files] of reasons) {
      out.push(
        `  not applicable: ${files.length} rule${
          files.length === 1 ? "" : "s"
        }: ${reason}${
          files.length <= LIST_UP_TO
            ? `: ${files.join(", ")}`
            : " (--json lists them)"
        }\n`,
      );
    }
    // (found by review: a filter on a field procrec lacks never applies, and
    // said nothing)
    for (const p of rec.partial ?? []) {
      out.push(
        `  partly answered: ${p.rule.rule.file}: ${
          p.fields.join(", ")
        } not recorded by procrec on ${rec.os}: what the rule says of ${
          p.fields.length === 1 ? "it" : "them"
        } never matches (a filter on ${
          p.fields.length === 1 ? "it" : "them"
        } never applies)\n`,
      );
    }
  }
  return out;
}
