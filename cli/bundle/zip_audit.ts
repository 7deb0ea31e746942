/**
 * Every byte of a zip accounted for: the members one after the other from
 * its start, each under the name its central directory gives it, then the
 * central directory and the end record, and nothing else. A bundle's hashes
 * cover its members' data, not the zip's structure: bytes before, between
 * or after the members, a comment, a member whose local header names
 * another file, or a symbolic link would each be invisible to the hashes
 * and seen by some other zip reader (one that reads a zip from its start,
 * or extracts it). procrec writes none of them. Needs `--allow-read`.
 *
 * @module
 */
import {
  MAX_CENTRAL_DIRECTORY_BYTES,
  MAX_ZIP_ENTRIES,
  readZipLayout,
  type ZipLayout,
} from "./zip_layout.ts";

/** Something in a zip that no hash covers. */
export interface ZipProblem {
  /** The member it is about, when it is about one. */
  member?: string;
  message: string;
  /**
   * `hidden`: bytes that no member, the directory or the end record
   * accounts for (before, between, after, a comment); `renamed`: a member
   * whose local header names another file; `link`: a symbolic link.
   */
  kind: "hidden" | "renamed" | "link";
}

const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const DESCRIPTOR = 0x08074b50;
/** A symbolic link's file type in the Unix mode of the external attributes. */
const S_IFLNK = 0o120000;

interface CentralEntry {
  name: string;
  nameBytes: Uint8Array;
  flags: number;
  compressed: number;
  offset: number;
  symlink: boolean;
  commentBytes: number;
}

/**
 * What in the zip file `path` no hash can cover (empty for a zip procrec
 * wrote). A file with no zip end record at all gives one problem.
 *
 * @example
 * ```ts
 * import { auditZip } from "./zip_audit.ts";
 * import { Uint8ArrayReader, ZipWriter } from "@zip.js/zip.js";
 * import "./_zip.ts";
 * const dir = await Deno.makeTempDir();
 * const file = await Deno.open(`${dir}/a.zip`, { write: true, create: true });
 * const zip = new ZipWriter(file.writable);
 * await zip.add("a.txt", new Uint8ArrayReader(new TextEncoder().encode("hi")));
 * await zip.close();
 * const clean = await auditZip(`${dir}/a.zip`);
 * const bytes = await Deno.readFile(`${dir}/a.zip`);
 * await Deno.writeFile(`${dir}/b.zip`, new Uint8Array([...bytes, 10]));
 * const tail = await auditZip(`${dir}/b.zip`);
 * await Deno.remove(dir, { recursive: true });
 * if (clean.length !== 0) throw new Error(JSON.stringify(clean));
 * if (!tail[0]?.message.includes("1 bytes come after")) throw new Error(JSON.stringify(tail));
 * ```
 */
export async function auditZip(path: string): Promise<ZipProblem[]> {
  // (the end record a zip reader takes: the last one, whatever follows it)
  const layout = await readZipLayout(path, { strict: false });
  if (layout === undefined) {
    return [{
      message: "it has no zip end record: not a whole zip",
      kind: "hidden",
    }];
  }
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    return audit(layout, size, (offset, length) => {
      if (offset < 0 || length < 0 || offset + length > size) return undefined;
      file.seekSync(offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = file.readSync(buf.subarray(got));
        if (n === null) return undefined;
        got += n;
      }
      return buf;
    });
  } finally {
    file.close();
  }
}

function audit(
  layout: ZipLayout,
  size: number,
  readAt: (offset: number, length: number) => Uint8Array | undefined,
): ZipProblem[] {
  const problems: ZipProblem[] = [];
  const hidden = (message: string, member?: string) =>
    problems.push({
      ...(member !== undefined ? { member } : {}),
      message,
      kind: "hidden",
    });
  if (layout.prefixBytes > 0) {
    hidden(
      `${layout.prefixBytes} bytes come before the zip's first member: no hash covers them, and a bundle procrec writes has none`,
    );
  }
  if (layout.suffixBytes > 0) {
    hidden(
      `${layout.suffixBytes} bytes come after the zip's end record: no hash covers them, and a bundle procrec writes has none`,
    );
  } else if (layout.suffixBytes < 0) {
    hidden("the zip's end record gives it a comment longer than the file");
  }
  if (layout.commentBytes > 0) {
    hidden(
      `the zip has a comment of ${layout.commentBytes} bytes: no hash covers it, and a bundle procrec writes has none`,
    );
  }
  if (
    layout.entries > MAX_ZIP_ENTRIES ||
    layout.centralDirectoryBytes > MAX_CENTRAL_DIRECTORY_BYTES
  ) return problems; // (refused by the reader, which says why)
  const cdStart = layout.centralDirectoryEnd - layout.centralDirectoryBytes;
  const cd = readAt(cdStart, layout.centralDirectoryBytes);
  if (cd === undefined) {
    hidden("its central directory lies outside the file");
    return problems;
  }
  const entries = centralEntries(cd, layout.entries, layout.prefixBytes);
  if (entries.leftover !== 0) {
    hidden(
      `its central directory holds ${entries.leftover} bytes that no entry accounts for`,
    );
  }
  for (const e of entries.list) {
    if (e.commentBytes > 0) {
      hidden(
        `the member has a comment of ${e.commentBytes} bytes: no hash covers it, and a bundle procrec writes has none`,
        e.name,
      );
    }
    if (e.symlink) {
      problems.push({
        member: e.name,
        message:
          "the member is a symbolic link: extracted, it points elsewhere; a bundle procrec writes has none",
        kind: "link",
      });
    }
  }
  // the members one after the other, from the first to the directory
  const byOffset = [...entries.list].sort((a, b) => a.offset - b.offset);
  let at = layout.prefixBytes;
  for (const [k, e] of byOffset.entries()) {
    if (e.offset > at) {
      hidden(
        `${e.offset - at} bytes come between ${
          k === 0 ? "the zip's start" : `member ${byOffset[k - 1].name}`
        } and the next member: no member accounts for them, and a bundle procrec writes has none`,
        e.name,
      );
    } else if (e.offset < at) {
      hidden("the member overlaps the one before it", e.name);
      at = Math.max(at, e.offset);
    }
    const head = readAt(e.offset, 30);
    if (
      head === undefined ||
      new DataView(head.buffer).getUint32(0, true) !== LOCAL
    ) {
      hidden("the member's local header is missing", e.name);
      return problems;
    }
    const h = new DataView(head.buffer);
    const nameLength = h.getUint16(26, true);
    const extraLength = h.getUint16(28, true);
    const localName = readAt(e.offset + 30, nameLength);
    if (localName === undefined || !sameBytes(localName, e.nameBytes)) {
      problems.push({
        member: e.name,
        message: `the member's local header names it ${
          JSON.stringify(
            new TextDecoder().decode(localName ?? new Uint8Array(0)),
          )
        }: a reader that reads the zip from its start sees another file`,
        kind: "renamed",
      });
    }
    let end = e.offset + 30 + nameLength + extraLength + e.compressed;
    if (e.flags & 8) {
      const next = k + 1 < byOffset.length ? byOffset[k + 1].offset : cdStart;
      end += descriptorLength(readAt, end, next - end, e);
    }
    at = Math.max(at, end);
  }
  if (cdStart > at) {
    hidden(
      `${
        cdStart - at
      } bytes come between the last member and the central directory: no member accounts for them, and a bundle procrec writes has none`,
    );
  } else if (cdStart < at) {
    hidden("the last member overlaps the central directory");
  }
  if (!layout.zip64 && layout.centralDirectoryEnd !== layout.endRecord) {
    hidden(
      `${
        layout.endRecord - layout.centralDirectoryEnd
      } bytes come between the central directory and the end record`,
    );
  }
  if (size < layout.endRecord) hidden("the end record lies outside the file");
  return problems;
}

/**
 * The length of the data descriptor after a member's data at `at`: 12 to
 * 24 bytes whose compressed size is the central directory's (with or
 * without its signature, 4- or 8-byte sizes); 0 when none is there (the
 * bytes are then counted as hidden by the caller).
 */
function descriptorLength(
  readAt: (offset: number, length: number) => Uint8Array | undefined,
  at: number,
  room: number,
  e: CentralEntry,
): number {
  // (the one that fills the room to the next member first: a descriptor
  // with 8-byte sizes also reads as one with 4-byte sizes and 8 bytes left)
  const lengths = [16, 24, 12, 20].sort((a, b) =>
    (b === room ? 1 : 0) - (a === room ? 1 : 0)
  );
  for (const length of lengths) {
    if (length > room) continue;
    const b = readAt(at, length);
    if (b === undefined) continue;
    const v = new DataView(b.buffer);
    const signed = length === 16 || length === 24;
    if (signed && v.getUint32(0, true) !== DESCRIPTOR) continue;
    const base = signed ? 4 : 0;
    // (its CRC is not compared: one altered in the directory is the
    // member's finding, when its data is read)
    const compressed = length - base === 12
      ? v.getUint32(base + 4, true)
      : Number(v.getBigUint64(base + 4, true));
    if (compressed === e.compressed) return length;
  }
  return 0;
}

/** The entries of a central directory, and the bytes after the last one. */
function centralEntries(
  cd: Uint8Array,
  count: number,
  prefix: number,
): { list: CentralEntry[]; leftover: number } {
  const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const list: CentralEntry[] = [];
  let p = 0;
  const utf8 = new TextDecoder();
  while (list.length < count && p + 46 <= cd.length) {
    if (v.getUint32(p, true) !== CENTRAL) break;
    const madeBy = v.getUint16(p + 4, true);
    const flags = v.getUint16(p + 8, true);
    let compressed = v.getUint32(p + 20, true);
    const uncompressed = v.getUint32(p + 24, true);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentBytes = v.getUint16(p + 32, true);
    const external = v.getUint32(p + 38, true);
    let offset = v.getUint32(p + 42, true);
    const end = p + 46 + nameLength + extraLength + commentBytes;
    if (end > cd.length) break;
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
    // ZIP64: the sizes and offset that do not fit, in this order
    for (
      let x = p + 46 + nameLength;
      x + 4 <= p + 46 + nameLength + extraLength;
    ) {
      const id = v.getUint16(x, true), n = v.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        const take = () => {
          const r = q + 8 <= x + 4 + n ? Number(v.getBigUint64(q, true)) : -1;
          q += 8;
          return r;
        };
        if (uncompressed === 0xffffffff) take();
        if (compressed === 0xffffffff) compressed = take();
        if (offset === 0xffffffff) offset = take();
      }
      x += 4 + n;
    }
    list.push({
      name: utf8.decode(nameBytes),
      nameBytes,
      flags,
      compressed,
      offset: offset + prefix,
      symlink: madeBy >> 8 === 3 && ((external >>> 16) & 0o170000) === S_IFLNK,
      commentBytes,
    });
    p = end;
  }
  return { list, leftover: cd.length - p };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
