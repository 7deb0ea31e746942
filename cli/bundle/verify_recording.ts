/**
 * Verifies a recording: every chunk against its digest and the hash chain,
 * and the trailer against the chunks. Needs `--allow-read` for files.
 *
 * @module
 */
import { toHex } from "../log/_hash.ts";
import { describeRedaction } from "../redact/describe_redaction.ts";
import { importedIntegrityNote } from "../interop/imported_integrity.ts";
import {
  EMPTY_INCOMPLETE,
  RecordingFormatError,
  RecordingReader,
  type RecordingSource,
} from "../log/mod.ts";
import {
  type Finding,
  type RecordingCheck,
  settle,
  type VerifyResult,
} from "./verify_result.ts";

/** Reads every chunk of `reader`; returns what was found, attributed to `member` when given. */
export async function checkRecording(
  reader: RecordingSource,
  name: string,
  member?: string,
): Promise<
  {
    check: RecordingCheck;
    findings: Finding[];
    counts: Record<string, number>;
    /** The hash of the last chunk read whole (none: no chunk). */
    lastHash?: Uint8Array;
  }
> {
  // the reader checks digests, chain and trailer, and counts, as it goes
  let lastHash: Uint8Array | undefined;
  for await (const c of reader.chunks()) lastHash = c.hash;
  const r = reader.report;
  const counts = r.counts.sortedKinds() as Record<string, number>;
  const findings: Finding[] = r.problems.map((p) => ({
    level: p.type === "truncated" ? "incomplete" : "tampered",
    ...(member !== undefined ? { member } : {}),
    ...(p.chunk !== undefined ? { chunk: p.chunk } : {}),
    offset: p.offset,
    message: p.reason,
  }));
  const redaction = reader.header.redaction;
  if (redaction) {
    // not a fault: what the recording is, its chain of custody
    findings.push({
      level: "note",
      ...(member !== undefined ? { member } : {}),
      message: describeRedaction(redaction),
    });
  }
  // an import of an export of a damaged recording is whole itself: what
  // it was made from was not (found by review: it read as INTACT, with
  // nothing but a lost event to say so)
  const imported = importedIntegrityNote(reader.header.import);
  if (imported) {
    findings.push({
      level: "note",
      ...(member !== undefined ? { member } : {}),
      message: imported,
    });
  }
  if (!r.complete && !findings.some((f) => f.level !== "note")) {
    findings.push({
      level: "incomplete",
      ...(member !== undefined ? { member } : {}),
      message: "the recording has no trailer that matches its chunks",
    });
  }
  return {
    check: {
      name,
      chunks: r.chunks,
      events: r.events,
      complete: r.complete,
      chainIntact: r.chainIntact,
      finalHash: r.trailer ? toHex(r.trailer.finalHash) : null,
    },
    findings,
    counts,
    ...(lastHash ? { lastHash } : {}),
  };
}

/**
 * Verifies a loose recording file. A file that is not a recording at all
 * (or of another format version) throws {@link RecordingFormatError}.
 *
 * @example
 * ```ts
 * import { RecordingWriter } from "../log/mod.ts";
 * import { verifyRecording } from "./verify_recording.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * }, { flushIntervalMs: 0 });
 * w.write({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "x" });
 * await w.close();
 * const r = await verifyRecording(`${dir}/a.cbor`);
 * await Deno.remove(dir, { recursive: true });
 * if (r.exitCode !== 0) throw new Error(r.verdict);
 * ```
 */
export async function verifyRecording(
  path: string,
  opened?: RecordingSource,
): Promise<VerifyResult> {
  if (opened === undefined && path.endsWith(".incomplete")) {
    // what a recorder killed in its first moments leaves: no tampering, a
    // recording that never began (a segment directory says the same)
    const st = await Deno.lstat(path).catch(() => undefined);
    if (st?.isFile && st.size === 0) {
      return settle({
        path,
        kind: "recording",
        signature: { state: "not-applicable" },
        members: [],
        recordings: [{
          name: path,
          chunks: 0,
          events: 0,
          complete: false,
          chainIntact: true,
          finalHash: null,
        }],
        findings: [{
          level: "incomplete",
          offset: 0,
          message: `it is empty: ${EMPTY_INCOMPLETE}`,
        }],
      });
    }
  }
  const reader = opened ?? await RecordingReader.open(path);
  const { check, findings } = await checkRecording(reader, path);
  return settle({
    path,
    kind: "recording",
    signature: { state: "not-applicable" },
    members: [],
    recordings: [check],
    findings,
  });
}

export { RecordingFormatError };
