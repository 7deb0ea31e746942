/**
 * zip.js set up for Deno: no web workers, random-access reads from a file
 * (the central directory first, then only the members asked for). Needs
 * `--allow-read` (and `--allow-write` to create).
 *
 * @module
 */
import {
  configure,
  type Entry,
  type FileEntry,
  Reader,
  ZipReader,
} from "@zip.js/zip.js";

configure({ useWebWorkers: false });

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
  close(): Promise<void>;
}

/** The zip signature "PK\x03\x04" (a local file header) starts a bundle. */
export async function looksLikeZip(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return false;
  }
  try {
    const b = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      // A directory opens but cannot be read: not a zip either.
      const n = await file.read(b.subarray(got)).catch(() => null);
      if (n === null) break;
      got += n;
    }
    return got === 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 &&
      b[3] === 4;
  } finally {
    file.close();
  }
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
  const reader = new ZipReader(new FsFileReader(file));
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
    async close() {
      if (closed) return;
      closed = true;
      await reader.close().catch(() => {});
      file.close();
    },
  };
}

/** Whether an entry holds data (not a directory). */
export function isFileEntry(e: Entry): e is FileEntry {
  return !e.directory;
}

/** Reads a whole member into memory, checking its CRC-32. */
export async function readEntry(entry: Entry): Promise<Uint8Array> {
  if (!isFileEntry(entry)) {
    throw new Error(`"${entry.filename}" is a directory`);
  }
  const chunks: Uint8Array[] = [];
  await entry.getData(
    new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) }),
    { checkCrc32: true },
  );
  return concat(chunks);
}

/** Streams a member's bytes, checking its CRC-32 at the end unless told not to. */
export async function* streamEntry(
  entry: Entry,
  options: { checkCrc32?: boolean } = {},
): AsyncGenerator<Uint8Array> {
  if (!isFileEntry(entry)) {
    throw new Error(`"${entry.filename}" is a directory`);
  }
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const done = entry.getData(pipe.writable, {
    checkCrc32: options.checkCrc32 ?? true,
  });
  // a consumer that stops early cancels the stream; that rejection is expected
  done.catch(() => {});
  const reader = pipe.readable.getReader();
  let finished = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      yield r.value;
    }
    finished = true;
    await done;
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
