/**
 * What the end of a zip file says about it, read from its last bytes before
 * any zip library sees it: whether it is a zip at all, how many entries its
 * central directory lists (ZIP64 too) and how many bytes come before its
 * first entry. A bundle is refused before its central directory is parsed
 * when it lists more entries than {@link MAX_ZIP_ENTRIES} (a 9 MB zip of
 * 100,000 empty entries would otherwise take a gigabyte). Pure apart from
 * reading the file; needs `--allow-read`.
 *
 * @module
 */

/** Most entries a bundle may list (procrec writes a handful per recording). */
export const MAX_ZIP_ENTRIES = 10_000;
/** Largest central directory read (far above what 10,000 entries need). */
export const MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024 * 1024;

/** The layout of a zip file. */
export interface ZipLayout {
  /** Entries the central directory lists. */
  entries: number;
  /** Bytes of the central directory. */
  centralDirectoryBytes: number;
  /** Bytes before the zip's first entry (0 for a zip procrec wrote). */
  prefixBytes: number;
  /** Bytes of the zip's comment (0 for a zip procrec wrote). */
  commentBytes: number;
  /**
   * Bytes after the end record and its comment (0 for a zip procrec wrote;
   * negative when the comment claims more bytes than the file has).
   */
  suffixBytes: number;
  /** Where the central directory ends (the ZIP64 end record, or the end record). */
  centralDirectoryEnd: number;
  /** Where the end of central directory record is. */
  endRecord: number;
  /** Whether the sizes came from a ZIP64 end record. */
  zip64: boolean;
  /**
   * Where the central directory is, less where the end record says it is
   * (the bytes before the first member when positive; negative when the
   * record places it past its place).
   */
  directoryShift: number;
}

/** How {@link zipLayoutOf} finds the end record. */
export interface ZipLayoutOptions {
  /**
   * Only an end record whose comment runs exactly to the end of the file
   * (telling a zip from a recording whose last bytes happen to hold the
   * record's signature); else the last signature in the tail, as zip
   * readers take it (bytes after it are then {@link ZipLayout.suffixBytes}).
   */
  strict?: boolean;
}

/** The signatures of the end records (the audit reads them too). */
export const EOCD = 0x06054b50;
export const ZIP64_LOCATOR = 0x07064b50;
export const ZIP64_EOCD = 0x06064b50;

/**
 * The layout of the zip whose last bytes are `tail` (at most the last
 * 65,557 bytes of a file of `size` bytes), or `undefined` when it has no end
 * of central directory record: not a zip.
 *
 * @example
 * ```ts
 * import { zipLayoutOf } from "./zip_layout.ts";
 * // an empty zip: just the 22-byte end record
 * const eocd = new Uint8Array(22);
 * new DataView(eocd.buffer).setUint32(0, 0x06054b50, true);
 * const l = zipLayoutOf(eocd, 22, () => undefined);
 * if (!l || l.entries !== 0 || l.prefixBytes !== 0) throw new Error(JSON.stringify(l));
 * if (zipLayoutOf(new Uint8Array(22), 22, () => undefined) !== undefined) throw new Error();
 * ```
 */
export function zipLayoutOf(
  tail: Uint8Array,
  size: number,
  readAt: (offset: number, length: number) => Uint8Array | undefined,
  options: ZipLayoutOptions = { strict: true },
): ZipLayout | undefined {
  const v = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  const base = size - tail.length; // file offset of tail[0]
  if (tail.length < 22) return undefined;
  // (from the end, only where a "P" is: a recording is not a zip, and this
  // runs for every one opened, its whole 64 KiB tail looked at)
  for (
    let i = tail.lastIndexOf(0x50, tail.length - 22);
    i >= 0;
    i = i > 0 ? tail.lastIndexOf(0x50, i - 1) : -1
  ) {
    if (v.getUint32(i, true) !== EOCD) continue;
    const commentBytes = v.getUint16(i + 20, true);
    // (strict: the comment must run exactly to the end of the file)
    if (options.strict && i + 22 + commentBytes !== tail.length) continue;
    let entries = v.getUint16(i + 10, true);
    let cdBytes = v.getUint32(i + 12, true);
    let cdOffset = v.getUint32(i + 16, true);
    let cdEnd = base + i; // where the central directory ends
    let zip64 = false;
    if (
      (entries === 0xffff || cdBytes === 0xffffffff ||
        cdOffset === 0xffffffff) &&
      i >= 20 &&
      v.getUint32(i - 20, true) === ZIP64_LOCATOR
    ) {
      const at = Number(v.getBigUint64(i - 12, true));
      const rec = readAt(at, 56);
      if (rec && rec.length === 56) {
        const r = new DataView(rec.buffer, rec.byteOffset, 56);
        if (r.getUint32(0, true) === ZIP64_EOCD) {
          entries = Number(r.getBigUint64(32, true));
          cdBytes = Number(r.getBigUint64(40, true));
          cdOffset = Number(r.getBigUint64(48, true));
          cdEnd = at;
          zip64 = true;
        }
      }
    }
    return {
      entries,
      centralDirectoryBytes: cdBytes,
      prefixBytes: Math.max(0, cdEnd - cdBytes - cdOffset),
      directoryShift: cdEnd - cdBytes - cdOffset,
      commentBytes,
      suffixBytes: tail.length - (i + 22 + commentBytes),
      centralDirectoryEnd: cdEnd,
      endRecord: base + i,
      zip64,
    };
  }
  return undefined;
}

/** The layout of the zip file `path`, or `undefined` if it is not a zip. */
export async function readZipLayout(
  path: string,
  options: ZipLayoutOptions = { strict: true },
): Promise<ZipLayout | undefined> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    if (size < 22) return undefined;
    const readAt = (offset: number, length: number) => {
      if (offset < 0 || offset + length > size) return undefined;
      file.seekSync(offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = file.readSync(buf.subarray(got));
        if (n === null) return buf.subarray(0, got);
        got += n;
      }
      return buf;
    };
    const n = Math.min(size, 65_557);
    const tail = readAt(size - n, n);
    return tail ? zipLayoutOf(tail, size, readAt, options) : undefined;
  } finally {
    file.close();
  }
}

/**
 * Whether `path` is a zip: a regular file that starts with a local file
 * header ("PK\x03\x04") or ends with a zip's end of central directory
 * record (a zip with bytes before it is a zip too, not a recording), or,
 * not starting as a recording does, holds an end record near its end (a
 * zip with bytes before and after it). A pipe or a device is never sniffed
 * here (that would consume its first bytes).
 */
export async function looksLikeZip(path: string): Promise<boolean> {
  const st = await Deno.stat(path).catch(() => undefined);
  if (!st?.isFile) return false;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return false;
  }
  let starts = false;
  let recording = false;
  try {
    const b = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      const n = await file.read(b.subarray(got)).catch(() => null);
      if (n === null) break;
      got += n;
    }
    starts = got === 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 &&
      b[3] === 4;
    // (a recording starts with the CBOR self-describe tag)
    recording = got >= 3 && b[0] === 0xd9 && b[1] === 0xd9 && b[2] === 0xf7;
  } finally {
    file.close();
  }
  if (starts) return true;
  if ((await readZipLayout(path).catch(() => undefined)) !== undefined) {
    return true;
  }
  // a zip with bytes before and after it (an altered bundle, which verify
  // then names as such), unless it is a recording that happens to hold an
  // end record's signature near its end
  return !recording &&
    (await readZipLayout(path, { strict: false }).catch(() => undefined)) !==
      undefined;
}
