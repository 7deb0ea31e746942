/**
 * Opens what a command was given as evidence: a recording file, or a bundle
 * holding recordings. Needs `--allow-read`.
 *
 * A bundle (a zip, recognized by its first bytes) is read like the recording
 * it holds, with the same events and so the same output. A bundle with
 * several recordings needs one named: `member` (a command's `--member NAME`)
 * or a `#NAME` suffix on the path (`case.zip#incident.cbor`), which lets
 * `replay --diff` compare two recordings of one bundle. NAME is the member
 * name (`recordings/a.cbor`) or the file name (`a.cbor`). Without a name, a
 * bundle with several recordings is an error that lists them. Reading a
 * bundle does not verify it: `procrec verify` does.
 *
 * @module
 */
// (the zip code is loaded only for a bundle: most inputs are recordings)
import { looksLikeZip } from "../bundle/zip_layout.ts";
import {
  readHeader,
  RecordingReader,
  type RecordingSource,
  SegmentSetReader,
} from "../log/mod.ts";
import { CliError } from "../errors.ts";
import { pathExists } from "../path_exists.ts";
import {
  INPUT_LIMITS,
  InputError,
  inputInfo,
  openInputStream,
  readInputBytes,
  refuseOpenToOthers,
} from "../io/mod.ts";

/**
 * `BUNDLE#MEMBER` split: the file to open and the member it names, or the
 * path itself (no member) when it exists or no part before a `#` does. The
 * part before the last `#` is taken when it exists (a directory too, which
 * the caller then refuses by name); else the longest part before an earlier
 * `#` that is a file (a member's name may hold a `#`).
 *
 * @example
 * ```ts
 * import { splitMember } from "./_input.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/case.zip`, "");
 * const s = await splitMember(`${dir}/case.zip#a#1.cbor`);
 * await Deno.remove(dir, { recursive: true });
 * if (s.file !== `${dir}/case.zip` || s.member !== "a#1.cbor") throw new Error();
 * ```
 */
export async function splitMember(
  path: string,
): Promise<{ file: string; member?: string }> {
  if (await pathExists(path)) return { file: path };
  const last = path.lastIndexOf("#");
  if (last > 0 && await pathExists(path.slice(0, last))) {
    return { file: path.slice(0, last), member: path.slice(last + 1) };
  }
  for (let hash = path.lastIndexOf("#", last - 1); hash > 0;) {
    if ((await statOrNull(path.slice(0, hash)))?.isFile) {
      return { file: path.slice(0, hash), member: path.slice(hash + 1) };
    }
    hash = path.lastIndexOf("#", hash - 1);
  }
  return { file: path };
}

/** Options of {@link openRecordingInput}. */
export interface RecordingInputOptions {
  /** Which recording of a bundle (ignored for a recording file). */
  member?: string;
  /**
   * A segment directory (or one bundled): read only the segments covering
   * this UTC span (ns).
   */
  fromUtcNs?: bigint;
  toUtcNs?: bigint;
}

/**
 * Opens a recording, or one recording of a bundle, for reading; a failure is
 * a {@link CliError} (exit 2) whose message names the file.
 */
export async function openRecordingInput(
  path: string | string[],
  options: RecordingInputOptions = {},
): Promise<RecordingSource> {
  if (Array.isArray(path)) {
    if (path.length === 1) return await openRecordingInput(path[0], options);
    return await asCliError(SegmentSetReader.open(path, options));
  }
  const split = await splitMember(path);
  const file = split.file;
  const member = split.member ?? options.member;
  if ((await statOrNull(file))?.isDirectory) {
    if (file !== path) {
      throw new CliError(
        `Cannot read "${path}": "${file}" is a directory, so "#${member}" names nothing`,
      );
    }
    // a segment directory (record -o DIR/ --rotate) is one recording
    return await asCliError(SegmentSetReader.open([path], options));
  }
  const info = await asCliError(inputInfo(file, "recording"));
  if (info.kind === "stream") {
    if (file !== path) {
      throw new CliError(
        `Cannot read "${path}": "${file}" is a pipe or device, not a bundle, so "#${member}" names nothing`,
      );
    }
    return await asCliError(readStreamInput(path));
  }
  if (!(await looksLikeZip(file))) {
    if (file !== path) {
      throw new CliError(
        `Cannot read "${path}": "${file}" is not a bundle, so "#${member}" names nothing`,
      );
    }
    // a segment read alone still gets the processes alive at its start
    const header = await asCliError(readHeader(path));
    if (header.segment) {
      return await asCliError(SegmentSetReader.open([path], options));
    }
    return await asCliError(RecordingReader.open(path));
  }
  const { openBundle } = await import("../bundle/open_bundle.ts");
  const bundle = await asCliError(openBundle(file));
  // a loose recording, or the segments of a directory as one recording
  return await asCliError(
    bundle.openSource(member, {
      closeBundle: true,
      fromUtcNs: options.fromUtcNs,
      toUtcNs: options.toUtcNs,
    }),
  );
}

/**
 * A recording on a pipe, FIFO, device or stdin, read once: its first bytes
 * are looked at (a bundle needs random access: refused) and then given to
 * the reader with the rest, none lost.
 */
async function readStreamInput(path: string): Promise<RecordingReader> {
  const source = (await openInputStream(path, "recording"))[
    Symbol.asyncIterator
  ]();
  const head: Uint8Array[] = [];
  let got = 0;
  while (got < 4) {
    const r = await source.next();
    if (r.done) break;
    head.push(r.value);
    got += r.value.length;
  }
  const b = (i: number) => {
    let off = i;
    for (const h of head) {
      if (off < h.length) return h[off];
      off -= h.length;
    }
    return -1;
  };
  if (b(0) === 0x50 && b(1) === 0x4b && b(2) === 3 && b(3) === 4) {
    await source.return?.(undefined);
    throw new InputError(
      `Cannot read "${path}": it is a bundle (zip) on a pipe or device; a bundle ` +
        `needs random access: save it to a file first`,
    );
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (;;) {
      const r = await source.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return await RecordingReader.fromStream(all(), path);
}

/**
 * `p`, with its failure (messages name the file) as a {@link CliError},
 * exit 2.
 */
export async function asCliError<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message, 2, { cause: e });
  }
}

/**
 * A key file's text, read through the bounded reader (at most
 * `INPUT_LIMITS.key` bytes: `--key /dev/zero` is an error, not gigabytes);
 * `what` is "public key" or "private key". A private key that others than
 * its owner can read is refused, as a redaction key is (found by review:
 * `bundle create --sign` signed with a key of mode 0644).
 */
export async function readKeyFile(path: string, what: string): Promise<string> {
  if (what === "private key") {
    const st = await statOrNull(path);
    if (st?.isFile) {
      refuseOpenToOthers(path, what, st.mode, (m) => new CliError(m));
    }
  }
  const bytes = await asCliError(
    readInputBytes(path, { what, maxBytes: INPUT_LIMITS.key }),
  );
  return new TextDecoder().decode(bytes);
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch {
    return null;
  }
}

/**
 * The recording's boots, each a source of its own
 * ({@link SegmentSetReader.byBoot}): a segment directory that spans a
 * reboot gives one per boot, any other input itself.
 */
export function sourcesByBoot(reader: RecordingSource): RecordingSource[] {
  return reader instanceof SegmentSetReader ? reader.byBoot() : [reader];
}

/**
 * Refuses, for `command`, a recording whose segments span a reboot (an
 * analysis of one boot at a time: pids start again at a reboot).
 */
export function requireOneBoot(
  reader: RecordingSource,
  command: string,
  remedy =
    "give it one boot's segments (a directory of their own, or a single segment file)",
): void {
  if (!(reader instanceof SegmentSetReader)) return;
  const boots = reader.boots();
  if (boots.length <= 1) return;
  throw new CliError(
    `Cannot ${command} "${reader.name}": its segments span ${boots.length} boots (${
      boots.map((b) => `${b[0].header.bootId} from ${b[0].name}`).join(", ")
    }), and pids start again at a reboot: ${remedy} (procrec replay shows each boot)`,
  );
}
