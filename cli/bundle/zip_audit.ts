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
  ZIP64_EOCD,
  ZIP64_LOCATOR,
  type ZipLayout,
} from "./zip_layout.ts";

/** Something in a zip that no hash covers. */
export interface ZipProblem {
  /** The member it is about, when it is about one. */
  member?: string;
  message: string;
  /**
   * `hidden`: bytes that no member, the directory or the end record
   * accounts for (before, between, after, a comment, an extra field of no
   * known kind); `renamed`: a member whose local header names another
   * file; `field`: a header field that disagrees with the directory (a
   * size, a method, a time), or an end record's count or disk number, or one
   * no writer gives; `check`: a CRC or an uncompressed size that differs
   * only where a reader checks the member's bytes against it (a local
   * header's CRC, a data descriptor's): every reader reads the same bytes,
   * and the one given the wrong value fails its check; `link`: a symbolic
   * link.
   */
  kind: "hidden" | "renamed" | "field" | "check" | "link";
}

const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const DESCRIPTOR = 0x08074b50;
/** A symbolic link's file type in the Unix mode of the external attributes. */
const S_IFLNK = 0o120000;
/** Extra fields: ZIP64 sizes and offset; the extended timestamp. */
const ZIP64_EXTRA = 0x0001;
const TIMESTAMP_EXTRA = 0x5455;

interface Extra {
  id: number;
  data: Uint8Array;
}

interface CentralEntry {
  name: string;
  nameBytes: Uint8Array;
  versionNeeded: number;
  flags: number;
  method: number;
  time: number;
  date: number;
  crc: number;
  compressed: number;
  uncompressed: number;
  offset: number;
  disk: number;
  madeBy: number;
  internal: number;
  external: number;
  /** The 8-byte slots ZIP64's extra field must hold (one per field marked). */
  zip64Slots: number;
  commentBytes: number;
  /** Its extra fields, or undefined when they do not parse. */
  extras: Extra[] | undefined;
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
  const say = (kind: ZipProblem["kind"], message: string, member?: string) =>
    problems.push({
      ...(member !== undefined ? { member } : {}),
      message,
      kind,
    });
  const hidden = (message: string, member?: string) =>
    say("hidden", message, member);
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
  endRecords(layout, readAt, say);
  if (layout.directoryShift < 0) {
    say(
      "field",
      `its end record places the central directory ${-layout
        .directoryShift} bytes past where it is`,
    );
  }
  const cdStart = layout.centralDirectoryEnd - layout.centralDirectoryBytes;
  const cd = readAt(cdStart, layout.centralDirectoryBytes);
  if (cd === undefined) {
    hidden("its central directory lies outside the file");
    return problems;
  }
  const entries = centralEntries(cd, MAX_ZIP_ENTRIES + 1, layout.prefixBytes);
  if (entries.leftover !== 0) {
    hidden(
      `its central directory holds ${entries.leftover} bytes that no entry accounts for`,
    );
  }
  if (entries.list.length !== layout.entries) {
    say(
      "field",
      `its end record says ${layout.entries} entries, and its central directory holds ${entries.list.length}`,
    );
  }
  for (const e of entries.list) {
    if (e.commentBytes > 0) {
      hidden(
        `the member has a comment of ${e.commentBytes} bytes: no hash covers it, and a bundle procrec writes has none`,
        e.name,
      );
    }
    if (e.disk !== 0) {
      say("field", `the member is said to be on disk ${e.disk}`, e.name);
    }
    checkExtras(e.extras, "central", e, hidden);
    checkEntryFields(e, say);
  }
  // one time for every member, as a bundle is written at once: the time
  // fields hold no more than one time's bytes
  const stamp = (e: CentralEntry) =>
    `${e.time},${e.date},${
      e.extras?.find((x) => x.id === TIMESTAMP_EXTRA)?.data.join(".") ?? ""
    }`;
  if (entries.list.some((e) => stamp(e) !== stamp(entries.list[0]))) {
    say(
      "field",
      "its members give different times: a bundle is written at once, and procrec gives them one",
    );
  }
  // (members listed in the order they are in: zip readers list either)
  for (let k = 1; k < entries.list.length; k++) {
    if (entries.list[k].offset <= entries.list[k - 1].offset) {
      say(
        "field",
        "its central directory lists the members in another order than the zip holds them",
      );
      break;
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
      say(
        "renamed",
        `the member's local header names it ${
          JSON.stringify(
            new TextDecoder().decode(localName ?? new Uint8Array(0)),
          )
        }: a reader that reads the zip from its start sees another file`,
        e.name,
      );
    }
    const localExtras = parseExtras(
      readAt(e.offset + 30 + nameLength, extraLength) ?? new Uint8Array(1),
    );
    checkExtras(localExtras, "local", e, hidden);
    checkLocalFields(h, localExtras, e, (m, kind) => say(kind, m, e.name));
    let end = e.offset + 30 + nameLength + extraLength + e.compressed;
    if (e.flags & 8) {
      const next = k + 1 < byOffset.length ? byOffset[k + 1].offset : cdStart;
      const d = descriptor(readAt, end, next - end, e);
      if (d.disagrees) {
        say(
          "check",
          "the member's data descriptor gives another CRC or size than the central directory",
          e.name,
        );
      }
      end += d.length;
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
  if (size < layout.endRecord) hidden("the end record lies outside the file");
  return problems;
}

/**
 * The end record (and ZIP64's end record and locator): one disk, as many
 * entries on it as in all, and nothing between the directory, the ZIP64
 * records and the end record.
 */
function endRecords(
  layout: ZipLayout,
  readAt: (offset: number, length: number) => Uint8Array | undefined,
  say: (kind: ZipProblem["kind"], message: string) => void,
): void {
  const eocd = readAt(layout.endRecord, 22);
  if (eocd === undefined) return;
  const v = new DataView(eocd.buffer);
  if (
    v.getUint16(4, true) !== 0 || v.getUint16(6, true) !== 0 ||
    v.getUint16(8, true) !== v.getUint16(10, true)
  ) say("field", "its end record names more than one disk");
  if (!layout.zip64) {
    if (layout.centralDirectoryEnd !== layout.endRecord) {
      say(
        "hidden",
        `${
          layout.endRecord - layout.centralDirectoryEnd
        } bytes come between the central directory and the end record`,
      );
    }
    return;
  }
  // ZIP64: its record right after the directory, of no extensible data,
  // then its locator right before the end record
  const rec = readAt(layout.centralDirectoryEnd, 56);
  const loc = readAt(layout.endRecord - 20, 20);
  if (rec === undefined || loc === undefined) return;
  const r = new DataView(rec.buffer), l = new DataView(loc.buffer);
  const recordEnd = layout.centralDirectoryEnd + 12 +
    Number(r.getBigUint64(4, true));
  if (
    r.getUint32(0, true) !== ZIP64_EOCD ||
    l.getUint32(0, true) !== ZIP64_LOCATOR ||
    recordEnd !== layout.centralDirectoryEnd + 56 ||
    recordEnd !== layout.endRecord - 20
  ) {
    say(
      "hidden",
      "its ZIP64 end record and locator do not follow the central directory and each other: bytes no hash covers lie between them",
    );
  }
  if (
    r.getUint32(16, true) !== 0 || r.getUint32(20, true) !== 0 ||
    r.getBigUint64(24, true) !== r.getBigUint64(32, true) ||
    l.getUint32(4, true) !== 0 || l.getUint32(16, true) !== 1
  ) say("field", "its ZIP64 end record names more than one disk");
  // each field of the 32-bit end record is ZIP64's mark or ZIP64's value
  // (readers take one or the other: found by review, a count of 6 there
  // and 7 in ZIP64's record hid a member from zip.js, not from Python), and
  // ZIP64's records are there only when a field needs them
  const pairs: [number, number, number][] = [
    [v.getUint16(8, true), 0xffff, Number(r.getBigUint64(24, true))],
    [v.getUint16(10, true), 0xffff, Number(r.getBigUint64(32, true))],
    [v.getUint32(12, true), 0xffffffff, Number(r.getBigUint64(40, true))],
    [v.getUint32(16, true), 0xffffffff, Number(r.getBigUint64(48, true))],
  ];
  if (pairs.some(([have, mark, wide]) => have !== mark && have !== wide)) {
    say(
      "field",
      "its end record and ZIP64's end record give different counts, sizes or places",
    );
  }
  if (!pairs.some(([have, mark]) => have === mark)) {
    say("field", "it has ZIP64 end records that none of its fields needs");
  }
  // (the versions of ZIP64's record: those of the format, 45 or more)
  if (r.getUint16(12, true) > 0x3ff || r.getUint16(14, true) > 63) {
    say("field", "its ZIP64 end record gives versions no writer does");
  }
}

/**
 * Extra fields of a header: only the kinds a zip writer puts there for its
 * own use, of their lengths (ZIP64's sizes and offset, the extended
 * timestamp); any other kind, or a length that runs past the header, is
 * room for bytes no hash covers.
 */
function checkExtras(
  extras: Extra[] | undefined,
  where: "local" | "central",
  e: CentralEntry,
  hidden: (message: string, member?: string) => void,
): void {
  if (extras === undefined) {
    hidden(`the member's ${where} extra fields do not parse`, e.name);
    return;
  }
  const seen = new Set<number>();
  for (const x of extras) {
    const n = x.data.length;
    const ok = !seen.has(x.id) &&
      (x.id === ZIP64_EXTRA
        ? n === (where === "central" ? 8 * e.zip64Slots : 16)
        : x.id === TIMESTAMP_EXTRA
        ? (n === 5 && x.data[0] === 1) || (n === 1 && where === "central")
        : false);
    seen.add(x.id);
    if (!ok) {
      hidden(
        `the member's ${where} header has an extra field of ${n} bytes (kind 0x${
          x.id.toString(16).padStart(4, "0")
        }) that no writer puts there, or puts there once: no hash covers it`,
        e.name,
      );
    }
  }
}

/**
 * The header fields that say how to read a member, against what a zip
 * writer gives: flags of a data descriptor, deflate's options and UTF-8
 * only (and UTF-8 exactly when the name is not ASCII), stored or deflated,
 * a version the format has, no internal attributes, and a plain file (no
 * link, device, setuid or setgid, whatever system the entry says made it:
 * found by review, unzip honours the mode for several).
 */
function checkEntryFields(
  e: CentralEntry,
  say: (kind: ZipProblem["kind"], message: string, member?: string) => void,
): void {
  const odd: string[] = [];
  if (e.flags & ~0x080e) odd.push(`flags 0x${e.flags.toString(16)}`);
  const ascii = e.nameBytes.every((c) => c < 0x80);
  if (!ascii && !(e.flags & 0x800)) {
    odd.push("a name not in ASCII, not marked UTF-8");
  }
  if (e.flags & 0x800 && !validUtf8(e.nameBytes)) {
    odd.push("a name marked UTF-8 that is not");
  }
  if (e.method !== 0 && e.method !== 8) odd.push(`method ${e.method}`);
  if (![10, 20, 45].includes(e.versionNeeded)) {
    odd.push(`version needed ${e.versionNeeded}`);
  }
  if ((e.madeBy & 0xff) > 63 || ![0, 3].includes(e.madeBy >> 8)) {
    odd.push(`made by 0x${e.madeBy.toString(16)}`);
  }
  if (e.internal !== 0) {
    odd.push(`internal attributes 0x${e.internal.toString(16)}`);
  }
  if (odd.length > 0) {
    say(
      "field",
      `the member's entry gives ${odd.join(", ")}: no writer does`,
      e.name,
    );
  }
  const mode = e.external >>> 16;
  const type = mode & 0o170000;
  if (type === S_IFLNK) {
    say(
      "link",
      "the member is a symbolic link: extracted, it points elsewhere; a bundle procrec writes has none",
      e.name,
    );
  } else if ((mode !== 0 && type !== 0o100000) || mode & 0o7000) {
    say(
      "field",
      `the member's mode is 0${mode.toString(8)}: not a plain file`,
      e.name,
    );
  }
}

function validUtf8(b: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * The local header's fields against the central directory's: version,
 * flags, method, time; its CRC and sizes too, unless a data descriptor
 * gives them (then 0, or ZIP64's marks with sizes of 0 or the directory's).
 */
function checkLocalFields(
  h: DataView,
  extras: Extra[] | undefined,
  e: CentralEntry,
  bad: (message: string, kind: "field" | "check") => void,
): void {
  const differs: string[] = [];
  if (h.getUint16(4, true) !== e.versionNeeded) differs.push("version");
  if (h.getUint16(6, true) !== e.flags) differs.push("flags");
  if (h.getUint16(8, true) !== e.method) differs.push("method");
  if (h.getUint16(10, true) !== e.time || h.getUint16(12, true) !== e.date) {
    differs.push("time");
  }
  const crc = h.getUint32(14, true);
  const sizes = {
    uncompressed: h.getUint32(22, true),
    compressed: h.getUint32(18, true),
  };
  if (
    !zip64Fill(extras, sizes) &&
    (sizes.compressed === 0xffffffff || sizes.uncompressed === 0xffffffff)
  ) differs.push("size");
  const { compressed, uncompressed } = sizes;
  if (e.flags & 8) {
    if (crc !== 0) differs.push("CRC");
    if (compressed !== 0 && compressed !== e.compressed) differs.push("size");
    else if (uncompressed !== 0 && uncompressed !== e.uncompressed) {
      differs.push("size");
    }
  } else {
    if (crc !== e.crc) differs.push("CRC");
    if (compressed !== e.compressed || uncompressed !== e.uncompressed) {
      differs.push("size");
    }
  }
  if (differs.length > 0) {
    bad(
      `the member's local header gives another ${
        differs.join(", ")
      } than the central directory`,
      differs.length === 1 && differs[0] === "CRC" ? "check" : "field",
    );
  }
}

/**
 * The data descriptor after a member's data at `at`: its length (12 to 24
 * bytes, with or without its signature, 4- or 8-byte sizes; 0 when none is
 * there, and the bytes are then counted as hidden by the caller), and
 * whether its CRC or sizes differ from the central directory's.
 */
function descriptor(
  readAt: (offset: number, length: number) => Uint8Array | undefined,
  at: number,
  room: number,
  e: CentralEntry,
): { length: number; disagrees: boolean } {
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
    const wide = length - base === 20;
    const compressed = wide
      ? Number(v.getBigUint64(base + 4, true))
      : v.getUint32(base + 4, true);
    const uncompressed = wide
      ? Number(v.getBigUint64(base + 12, true))
      : v.getUint32(base + 8, true);
    if (compressed !== e.compressed) continue;
    return {
      length,
      disagrees: v.getUint32(base, true) !== e.crc ||
        uncompressed !== e.uncompressed,
    };
  }
  return { length: 0, disagrees: false };
}

/** The extra fields in `b`, or undefined when a length runs past its end. */
function parseExtras(b: Uint8Array): Extra[] | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Extra[] = [];
  let p = 0;
  while (p < b.length) {
    if (p + 4 > b.length) return undefined;
    const id = v.getUint16(p, true), n = v.getUint16(p + 2, true);
    if (p + 4 + n > b.length) return undefined;
    out.push({ id, data: b.subarray(p + 4, p + 4 + n) });
    p += 4 + n;
  }
  return out;
}

/**
 * The entries of a central directory (at most `limit`), and the bytes after
 * the last one read.
 */
export function centralEntries(
  cd: Uint8Array,
  limit: number,
  prefix: number,
): { list: CentralEntry[]; leftover: number } {
  const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const list: CentralEntry[] = [];
  let p = 0;
  const utf8 = new TextDecoder();
  while (list.length < limit && p + 46 <= cd.length) {
    if (v.getUint32(p, true) !== CENTRAL) break;
    const madeBy = v.getUint16(p + 4, true);
    const internal = v.getUint16(p + 36, true);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentBytes = v.getUint16(p + 32, true);
    const external = v.getUint32(p + 38, true);
    const end = p + 46 + nameLength + extraLength + commentBytes;
    if (end > cd.length) break;
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
    const extras = parseExtras(
      cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength),
    );
    let compressed = v.getUint32(p + 20, true);
    let uncompressed = v.getUint32(p + 24, true);
    let offset = v.getUint32(p + 42, true);
    let disk = v.getUint16(p + 34, true);
    const zip64Slots = (uncompressed === 0xffffffff ? 1 : 0) +
      (compressed === 0xffffffff ? 1 : 0) + (offset === 0xffffffff ? 1 : 0);
    const f = { uncompressed, compressed, offset, disk };
    zip64Fill(extras, f);
    ({ uncompressed, compressed, offset, disk } = f);
    list.push({
      name: utf8.decode(nameBytes),
      nameBytes,
      versionNeeded: v.getUint16(p + 6, true),
      flags: v.getUint16(p + 8, true),
      method: v.getUint16(p + 10, true),
      time: v.getUint16(p + 12, true),
      date: v.getUint16(p + 14, true),
      crc: v.getUint32(p + 16, true),
      compressed,
      uncompressed,
      offset: offset + prefix,
      disk,
      madeBy,
      internal,
      external,
      zip64Slots,
      commentBytes,
      extras,
    });
    p = end;
  }
  return { list, leftover: cd.length - p };
}

/**
 * Fills the fields of `f` marked as not fitting (all ones) from ZIP64's
 * extra field, in the format's order (the last such field, as zip.js takes
 * it; a second one is named by the audit); false when there is none.
 */
function zip64Fill(
  extras: Extra[] | undefined,
  f: {
    uncompressed: number;
    compressed: number;
    offset?: number;
    disk?: number;
  },
): boolean {
  const z = extras?.findLast((x) => x.id === ZIP64_EXTRA)?.data;
  if (z === undefined) return false;
  const zv = new DataView(z.buffer, z.byteOffset, z.byteLength);
  let q = 0;
  const next = () => {
    const r = q + 8 <= z.length ? Number(zv.getBigUint64(q, true)) : -1;
    q += 8;
    return r;
  };
  if (f.uncompressed === 0xffffffff) f.uncompressed = next();
  if (f.compressed === 0xffffffff) f.compressed = next();
  if (f.offset === 0xffffffff) f.offset = next();
  if (f.disk === 0xffff) {
    f.disk = q + 4 <= z.length ? zv.getUint32(q, true) : -1;
  }
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
