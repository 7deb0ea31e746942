/**
 * Cuts a recording file into its pieces (header, chunks, trailer), as
 * `record --publish` sealed them. Needs `--allow-read`.
 *
 * @module
 */
import { newDecoder } from "../log/_cbor.ts";
import { sha256 } from "../log/_hash.ts";
import { NeedMoreBytes, scanItem } from "../log/_cbor_scan.ts";
import {
  type RecordingHeader,
  recordingId,
  type SealedPiece,
} from "../log/mod.ts";

/** A recording's pieces with its id and header. */
export interface RecordingPieces {
  id: string;
  header: RecordingHeader;
  pieces: SealedPiece[];
  /** Bytes after the last whole piece (a recording still being written). */
  tail: number;
}

/**
 * Reads `path` and returns its pieces.
 *
 * @example
 * ```ts ignore
 * const { id, pieces } = await recordingPieces("run.cbor");
 * ```
 */
export async function recordingPieces(path: string): Promise<RecordingPieces> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`Cannot read recording "${path}": ${(e as Error).message}`);
  }
  const pieces: SealedPiece[] = [];
  let pos = 0;
  let tail = 0;
  while (pos < bytes.length) {
    let end: number;
    try {
      end = scanItem(bytes, pos);
    } catch (e) {
      if (e instanceof NeedMoreBytes) {
        tail = bytes.length - pos;
        break;
      }
      throw new Error(
        `Cannot read recording "${path}": piece ${pieces.length} at offset ${pos}: ${
          (e as Error).message
        }`,
      );
    }
    const item = bytes.subarray(pos, end);
    const kind = pieces.length === 0 ? "header" : (() => {
      const v = newDecoder().decode(item);
      return Array.isArray(v) && v[0] === "trailer" ? "trailer" : "chunk";
    })();
    pieces.push({
      index: pieces.length,
      kind,
      bytes: item,
      hash: sha256(item),
      offset: pos,
      tempPath: path,
      path,
    });
    pos = end;
  }
  if (pieces.length === 0) {
    throw new Error(`Cannot read recording "${path}": it has no header`);
  }
  // the decoder drops the self-describe tag and returns the header map
  const header = newDecoder().decode(pieces[0].bytes) as RecordingHeader;
  if (header?.format !== "procrec" || typeof header.host !== "string") {
    throw new Error(
      `Cannot read recording "${path}": the first item is not a procrec header`,
    );
  }
  return { id: recordingId(pieces[0].hash), header, pieces, tail };
}
