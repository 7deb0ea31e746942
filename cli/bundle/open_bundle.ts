/**
 * Opens a bundle to read its recordings, for `replay`, `diff` and `report`.
 * Reading is not verifying: use `verifyBundle` for that. Needs `--allow-read`.
 *
 * A bundle with one recording gives it; with several, the caller names one
 * (`member`) by its member name (`recordings/a.cbor`) or its file name
 * (`a.cbor`), or gets an error listing them.
 *
 * @module
 */
import type { Entry } from "@zip.js/zip.js";
import { RecordingReader } from "../log/mod.ts";
import { INPUT_LIMITS } from "../io/mod.ts";
import { openZip, readEntry, streamEntry } from "./_zip.ts";
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
  close(): Promise<void>;
}

/** Opens `path` as a bundle; throws a clear error if it is not a whole one. */
export async function openBundle(path: string): Promise<OpenBundle> {
  const zip = await openZip(path);
  try {
    if (zip.prefixBytes > 0) {
      throw new Error(
        `Cannot read bundle "${path}": ${zip.prefixBytes} bytes come before its first member ` +
          `(a bundle procrec writes has none): it was altered; procrec verify says more`,
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
    return {
      path,
      manifest,
      recordings,
      signed: byName.has(SIGNATURE_NAME),
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
            `${path}#${name.slice(RECORDINGS_DIR.length)}`,
          );
        } catch (e) {
          await close();
          throw e;
        }
      },
      close: () => zip.close(),
    };
  } catch (e) {
    await zip.close();
    throw e;
  }
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
  const list = recordings.map((r) => r.slice(RECORDINGS_DIR.length)).join(
    ", ",
  );
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
  const found = recordings.find((r) =>
    r === member || r === RECORDINGS_DIR + member
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
