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
  /**
   * Bytes after the last whole piece: a piece still being written, or what
   * a crash left after it (zeros a power cut leaves past a file's end are
   * each a whole CBOR item, and went out as thousands of forged chunks;
   * found by review).
   */
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
    let kind: SealedPiece["kind"] = "header";
    if (pieces.length > 0) {
      let v: unknown;
      try {
        v = newDecoder().decode(item);
      } catch {
        v = undefined;
      }
      // (a piece is a chunk or the trailer: anything else ends the pieces)
      if (!Array.isArray(v) || (v[0] !== "chunk" && v[0] !== "trailer")) {
        tail = bytes.length - pos;
        break;
      }
      kind = v[0];
    }
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
