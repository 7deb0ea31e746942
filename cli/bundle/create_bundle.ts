/**
 * Writes an evidence bundle: a zip holding the recordings unchanged,
 * `manifest.json` pinning every member by SHA-256, optionally `manifest.sig`
 * (an Ed25519 signature over the manifest's exact bytes), and the documents
 * the caller made (summary, report). Needs `--allow-read` for the recordings
 * and `--allow-write` for the output.
 *
 * The zip is written by the output opener (`cli/io/open_output.ts`: a new
 * file, never through a link, mode 0600 or a group's 0640) and renamed to
 * `OUT` when whole; its members are given the same mode, so that unzip
 * extracts them as private as the zip. Every recording is read twice (once
 * to describe and hash it, once into the zip) and both hashes must agree: a
 * recording that changes while it is bundled is refused.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { Uint8ArrayReader, ZipWriter } from "@zip.js/zip.js";
import { FORMAT_VERSION, RecordingReader } from "../log/mod.ts";
import { TOOL_VERSION } from "../version.ts";
import { hashedFileBlocks, hashedFileStream, newSha256 } from "./_tap.ts";
import "./_zip.ts";
import { describeRecording } from "./describe_recording.ts";
import type { SigningKey } from "./keys.ts";
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  encodeManifest,
  type Manifest,
  MANIFEST_NAME,
  type ManifestDetections,
  type ManifestMember,
  type ManifestRecording,
  RECORDINGS_DIR,
  SIGNATURE_NAME,
} from "./manifest.ts";
import { encodeSignature, signManifest } from "./signature.ts";
import {
  INPUT_LIMITS,
  openOutput,
  type OutputMode,
  PRIVATE_MODE,
} from "../io/mod.ts";

/** A document the caller made for the bundle. */
export interface BundleDocument {
  name: string;
  role: "summary" | "report";
  /**
   * Its bytes, in order, in parts (a report page of hundreds of MB is
   * hashed and written from the parts it was encoded into, never joined).
   */
  parts: readonly Uint8Array[];
}

/** Options of {@link createBundle}. */
export interface CreateBundleOptions {
  case?: { id?: string; examiner?: string; note?: string };
  /** Sign the manifest with this key. */
  signingKey?: SigningKey;
  /**
   * The caller's documents, or a function that makes them once every
   * recording was read (with what {@link onRecording} saw).
   */
  documents?: BundleDocument[] | (() => BundleDocument[]);
  /**
   * Called as each recording is opened; the function it returns sees every
   * event of that read, so the caller's analysis (summary, report) needs no
   * read of its own.
   */
  onRecording?: (
    path: string,
    reader: RecordingReader,
  ) => ((event: ProcEvent) => void) | undefined;
  /** Sigma hits for the manifest, made once every recording was read (after {@link documents}). */
  detections?: () => ManifestDetections | undefined;
  /** Creation time (default now). */
  now?: Date;
  /** Who may read the bundle (default 0600). */
  mode?: OutputMode;
}

/** What {@link createBundle} wrote. */
export interface CreatedBundle {
  path: string;
  manifest: Manifest;
  manifestBytes: Uint8Array;
  signed: boolean;
}

/**
 * A recording to bundle: a file (its member name is `recordings/` and its
 * file name), or a file with the member name it gets (the segments of a
 * directory go under `recordings/NAME/`).
 */
export type BundleInput = string | { path: string; member: string };

/** The member name a recording file gets in a bundle. */
export function recordingMemberName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return RECORDINGS_DIR + base;
}

/**
 * Writes a bundle of `recordings` to `out`; refuses to replace `out`.
 *
 * @example
 * ```ts
 * import { RecordingWriter } from "../log/mod.ts";
 * import { createBundle } from "./create_bundle.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * }, { flushIntervalMs: 0 });
 * await w.close();
 * const b = await createBundle(`${dir}/case.zip`, [`${dir}/a.cbor`], { case: { id: "IR-1" } });
 * await Deno.remove(dir, { recursive: true });
 * if (b.manifest.members[0].name !== "recordings/a.cbor") throw new Error();
 * ```
 */
export async function createBundle(
  out: string,
  recordings: BundleInput[],
  options: CreateBundleOptions = {},
): Promise<CreatedBundle> {
  if (recordings.length === 0) {
    throw new Error(`Cannot create bundle "${out}": no recordings given`);
  }
  if (await Deno.lstat(out).then(() => true, () => false)) {
    throw new Error(`Cannot create bundle "${out}": the file exists`);
  }
  const names = new Map<string, string>();
  for (const r of recordings) {
    const p = typeof r === "string" ? r : r.path;
    const name = typeof r === "string" ? recordingMemberName(p) : r.member;
    const prev = names.get(name);
    if (prev !== undefined) {
      throw new Error(
        `Cannot create bundle "${out}": "${prev}" and "${p}" would both be ${name}; rename one`,
      );
    }
    names.set(name, p);
  }
  const checkDocs = (docs: BundleDocument[]) => {
    for (const d of docs) {
      if (
        names.has(d.name) || d.name === MANIFEST_NAME ||
        d.name === SIGNATURE_NAME
      ) {
        throw new Error(
          `Cannot create bundle "${out}": two members named ${d.name}`,
        );
      }
    }
    return docs;
  };
  if (Array.isArray(options.documents)) checkDocs(options.documents);

  // Pass 1: describe and hash every recording.
  const members: ManifestMember[] = [];
  const described: ManifestRecording[] = [];
  for (const [name, path] of names) {
    const hash = newSha256();
    const counter = { bytes: 0 };
    const source = path.split(/[\\/]/).pop() ?? path;
    let reader: RecordingReader;
    try {
      reader = await RecordingReader.fromStream(
        hashedFileBlocks(path, hash, counter),
        path,
      );
    } catch (e) {
      throw new Error(
        `Cannot create bundle "${out}": ${(e as Error).message}`,
        { cause: e },
      );
    }
    const sink = options.onRecording?.(path, reader);
    described.push(await describeRecording(reader, name, source, sink));
    members.push({
      name,
      size: counter.bytes,
      sha256: hash.digest("hex"),
      role: "recording",
    });
  }
  const docs = checkDocs(
    typeof options.documents === "function"
      ? options.documents()
      : options.documents ?? [],
  );
  for (const d of docs) {
    const hash = newSha256();
    let size = 0;
    for (const part of d.parts) {
      hash.update(part);
      size += part.length;
    }
    members.push({
      name: d.name,
      size,
      sha256: hash.digest("hex"),
      role: d.role,
    });
  }
  const now = options.now ?? new Date();
  const c = options.case ?? {};
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    created: now.toISOString(),
    tool: { name: "procrec", version: TOOL_VERSION },
    recordingFormat: FORMAT_VERSION,
    case: {
      ...(c.id !== undefined ? { id: c.id } : {}),
      ...(c.examiner !== undefined ? { examiner: c.examiner } : {}),
      ...(c.note !== undefined ? { note: c.note } : {}),
    },
    members,
    recordings: described,
  };
  const detections = options.detections?.();
  if (detections) manifest.detections = detections;
  let manifestBytes = encodeManifest(manifest);
  // a manifest no reader takes would make the bundle unreadable: past the
  // readers' limit, the manifest lists the first hits and counts them all
  const limit = INPUT_LIMITS.manifest;
  if (manifestBytes.length > limit && detections) {
    // the most hits that fit, found by halving (hits differ in size)
    const all = detections.hits;
    const withHits = (n: number) => {
      manifest.detections = {
        ...detections,
        hits: all.slice(0, n),
        hitsTotal: all.length,
      };
      return encodeManifest(manifest);
    };
    let lo = 0, hi = all.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (withHits(mid).length <= limit) lo = mid;
      else hi = mid - 1;
    }
    manifestBytes = withHits(lo);
  }
  if (manifestBytes.length > limit) {
    throw new Error(
      `Cannot create bundle "${out}": its manifest would be ${manifestBytes.length} bytes, more than readers take (${limit})`,
    );
  }
  const sigBytes = options.signingKey
    ? encodeSignature(await signManifest(manifestBytes, options.signingKey))
    : undefined;

  // Pass 2: write the zip; each recording must hash as it did in pass 1.
  const file = await openOutput(out, { mode: options.mode, what: "bundle" });
  let ok = false;
  try {
    // each member the mode the bundle has, 0600 or a group's 0640 (they
    // were 0644: unzip made the evidence readable by everyone, found by
    // review); a plain file's type, as the audit of member modes expects
    const zip = new ZipWriter(file.writable, {
      lastModDate: now,
      level: 6,
      unixMode: 0o100000 | (options.mode ?? PRIVATE_MODE).file,
    });
    await zip.add(MANIFEST_NAME, new Uint8ArrayReader(manifestBytes));
    if (sigBytes) await zip.add(SIGNATURE_NAME, new Uint8ArrayReader(sigBytes));
    for (const m of members) {
      if (m.role !== "recording") continue;
      const path = names.get(m.name)!;
      const hash = newSha256();
      const counter = { bytes: 0 };
      await zip.add(m.name, hashedFileStream(path, hash, counter));
      const again = hash.digest("hex");
      if (again !== m.sha256 || counter.bytes !== m.size) {
        throw new Error(
          `Cannot create bundle "${out}": recording "${path}" changed while it was bundled ` +
            `(${m.size} bytes, SHA-256 ${m.sha256}, then ${counter.bytes} bytes, ${again}); ` +
            `bundle a closed recording`,
        );
      }
    }
    for (const d of docs) await zip.add(d.name, ReadableStream.from(d.parts));
    await zip.close();
    ok = true;
  } finally {
    if (!ok) file.discard();
  }
  await file.commit(); // a failure names where the whole bundle is
  return { path: out, manifest, manifestBytes, signed: sigBytes !== undefined };
}
