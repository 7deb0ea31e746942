/**
 * Verifies a segment directory (or several segment files) as one recording:
 * every segment's chunks, chain and trailer, and every link between
 * segments. Needs `--allow-read`.
 *
 * Levels: a broken link or a damaged segment is `tampered`; a segment
 * missing without a record is `incomplete`, and so is one missing after a
 * segment of its chain that is there, whatever a header says (retention
 * deletes the oldest first); a segment deleted by retention (named in a
 * later header, before the oldest segment there), an unclean end that the
 * next segment accounts for, a disk-full loss, and the newest segment of a
 * live writer are `note`s: said, not failures.
 *
 * A directory holding several chains (`collect`'s `DIR/<host>/`: a
 * service's segments, another segment directory's, one-off recordings) is
 * verified chain by chain, each link within its chain, with one line per
 * chain saying what it holds and how it verified.
 *
 * @module
 */
import { toHex } from "../log/_hash.ts";
import { SegmentSetReader } from "../log/mod.ts";
import {
  type Finding,
  type RecordingCheck,
  settle,
  type VerifyResult,
} from "./verify_result.ts";

/** Options of {@link verifySegments}. */
export interface VerifySegmentsOptions {
  /** The newest segment is being written now (its writer is alive). */
  writerAlive?: boolean;
  /** Verify only the segments covering this UTC span (ns). */
  fromUtcNs?: bigint;
  toUtcNs?: bigint;
}

/**
 * Verifies `paths` (a directory, or segment files) as one recording.
 *
 * @example
 * ```ts
 * import { SegmentWriter } from "../record/segment_writer.ts";
 * import { verifySegments } from "./verify_segments.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await SegmentWriter.open({
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * }, { dir, writer: { flushIntervalMs: 0 } });
 * w.write({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "x" });
 * await w.rotateNow();
 * await w.close();
 * const r = await verifySegments([dir]);
 * await Deno.remove(dir, { recursive: true });
 * if (r.exitCode !== 0 || r.recordings.length !== 2) throw new Error(r.verdict);
 * ```
 */
export async function verifySegments(
  paths: string[],
  options: VerifySegmentsOptions = {},
): Promise<VerifyResult> {
  const set = await SegmentSetReader.open(paths, {
    fromUtcNs: options.fromUtcNs,
    toUtcNs: options.toUtcNs,
  });
  for await (const _ of set.chunks()) {
    // the readers check digests, chains, trailers and links as they go
  }
  const findings: Finding[] = [];
  // (with several chains, those covering the span need not be side by
  // side: a one-off recording's end is not known before it is read)
  const chosen = new Set(set.segments);
  const firstAt = set.all.indexOf(set.segments[0]);
  const before = set.all.filter((s, i) => i < firstAt && !chosen.has(s));
  const after = set.all.filter((s, i) => i > firstAt && !chosen.has(s));
  if (before.length > 0 || after.length > 0) {
    const names = (l: { name: string }[]) =>
      l.length === 1 ? l[0].name : `${l[0].name} to ${l[l.length - 1].name}`;
    const outside = [
      before.length > 0
        ? `${before.length} before (${names(before)})`
        : undefined,
      after.length > 0 ? `${after.length} after (${names(after)})` : undefined,
    ].filter((x) => x !== undefined).join(", ");
    findings.push({
      level: "note",
      member: set.segments[0].name,
      message:
        `only the ${set.segments.length} segments covering --from/--to were verified; not read: ${outside}`,
    });
  }
  for (const u of set.unreadable) {
    findings.push({
      // (an empty segment file is what a crash at a rotation leaves)
      level: u.empty ? "incomplete" : "tampered",
      member: u.name,
      message: u.empty
        ? `no recording: ${u.reason}`
        : `not a readable recording: ${u.reason}`,
    });
  }
  const recordings: RecordingCheck[] = [];
  const reads = set.segmentsRead;
  for (const s of reads) {
    const r = s.report;
    const name = s.entry.name;
    // the next segment of its chain, read or not (outside --from/--to)
    const next = set.chainOf(s.entry).after;
    // (a successor that says this segment was closed accounts for no loss
    // in it: found by review, one cut after its close passed)
    const link = next?.header.segment?.previous;
    const linkedAfter = link !== undefined &&
      link.id === s.entry.header.segment?.id && !link.closed;
    for (const p of r.problems) {
      let level: Finding["level"] = p.type === "truncated"
        ? "incomplete"
        : "tampered";
      let message = p.reason;
      if (p.type === "truncated" && linkedAfter) {
        level = "note";
        message += "; the next segment links to it and records the loss";
      } else if (
        p.type === "truncated" && next === undefined && options.writerAlive &&
        !s.entry.closed && s.entry === set.all.at(-1)
      ) {
        // (a live recorder writes NAME.incomplete: a closed name cut short
        // is no segment being written, whatever writer.pid says; found by
        // review)
        level = "note";
        message = "being written by a live recorder (not closed yet)";
      }
      findings.push({
        level,
        member: name,
        ...(p.chunk !== undefined ? { chunk: p.chunk } : {}),
        offset: p.offset,
        message,
      });
    }
    recordings.push({
      name,
      chunks: r.chunks,
      events: r.events,
      complete: r.complete,
      chainIntact: r.chainIntact || (!r.complete && linkedAfter &&
        r.problems.every((p) => p.type === "truncated")),
      finalHash: s.finalHash ? toHex(s.finalHash) : null,
    });
  }
  for (const g of set.gaps) {
    findings.push({
      level: g.reason === "chain"
        ? "tampered"
        : g.reason === "segment_missing"
        ? "incomplete"
        : "note",
      member: g.after,
      message: g.message,
    });
  }
  // one line per chain, first, when there are several
  if (set.chains.length > 1) findings.unshift(...chainLines(set, findings));
  return settle({
    path: paths.join(" "),
    kind: "recording",
    signature: { state: "not-applicable" },
    members: [],
    recordings,
    findings,
  });
}

/**
 * One note per chain of `set`: its recordings, runs, and the worst of the
 * findings on its members (a recording without segment header on its own).
 */
function chainLines(set: SegmentSetReader, findings: Finding[]): Finding[] {
  const worst = new Map<string, Finding["level"]>();
  for (const f of findings) {
    if (f.member === undefined || f.level === "note") continue;
    const was = worst.get(f.member);
    if (was !== "tampered") worst.set(f.member, f.level);
  }
  const read = new Set(set.segmentsRead.map((s) => s.entry));
  const n = set.chains.length;
  return set.chains.map((chain, i) => {
    const levels = new Set(chain.map((s) => worst.get(s.name)));
    const state = levels.has("tampered")
      ? "TAMPERED"
      : levels.has("incomplete")
      ? "INCOMPLETE"
      : chain.every((s) => !read.has(s))
      ? "not read (outside --from/--to)"
      : "intact";
    const first = chain[0];
    if (chain.length === 1 && !first.header.segment) {
      return {
        level: "note",
        message: `chain ${
          i + 1
        } of ${n}: ${first.name}, a recording of its own (no segment header): ${state}`,
      };
    }
    const runs = [
      ...new Set(chain.flatMap((s) => s.header.segment?.run ?? [])),
    ].map((r) => r.slice(0, 8));
    const span = chain.length === 1
      ? first.name
      : `${first.name} to ${chain[chain.length - 1].name}`;
    return {
      level: "note",
      message: `chain ${i + 1} of ${n}: ${chain.length} segment${
        chain.length === 1 ? "" : "s"
      } (${span}), run${runs.length === 1 ? "" : "s"} ${
        runs.join(", ")
      }: ${state}`,
    };
  });
}
