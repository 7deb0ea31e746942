/**
 * Verifies an evidence bundle, trusting nothing in it that the signature
 * does not cover. Needs `--allow-read`.
 *
 * What is checked, in order: the zip's central directory (a zip that cannot
 * be read is an error, not a verdict); `manifest.sig` against the exact bytes
 * of `manifest.json`, with the key the verifier gives (never a key from the
 * bundle: without one the signature is reported as not checked, and an
 * unsigned bundle is reported as unsigned); every member the manifest lists,
 * by size and SHA-256; members the manifest does not list (flagged: someone
 * added them); every recording's chunk chain and trailer, and its final
 * hash against the manifest's; and for a segment directory bundled as one
 * recording (`recordings/NAME/...`), the links between its segments.
 *
 * @module
 */
import type { Entry } from "@zip.js/zip.js";
import { INPUT_LIMITS } from "../io/mod.ts";
import { sha256, toHex } from "../log/_hash.ts";
import { newSha256 } from "./_tap.ts";
import { auditZip } from "./zip_audit.ts";
import {
  isUnsafeMemberName,
  MemberReadError,
  MemberSizeError,
  openZip,
  readEntry,
  streamEntry,
} from "./_zip.ts";
import type { VerifyingKey } from "./keys.ts";
import { recordingMemberProblem } from "./open_bundle.ts";
import {
  type Manifest,
  MANIFEST_NAME,
  parseManifest,
  SIGNATURE_NAME,
} from "./manifest.ts";
import {
  checkSignature,
  parseSignature,
  type SignatureFile,
} from "./signature.ts";
import {
  readRecordingMember,
  type RecordingPass,
} from "./_recording_member.ts";
import {
  checkSegmentLinks,
  type LinkedMember,
  uncleanEndsAccounted,
} from "./_segment_links.ts";
import {
  type Finding,
  type MemberCheck,
  type RecordingCheck,
  settle,
  type VerifyResult,
} from "./verify_result.ts";

/** Streams a member's bytes (see `streamEntry`). */
export type MemberStreamer = (
  entry: Entry,
  options: { checkCrc32?: boolean; maxBytes?: number },
) => AsyncIterable<Uint8Array>;

/** Options of {@link verifyBundle}. */
export interface VerifyBundleOptions {
  /** The public key the bundle must be signed with. */
  key?: VerifyingKey;
  /**
   * How a member's bytes are read (default: inflated from the zip); every
   * member is read through it once, a recording too (its hash, chain and
   * trailer are checked in the same pass).
   */
  streamMember?: MemberStreamer;
}

/**
 * Verifies the bundle at `path`. Throws only when the file cannot be read as
 * a zip at all (missing, truncated, not a zip).
 *
 * @example
 * ```ts
 * import { RecordingWriter } from "../log/mod.ts";
 * import { createBundle } from "./create_bundle.ts";
 * import { verifyBundle } from "./verify_bundle.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * }, { flushIntervalMs: 0 });
 * await w.close();
 * await createBundle(`${dir}/case.zip`, [`${dir}/a.cbor`]);
 * const r = await verifyBundle(`${dir}/case.zip`);
 * await Deno.remove(dir, { recursive: true });
 * if (r.exitCode !== 0 || r.signature.state !== "unsigned") throw new Error(JSON.stringify(r));
 * ```
 */
export async function verifyBundle(
  path: string,
  options: VerifyBundleOptions = {},
): Promise<VerifyResult> {
  const zip = await openZip(path);
  const stream = options.streamMember ?? streamEntry;
  const findings: Finding[] = [];
  const members: MemberCheck[] = [];
  const recordings: RecordingCheck[] = [];
  const signature: VerifyResult["signature"] = { state: "unsigned" };
  if (options.key) signature.givenKey = options.key.fingerprint;
  const done = () =>
    settle({ path, kind: "bundle", signature, members, recordings, findings });
  try {
    // the zip's structure, which no hash covers: every byte accounted for
    for (const p of await auditZip(path)) {
      findings.push({
        level: "tampered",
        member: p.member ?? "(zip)",
        message: p.message,
      });
    }
    const byName = new Map<string, Entry>();
    for (const e of zip.entries) {
      if (isUnsafeMemberName(e.filename)) {
        findings.push({
          level: "tampered",
          member: e.filename,
          message:
            `the member's name would write outside the folder it is extracted to (zip-slip); ` +
            `a bundle procrec writes has no such name`,
        });
      }
      if (byName.has(e.filename)) {
        findings.push({
          level: "tampered",
          member: e.filename,
          message:
            `the zip holds more than one member named ${e.filename}: readers may see either`,
        });
      }
      byName.set(e.filename, e);
    }

    // manifest.json: read its exact bytes first; nothing is trusted yet
    const me = byName.get(MANIFEST_NAME);
    if (!me) {
      findings.push({
        level: "tampered",
        member: MANIFEST_NAME,
        message: `${MANIFEST_NAME} is missing: no member can be checked`,
      });
      return done();
    }
    let manifestBytes: Uint8Array | undefined;
    try {
      manifestBytes = await readEntry(me, INPUT_LIMITS.manifest);
    } catch (e) {
      findings.push({
        level: "tampered",
        member: MANIFEST_NAME,
        message: `cannot be extracted: ${extractProblem(e)}`,
      });
    }

    // the signature, with the verifier's key only
    const se = byName.get(SIGNATURE_NAME);
    let sig: SignatureFile | undefined;
    if (se) {
      try {
        sig = parseSignature(await readEntry(se, INPUT_LIMITS.signature));
        signature.claimedKey = sig.keyFingerprint;
      } catch (e) {
        signature.state = "invalid";
        findings.push({
          level: "tampered",
          member: SIGNATURE_NAME,
          message: `${SIGNATURE_NAME} is unreadable: ${(e as Error).message}`,
        });
      }
    }
    if (se && sig && manifestBytes) {
      if (options.key) {
        const c = await checkSignature(manifestBytes, sig, options.key);
        signature.state = c.valid ? "valid" : "invalid";
        if (!c.valid) {
          findings.push({
            level: "tampered",
            member: c.member,
            message: c.reason!,
          });
        }
      } else {
        // said in the result's signature line; not a failure without --key
        signature.state = "not-checked";
        // but manifest.sig records the manifest's hash: an edit is visible
        // without any key
        const digest = toHex(sha256(manifestBytes));
        if (digest !== sig.signedSha256) {
          findings.push({
            level: "tampered",
            member: MANIFEST_NAME,
            message:
              `${MANIFEST_NAME} was altered after signing: its SHA-256 is ${digest}, ` +
              `${SIGNATURE_NAME} records ${sig.signedSha256}`,
          });
        }
      }
    } else if (!se) {
      signature.state = "unsigned";
      if (options.key) {
        findings.push({
          level: "unsigned",
          member: SIGNATURE_NAME,
          message:
            `the bundle is unsigned (no ${SIGNATURE_NAME}), so it cannot be authenticated with the given key`,
        });
      }
    }
    if (!manifestBytes) return done();

    let manifest: Manifest;
    try {
      manifest = parseManifest(manifestBytes, MANIFEST_NAME);
    } catch (e) {
      findings.push({
        level: "tampered",
        member: MANIFEST_NAME,
        message: (e as Error).message,
      });
      return done();
    }

    // each description is of a member of its own: more of them than the zip
    // holds members is said at once, and nothing more is checked against a
    // manifest that cannot be this zip's (found by review: a manifest of
    // 100,000 descriptions of members the zip lacks took minutes)
    const held = zip.entries.length -
      (byName.has(MANIFEST_NAME) ? 1 : 0) -
      (byName.has(SIGNATURE_NAME) ? 1 : 0);
    if (manifest.recordings.length > held) {
      const absent = manifest.recordings.filter((r) => !byName.has(r.member));
      const named = absent.slice(0, 5).map((r) => r.member).join(", ");
      findings.push({
        level: "tampered",
        member: MANIFEST_NAME,
        message:
          `the manifest describes ${manifest.recordings.length} recordings, ` +
          `and the zip holds ${held} members besides ${MANIFEST_NAME} and ${SIGNATURE_NAME}` +
          (absent.length > 0
            ? ` (not in it: ${named}${
              absent.length > 5 ? ` and ${absent.length - 5} more` : ""
            })`
            : "") +
          `: members were taken out, or the manifest was altered; no member is checked against it`,
      });
      return done();
    }

    // every member the manifest lists, and nothing else; a recording the
    // manifest pins and describes is read once: its hash, size, chain and
    // trailer in one pass (the recording's findings are added below)
    const listed = new Set<string>();
    const described = new Set(manifest.recordings.map((r) => r.member));
    const passes = new Map<string, RecordingPass>();
    for (const m of manifest.members) {
      if (listed.has(m.name)) {
        findings.push({
          level: "tampered",
          member: MANIFEST_NAME,
          message: `the manifest lists ${m.name} twice`,
        });
      }
      listed.add(m.name);
      const entry = byName.get(m.name);
      if (
        entry && m.role === "recording" && described.has(m.name) &&
        !passes.has(m.name)
      ) {
        const pass = await readRecordingMember(entry, m, stream);
        passes.set(m.name, pass);
        members.push(memberVerdict(m, pass.member, findings));
      } else members.push(await checkMember(entry, m, findings, stream));
    }
    for (const e of zip.entries) {
      const n = e.filename;
      if (n === MANIFEST_NAME || n === SIGNATURE_NAME || listed.has(n)) {
        continue;
      }
      findings.push({
        level: "tampered",
        member: n,
        message:
          `${n} is not listed in the manifest: it was added after the bundle was made, ` +
          `and nothing in it is trusted`,
      });
    }

    // every recording's chain and trailer, against the manifest (each
    // looked up by name: searched in lists, the work grew with the square
    // of a manifest's size, found by review)
    const roles = new Map(manifest.members.map((m) => [m.name, m.role]));
    const pinned = new Map<string, number>();
    for (const m of manifest.members) {
      if (!pinned.has(m.name)) pinned.set(m.name, m.size);
    }
    const checked = new Map<string, MemberCheck>();
    for (const m of members) if (!checked.has(m.name)) checked.set(m.name, m);
    for (const m of manifest.members) {
      if (m.role === "recording" && !described.has(m.name)) {
        findings.push({
          level: "tampered",
          member: MANIFEST_NAME,
          message:
            `the manifest lists recording ${m.name} but does not describe it`,
        });
      }
    }
    // the segments of a directory (recordings/NAME/...): their links too
    const linked: LinkedMember[] = [];
    for (const desc of manifest.recordings) {
      const name = desc.member;
      const entry = byName.get(name);
      if (roles.get(name) !== "recording") {
        findings.push({
          level: "tampered",
          member: MANIFEST_NAME,
          message:
            `the manifest describes recording ${name} but does not pin it as a member`,
        });
      }
      // a name readers refuse (zip-slip is reported with the zip's names)
      const why = recordingMemberProblem(name);
      if (why !== undefined && !isUnsafeMemberName(name)) {
        findings.push({
          level: "tampered",
          member: name,
          message:
            `is not a name procrec gives a recording: ${why}; readers refuse the bundle`,
        });
      }
      if (!entry) continue; // already reported as missing
      // read with its member check above, or (described twice, or not
      // pinned as a recording) now
      const pass = passes.get(name) ?? await readRecording(
        entry,
        name,
        pinned.get(name),
        stream,
      );
      passes.delete(name); // a second description reads it again
      if (pass.recording.state === "unreadable") {
        findings.push({
          level: "tampered",
          member: name,
          message: `is not a readable recording: ${
            (pass.recording.error as Error).message
          }`,
        });
        continue;
      }
      if (pass.recording.state === "broken") {
        findings.push({
          level: "tampered",
          member: name,
          message: `cannot be read to its end: ${
            (pass.recording.error as Error).message
          }`,
        });
        continue;
      }
      const { reader, result } = pass.recording;
      recordings.push(result.check);
      for (const f of result.findings) findings.push(f);
      linked.push({
        name,
        header: reader.header,
        finalHash: reader.report.trailer && reader.report.complete
          ? reader.report.trailer.finalHash
          : result.lastHash ?? reader.headerHash,
      });
      const h = reader.header;
      const claims: [string, unknown, unknown][] = [
        ["host", desc.host, h.host],
        ["os", desc.os, h.os],
        ["kernel", desc.kernel, h.kernel],
        ["bootId", desc.bootId, h.bootId],
        ["finalHash", desc.finalHash, result.check.finalHash],
        ["number of events", desc.events, result.check.events],
        ["number of chunks", desc.chunks, result.check.chunks],
        ["counts per kind", sorted(desc.counts), sorted(result.counts)],
      ];
      // the member matched its pinned hash: then the manifest contradicts itself
      const memberOk = checked.get(name)?.ok === true;
      for (const [k, said, found] of claims) {
        if (said !== found) {
          findings.push({
            level: "tampered",
            member: memberOk ? MANIFEST_NAME : name,
            message: `${name}: the recording's ${k} is ${
              JSON.stringify(found)
            }, the manifest says ${JSON.stringify(said)}`,
          });
        }
      }
    }
    // (one by one: a spread of many segments' findings overflows the stack)
    for (const f of checkSegmentLinks(linked)) findings.push(f);
    // a segment left without a trailer (its recorder killed) that the next
    // bundled segment links to: a recorded loss, not an incomplete bundle
    const accounted = uncleanEndsAccounted(linked);
    for (const f of findings) {
      if (f.level === "incomplete" && accounted.has(f.member ?? "")) {
        f.level = "note";
        f.message += "; the next segment links to it and records the loss";
      }
    }
    return done();
  } finally {
    await zip.close();
  }
}

/** A recording member not read with its member check (no hash needed). */
async function readRecording(
  entry: Entry,
  name: string,
  size: number | undefined,
  stream: MemberStreamer,
): Promise<RecordingPass> {
  // never inflated past the size the manifest pins
  return await readRecordingMember(
    entry,
    { name, size },
    (e, o) => stream(e, { ...o, checkCrc32: false }),
  );
}

async function checkMember(
  entry: Entry | undefined,
  m: { name: string; size: number; sha256: string },
  findings: Finding[],
  stream: MemberStreamer,
): Promise<MemberCheck> {
  if (!entry) {
    findings.push({
      level: "tampered",
      member: m.name,
      message: `is listed in the manifest but missing from the zip`,
    });
    return {
      name: m.name,
      expected: { size: m.size, sha256: m.sha256 },
      ok: false,
    };
  }
  const hash = newSha256();
  let size = 0;
  try {
    for await (const block of stream(entry, { maxBytes: m.size })) {
      hash.update(block);
      size += block.length;
    }
  } catch (error) {
    return memberVerdict(m, { error }, findings);
  }
  return memberVerdict(m, { size, sha256: hash.digest("hex") }, findings);
}

/** A member's check from what reading it gave: its size and hash, or an error. */
function memberVerdict(
  m: { name: string; size: number; sha256: string },
  read: { size: number; sha256: string } | { error: unknown },
  findings: Finding[],
): MemberCheck {
  const expected = { size: m.size, sha256: m.sha256 };
  if ("error" in read) {
    const e = read.error;
    if (e instanceof MemberSizeError) {
      findings.push({
        level: "tampered",
        member: m.name,
        message:
          `was altered: it inflates past ${m.size} bytes, the size the manifest gives it ` +
          `(not inflated further)`,
      });
      return { name: m.name, expected, ok: false };
    }
    findings.push({
      level: "tampered",
      member: m.name,
      message: `cannot be extracted (its stored bytes were altered): ${
        extractProblem(e)
      }`,
    });
    return { name: m.name, expected, ok: false };
  }
  const found = { size: read.size, sha256: read.sha256 };
  const problems: string[] = [];
  if (found.size !== m.size) {
    problems.push(`it has ${found.size} bytes, the manifest says ${m.size}`);
  }
  if (found.sha256 !== m.sha256) {
    problems.push(
      `its SHA-256 is ${found.sha256}, the manifest says ${m.sha256}`,
    );
  }
  if (problems.length) {
    findings.push({
      level: "tampered",
      member: m.name,
      message: `was altered: ${problems.join("; ")}`,
    });
  }
  return { name: m.name, expected, found, ok: problems.length === 0 };
}

/** A count map as canonical text (keys in order), to compare two of them. */
function sorted(counts: Record<string, number> | undefined): string {
  return JSON.stringify(
    Object.entries(counts ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  );
}

/** Why a member could not be extracted (its name is the finding's already). */
function extractProblem(e: unknown): string {
  return e instanceof MemberReadError ? e.detail : (e as Error).message;
}
