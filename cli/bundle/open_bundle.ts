/**
 * Opens a bundle to read its recordings, for `replay`, `diff` and `report`.
 * Reading is not verifying: use `verifyBundle` for that. Needs `--allow-read`.
 *
 * A bundle with one recording gives it; with several, the caller names one
 * (`member`) by its member name (`recordings/a.cbor`) or its file name
 * (`a.cbor`), or gets an error listing them. The segments of one segment
 * directory are members of one folder (`recordings/NAME/...`), read as one
 * recording named `NAME` (as the directory is: links checked, gaps as lost
 * spans).
 *
 * A manifest that names a recording member procrec never writes (outside
 * `recordings/`, zip-slip, a backslash, an empty or `.` part: see
 * {@link recordingMemberProblem}) was altered: the bundle is refused whole,
 * by every reader alike, with the member named; `verifyBundle` reports it.
 *
 * @module
 */
import { auditZip } from "./zip_audit.ts";
import type { Entry } from "@zip.js/zip.js";
import {
  RecordingReader,
  type RecordingSource,
  type SegmentEntry,
  type SegmentSetOptions,
  SegmentSetReader,
  segmentStart,
} from "../log/mod.ts";
import { INPUT_LIMITS } from "../io/mod.ts";
import { isUnsafeMemberName, openZip, readEntry, streamEntry } from "./_zip.ts";
import {
  type Manifest,
  MANIFEST_NAME,
  parseManifest,
  RECORDINGS_DIR,
  SIGNATURE_NAME,
} from "./manifest.ts";

/** A bundle opened for reading. */
export interface OpenBundle {
  path: string;
  /** The manifest, unverified. */
  manifest: Manifest;
  /** The recordings' member names, in manifest order. */
  recordings: string[];
  /**
   * What a reader picks from: each loose recording's member name, and each
   * segment directory's folder (`recordings/NAME/`), in manifest order.
   */
  units: string[];
  /** It has a `manifest.sig` (not checked: see `verifyBundle`). */
  signed: boolean;
  /**
   * Opens one recording member as a stream. With `closeBundle`, the bundle
   * is closed when the reader finishes (or fails to open).
   */
  openRecording(
    member?: string,
    options?: { closeBundle?: boolean },
  ): Promise<RecordingReader>;
  /**
   * Opens one unit (see {@link units}): a loose recording as
   * {@link openRecording} does, a segment directory's folder as one
   * recording (only the segments covering the span, when one is given).
   */
  openSource(
    unit?: string,
    options?: { closeBundle?: boolean } & SegmentSetOptions,
  ): Promise<RecordingSource>;
  close(): Promise<void>;
}

/** Opens `path` as a bundle; throws a clear error if it is not a whole one. */
export async function openBundle(path: string): Promise<OpenBundle> {
  const zip = await openZip(path);
  try {
    // bytes no hash covers, or a member named two ways: altered (what
    // another zip reader would see differs from what procrec reads)
    const altered = (await auditZip(path)).find((p) =>
      p.kind === "hidden" || p.kind === "renamed"
    );
    if (altered) {
      throw new Error(
        `Cannot read bundle "${path}": ${
          altered.member !== undefined ? `member ${altered.member}: ` : ""
        }${altered.message}: it was altered; procrec verify says more`,
      );
    }
    const byName = new Map<string, Entry>();
    for (const e of zip.entries) byName.set(e.filename, e);
    const me = byName.get(MANIFEST_NAME);
    if (!me) {
      throw new Error(
        `Cannot read bundle "${path}": it has no ${MANIFEST_NAME}; is it a procrec bundle?`,
      );
    }
    let manifest: Manifest;
    try {
      manifest = parseManifest(
        await readEntry(me, INPUT_LIMITS.manifest),
        MANIFEST_NAME,
      );
    } catch (e) {
      throw new Error(
        `Cannot read bundle "${path}": ${(e as Error).message}`,
        { cause: e },
      );
    }
    const recordings = manifest.recordings.map((r) => r.member);
    const bad = recordings.filter((r) => recordingMemberProblem(r));
    if (bad.length > 0) {
      const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : "";
      throw new Error(
        `Cannot read bundle "${path}": its manifest names recording member "${
          bad[0]
        }"${more}, ` +
          `a name procrec never gives a recording: ${
            recordingMemberProblem(bad[0])
          }; ` +
          `the bundle was altered, and no recording in it is read: procrec verify says more`,
      );
    }
    const units = recordingUnits(recordings);
    const sizeOf = (name: string) =>
      manifest.members.find((m) => m.name === name)?.size;
    const stream = (name: string) => {
      const entry = byName.get(name);
      if (!entry) {
        throw new Error(
          `Cannot read bundle "${path}": the manifest lists ${name}, but the zip has no such member`,
        );
      }
      // never inflated past the size the manifest pins
      return streamEntry(entry, { maxBytes: sizeOf(name) });
    };
    const label = (name: string) => `${path}#${shortName(name)}`;
    const b: OpenBundle = {
      path,
      manifest,
      recordings,
      units,
      signed: byName.has(SIGNATURE_NAME),
      async openSource(unit?: string, options = {}) {
        const close = options.closeBundle ? () => zip.close() : async () => {};
        let name: string;
        try {
          name = pickRecording(path, units, unit);
        } catch (e) {
          // one segment of a directory, named by itself, is read alone
          const one = unit !== undefined &&
            recordings.some((r) => r === unit || r === RECORDINGS_DIR + unit);
          if (one) return await b.openRecording(unit, options);
          await close();
          throw e;
        }
        if (!name.endsWith("/")) return await b.openRecording(name, options);
        try {
          const entries: SegmentEntry[] = [];
          for (const m of recordings.filter((r) => r.startsWith(name))) {
            const header =
              (await RecordingReader.fromStream(stream(m), label(m)))
                .header;
            const base = m.slice(name.length);
            entries.push({
              name: base,
              path: label(m),
              closed: !base.endsWith(".incomplete"),
              header,
              startUtcNs: segmentStart(header),
              bytes: sizeOf(m) ?? 0,
              open: () => RecordingReader.fromStream(stream(m), label(m)),
            });
          }
          return SegmentSetReader.fromEntries(
            label(name),
            entries,
            {
              ...options,
              onClose: close,
            },
            [],
            true,
          );
        } catch (e) {
          await close();
          throw e;
        }
      },
      async openRecording(member?: string, options = {}) {
        const close = options.closeBundle ? () => zip.close() : async () => {};
        try {
          const name = pickRecording(path, recordings, member);
          const entry = byName.get(name);
          if (!entry) {
            throw new Error(
              `Cannot read bundle "${path}": the manifest lists ${name}, but the zip has no such member`,
            );
          }
          // never inflated past the size the manifest pins
          const size = manifest.members.find((m) => m.name === name)?.size;
          return await RecordingReader.fromStream(
            thenClose(streamEntry(entry, { maxBytes: size }), close),
            label(name),
          );
        } catch (e) {
          await close();
          throw e;
        }
      },
      close: () => zip.close(),
    };
    return b;
  } catch (e) {
    await zip.close();
    throw e;
  }
}

/**
 * The units of a bundle's recordings: each loose recording, and each folder
 * under `recordings/` (the segments of one directory) once, in order.
 *
 * @example
 * ```ts
 * import { recordingUnits } from "./open_bundle.ts";
 * const u = recordingUnits(["recordings/a.cbor", "recordings/d/1.cbor", "recordings/d/2.cbor"]);
 * if (u.join() !== "recordings/a.cbor,recordings/d/") throw new Error(u.join());
 * ```
 */
export function recordingUnits(recordings: string[]): string[] {
  const out: string[] = [];
  for (const r of recordings) {
    const rest = shortName(r);
    // a name outside recordings/ (refused by openBundle) is a unit alone
    const slash = rest === r ? -1 : rest.indexOf("/");
    const unit = slash < 0 ? r : RECORDINGS_DIR + rest.slice(0, slash + 1);
    if (!out.includes(unit)) out.push(unit);
  }
  return out;
}

/**
 * Picks a recording member: the only one, or the one `member` names.
 *
 * @example
 * ```ts
 * import { pickRecording } from "./open_bundle.ts";
 * const names = ["recordings/a.cbor", "recordings/b.cbor"];
 * if (pickRecording("c.zip", names, "b.cbor") !== "recordings/b.cbor") throw new Error();
 * if (pickRecording("c.zip", names.slice(0, 1)) !== "recordings/a.cbor") throw new Error();
 * ```
 */
export function pickRecording(
  path: string,
  recordings: string[],
  member?: string,
): string {
  const list = recordings.map(shortName).join(", ");
  if (member === undefined) {
    if (recordings.length === 1) return recordings[0];
    if (recordings.length === 0) {
      throw new Error(`Cannot read bundle "${path}": it holds no recordings`);
    }
    throw new Error(
      `Cannot choose a recording in bundle "${path}": it holds ${recordings.length} (${list}); ` +
        `name one with --member NAME or "${path}#NAME"`,
    );
  }
  const bare = (x: string) => x.replace(/\/+$/, "");
  const found = recordings.find((r) =>
    bare(r) === bare(member) || bare(r) === bare(RECORDINGS_DIR + member)
  );
  if (found === undefined) {
    throw new Error(
      `Cannot read bundle "${path}": it holds no recording "${member}" (it holds ${
        list || "none"
      })`,
    );
  }
  return found;
}

/**
 * Why a bundle's readers refuse `name` as a recording member, or `undefined`
 * when they read it. procrec names a recording `recordings/FILE`, and each
 * segment of a directory `recordings/NAME/FILE`; refused are a name verify
 * calls zip-slip (`..`, an absolute path, a drive letter, a NUL), a name
 * outside `recordings/`, a backslash, and an empty or `.` part (a folder).
 *
 * @example
 * ```ts
 * import { recordingMemberProblem } from "./open_bundle.ts";
 * if (recordingMemberProblem("recordings/a.cbor")) throw new Error();
 * if (recordingMemberProblem("recordings/d/1.cbor")) throw new Error();
 * for (const bad of ["../x.cbor", "/etc/passwd", "C:/x", "summary.txt", "recordings/"]) {
 *   if (!recordingMemberProblem(bad)) throw new Error(bad);
 * }
 * ```
 */
export function recordingMemberProblem(name: string): string | undefined {
  if (isUnsafeMemberName(name)) {
    return "it would write outside the folder it is extracted to (zip-slip)";
  }
  if (!name.startsWith(RECORDINGS_DIR)) {
    return `it is not under ${RECORDINGS_DIR}`;
  }
  if (name.includes("\\")) {
    return "it holds a backslash (a folder separator on Windows)";
  }
  const parts = name.slice(RECORDINGS_DIR.length).split("/");
  if (parts.some((p) => p === "" || p === ".")) {
    return `it has an empty or "." part`;
  }
  return undefined;
}

/** A member's name as a reader gives it: without `recordings/`. */
function shortName(name: string): string {
  return name.startsWith(RECORDINGS_DIR)
    ? name.slice(RECORDINGS_DIR.length)
    : name;
}

async function* thenClose(
  source: AsyncGenerator<Uint8Array>,
  close: () => Promise<void>,
): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } finally {
    await close();
  }
}
