/**
 * zip.js set up for Deno: no web workers, random-access reads from a file
 * (the central directory first, then only the members asked for). Needs
 * `--allow-read` (and `--allow-write` to create).
 *
 * @module
 */
import { concatBytes } from "../io/concat_bytes.ts";
import {
  configure,
  type Entry,
  type FileEntry,
  Reader,
  ZipReader,
} from "@zip.js/zip.js";

import {
  MAX_CENTRAL_DIRECTORY_BYTES,
  MAX_ZIP_ENTRIES,
  readZipLayout,
  type ZipLayout,
} from "./zip_layout.ts";
import { centralEntries } from "./zip_audit.ts";

// Small read chunks: zip.js inflates a whole chunk at once, and deflate
// expands up to ~1000 times, so a 512 KiB chunk of a zip bomb would be half a
// gigabyte before a size limit could stop it; 32 KiB bounds that to ~32 MiB.
configure({ useWebWorkers: false, chunkSize: 32 * 1024 });

/** Reads a `Deno.FsFile` with random access; reads are queued one at a time. */
class FsFileReader extends Reader<Deno.FsFile> {
  #file: Deno.FsFile;
  #queue: Promise<unknown> = Promise.resolve();
  constructor(file: Deno.FsFile) {
    super(file);
    this.#file = file;
  }
  override async init(): Promise<void> {
    await super.init?.();
    this.size = (await this.#file.stat()).size;
  }
  override readUint8Array(offset: number, length: number): Promise<Uint8Array> {
    const result = this.#queue.then(async () => {
      await this.#file.seek(offset, Deno.SeekMode.Start);
      const data = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = await this.#file.read(data.subarray(got));
        if (n === null) return data.subarray(0, got);
        got += n;
      }
      return data;
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** A zip file opened for reading; `close()` releases the file. */
export interface OpenZip {
  path: string;
  entries: Entry[];
  /** Bytes before the zip's first entry (none in a bundle procrec wrote). */
  prefixBytes: number;
  close(): Promise<void>;
}

/** Opens a zip file and reads its central directory; throws a clear error if it is not a whole zip. */
export async function openZip(path: string, what = "bundle"): Promise<OpenZip> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new Error(`Cannot open ${what} "${path}": ${(e as Error).message}`, {
      cause: e,
    });
  }
  // the end of the zip first: an entry count over the limit is refused
  // before the central directory is parsed (the end record zip.js takes: the
  // last one, even with bytes after it; found by review: one byte after the
  // zip made the layout unreadable here, and every limit was skipped)
  const layout = await readZipLayout(path, { strict: false }).catch(() =>
    undefined
  );
  if (layout === undefined) {
    file.close();
    const size = await Deno.stat(path).then((s) => s.size, () => -1);
    throw new Error(
      `Cannot read ${what} "${path}": it is not a whole zip file (no zip end record; ${size} bytes): truncated or not a zip`,
    );
  }
  if (layout.entries > MAX_ZIP_ENTRIES) {
    file.close();
    throw new Error(
      `Cannot read ${what} "${path}": it lists ${layout.entries} entries, more than ${MAX_ZIP_ENTRIES}, the limit for a ${what}`,
    );
  }
  if (layout.centralDirectoryBytes > MAX_CENTRAL_DIRECTORY_BYTES) {
    file.close();
    throw new Error(
      `Cannot read ${what} "${path}": its central directory is ${layout.centralDirectoryBytes} bytes, more than ${MAX_CENTRAL_DIRECTORY_BYTES}, the limit for a ${what}`,
    );
  }
  // (counted in the directory itself: an end record that says 0 entries
  // does not stop zip.js from finding all of them; found by review)
  const listed = await countListed(path, layout);
  if (listed > MAX_ZIP_ENTRIES) {
    file.close();
    throw new Error(
      `Cannot read ${what} "${path}": its central directory holds more than ${MAX_ZIP_ENTRIES} entries, the limit for a ${what}`,
    );
  }
  // names that would escape a directory (zip-slip) are listed, not refused:
  // procrec never writes members out, and verify reports them as tampering
  const reader = new ZipReader(new FsFileReader(file), {
    filenameValidation: "tolerant",
  });
  let entries: Entry[];
  try {
    entries = await reader.getEntries();
  } catch (e) {
    file.close();
    const size = await Deno.stat(path).then((s) => s.size, () => -1);
    const why = (e as Error).message;
    throw new Error(
      `Cannot read ${what} "${path}": it is not a whole zip file (${why}; ${size} bytes): ` +
        `truncated or not a zip`,
      { cause: e },
    );
  }
  let closed = false;
  return {
    path,
    entries,
    prefixBytes: layout.prefixBytes,
    async close() {
      if (closed) return;
      closed = true;
      await reader.close().catch(() => {});
      file.close();
    },
  };
}

/** The entries the central directory holds (counted up to one past the limit). */
async function countListed(path: string, layout: ZipLayout): Promise<number> {
  const start = layout.centralDirectoryEnd - layout.centralDirectoryBytes;
  const file = await Deno.open(path, { read: true });
  try {
    await file.seek(Math.max(0, start), Deno.SeekMode.Start);
    const cd = new Uint8Array(layout.centralDirectoryBytes);
    let got = 0;
    while (got < cd.length) {
      const n = await file.read(cd.subarray(got));
      if (n === null) break;
      got += n;
    }
    return centralEntries(cd.subarray(0, got), MAX_ZIP_ENTRIES + 1, 0).list
      .length;
  } finally {
    file.close();
  }
}

/**
 * Whether a member name could write outside a directory it is extracted to
 * (zip-slip): a `..` part, an absolute path, a drive letter, a NUL. A bundle
 * procrec writes has none.
 *
 * @example
 * ```ts
 * import { isUnsafeMemberName } from "./_zip.ts";
 * if (!isUnsafeMemberName("recordings/../../etc/cron.d/x")) throw new Error();
 * if (!isUnsafeMemberName("/etc/passwd") || !isUnsafeMemberName("C:\\x")) throw new Error();
 * if (isUnsafeMemberName("recordings/a..b.cbor")) throw new Error();
 * ```
 */
export function isUnsafeMemberName(name: string): boolean {
  const parts = name.split(/[\\/]/);
  return parts.includes("..") || name.startsWith("/") ||
    name.startsWith("\\") || /^[A-Za-z]:/.test(name) || name.includes("\0");
}

/** Whether an entry holds data (not a directory). */
export function isFileEntry(e: Entry): e is FileEntry {
  return !e.directory;
}

/** A member that inflates past the size it may have. */
export class MemberSizeError extends Error {
  constructor(readonly member: string, readonly limit: number) {
    super(
      `member "${member}" inflates past ${limit} bytes, the size it may have`,
    );
    this.name = "MemberSizeError";
  }
}

/**
 * Reads a whole member into memory, checking its CRC-32; never more than
 * `maxBytes` (the member is not inflated further).
 */
export async function readEntry(
  entry: Entry,
  maxBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of streamEntry(entry, { maxBytes })) chunks.push(c);
  return concatBytes(chunks);
}

/**
 * Streams a member's bytes, checking its CRC-32 at the end unless told not
 * to; with `maxBytes`, throws {@link MemberSizeError} as soon as the member
 * inflates past it (nothing more is inflated: zip.js writes only as fast as
 * the bytes are read).
 */
export async function* streamEntry(
  entry: Entry,
  options: { checkCrc32?: boolean; maxBytes?: number } = {},
): AsyncGenerator<Uint8Array> {
  if (!isFileEntry(entry)) {
    throw new Error(`"${entry.filename}" is a directory`);
  }
  const max = options.maxBytes ?? Infinity;
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const done = entry.getData(pipe.writable, {
    checkCrc32: options.checkCrc32 ?? true,
  });
  // a consumer that stops early cancels the stream; that rejection is expected
  done.catch(() => {});
  // zip.js failing before it writes (a damaged local header) never closes
  // the pipe: every read races that failure, or it would wait forever
  const failure = done.then(() => new Promise<never>(() => {}));
  failure.catch(() => {});
  const reader = pipe.readable.getReader();
  let finished = false;
  let total = 0;
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), failure]).catch((e) => {
        throw memberError(entry.filename, e);
      });
      if (r.done) break;
      total += r.value.length;
      if (total > max) throw new MemberSizeError(entry.filename, max);
      yield r.value;
    }
    finished = true;
    await done.catch((e) => {
      throw memberError(entry.filename, e);
    });
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** What zip.js's own messages about a member mean. */
const ZIP_MESSAGES: Record<string, string> = {
  "Ambiguous archive":
    "its local header and the zip's directory disagree about it",
  "Invalid uncompressed size":
    "it inflates to another size than the zip's directory gives",
  "Invalid CRC32": "its bytes do not match the CRC-32 the zip gives",
  "Invalid compressed data": "its compressed bytes are damaged",
  "Invalid password": "it is encrypted (procrec never encrypts a member)",
  "Compression method not supported":
    "it is compressed with a method other than stored or deflate",
  "Local file header not found": "its local header is missing or damaged",
  "Zip64 extra field not found": "the Zip64 sizes it announces are missing",
};

/**
 * A failure of zip.js while reading `member`, said with the member's name
 * and what it means (zip.js's own words kept in brackets).
 */
function memberError(member: string, e: unknown): Error {
  const message = (e as Error)?.message ?? String(e);
  const meaning = ZIP_MESSAGES[message];
  return new MemberReadError(
    member,
    meaning ? `${meaning} (zip: ${message})` : message,
    meaning !== undefined,
    e,
  );
}

/**
 * A member zip.js could not read: `detail` says why (what zip.js's words
 * mean, when known); the message names the member too.
 */
export class MemberReadError extends Error {
  constructor(
    readonly member: string,
    readonly detail: string,
    known: boolean,
    cause: unknown,
  ) {
    super(
      `member "${member}" cannot be read: ${detail}${
        known ? "; the bundle was altered or damaged" : ""
      }`,
      { cause },
    );
    this.name = "MemberReadError";
  }
}
