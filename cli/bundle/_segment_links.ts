/**
 * The links between the segments of one directory bundled as one recording
 * (members under `recordings/NAME/`): each header names its predecessor's
 * id and final hash. Pure: fed what the verifier read of each member.
 *
 * Levels, as `procrec verify DIR` gives them: a link whose hash does not
 * match, or a segment naming no predecessor after one of its run, is
 * `tampered`; a predecessor missing from the bundle (after a bundled segment
 * of its chain, or before a chain that begins later than the oldest bundled
 * segment) is `incomplete`, whatever a header says of retention (it deletes
 * the oldest segments first); a deletion by retention that a header records
 * before the oldest bundled segment, and an unclean end (a recorder killed,
 * a full disk), are `note`s. Segments before the first one bundled (`bundle
 * create --from`) are not asked for: no gap. A folder may hold several
 * chains, as a directory may (`segmentChains`: a recording without segment
 * header stands alone); each link is checked within its chain.
 *
 * @module
 */
import type { RecordingHeader } from "../log/mod.ts";
import { segmentChains, segmentStart } from "../log/segment_directory.ts";
import { equalBytes, toHex } from "../log/_hash.ts";
import { RECORDINGS_DIR } from "./manifest.ts";
import type { Finding } from "./verify_result.ts";

/** One recording member as verified. */
export interface LinkedMember {
  /** Member name (`recordings/NAME/segment.cbor`). */
  name: string;
  header: RecordingHeader;
  /** Its trailer's final hash, else the hash of its last complete item. */
  finalHash: Uint8Array;
}

/**
 * The members whose end is accounted for: the next bundled segment links to
 * them as not closed (a recorder killed, a full disk), so their missing
 * trailer is a recorded loss, as `verify DIR` says, not an incomplete
 * bundle.
 *
 * @example
 * ```ts
 * import { uncleanEndsAccounted } from "./_segment_links.ts";
 * const header = (id: string, start: number, previous?: object) => ({
 *   segment: { id, run: "r", index: 0, startUtcNs: BigInt(start), alive: [],
 *     ...(previous ? { previous } : {}) },
 *   timeBase: { utcNs: 0n, monoNs: 0n },
 * }) as never;
 * const h = new Uint8Array(32);
 * const s = uncleanEndsAccounted([
 *   { name: "recordings/d/a.cbor.incomplete", header: header("a", 1), finalHash: h },
 *   { name: "recordings/d/b.cbor", header: header("b", 2,
 *     { name: "a.cbor.incomplete", id: "a", finalHash: h, closed: false }), finalHash: h },
 * ]);
 * if (!s.has("recordings/d/a.cbor.incomplete")) throw new Error();
 * ```
 */
export function uncleanEndsAccounted(members: LinkedMember[]): Set<string> {
  const out = new Set<string>();
  for (const set of segmentSets(members)) {
    const places = segmentChains(set);
    for (const [i, m] of set.entries()) {
      const p = m.header.segment?.previous;
      const before = places[i].before;
      const prev = before === undefined ? undefined : set[before];
      if (
        prev && p && !p.closed && p.id === prev.header.segment?.id &&
        equalBytes(p.finalHash, prev.finalHash)
      ) out.add(prev.name);
    }
  }
  return out;
}

/** The bundled segment directories of `members`, each in time order. */
function segmentSets(members: LinkedMember[]): LinkedMember[][] {
  const sets = new Map<string, LinkedMember[]>();
  for (const m of members) {
    const rest = m.name.slice(RECORDINGS_DIR.length);
    const slash = rest.indexOf("/");
    if (!m.name.startsWith(RECORDINGS_DIR) || slash < 0) continue;
    const folder = rest.slice(0, slash + 1);
    const set = sets.get(folder);
    if (set) set.push(m);
    else sets.set(folder, [m]);
  }
  for (const set of sets.values()) {
    set.sort((a, b) => {
      const x = segmentStart(a.header), y = segmentStart(b.header);
      return x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : 1;
    });
  }
  return [...sets.values()];
}

/**
 * Findings on the links of every bundled segment directory in `members`
 * (loose recordings are ignored).
 *
 * @example
 * ```ts
 * import { checkSegmentLinks } from "./_segment_links.ts";
 * const header = (id: string, start: number, previous?: object) => ({
 *   segment: { id, run: "r", index: 0, startUtcNs: BigInt(start), alive: [],
 *     ...(previous ? { previous } : {}) },
 *   timeBase: { utcNs: 0n, monoNs: 0n },
 * }) as never;
 * const h1 = new Uint8Array(32).fill(1);
 * const ok = checkSegmentLinks([
 *   { name: "recordings/d/a.cbor", header: header("a", 1), finalHash: h1 },
 *   { name: "recordings/d/b.cbor", header: header("b", 2,
 *     { name: "a.cbor", id: "a", finalHash: h1, closed: true }), finalHash: h1 },
 * ]);
 * if (ok.length !== 0) throw new Error(JSON.stringify(ok));
 * const bad = checkSegmentLinks([
 *   { name: "recordings/d/a.cbor", header: header("a", 1), finalHash: h1 },
 *   { name: "recordings/d/b.cbor", header: header("b", 2,
 *     { name: "a.cbor", id: "a", finalHash: new Uint8Array(32), closed: true }), finalHash: h1 },
 * ]);
 * if (bad[0]?.level !== "tampered") throw new Error(JSON.stringify(bad));
 * ```
 */
export function checkSegmentLinks(members: LinkedMember[]): Finding[] {
  const findings: Finding[] = [];
  // (by id; a recording without segment header, id "", by its name)
  const claimKey = (l: { id: string; name: string }) =>
    l.id !== "" ? l.id : `name:${l.name}`;
  for (const set of segmentSets(members)) {
    const deletedBy = new Map<string, string>();
    for (const m of set) {
      for (const d of m.header.segment?.deleted ?? []) {
        deletedBy.set(claimKey(d), m.name);
      }
    }
    const places = segmentChains(set);
    // only a gap before the oldest segment can be retention
    const oldest = set.find((m) => m.header.segment !== undefined);
    for (const [i, m] of set.entries()) {
      const seg = m.header.segment;
      const p = seg?.previous;
      const before = places[i].before;
      const prev = before === undefined ? undefined : set[before];
      const say = (level: Finding["level"], message: string) =>
        findings.push({ level, member: m.name, message });
      // (a recording without segment header stands alone, as in a directory)
      if (!seg) continue;
      if (prev === undefined) {
        const by = p ? deletedBy.get(claimKey(p)) : undefined;
        if (p && m !== oldest) {
          // a chain beginning after the oldest segment, its predecessor gone
          say(
            "incomplete",
            `its predecessor ${p.name} (id ${p.id}) is not in the bundle${
              by
                ? `, yet ${by} says retention deleted it: retention deletes the oldest segments first, and ${
                  oldest!.name
                } is older`
                : ""
            }`,
          );
        } else if (p && by) {
          say(
            "note",
            `the segments before it were deleted by retention (the last one, ${p.name}; named in ${by})`,
          );
        }
        continue;
      }
      // (a link to a recording without segment header names it by id "")
      const prevId = prev.header.segment?.id ?? "";
      if (!p) {
        say(
          "tampered",
          `names no predecessor, but ${prev.name} of its run comes before it`,
        );
      } else if (p.id !== prevId) {
        const named = set.find((x) => x !== m && x.header.segment?.id === p.id);
        const by = deletedBy.get(claimKey(p));
        if (named) {
          say(
            "tampered",
            `names ${named.name} as its predecessor, but its chain goes on from there to ${prev.name} (two segments name one predecessor, or one is a copy)`,
          );
        } else {
          // (retention deletes the oldest segments first: never one after
          // a segment still there; found by review)
          say(
            "incomplete",
            `its predecessor ${p.name} (id ${p.id}) is not in the bundle (the segment before it is ${prev.name})${
              by
                ? `; ${by} says retention deleted it, but retention deletes the oldest segments first and ${prev.name} is still there`
                : ""
            }`,
          );
        }
      } else if (!equalBytes(p.finalHash, prev.finalHash)) {
        say(
          "tampered",
          `names ${p.name} with final hash ${
            toHex(p.finalHash)
          }, but that segment ends in ${
            toHex(prev.finalHash)
          } (altered or replaced)`,
        );
      } else if (!p.closed) {
        say(
          "note",
          p.reason === "disk"
            ? `${p.name} ends where the disk was full; the events lost are this segment's first event`
            : `${p.name} was not closed (its recorder was killed or the host lost power): events after its last complete chunk are lost`,
        );
      }
    }
  }
  return findings;
}
