/**
 * One recording being collected from the stream: appends pieces in index
 * order to `DIR/<host>/<id>.cbor.incomplete`, checks the hash chain as it
 * goes, keeps pieces that arrive early in `<id>.cbor.ahead/`, and renames the
 * file to `<id>.cbor` after the trailer. The state lives on disk only, so a
 * restarted collector resumes where the files end. Needs `--allow-read` and
 * `--allow-write` for the output directory.
 *
 * @module
 */
import { newDecoder } from "../log/_cbor.ts";
import { equalBytes, sha256, toHex } from "../log/_hash.ts";
import { NeedMoreBytes, scanItem } from "../log/_cbor_scan.ts";
import { ByteWindow } from "../log/_byte_window.ts";
import { scanAt } from "../log/frame_recording.ts";
import { recordingId, SELF_DESCRIBE_TAG } from "../log/mod.ts";
import { makeOutputDir, OutputFile } from "../io/mod.ts";
import { subjectToken } from "./piece_subject.ts";
import * as fs from "node:fs";
import { dirname } from "node:path";

const WHAT = "collected recording";

/** Something wrong with a collected piece (altered, forged, a hole). */
export interface CollectProblem {
  host: string;
  id: string;
  /** The piece index, when the problem is about one piece. */
  index?: number;
  /** The stream sequence of the message, when known. */
  seq?: number;
  reason: string;
  /** A hole (pieces not yet in the stream) rather than a bad piece. */
  gap?: boolean;
}

/**
 * The SHA-256 of each piece written, packed one after the other (32 bytes a
 * piece: a recording of ten million pieces keeps 320 MB less than with an
 * array of one `Uint8Array` each).
 */
export class PackedHashes {
  #bytes = new Uint8Array(32 * 16);
  #n = 0;

  /** Pieces hashed. */
  get length(): number {
    return this.#n;
  }

  /** Bytes kept. */
  get size(): number {
    return this.#bytes.length;
  }

  /** The hash of piece `i` (a view: not to be kept past the next push). */
  at(i: number): Uint8Array {
    return this.#bytes.subarray(32 * i, 32 * i + 32);
  }

  push(hash: Uint8Array): void {
    if (32 * (this.#n + 1) > this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes.set(hash, 32 * this.#n++);
  }

  /** The same hashes in a buffer of their exact size (to keep). */
  trimmed(): PackedHashes {
    const t = new PackedHashes();
    t.#bytes = this.#bytes.slice(0, Math.max(32, 32 * this.#n));
    t.#n = this.#n;
    return t;
  }
}

/** Where a recording stands. */
export type CollectState = "open" | "complete";

/** A piece as it came from the stream. */
export interface IncomingPiece {
  index: number;
  bytes: Uint8Array;
  /** The `Procrec-Hash` header, if any. */
  claimedHash?: string;
  seq?: number;
}

/**
 * A recording being collected.
 *
 * @example
 * ```ts
 * import { CollectedRecording } from "./collected_recording.ts";
 * const dir = await Deno.makeTempDir();
 * const r = await CollectedRecording.open(dir, "h", "0".repeat(32));
 * const problems = r.accept({ index: 1, bytes: new Uint8Array([1]) });
 * r.close();
 * await Deno.remove(dir, { recursive: true });
 * if (problems.length !== 0 || r.aheadCount !== 1) throw new Error();
 * ```
 */
export class CollectedRecording {
  /** Hash of each piece written, by index. */
  #hashes = new PackedHashes();
  #dirty = false;
  /** The indexes of the pieces held (in `<id>.cbor.ahead/<index>`). */
  #ahead = new Set<number>();
  state: CollectState = "open";
  /** Pieces written to the file so far. */
  get pieces(): number {
    return this.#hashes.length;
  }
  /** Pieces held because an earlier one has not arrived. */
  get aheadCount(): number {
    return this.#ahead.size;
  }
  /** Duplicates (same bytes) seen and dropped. */
  duplicates = 0;
  /** Problems named for this recording, kept for the summary. */
  problems = 0;
  /** The first missing index of the hole named last (the collector names each hole once). */
  holeNamedAt: number | undefined;
  /** Its trailer was collected in this run (set by the collector). */
  completedInRun = false;
  /** Wall-clock ms of the last piece written. */
  lastPieceAt = 0;
  /** Called with each piece index once it is written to the file. */
  onWritten: ((index: number) => void) | undefined;

  private constructor(
    readonly host: string,
    readonly id: string,
    readonly path: string,
  ) {}

  /** The file while open. */
  get tempPath(): string {
    return `${this.path}.incomplete`;
  }

  get #aheadDir(): string {
    return `${this.path}.ahead`;
  }

  #heldPath(index: number): string {
    return `${this.#aheadDir}/${index}`;
  }

  /** The hashes of the pieces written (see {@link completeFrom}). */
  get hashes(): PackedHashes {
    return this.#hashes;
  }

  /**
   * A complete recording known by its pieces' hashes (from an earlier
   * {@link hashes}), without reading its file: a late piece is still told
   * apart as a duplicate, a contradiction or one past the trailer.
   */
  static completeFrom(
    dir: string,
    host: string,
    id: string,
    hashes: PackedHashes,
  ): CollectedRecording {
    const r = new CollectedRecording(host, id, `${dir}/${host}/${id}.cbor`);
    r.state = "complete";
    r.#hashes = hashes;
    return r;
  }

  /** Opens (or resumes) `dir/<host>/<id>.cbor`. */
  static async open(
    dir: string,
    host: string,
    id: string,
  ): Promise<CollectedRecording> {
    const hostDir = `${dir}/${host}`;
    await makeOutputDir(hostDir);
    const r = new CollectedRecording(host, id, `${hostDir}/${id}.cbor`);
    const done = await Deno.stat(r.path).catch(() => undefined);
    const temp = await Deno.lstat(r.tempPath).catch(() => undefined);
    if (done) {
      // a collector killed between the link and the removal left both
      // names of the one file
      if (temp && temp.ino === done.ino && temp.dev === done.dev) {
        await Deno.remove(r.tempPath);
      }
      r.state = "complete";
      r.#hashes = (await itemHashes(r.path, false)).hashes;
    } else if (temp) {
      const { hashes, last } = await itemHashes(r.tempPath, true);
      r.#hashes = hashes;
      r.#made = true;
      // a collector killed after the trailer, before the rename: finish it
      if (last !== undefined && r.#isTrailer(last)) r.#finish();
    }
    for await (const e of readDirOrEmpty(r.#aheadDir)) {
      const at = `${r.#aheadDir}/${e.name}`;
      if (/^(0|[1-9][0-9]*)$/.test(e.name)) {
        // (one appended before a kill, not yet removed: gone)
        if (Number(e.name) < r.#hashes.length) await Deno.remove(at);
        else r.#ahead.add(Number(e.name));
      } else if (e.name.endsWith(".tmp")) {
        // (one being held when the collector was killed, never acknowledged)
        await Deno.remove(at);
      }
    }
    // (the file is made with its first piece, exclusive, 0600, never
    // through a link: a host's messages that are never written leave no
    // file; it is opened for each piece and each sync, so that a collector
    // holds no descriptor between them, however many recordings it
    // collects or a host makes up)
    return r;
  }

  /** The `.incomplete` file has been made (by this run or an earlier one). */
  #made = false;

  /**
   * The `.incomplete` file opened to append where it ends: made (exclusive,
   * 0600) for the first piece, then opened again; never through a link.
   */
  #reopen(): OutputFile {
    const { O_WRONLY, O_APPEND, O_NOFOLLOW, O_CREAT, O_EXCL } = fs.constants;
    let fd: number;
    try {
      fd = fs.openSync(
        this.tempPath,
        O_WRONLY | O_APPEND | O_NOFOLLOW | (this.#made ? 0 : O_CREAT | O_EXCL),
        0o600,
      );
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new Error(
        code === "EEXIST"
          ? `Cannot write ${WHAT} "${this.tempPath}": it exists, made by another procrec collect writing this directory`
          : code === "ENOENT"
          ? `Cannot write ${WHAT} "${this.tempPath}": it is gone (removed while collecting)`
          : `Cannot write ${WHAT} "${this.tempPath}": ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (!this.#made) {
      try {
        fs.fchmodSync(fd, 0o600); // exactly, whatever the umask
      } catch (e) {
        fs.closeSync(fd);
        throw e;
      }
      this.#made = true;
    }
    return new OutputFile(this.path, this.tempPath, fd, false, WHAT);
  }

  /**
   * Takes one piece from the stream; returns the problems it shows. The
   * piece is written (in index order, the first one seen for each index)
   * even when it breaks the chain: the collected file then fails `verify`,
   * as it should.
   */
  accept(p: IncomingPiece): CollectProblem[] {
    const problems: CollectProblem[] = [];
    const name = (reason: string) => {
      problems.push({
        host: this.host,
        id: this.id,
        index: p.index,
        seq: p.seq,
        reason,
      });
    };
    const hash = sha256(p.bytes);
    if (p.claimedHash !== undefined && p.claimedHash !== toHex(hash)) {
      name(
        `its Procrec-Hash header says ${p.claimedHash}, its bytes hash to ${
          toHex(hash)
        }`,
      );
    }
    const whole = wholeItemProblem(p.bytes) ??
      (p.index === 0 ? this.#headerProblem(p.bytes) : undefined);
    if (whole !== undefined) {
      // (never written nor held: a resumed file is cut into pieces by its
      // items, so a piece that is not exactly one would shift every piece
      // after it; the stream keeps the message, named by its sequence)
      name(`${whole} (altered or forged); not written`);
      this.problems += problems.length;
      return problems;
    }
    const next = this.#hashes.length;
    if (p.index < next) {
      if (equalBytes(this.#hashes.at(p.index), hash)) this.duplicates++;
      else {
        name(
          `it differs from the piece ${p.index} already collected (altered or forged)`,
        );
      }
    } else if (this.state === "complete") {
      name(`it comes after the trailer`);
    } else if (p.index > next) {
      const old = this.#ahead.has(p.index)
        ? Deno.readFileSync(this.#heldPath(p.index))
        : undefined;
      if (old !== undefined && wholeItemProblem(old) === undefined) {
        if (equalBytes(sha256(old), hash)) this.duplicates++;
        else {
          name(
            `it differs from the piece ${p.index} already received (altered or forged)`,
          );
        }
      } else this.#hold(p.index, p.bytes);
    } else {
      for (const reason of this.#check(p.index, p.bytes)) name(reason);
      this.#append(p.bytes, hash);
      // pieces that were waiting for this one
      for (;;) {
        const idx = this.#hashes.length;
        if (!this.#ahead.has(idx) || this.#isComplete()) break;
        const f = this.#heldPath(idx);
        const bytes = Deno.readFileSync(f);
        const whole = wholeItemProblem(bytes);
        if (whole !== undefined) {
          // (held by an older collector, which did not check)
          problems.push({
            host: this.host,
            id: this.id,
            index: idx,
            reason: `${whole} (altered or forged); not written`,
          });
          this.#ahead.delete(idx);
          Deno.removeSync(f);
          break;
        }
        for (const reason of this.#check(idx, bytes)) {
          problems.push({ host: this.host, id: this.id, index: idx, reason });
        }
        this.#append(bytes, sha256(bytes));
        this.#ahead.delete(idx);
        Deno.removeSync(f);
      }
      if (this.#isComplete()) {
        // held pieces past the trailer: named as one that comes after it
        for (const idx of [...this.#ahead].sort((a, b) => a - b)) {
          problems.push({
            host: this.host,
            id: this.id,
            index: idx,
            reason: "it comes after the trailer",
          });
          this.#ahead.delete(idx);
          Deno.removeSync(this.#heldPath(idx));
        }
      }
      if (this.#ahead.size === 0) {
        try {
          Deno.removeSync(this.#aheadDir);
        } catch { /* never made */ }
      }
    }
    this.problems += problems.length;
    return problems;
  }

  /**
   * Keeps a piece that came before the ones it follows in `.ahead/<index>`:
   * written whole under a temporary name, synced, then renamed (the
   * directory is synced with the next {@link sync}, before the
   * acknowledgement), so a kill never leaves part of one.
   */
  #hold(index: number, bytes: Uint8Array): void {
    // inside the host's 0700 directory: nobody else can plant links
    Deno.mkdirSync(this.#aheadDir, { recursive: true, mode: 0o700 });
    const f = this.#heldPath(index);
    const tmp = `${f}.tmp`;
    const fd = fs.openSync(
      tmp,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC |
        fs.constants.O_NOFOLLOW,
      0o600,
    );
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    Deno.renameSync(tmp, f);
    this.#ahead.add(index);
    this.#heldSinceSync = true;
  }

  /** A piece was held since the last sync (its directory entry to sync). */
  #heldSinceSync = false;

  /** The missing pieces before the earliest held one, if any. */
  gap(): { from: number; to: number; held: number } | undefined {
    if (this.#ahead.size === 0 || this.#isComplete()) return undefined;
    // (a loop, not Math.min(...): 125,000 pieces held are more arguments
    // than a call takes)
    let first = Infinity;
    for (const k of this.#ahead) if (k < first) first = k;
    return { from: this.#hashes.length, to: first - 1, held: this.#ahead.size };
  }

  /**
   * Syncs what was written (before the messages are acknowledged) and
   * closes the file: a collector of many recordings (or of a host that
   * makes up ids) holds a descriptor only for those a batch touches. The
   * next piece opens it again, to append.
   */
  sync(): Promise<void> {
    if (this.#dirty && !this.#isComplete()) {
      const f = this.#reopen();
      try {
        f.sync();
      } finally {
        f.abandon();
      }
    }
    this.#dirty = false;
    if (this.#heldSinceSync) {
      this.#heldSinceSync = false;
      syncDirectory(this.#aheadDir);
    }
    return Promise.resolve();
  }

  /** Nothing is held open between pieces: kept for the callers' symmetry. */
  close(): void {}

  #append(bytes: Uint8Array, hash: Uint8Array): void {
    const trailer = this.#isTrailer(bytes);
    const f = this.#reopen();
    try {
      f.writeSync(bytes);
      if (trailer) f.sync();
    } finally {
      f.abandon();
    }
    this.#dirty = true;
    this.#hashes.push(hash);
    this.lastPieceAt = Date.now();
    this.onWritten?.(this.#hashes.length - 1);
    if (trailer) {
      this.#dirty = false;
      this.#finish();
    }
  }

  /**
   * The trailer is written and synced: the file takes its final name,
   * never over an existing file (a link fails if the name exists, then the
   * temporary name goes), and the directory is synced.
   */
  #finish(): void {
    try {
      Deno.linkSync(this.tempPath, this.path);
      Deno.removeSync(this.tempPath);
    } catch (e) {
      throw new Error(
        `Cannot rename collected recording "${this.tempPath}" to "${this.path}": ${
          (e as Error).message
        }; the complete recording is in "${this.tempPath}"`,
        { cause: e },
      );
    }
    syncDirectory(dirname(this.path));
    this.state = "complete";
  }

  #isComplete(): boolean {
    return this.state === "complete";
  }

  #isTrailer(bytes: Uint8Array): boolean {
    const item = decodeOrUndefined(bytes);
    return Array.isArray(item) && item[0] === "trailer";
  }

  /**
   * Why `bytes` cannot be this recording's header (then it is not written:
   * a file must begin with its header), or `undefined`.
   */
  #headerProblem(bytes: Uint8Array): string | undefined {
    if (
      bytes.length < 3 || bytes[0] !== 0xd9 ||
      (bytes[1] << 8 | bytes[2]) !== SELF_DESCRIBE_TAG
    ) {
      return "it is not a recording header (no tag 55799)";
    }
    if (recordingId(sha256(bytes)) !== this.id) {
      return `the header does not hash to the recording id ${this.id}`;
    }
    return undefined;
  }

  /** What is wrong with piece `index` given the pieces before it. */
  #check(index: number, bytes: Uint8Array): string[] {
    const out: string[] = [];
    const prev = this.#hashes.at(index - 1);
    if (index === 0) {
      // the subject's host is the only attribution the server checked (a
      // host may publish only under its own name): the header must agree
      const header = decodeOrUndefined(bytes);
      const host = header instanceof Map
        ? header.get("host")
        : (header as { host?: unknown } | undefined)?.host;
      if (typeof host !== "string" || subjectToken(host) !== this.host) {
        out.push(
          `its header names the host ${
            typeof host === "string" ? JSON.stringify(host) : "(none)"
          }, but it was published under host ${this.host} (passed off as another host's, or altered)`,
        );
      }
      return out;
    }
    const item = decodeOrUndefined(bytes);
    if (!Array.isArray(item)) {
      return ["it is not a CBOR chunk or trailer (altered or forged)"];
    }
    if (item[0] === "chunk") {
      const [, cIndex, , cPrev, digest, body] = item;
      if (cIndex !== index - 1) {
        out.push(`it says chunk ${cIndex}, expected chunk ${index - 1}`);
      }
      if (!(cPrev instanceof Uint8Array) || !equalBytes(cPrev, prev)) {
        out.push(
          `its previous hash does not match piece ${
            index - 1
          } (the chain is broken)`,
        );
      }
      if (
        !(body instanceof Uint8Array) || !(digest instanceof Uint8Array) ||
        !equalBytes(sha256(body).subarray(0, 16), digest)
      ) {
        out.push("its body does not match its digest (altered)");
      }
    } else if (item[0] === "trailer") {
      const [, chunks, , , , , finalHash] = item;
      if (chunks !== index - 1) {
        out.push(`the trailer counts ${chunks} chunks, collected ${index - 1}`);
      }
      if (!(finalHash instanceof Uint8Array) || !equalBytes(finalHash, prev)) {
        out.push(
          `the trailer's final hash does not match piece ${
            index - 1
          } (the chain is broken)`,
        );
      }
    } else {
      out.push("it is neither a chunk nor a trailer (altered or forged)");
    }
    return out;
  }
}

/**
 * Why `bytes` is not exactly one whole CBOR item (as a resumed file is cut
 * into pieces), or `undefined` when it is.
 */
function wholeItemProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return "it is empty, not one CBOR item";
  let end: number;
  try {
    end = scanItem(bytes, 0);
  } catch (e) {
    return e instanceof NeedMoreBytes
      ? `its ${bytes.length} bytes end inside a CBOR item`
      : `it is not one CBOR item (${(e as Error).message})`;
  }
  return end === bytes.length
    ? undefined
    : `its ${bytes.length} bytes hold more than one CBOR item (the first ends at byte ${end})`;
}

function decodeOrUndefined(bytes: Uint8Array): unknown {
  try {
    return newDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

async function* readDirOrEmpty(dir: string): AsyncGenerator<Deno.DirEntry> {
  try {
    yield* Deno.readDir(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * The SHA-256 of every whole item of a collected file, read a block at a
 * time, and the last item when it may be the trailer; with
 * `truncate`, a partial last item (a collector killed mid-write) is cut off.
 */
async function itemHashes(
  path: string,
  truncate: boolean,
): Promise<{ hashes: PackedHashes; last?: Uint8Array }> {
  // (a block at a time: a collected recording may be gigabytes)
  const file = await Deno.open(path, { read: true });
  const w = new ByteWindow(file.readable);
  const out = new PackedHashes();
  let pos = 0;
  let last: Uint8Array | undefined;
  try {
    while (await w.ensure(pos + 1)) {
      let end: number;
      try {
        end = await scanAt(w, pos);
      } catch (e) {
        if (e instanceof NeedMoreBytes && truncate) {
          await Deno.truncate(path, pos);
          break;
        }
        throw new Error(
          `Cannot resume collected recording "${path}": ${
            (e as Error).message
          }`,
        );
      }
      const item = w.view(pos, end);
      out.push(sha256(item));
      // (kept when it may be the trailer: an array of 7 or 8 items that
      // begins with a text of 7 bytes; a chunk is an array of 6)
      last = (item[0] === 0x87 || item[0] === 0x88) && item[1] === 0x67
        ? item.slice()
        : undefined;
      pos = end;
      w.drop(pos);
    }
  } finally {
    await w.close().catch(() => {});
  }
  return { hashes: out, last };
}

/** Makes the entries of `dir` durable; best effort (as the output opener does). */
function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch { /* not every file system allows it */ }
}
