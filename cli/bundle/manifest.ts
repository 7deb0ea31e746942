/**
 * The bundle manifest (`manifest.json`): what a bundle holds, pinned by
 * SHA-256, and what each recording in it says about itself. Its exact bytes
 * are what `manifest.sig` signs. Pure.
 *
 * @module
 */

/** Name in the manifest's `format` field. */
export const BUNDLE_FORMAT = "procrec-bundle";
/** Version of the manifest this code writes and reads. */
export const BUNDLE_VERSION = 1;
/** The manifest's member name. */
export const MANIFEST_NAME = "manifest.json";
/** The signature's member name. */
export const SIGNATURE_NAME = "manifest.sig";
/** Where recordings go inside a bundle. */
export const RECORDINGS_DIR = "recordings/";

/** One member of the bundle, pinned. */
export interface ManifestMember {
  name: string;
  /** Bytes, uncompressed. */
  size: number;
  /** Lower-case hex SHA-256 of the uncompressed bytes. */
  sha256: string;
  /** What it is. */
  role: "recording" | "summary" | "report";
}

/** What a recording says about itself, as read when the bundle was made. */
export interface ManifestRecording {
  /** Its member name (under `recordings/`). */
  member: string;
  /** The file name it was bundled from. */
  source: string;
  host: string;
  os: string;
  kernel: string;
  bootId: string;
  formatVersion: number;
  recorder: { name: string; version: string };
  eventSource: { name: string; reason: string };
  /** UTC, ISO 8601 with nanoseconds: the recording's time base and its end. */
  timeRange: {
    start: string;
    end: string;
    /** Where the end comes from: the trailer (clean close) or the last event read. */
    endFrom: "trailer" | "last event" | "start";
  };
  chunks: number;
  events: number;
  /** Events per kind, as read. */
  counts: Record<string, number>;
  /** Events lost per reason, as recorded (`lost` events). */
  lost: Record<string, number>;
  /** `lost` events whose count the source could not know (ENOBUFS). */
  lostCountUnknown: number;
  /** The trailer's final chain hash (hex), or null without a trailer. */
  finalHash: string | null;
  complete: boolean;
  chainIntact: boolean;
  /** What the reader reported, one line each. */
  problems: string[];
}

/** Sigma hits found when the bundle was made (`bundle create --rules`). */
export interface ManifestDetections {
  /** Rule files read, rules run, and those that did not load. */
  rules: { files: number; loaded: number; notLoaded: string[] };
  hits: {
    /** The recording's member name. */
    member: string;
    rule: { id?: string; title: string; level?: string };
    pid: number;
    /** The process's stable id. */
    process: string;
    /** UTC, ISO 8601. */
    time: string;
    image?: string;
    cmdline?: string;
  }[];
  /**
   * Every hit found, when `hits` lists only the first of them: a manifest
   * is read whole and readers take at most `INPUT_LIMITS.manifest` bytes
   * (the bundle's summary.txt lists every hit).
   */
  hitsTotal?: number;
}

/** The whole manifest. */
export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  version: number;
  /** UTC, ISO 8601. */
  created: string;
  tool: { name: string; version: string };
  /** Recording format version this tool reads and writes. */
  recordingFormat: number;
  case: { id?: string; examiner?: string; note?: string };
  members: ManifestMember[];
  recordings: ManifestRecording[];
  /** Present when the bundle was made with Sigma rules. */
  detections?: ManifestDetections;
}

/**
 * The exact bytes of a manifest: JSON, two-space indented, newline at the end.
 *
 * @example
 * ```ts
 * import { encodeManifest, parseManifest } from "./manifest.ts";
 * const m = {
 *   format: "procrec-bundle" as const, version: 1, created: "2026-01-01T00:00:00.000Z",
 *   tool: { name: "procrec", version: "0" }, recordingFormat: 1, case: {},
 *   members: [], recordings: [],
 * };
 * const back = parseManifest(encodeManifest(m), "m");
 * if (back.created !== m.created) throw new Error();
 * ```
 */
export function encodeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
}

/**
 * Parses and checks the shape of a manifest; throws `SyntaxError` naming what
 * is wrong. Every field a reader of the bundle uses is checked here, of its
 * type, so that a manifest altered by hand is refused naming the field, not
 * met later as a crash (found by review: `"case": null` stopped `report` with
 * "Cannot read properties of null").
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * const m = {
 *   format: "procrec-bundle", version: 1, created: "2026-01-01T00:00:00.000Z",
 *   tool: { name: "procrec", version: "0" }, recordingFormat: 1, case: null,
 *   members: [], recordings: [],
 * };
 * let message = "";
 * try {
 *   parseManifest(new TextEncoder().encode(JSON.stringify(m)), "manifest.json");
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (!message.startsWith("manifest.json: case is null, expected")) throw new Error(message);
 * ```
 */
export function parseManifest(bytes: Uint8Array, name: string): Manifest {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new SyntaxError(
      `${name} is not valid UTF-8 JSON: ${(e as Error).message}`,
    );
  }
  const fail = (why: string) => new SyntaxError(`${name}: ${why}`);
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw fail("not a JSON object");
  }
  const m = v as Record<string, unknown>;
  if (m.format !== BUNDLE_FORMAT) {
    throw fail(
      `format is ${JSON.stringify(m.format)}, expected "${BUNDLE_FORMAT}"`,
    );
  }
  if (m.version !== BUNDLE_VERSION) {
    throw fail(
      `version is ${JSON.stringify(m.version)}, expected ${BUNDLE_VERSION}`,
    );
  }
  if (typeof m.created !== "string") {
    throw fail(
      `created is ${shown(m.created)}, expected a time as text (UTC, ISO 8601)`,
    );
  }
  const c = m.case;
  if (typeof c !== "object" || c === null || Array.isArray(c)) {
    throw fail(
      `case is ${shown(c)}, expected an object ({} or with id, examiner, note)`,
    );
  }
  for (const k of ["id", "examiner", "note"]) {
    const x = (c as Record<string, unknown>)[k];
    if (x !== undefined && typeof x !== "string") {
      throw fail(
        `case.${k} is ${shown(x)}, expected text (a string)`,
      );
    }
  }
  if (!Array.isArray(m.members) || !Array.isArray(m.recordings)) {
    throw fail(`"members" and "recordings" must be arrays`);
  }
  m.members.forEach((x: unknown, i: number) => {
    const e = x as Record<string, unknown>;
    if (
      typeof e !== "object" || e === null || typeof e.name !== "string" ||
      typeof e.size !== "number" || typeof e.sha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(e.sha256)
    ) {
      throw fail(`members[${i}] is not {name, size, sha256}`);
    }
    if (!Number.isSafeInteger(e.size) || (e.size as number) < 0) {
      throw fail(
        `members[${i}].size is ${
          JSON.stringify(e.size)
        }, expected a whole number of bytes, 0 or more`,
      );
    }
  });
  m.recordings.forEach((x: unknown, i: number) => {
    const r = x as Record<string, unknown>;
    if (typeof r !== "object" || r === null || typeof r.member !== "string") {
      throw fail(`recordings[${i}] has no "member"`);
    }
  });
  return m as unknown as Manifest;
}

/** A value from a manifest as a message quotes it: JSON, cut short. */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? "missing";
  return text.length > 60
    ? `${text.slice(0, 60)}... (${text.length} characters)`
    : text;
}
