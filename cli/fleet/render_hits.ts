/**
 * Renders `procrec search` hits as text. Pure.
 *
 * @module
 */
import { escapeEvidence } from "../text/mod.ts";
import type { SearchHit } from "./search_recording.ts";

/**
 * One line per hit: host, recording, pid, time, what matched, parent chain.
 *
 * @example
 * ```ts
 * import { renderHits } from "./render_hits.ts";
 * const t = renderHits([{ host: "h", recording: "r.cbor", pid: 6, process: "{x}", time: "2026-01-01T00:00:00.000000000Z",
 *   utcNs: "0", event: "exec", image: "/usr/bin/curl", cmdline: "curl x", parents: ["/bin/sh[5]"] }]);
 * if (!t.includes("h  r.cbor  pid 6") || !t.includes("parents: /bin/sh[5]")) throw new Error(t);
 * ```
 */
export function renderHits(hits: SearchHit[]): string {
  return renderHitLines(hits).join("\n") + "\n";
}

/**
 * The lines of {@link renderHits} (without their newlines; a hit's parents
 * on a line of their own), for hits too many for one string.
 */
export function renderHitLines(hits: SearchHit[]): string[] {
  const lines: string[] = [];
  const hosts = new Set<string>();
  for (const h of hits) {
    // (a host is the collect directory it came in under, when that is not
    // the host its recording claims: found by review, a forged recording's
    // hits were credited to the host it named)
    hosts.add(h.collectedAs ?? h.host);
    // (every text from evidence escaped, newlines too: one would start a
    // line of the attacker's own)
    lines.push(
      `${escapeEvidence(h.host)}${
        h.collectedAs !== undefined ? ` (collected as ${h.collectedAs})` : ""
      }${h.integrity ? " {recording altered or damaged}" : ""}  ${
        escapeEvidence(h.recording)
      }  pid ${h.pid}  ${h.time}  ${h.event}  ${
        h.image !== undefined ? escapeEvidence(h.image) : "?"
      }${h.cmdline !== undefined ? `  ${JSON.stringify(h.cmdline)}` : ""}${
        h.user !== undefined
          ? `  user ${escapeEvidence(h.user)}`
          : h.uid !== undefined
          ? `  uid ${h.uid}`
          : ""
      }`,
      `    parents: ${
        h.parents.length
          ? h.parents.map((p) => escapeEvidence(p)).join(" < ")
          : "-"
      }`,
    );
  }
  lines.push(`${hits.length} hits on ${hosts.size} hosts`);
  return lines;
}
