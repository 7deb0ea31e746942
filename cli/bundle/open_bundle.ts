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
 * So is a bundle whose zip `verifyBundle` calls tampered for its structure
 * (see `auditZip`: bytes no hash covers, a member named two ways, a
 * symbolic link, a header field no writer gives; a CRC that differs from
 * the member's bytes fails as the member is read), a zip holding two
 * members of one name (zip readers take either), and a manifest describing
 * more recordings than the zip holds members: each would have a reader show
 * something other than what another zip reader, or an extraction, shows.
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
    // whatever verify calls tampered in the zip's structure: what another
    // zip reader (or unzip) would read differs from what procrec reads (a
    // symbolic link member was read, found by review); but a CRC that
    // differs only where a reader checks it is found as the member is read
    const problems = (await auditZip(path)).filter((p) => p.kind !== "check");
    if (problems.length > 0) {
      const p = problems[0];
      const more = problems.length > 1
        ? ` (and ${problems.length - 1} more)`
        : "";
      throw new Error(
        `Cannot read bundle "${path}": ${
          p.member !== undefined ? `member ${p.member}: ` : ""
        }${p.message}${more}: it was altered; procrec verify says more`,
      );
    }
    // two members of one name: zip readers take either (this one read the
    // last, found by review: another host's recording, replayed silently)
    const byName = new Map<string, Entry>();
    for (const e of zip.entries) {
      if (byName.has(e.filename)) {
        throw new Error(
          `Cannot read bundle "${path}": member ${e.filename}: the zip holds more than one member of that name, ` +
            `and zip readers may take either: it was altered; procrec verify says more`,
        );
      }
      byName.set(e.filename, e);
    }
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
    // each description is of a member of its own: more of them than the
    // zip holds members was altered, said before any work per description
    const held = zip.entries.length - (byName.has(SIGNATURE_NAME) ? 2 : 1);
    if (manifest.recordings.length > held) {
      throw new Error(
        `Cannot read bundle "${path}": its ${MANIFEST_NAME} describes ${manifest.recordings.length} recordings, ` +
          `and the zip holds ${held} members besides ${MANIFEST_NAME} and ${SIGNATURE_NAME}: ` +
          `the bundle was altered, and no recording in it is read: procrec verify says more`,
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
    // (looked up by name: a list searched once per recording grew with
    // the square of a manifest's size, found by review)
    const pinned = new Map<string, number>();
    for (const m of manifest.members) {
      if (!pinned.has(m.name)) pinned.set(m.name, m.size);
    }
    const sizeOf = (name: string) => pinned.get(name);
    const inUnit = new Map<string, string[]>();
    for (const r of recordings) {
      const u = unitOf(r);
      if (!u.endsWith("/")) continue;
      const list = inUnit.get(u);
      if (list) list.push(r);
      else inUnit.set(u, [r]);
    }
    const described = new Set(recordings);
    const pickUnit = picker(path, units);
    const pickMember = picker(path, recordings);
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
          name = pickUnit(unit);
        } catch (e) {
          // one segment of a directory, named by itself, is read alone
          const one = unit !== undefined &&
            (described.has(unit) || described.has(RECORDINGS_DIR + unit));
          if (one) return await b.openRecording(unit, options);
          await close();
          throw e;
        }
        if (!name.endsWith("/")) return await b.openRecording(name, options);
        try {
          const entries: SegmentEntry[] = [];
          for (const m of inUnit.get(name) ?? []) {
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
          const name = pickMember(member);
          const entry = byName.get(name);
          if (!entry) {
            throw new Error(
              `Cannot read bundle "${path}": the manifest lists ${name}, but the zip has no such member`,
            );
          }
          // never inflated past the size the manifest pins
          return await RecordingReader.fromStream(
            thenClose(streamEntry(entry, { maxBytes: sizeOf(name) }), close),
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
  // (a set: a list searched once per recording was quadratic, found by
  // review: minutes for a manifest of 500,000 descriptions)
  return [...new Set(recordings.map(unitOf))];
}

/** The unit a recording member is read in: itself, or its folder. */
function unitOf(r: string): string {
  const rest = shortName(r);
  // a name outside recordings/ (refused by openBundle) is a unit alone
  const slash = rest === r ? -1 : rest.indexOf("/");
  return slash < 0 ? r : RECORDINGS_DIR + rest.slice(0, slash + 1);
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
  return picker(path, recordings)(member);
}

/** How many names an error lists before it counts the rest. */
const LISTED = 5;

/**
 * {@link pickRecording} for one list, indexed once: a bundle's readers pick
 * from it once per unit, in a time that does not grow with the list.
 */
function picker(
  path: string,
  recordings: string[],
): (member?: string) => string {
  const bare = (x: string) => x.replace(/\/+$/, "");
  // (the first of a name, as a search of the list in order finds it)
  const at = new Map<string, number>();
  recordings.forEach((r, i) => {
    const b = bare(r);
    if (!at.has(b)) at.set(b, i);
  });
  // (the first few names and a count: a message listing them all was 4 MB
  // for a manifest of 500,000 descriptions, found by review)
  const list = () => {
    const shown = recordings.slice(0, LISTED).map(shortName).join(", ");
    const rest = recordings.length - LISTED;
    return rest > 0 ? `${shown} and ${rest} more` : shown;
  };
  return (member) => {
    if (member === undefined) {
      if (recordings.length === 1) return recordings[0];
      if (recordings.length === 0) {
        throw new Error(`Cannot read bundle "${path}": it holds no recordings`);
      }
      throw new Error(
        `Cannot choose a recording in bundle "${path}": it holds ${recordings.length} (${list()}); ` +
          `name one with --member NAME or "${path}#NAME"`,
      );
    }
    const i = Math.min(
      at.get(bare(member)) ?? Infinity,
      at.get(bare(RECORDINGS_DIR + member)) ?? Infinity,
    );
    if (i === Infinity) {
      throw new Error(
        `Cannot read bundle "${path}": it holds no recording "${member}" (it holds ${
          list() || "none"
        })`,
      );
    }
    return recordings[i];
  };
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
