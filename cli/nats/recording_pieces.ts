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
  /**
   * What is wrong with a closed recording's bytes after its last whole
   * piece (naming the file, the offset and what was expected), or
   * undefined. A closed file (not `NAME.incomplete`) is written no more and
   * ends with its trailer: bytes left after it, or a piece that is neither a
   * chunk nor the trailer, are damage or an alteration, never a write in
   * progress (`publish` sent the pieces before and exited 0; found by
   * review).
   */
  damage?: string;
}

/**
 * Reads `path` and returns its pieces.
 *
 * @example
 * ```ts
 * import { recordingPieces } from "./recording_pieces.ts";
 * import { RecordingWriter } from "../log/mod.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await RecordingWriter.create(`${dir}/a.cbor`, {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * });
 * w.write({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "x" });
 * const path = await w.close();
 * const { pieces, damage } = await recordingPieces(path);
 * if (pieces.map((p) => p.kind).join() !== "header,chunk,trailer") throw new Error();
 * if (damage !== undefined) throw new Error(damage);
 * // a closed recording with bytes after its trailer: damage, named
 * await Deno.writeFile(path, new Uint8Array([0]), { append: true });
 * const after = await recordingPieces(path);
 * await Deno.remove(dir, { recursive: true });
 * if (!after.damage?.includes("after the trailer")) throw new Error();
 * ```
 */
export async function recordingPieces(path: string): Promise<RecordingPieces> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(
      `Cannot read recording "${path}": ${(e as Error).message}`,
      { cause: e },
    );
  }
  const pieces: SealedPiece[] = [];
  let pos = 0;
  let tail = 0;
  /** What the bytes after the last whole piece are, when there are some. */
  let found = "";
  while (pos < bytes.length) {
    if (pieces[pieces.length - 1]?.kind === "trailer") {
      // (the trailer is the last piece: nothing after it is sent)
      tail = bytes.length - pos;
      found = "bytes after the trailer";
      break;
    }
    let end: number;
    try {
      end = scanItem(bytes, pos);
    } catch (e) {
      if (e instanceof NeedMoreBytes) {
        tail = bytes.length - pos;
        found = "a CBOR item cut short by the end of the file";
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
        found = v === undefined
          ? "a CBOR item that does not decode"
          : Array.isArray(v) && typeof v[0] === "string"
          ? `an item tagged ${JSON.stringify(v[0].slice(0, 40))}`
          : "a CBOR item that is not a chunk";
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
  const last = pieces[pieces.length - 1];
  // a recording still being written (or that a crash left) is sent up to
  // its last whole piece; a closed one has no piece in progress
  const damage = tail > 0 && !path.endsWith(".incomplete")
    ? `"${path}" is a closed recording, but its ${tail} bytes from offset ${pos} (after piece ${last.index}, the ${last.kind}) are ${found}; expected ${
      last.kind === "trailer"
        ? "the end of the file after the trailer"
        : "a chunk or the trailer"
    }: damaged or altered (procrec verify "${path}" says more); they are not sent`
    : undefined;
  return {
    id: recordingId(pieces[0].hash),
    header,
    pieces,
    tail,
    ...(damage ? { damage } : {}),
  };
}
