/**
 * The header of a recording redacted from another (`procrec redact`): the
 * source's header with its texts redacted, plus a `redaction` field that
 * lists the rules, names the key and names the source recording (path,
 * keyed hashes of the file and of its final hash, host, start), so the
 * chain of custody stays visible to a key holder.
 * Pure.
 *
 * @module
 */
import type {
  ImportInfo,
  RecordingHeader,
  RedactionInfo,
  RedactionSource,
} from "../log/schema.ts";
import type { HeaderInit } from "../log/recording_writer.ts";
import { MAX_REDACTION_DEPTH } from "../log/check_header_fields.ts";
import type { Redactor } from "./redactor.ts";

/**
 * `source`'s header redacted by `redactor`, naming `origin` as its source.
 *
 * @example
 * ```ts
 * import { Redactor } from "./redactor.ts";
 * import { redactedHeader } from "./redacted_header.ts";
 * import type { RecordingHeader } from "../log/schema.ts";
 * const h: RecordingHeader = { format: "procrec", version: 1, host: "h", os: "linux", kernel: "6",
 *   bootId: "b", timeBase: { monoNs: 0n, utcNs: 5n }, clock: { source: "s", monoToUtcNs: 5n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "ebpf", reason: "r" },
 *   options: {}, command: { argv: ["mysql", "-pX"] } };
 * const r = new Redactor([{ name: "pw", flag: ["-p"] }], new Uint8Array(32));
 * const out = redactedHeader(h, r, { path: "a.cbor", sha256Hmac: r.sourceHash("00"),
 *   complete: true, host: "h", bootId: "b", startUtcNs: 5n });
 * if (out.command?.argv[1] === "-pX" || out.redaction?.source?.path !== "a.cbor") {
 *   throw new Error();
 * }
 * ```
 */
export function redactedHeader(
  source: RecordingHeader,
  redactor: Redactor,
  origin: Omit<RedactionSource, "redaction">,
): HeaderInit {
  // (a segment read alone is not a segment once copied: the processes
  // alive at its start, which its header lists, are in the copy as snapshot
  // events, as in an import of its export; the copy names the file it came
  // from)
  const {
    format: _f,
    version: _v,
    redaction: earlier,
    segment: _segment,
    ...rest
  } = source;
  refuseTooDeep(earlier);
  return {
    // (an import's files by keyed hashes, as a redacted import names them)
    ...withKeyedImports(rest, redactor.header(rest), redactor),
    redaction: {
      ...redactor.describe(),
      source: {
        ...origin,
        ...(earlier ? { redaction: withoutPlainHashes(earlier) } : {}),
      },
    },
  };
}

/**
 * Throws when a recording whose redaction is `earlier` cannot be redacted
 * once more: the chain would nest deeper than a reader takes
 * ({@link MAX_REDACTION_DEPTH}), and the copy would be unreadable.
 */
function refuseTooDeep(earlier: RedactionInfo | undefined): void {
  let depth = 0;
  for (let r = earlier; r !== undefined; r = r.source?.redaction) {
    if (++depth > MAX_REDACTION_DEPTH) {
      throw new Error(
        `Cannot redact it again: it already holds ${depth} redactions in a chain, the most a recording may name (a deeper one could not be read)`,
      );
    }
  }
}

/**
 * A source's redaction as the copy keeps it: the plain hashes of the
 * sources before it (written by earlier versions) left out, all the way
 * down, for they let anyone test guesses at what was redacted.
 */
function withoutPlainHashes(r: RedactionInfo): RedactionInfo {
  if (!r.source) return r;
  const { sha256: _s, bytes: _b, finalHash: _f, redaction, ...kept } = r.source;
  return {
    ...r,
    source: {
      ...kept,
      // (empty: the readers before the keyed hashes require the fields)
      sha256: "",
      bytes: 0,
      ...(redaction ? { redaction: withoutPlainHashes(redaction) } : {}),
    },
  };
}

/**
 * `redacted` (`original` through `Redactor.header`) with the files of its
 * imports keyed ({@link Redactor.importInfo}): `import`, and the earlier
 * import an export of an import names in `options.importedFrom` (found by
 * review: the plain SHA-256 of those inputs went through there).
 */
export function withKeyedImports<T extends Partial<RecordingHeader>>(
  original: T,
  redacted: T,
  redactor: Redactor,
): T {
  const from = (original.options as { importedFrom?: ImportInfo } | undefined)
    ?.importedFrom;
  return {
    ...redacted,
    ...(original.import
      ? { import: redactor.importInfo(original.import) }
      : {}),
    ...(from && Array.isArray(from.files)
      ? {
        options: {
          ...redacted.options,
          importedFrom: redactor.importInfo(from),
        },
      }
      : {}),
  };
}

/** What an on-the-fly redaction knows of the recording it read. */
export interface ReadRecording {
  /** The input as given (`case.zip#a.cbor` for a bundle member). */
  path: string;
  /** It read complete, its chain intact. */
  complete: boolean;
}

/**
 * `header` as `export --redact` and `report --redact` show it, redacted on
 * the fly: its texts redacted, an import's files by keyed hashes (their
 * plain SHA-256 lets anyone test guesses at the secrets; found by review),
 * and the redaction named. Of a recording already redacted, the new
 * redaction names it as its `source` (`read`: its path, not hashed), which
 * keeps its `redaction`, as `procrec redact` does: its markers stay in the
 * events (the redaction was replaced: a reader saw markers of a key the
 * header did not name, and the chain of custody was lost).
 *
 * @example
 * ```ts
 * import { Redactor } from "./redactor.ts";
 * import { redactedOnTheFly } from "./redacted_header.ts";
 * import type { RecordingHeader } from "../log/schema.ts";
 * const h: RecordingHeader = { format: "procrec", version: 9, host: "h", os: "linux", kernel: "6",
 *   bootId: "b", timeBase: { monoNs: 0n, utcNs: 5n }, clock: { source: "s", monoToUtcNs: 5n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "import", reason: "r" },
 *   options: {}, import: { format: "jsonl", files: [{ name: "a", sha256: "ab" }] } };
 * const r = new Redactor([{ name: "pw", flag: ["-p"] }], new Uint8Array(32));
 * const read = { path: "a.cbor", complete: true };
 * const out = redactedOnTheFly(h, r, read);
 * if (out.import?.files[0].sha256 !== "" || out.redaction?.source) throw new Error();
 * // redacted again, with another key: the first redaction is the source's
 * const again = redactedOnTheFly(out, new Redactor([], new Uint8Array(32).fill(7)), read);
 * if (again.redaction?.source?.redaction?.keyId !== out.redaction?.keyId) {
 *   throw new Error();
 * }
 * ```
 */
export function redactedOnTheFly<T extends HeaderInit>(
  header: T,
  redactor: Redactor,
  read: ReadRecording,
): T {
  const earlier = header.redaction;
  refuseTooDeep(earlier);
  return {
    ...withKeyedImports(header, redactor.header(header), redactor),
    redaction: {
      ...redactor.describe(),
      ...(earlier
        ? {
          source: {
            path: read.path,
            // (not hashed: it is redacted as it is read, and its hash
            // would be known only after the header is written; empty, as
            // the readers before the keyed hashes require the fields)
            sha256: "",
            bytes: 0,
            complete: read.complete,
            host: header.host,
            bootId: header.bootId,
            startUtcNs: header.timeBase.utcNs,
            redaction: withoutPlainHashes(earlier),
          },
        }
        : {}),
    },
  };
}
