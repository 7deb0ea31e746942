/**
 * The segments of a directory (`record -o DIR/ --rotate`): their names, their
 * headers, and how each one ends (final hash, end time, events). Needs
 * `--allow-read` for the directory.
 *
 * A segment is named `HOST-YYYYMMDDTHHMMSS.ffffffZ.cbor` (its UTC start), so
 * names sort in time; one being written, or whose recorder died, ends in
 * `.incomplete`.
 *
 * @module
 */
import { newDecoder } from "./_cbor.ts";
import { NeedMoreBytes, scanItem } from "./_cbor_scan.ts";
import { sha256 } from "./_hash.ts";
import { EMPTY_INCOMPLETE, RecordingReader } from "./recording_reader.ts";
import { MAX_ITEM_BYTES, type RecordingHeader } from "./schema.ts";

/** One segment file found in a directory. */
export interface SegmentEntry {
  /** File name (with `.incomplete` when not closed). */
  name: string;
  path: string;
  /** Closed with a trailer (its name does not end in `.incomplete`). */
  closed: boolean;
  header: RecordingHeader;
  /** UTC ns at which it begins (its segment start, else its time base). */
  startUtcNs: bigint;
  bytes: number;
  /**
   * Opens it for reading, when it is not a file at `path` (a member of an
   * evidence bundle); a file is opened by its path.
   */
  open?: () => Promise<RecordingReader>;
}

/** How a segment ends. */
export interface SegmentEnd {
  /** Its trailer's final hash, or the hash of its last complete item. */
  finalHash: Uint8Array;
  /** Its trailer's end time; for an unclosed one, undefined. */
  endUtcNs?: bigint;
  events: number;
  /** Lost events per reason, from the trailer. */
  lost?: Record<string, number>;
  /** A trailer was found. */
  closed: boolean;
}

/**
 * The file name of a segment of `host` starting at `startUtcNs`. Pure.
 *
 * @example
 * ```ts
 * import { segmentName } from "./segment_directory.ts";
 * const n = segmentName("web 1", 1_790_000_000_123_456_789n);
 * if (n !== "web_1-20260921T141320.123456Z.cbor") throw new Error(n);
 * ```
 */
export function segmentName(host: string, startUtcNs: bigint): string {
  const ms = Number(startUtcNs / 1_000_000n);
  const micro = Number((startUtcNs / 1000n) % 1_000_000n);
  const stamp = new Date(ms).toISOString().replace(/[-:]/g, "").replace(
    /\.\d+Z$/,
    "",
  );
  const safeHost = host.replace(/[^A-Za-z0-9._-]/g, "_") || "host";
  return `${safeHost}-${stamp}.${String(micro).padStart(6, "0")}Z.cbor`;
}

/** Whether a file name is a recording a segment directory may hold. */
export function isSegmentFileName(name: string): boolean {
  return name.endsWith(".cbor") || name.endsWith(".cbor.incomplete");
}

/** A directory could not be listed, or a file in it is not a recording. */
export interface SegmentListProblem {
  name: string;
  reason: string;
  /**
   * An empty `NAME.cbor.incomplete`: a recorder stopped (killed, or the host
   * lost power) between making a segment's file and writing its header.
   * What a crash leaves, not a sign of tampering; it holds no event.
   */
  empty?: boolean;
}

/**
 * Lists the recordings of `dir`, oldest first (by segment start, then name);
 * files that are not readable recordings, and entries named as segments that
 * are not regular files (a symbolic link, a directory), are returned as
 * problems.
 */
export async function listSegments(
  dir: string,
): Promise<{ segments: SegmentEntry[]; problems: SegmentListProblem[] }> {
  const segments: SegmentEntry[] = [];
  const problems: SegmentListProblem[] = [];
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!isSegmentFileName(e.name)) continue;
      if (e.isFile) names.push(e.name);
      else {
        // (a link or a directory in a segment's place is never read through,
        // and is no silence either: the segment it stands for is not there)
        problems.push({
          name: e.name,
          reason: `it is ${
            e.isSymlink
              ? "a symbolic link"
              : e.isDirectory
              ? "a directory"
              : "not a regular file"
          }, expected the segment's own file`,
        });
      }
    }
  } catch (e) {
    throw new Error(
      `Cannot list segment directory "${dir}": ${(e as Error).message}`,
      { cause: e },
    );
  }
  const base = dir.replace(/\/+$/, "");
  const present = new Set(names);
  for (const name of names.sort()) {
    const path = `${base}/${name}`;
    if (name.endsWith(".incomplete")) {
      // a recorder killed within its commit (NAME.cbor linked, the
      // .incomplete name not yet removed) leaves one file under both
      // names: it is read once, as NAME.cbor (found by review)
      const closed = name.slice(0, -".incomplete".length);
      if (present.has(closed) && await sameFile(path, `${base}/${closed}`)) {
        continue;
      }
      const st = await Deno.stat(path).catch(() => undefined);
      if (st?.size === 0) {
        problems.push({
          name,
          reason: `it is empty: ${EMPTY_INCOMPLETE}`,
          empty: true,
        });
        continue;
      }
    }
    try {
      segments.push(await readSegmentEntry(path));
    } catch (e) {
      // a segment being created right now, or deleted since the listing
      if (e instanceof Deno.errors.NotFound) continue;
      problems.push({ name, reason: (e as Error).message });
    }
  }
  sortSegments(segments);
  return { segments, problems };
}

/** Whether two paths name one file (device and inode). */
export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return x.dev === y.dev && x.ino !== null && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Sorts segments oldest first: by start, then by name. */
export function sortSegments(segments: SegmentEntry[]): void {
  segments.sort((a, b) =>
    a.startUtcNs < b.startUtcNs
      ? -1
      : a.startUtcNs > b.startUtcNs
      ? 1
      : a.name < b.name
      ? -1
      : a.name > b.name
      ? 1
      : 0
  );
}

/** Where one recording of a directory stands among its chains. */
export interface ChainPlace {
  /** Its chain, numbered from 0 in the order of each chain's oldest recording. */
  chain: number;
  /** The index (in the list given) of the recording before it in its chain. */
  before?: number;
}

/**
 * The chains of a directory's recordings, `entries` oldest first (as
 * {@link sortSegments} leaves them): one {@link ChainPlace} per entry. Pure.
 *
 * One directory may hold several chains: `collect` writes every recording of
 * a host into `DIR/<host>/`, a service's segments and a one-off recording
 * alike, and two segment directories of one host too. A recording joins
 * the chain of the predecessor its header names; one whose predecessor is
 * not there joins the chain of its own run (a gap inside a run); a
 * recording without a segment header, and a segment naming no predecessor
 * of a run not seen yet (a recorder started in an empty directory), begins
 * a chain. A segment whose predecessor is not there and whose run is new
 * begins a chain too: the run before it cannot be told from another
 * directory's (the reader decides whether the gap before it can be
 * retention).
 *
 * @example
 * ```ts
 * import { segmentChains } from "./segment_directory.ts";
 * const seg = (id: string, run: string, previous?: string) => ({
 *   name: `${id}.cbor`,
 *   header: { segment: { id, run, index: 0, startUtcNs: 0n, alive: [],
 *     ...(previous ? { previous: { name: `${previous}.cbor`, id: previous,
 *       finalHash: new Uint8Array(32), closed: true } } : {}) } },
 * }) as never;
 * const plain = { name: "one-off.cbor", header: {} } as never;
 * const places = segmentChains([seg("a", "r"), plain, seg("b", "r", "a"), seg("c", "s")]);
 * const got = places.map((p) => `${p.chain}:${p.before ?? "-"}`).join(" ");
 * if (got !== "0:- 1:- 0:0 2:-") throw new Error(got);
 * ```
 */
export function segmentChains(
  entries: readonly { name: string; header: RecordingHeader }[],
): ChainPlace[] {
  const places: ChainPlace[] = [];
  // each chain's newest entry so far, and the chain of each segment id, run
  // id and (for links to a recording without segment header, id "") name
  const newest: number[] = [];
  const byId = new Map<string, number>();
  const byRun = new Map<string, number>();
  const byName = new Map<string, number>();
  for (const [i, e] of entries.entries()) {
    const s = e.header.segment;
    let chain: number | undefined;
    if (s) {
      const p = s.previous;
      if (p) chain = p.id !== "" ? byId.get(p.id) : byName.get(p.name);
      chain ??= byRun.get(s.run);
    }
    if (chain === undefined) {
      chain = newest.length;
      newest.push(i);
      places.push({ chain });
    } else {
      places.push({ chain, before: newest[chain] });
      newest[chain] = i;
    }
    if (s) {
      byId.set(s.id, chain);
      byRun.set(s.run, chain);
    } else byName.set(e.name, chain);
  }
  return places;
}

/** Reads the header of one recording file as a {@link SegmentEntry}. */
export async function readSegmentEntry(path: string): Promise<SegmentEntry> {
  const header = await readHeader(path);
  const name = path.split("/").pop()!;
  const st = await Deno.stat(path);
  return {
    name,
    path,
    closed: !name.endsWith(".incomplete"),
    header,
    startUtcNs: segmentStart(header),
    bytes: st.size,
  };
}

/** UTC ns at which a recording begins: its segment start, else its time base. */
export function segmentStart(header: RecordingHeader): bigint {
  return header.segment
    ? BigInt(header.segment.startUtcNs)
    : BigInt(header.timeBase.utcNs);
}

/** The header of a recording file, reading no more of it than needed. */
export async function readHeader(path: string): Promise<RecordingHeader> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    const message = `Cannot read recording "${path}": ${(e as Error).message}`;
    // NotFound stays NotFound: a segment deleted since the listing
    throw e instanceof Deno.errors.NotFound
      ? new Deno.errors.NotFound(message, { cause: e })
      : new Error(message, { cause: e });
  }
  try {
    const r = await RecordingReader.fromStream(blocks(file), path);
    return r.header;
  } finally {
    file.close();
  }
}

async function* blocks(file: Deno.FsFile): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(1 << 16);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) return;
    yield buf.slice(0, n);
  }
}

// array(7) or array(8) (with publishing figures), then text(7) "trailer"
const TRAILER_MARKER = new Uint8Array([
  0x87,
  0x67, // text(7)
  ...new TextEncoder().encode("trailer"),
]);

/**
 * How a segment ends: for a closed one, its trailer (read from the file's
 * tail); otherwise the hash of its last complete item (the whole file is
 * read).
 */
export async function readSegmentEnd(path: string): Promise<SegmentEnd> {
  if (!path.endsWith(".incomplete")) {
    const t = await readTrailer(path);
    if (t) return { ...t, closed: true };
  }
  const reader = await RecordingReader.open(path);
  let hash: Uint8Array | undefined;
  let events = 0;
  for await (const c of reader.chunks()) {
    hash = c.hash;
    events = c.firstSeq + c.events.length;
  }
  if (reader.report.trailer && reader.report.complete) {
    const t = reader.report.trailer;
    return {
      finalHash: t.finalHash,
      endUtcNs: t.endUtcNs,
      events: t.events,
      lost: t.lost,
      closed: true,
    };
  }
  return {
    // (a copy: a chunk's hash is a view of the block it was read from)
    finalHash: hash?.slice() ?? await headerHash(path),
    events,
    closed: false,
  };
}

async function readTrailer(
  path: string,
): Promise<Omit<SegmentEnd, "closed"> | undefined> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    const len = Math.min(size, 1 << 16);
    await file.seek(size - len, Deno.SeekMode.Start);
    const buf = new Uint8Array(len);
    let off = 0;
    while (off < len) {
      const n = await file.read(buf.subarray(off));
      if (n === null) break;
      off += n;
    }
    for (let i = len - TRAILER_MARKER.length; i >= 0; i--) {
      if (!startsWith(buf, TRAILER_MARKER, i)) continue;
      try {
        if (scanItem(buf, i, MAX_ITEM_BYTES) !== len) continue;
        const item = newDecoder().decode(buf.subarray(i)) as unknown[];
        const [, , events, , lost, endUtcNs, finalHash] = item;
        if (
          typeof events === "number" && finalHash instanceof Uint8Array &&
          (typeof endUtcNs === "number" || typeof endUtcNs === "bigint")
        ) {
          return {
            // (a copy: a view would keep the 64 KiB read alive per segment)
            finalHash: finalHash.slice(),
            endUtcNs: BigInt(endUtcNs),
            events,
            lost: typeof lost === "object" && lost !== null
              ? lost as Record<string, number>
              : {},
          };
        }
      } catch {
        // not the trailer after all
      }
    }
    return undefined;
  } finally {
    file.close();
  }
}

async function headerHash(path: string): Promise<Uint8Array> {
  const bytes = await Deno.readFile(path);
  try {
    return sha256(bytes.subarray(0, scanItem(bytes, 0, MAX_ITEM_BYTES)));
  } catch (e) {
    if (e instanceof NeedMoreBytes) {
      throw new Error(`Cannot read recording "${path}": the header is cut off`);
    }
    throw e;
  }
}

function startsWith(buf: Uint8Array, m: Uint8Array, at: number): boolean {
  // the array head: 7 or 8 items
  if (buf[at] !== 0x87 && buf[at] !== 0x88) return false;
  for (let j = 1; j < m.length; j++) if (buf[at + j] !== m[j]) return false;
  return true;
}
