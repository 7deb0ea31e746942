/**
 * Publishes sealed recording pieces to a NATS JetStream stream, in the
 * background. The local file is the spool: {@link PiecePublisher.add} only
 * queues (it never blocks or waits on the network), a bounded amount of piece
 * bytes is held in memory and the rest is read back from the file when sent;
 * pieces not acknowledged are re-sent, in order, after a reconnect (the
 * stream's `Nats-Msg-Id` deduplication drops what it already has). A
 * recording handed over whole ({@link PiecePublisher.resend}: `procrec
 * publish`, and the segments earlier runs left in a directory) is first
 * checked against the stream, and only the pieces it lacks are sent. A
 * piece that can never be sent (above the server's `max_payload`, or no
 * longer in its file) is named once, counted and passed over: it never
 * holds back the pieces after it. Needs `--allow-net` and `--allow-read`
 * (the recording).
 *
 * @module
 */
import { headers, type NatsConnection } from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import type { PublishCounts, SealedPiece } from "../log/mod.ts";
import { recordingId } from "../log/mod.ts";
import { toHex } from "../log/_hash.ts";
import { connectNats, type ConnectOptions } from "./connect_nats.ts";
import { ensureStream, waitJetStream } from "./ensure_stream.ts";
import { recordingPieces } from "./recording_pieces.ts";
import { storedPieces } from "./stored_pieces.ts";
import {
  HASH_HEADER,
  KIND_HEADER,
  PIECE_HEADER,
  pieceMsgId,
  pieceSubject,
} from "./piece_subject.ts";

/** Piece bytes held in memory at most; beyond, they are read from the file. */
export const HELD_BYTES = 64 * 1024 * 1024;
/**
 * Chunk size cap of a published recording: a NATS message is at most the
 * server's `max_payload` (1 MiB by default), so chunks stay well below it.
 */
export const PUBLISH_CHUNK_BYTES = 512 * 1024;
/** Pieces sent before waiting for their acknowledgements. */
const WINDOW = 128;
/** Acknowledgement timeout of one publish (ms). */
const PUBLISH_TIMEOUT_MS = 5000;

interface Entry {
  /** The recording's id. */
  id: string;
  subject: string;
  msgId: string;
  index: number;
  kind: SealedPiece["kind"];
  hash: string;
  length: number;
  offset: number;
  /** The bytes, or undefined once dropped from memory (read from the file). */
  bytes?: Uint8Array;
  paths: string[];
  sent: boolean;
  acked: boolean;
  /** Its file was deleted before it was acknowledged: it cannot be sent. */
  gone: boolean;
  /** It can never be sent (too large, or cut from its file): passed over. */
  unsendable: boolean;
}

/** A piece's file is gone (deleted by segment retention, or by hand). */
class PieceGone extends Error {}
/**
 * A piece that can never be sent as it is: larger than the server's
 * `max_payload` (or the stream's largest message), or cut short in its
 * file. Sending it again would fail again, and hold back every piece after
 * it (found by review: a segment header above `max_payload` kept the
 * chunks and trailers behind it pending).
 */
class PieceUnsendable extends Error {}

/**
 * What {@link PiecePublisher.resend} found of a recording handed over
 * whole, once it was checked against the stream.
 */
export interface ResentRecording {
  path: string;
  /** Checked (read, and the stream asked); false while not yet. */
  checked: boolean;
  /** The recording's id and subject, once read. */
  id?: string;
  subject?: string;
  /** Whole pieces in the file. */
  pieces: number;
  /** Of them, those the stream held already (when it could be asked). */
  stored: number;
  /** Of them, those queued to be sent. */
  queued: number;
  /** Bytes after the last whole piece (a piece being written, or damage). */
  tail: number;
  /** A closed recording's bytes that are no piece (see `recordingPieces`). */
  damage?: string;
  /** Why the file could not be read, when it could not. */
  error?: string;
}

/** The connection, and the stream when it could be found, to ask. */
interface CheckWith {
  nc: NatsConnection;
  jsm?: JetStreamManager;
  stream?: string;
}

/** Options of {@link PiecePublisher}. */
export interface PublisherOptions extends ConnectOptions {
  prefix: string;
  /** Called with a line for the user (connected, lost the connection, errors). */
  onNotice?: (text: string) => void;
  /** Create the stream when missing (default true). */
  createStream?: boolean;
  /** Piece bytes held in memory at most (default {@link HELD_BYTES}). */
  heldBytes?: number;
}

/**
 * A background publisher of recording pieces: `add()` from the writer's
 * `onPiece`, `close()` at the end.
 *
 * @example
 * ```ts ignore
 * const pub = PiecePublisher.start({ url: "nats://127.0.0.1:4222", prefix: "procrec" }, "host1");
 * const w = await RecordingWriter.create(path, header, { onPiece: (p) => pub.add(p) });
 * await w.close();
 * console.log(await pub.close(10_000));
 * ```
 */
export class PiecePublisher {
  #entries: Entry[] = [];
  #head = 0;
  #held = 0;
  #published = 0;
  #acked = 0;
  #sealed = 0;
  #wake: (() => void) | undefined;
  #closing = false;
  #deadline = Infinity;
  #done: Promise<void>;
  #nc: NatsConnection | undefined;
  #lastNotice = "";
  #ids = new Map<string, string>();
  /** Figures per recording id (the trailer's are its recording's). */
  #per = new Map<
    string,
    { sealed: number; published: number; acked: number }
  >();
  #gone = 0;
  #unsendable = 0;
  /** Pieces passed over as unsendable, per recording id. */
  #unsendablePer = new Map<string, number>();
  /** Recordings handed over whole, in order; those not yet checked. */
  #resent: ResentRecording[] = [];
  #unchecked: { r: ResentRecording; label?: string }[] = [];
  /** What the checks of recordings handed over whole need, once connected. */
  #checkWith: CheckWith | undefined;
  #checking: Promise<void> | undefined;
  /** The last error while publishing, if any. */
  lastError: string | undefined;

  private constructor(readonly opts: PublisherOptions, readonly host: string) {
    // never an unhandled rejection: a failure is kept and said, and what
    // was not acknowledged stays pending (the file has it)
    this.#done = this.#run().catch((e) => {
      this.lastError = (e as Error)?.message ?? String(e);
      this.#notice(`stopped publishing: ${this.lastError}`);
    });
  }

  /** Starts publishing in the background (connecting, retrying forever). */
  static start(opts: PublisherOptions, host: string): PiecePublisher {
    return new PiecePublisher(opts, host);
  }

  /** Queues a sealed piece (from the writer's `onPiece`); never blocks. */
  add(piece: SealedPiece): void {
    if (piece.kind === "header") {
      this.#ids.set(piece.tempPath, recordingId(piece.hash));
    }
    const id = this.#ids.get(piece.tempPath);
    if (id === undefined) return; // not a recording this publisher saw start
    this.addFor(id, piece);
  }

  /** Queues a piece of recording `id` of this host; never blocks. */
  addFor(id: string, piece: SealedPiece): void {
    this.#queue(id, pieceSubject(this.opts.prefix, this.host, id), piece, true);
  }

  #queue(
    id: string,
    subject: string,
    piece: SealedPiece,
    hold: boolean,
  ): void {
    const keep = hold &&
      this.#held + piece.bytes.length <= (this.opts.heldBytes ?? HELD_BYTES);
    if (keep) this.#held += piece.bytes.length;
    this.#entries.push({
      id,
      subject,
      msgId: pieceMsgId(id, piece.index, toHex(piece.hash)),
      index: piece.index,
      kind: piece.kind,
      hash: toHex(piece.hash),
      length: piece.bytes.length,
      offset: piece.offset,
      bytes: keep ? piece.bytes : undefined,
      paths: [piece.tempPath, piece.path],
      sent: false,
      acked: false,
      gone: false,
      unsendable: false,
    });
    this.#sealed++;
    this.#of(id).sealed++;
    this.#wake?.();
  }

  /**
   * Hands over recordings whole (files, each its own recording, of any
   * host): once connected, each is read, the stream is asked which of its
   * pieces it holds (when the stream cannot be asked, every piece is sent:
   * the stream drops the duplicates within its window) and the others are
   * queued, read back from the file when sent. A recording this publisher
   * is publishing live is left to that. With `label`, one notice says,
   * when all are checked, how many pieces were found missing. Never blocks;
   * {@link resent} says what was found.
   */
  resend(paths: string[], label?: string): void {
    for (const path of paths) {
      const r: ResentRecording = {
        path,
        checked: false,
        pieces: 0,
        stored: 0,
        queued: 0,
        tail: 0,
      };
      this.#resent.push(r);
      this.#unchecked.push({ r, label });
    }
    this.#startChecks();
    this.#wake?.();
  }

  /** The recordings handed over whole, in order, as far as they were checked. */
  get resent(): readonly ResentRecording[] {
    return this.#resent;
  }

  /**
   * Pieces sent at least once, acknowledged, and not yet acknowledged: of
   * every recording given, or of recording `id` only.
   */
  counts(id?: string): PublishCounts {
    if (id !== undefined) {
      const c = this.#of(id);
      return {
        published: c.published,
        acked: c.acked,
        pending: c.sealed - c.acked,
      };
    }
    return {
      published: this.#published,
      acked: this.#acked,
      pending: this.#sealed - this.#acked,
    };
  }

  #of(id: string): { sealed: number; published: number; acked: number } {
    let c = this.#per.get(id);
    if (!c) this.#per.set(id, c = { sealed: 0, published: 0, acked: 0 });
    return c;
  }

  /**
   * Pieces that cannot be published because their file was deleted before
   * they were acknowledged (counted as pending too).
   */
  get gone(): number {
    return this.#gone;
  }

  /**
   * Pieces passed over because they can never be sent (above the server's
   * `max_payload`, or cut short in their file): of every recording, or of
   * recording `id`; counted as pending too, and left in the local file.
   */
  unsendable(id?: string): number {
    return id === undefined
      ? this.#unsendable
      : this.#unsendablePer.get(id) ?? 0;
  }

  /**
   * Stops taking pieces and waits up to `timeoutMs` for every queued piece to
   * be acknowledged; then closes the connection and returns the figures.
   */
  async close(timeoutMs: number): Promise<PublishCounts> {
    this.#closing = true;
    this.#deadline = Date.now() + timeoutMs;
    this.#wake?.();
    await this.#done;
    while (this.#checking) await this.#checking;
    await this.#nc?.close().catch(() => {});
    const unchecked = this.#resent.filter((r) => !r.checked).length;
    if (unchecked > 0) {
      this.#notice(
        `${unchecked} ${
          unchecked === 1 ? "recording" : "recordings"
        } handed over whole (${this.#resent.find((r) => !r.checked)!.path}${
          unchecked > 1 ? ", ..." : ""
        }) could not be checked against the stream (${
          this.lastError ?? "no answer in time"
        }): procrec publish sends what they lack`,
      );
    }
    if (this.#unsendable > 0) {
      // (why each was passed over was said once, when it was)
      const one = this.#unsendable === 1;
      this.#notice(
        `${this.#unsendable} ${one ? "piece" : "pieces"} can never be sent as ${
          one ? "it is" : "they are"
        } (each named above, and why); ${
          one ? "it stays" : "they stay"
        } in the local recording`,
      );
    }
    return this.counts();
  }

  #notice(text: string): void {
    if (text === this.#lastNotice) return;
    this.#lastNotice = text;
    this.opts.onNotice?.(text);
  }

  #expired(): boolean {
    return this.#closing &&
      ((this.#head >= this.#entries.length && this.#unchecked.length === 0 &&
        this.#checking === undefined) ||
        Date.now() >= this.#deadline);
  }

  async #sleep(ms: number): Promise<void> {
    const left = this.#deadline - Date.now();
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        r();
      }, Math.max(0, Math.min(ms, left)));
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = undefined;
        r();
      };
    });
  }

  async #connect(): Promise<NatsConnection | undefined> {
    let wait = 250;
    while (!this.#expired()) {
      try {
        const nc = await connectNats({
          ...this.opts,
          timeoutMs: Math.max(
            500,
            Math.min(5000, this.#deadline - Date.now()),
          ),
        });
        this.#notice(`connected to ${this.opts.url}`);
        return nc;
      } catch (e) {
        this.lastError = (e as Error).message;
        this.#notice(
          `${this.lastError}; the recording is spooled and published once a server answers`,
        );
      }
      await this.#sleep(wait);
      wait = Math.min(2000, wait * 2);
    }
    return undefined;
  }

  async #run(): Promise<void> {
    const nc = await this.#connect();
    if (!nc) return;
    this.#nc = nc;
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") {
          this.#notice(`lost the connection to NATS; pieces are spooled`);
        } else if (s.type === "reconnect") {
          this.#notice(`reconnected to NATS; re-sending what is pending`);
        }
      }
    })().catch(() => {});
    let checkWith: CheckWith = { nc };
    if (this.opts.createStream !== false) {
      try {
        const jsm = await waitJetStream(nc, 15_000);
        const s = await ensureStream(jsm, this.opts.prefix, nc.info);
        if (s.note) this.#notice(s.note);
        checkWith = { nc, jsm, stream: s.name };
      } catch (e) {
        // an operator's stream with restricted permissions: publish anyway
        this.#notice(`${(e as Error).message} (publishing anyway)`);
      }
    }
    this.#checkWith = checkWith;
    this.#startChecks();
    const js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
    let backoff = 250;
    while (!this.#expired()) {
      if (this.#head >= this.#entries.length) {
        await this.#sleep(60_000);
        continue;
      }
      const batch = this.#entries.slice(this.#head, this.#head + WINDOW)
        .filter((e) => !e.acked && !e.gone && !e.unsendable);
      const results = await Promise.allSettled(
        batch.map((e) => this.#send(js, e)),
      );
      let failed: unknown;
      for (const [i, r] of results.entries()) {
        if (r.status === "fulfilled") {
          if (!batch[i].acked) {
            batch[i].acked = true;
            this.#acked++;
            this.#of(batch[i].id).acked++;
          }
        } else if (r.reason instanceof PieceGone) {
          // said once per piece; it must not hold back the pieces after it
          batch[i].gone = true;
          this.#gone++;
          this.lastError = r.reason.message;
          this.#notice(r.reason.message);
        } else if (r.reason instanceof PieceUnsendable) {
          // the same: said once, counted, passed over
          const e = batch[i];
          e.unsendable = true;
          this.#unsendable++;
          this.#unsendablePer.set(
            e.id,
            (this.#unsendablePer.get(e.id) ?? 0) + 1,
          );
          this.lastError = r.reason.message;
          this.#notice(r.reason.message);
        } else failed ??= r.reason;
      }
      while (
        this.#head < this.#entries.length &&
        (this.#entries[this.#head].acked || this.#entries[this.#head].gone ||
          this.#entries[this.#head].unsendable)
      ) {
        const e = this.#entries[this.#head];
        if (e.bytes) this.#held -= e.bytes.length;
        e.bytes = undefined;
        this.#head++;
      }
      if (this.#head > 4096 && this.#head * 2 > this.#entries.length) {
        this.#entries = this.#entries.slice(this.#head);
        this.#head = 0;
      }
      if (failed !== undefined) {
        this.lastError = (failed as Error)?.message ?? String(failed);
        this.#notice(
          `cannot publish yet (${this.lastError}); ${this.counts().pending} pieces pending`,
        );
        await this.#sleep(backoff);
        backoff = Math.min(2000, backoff * 2);
      } else {
        if (backoff > 250) this.#notice(`publishing again`);
        backoff = 250;
      }
    }
  }

  async #send(js: JetStreamClient, e: Entry): Promise<void> {
    const bytes = e.bytes ?? await readPiece(e);
    const max = this.#nc?.info?.max_payload;
    if (max !== undefined && bytes.length + 1024 > max) {
      throw new PieceUnsendable(
        `piece ${e.index} of ${e.subject} (the ${e.kind}) is ${bytes.length} bytes, above the server's max_payload of ${max} (less 1024 for the headers): it cannot be sent and is passed over, the pieces after it go on; it stays in "${
          e.paths[1]
        }" (raise max_payload on the servers, then procrec publish sends it)`,
      );
    }
    const h = headers();
    h.set(PIECE_HEADER, String(e.index));
    h.set(KIND_HEADER, e.kind);
    h.set(HASH_HEADER, e.hash);
    if (!e.sent) {
      e.sent = true;
      this.#published++;
      this.#of(e.id).published++;
    }
    try {
      await js.publish(e.subject, bytes, {
        msgID: e.msgId,
        headers: h,
        timeout: PUBLISH_TIMEOUT_MS,
      });
    } catch (err) {
      // the stream's own limit (an operator's max_msg_size) refuses it the
      // same way every time
      if (/message size exceeds maximum/i.test(String(err))) {
        throw new PieceUnsendable(
          `piece ${e.index} of ${e.subject} (the ${e.kind}), ${bytes.length} bytes, is refused by the stream: ${
            (err as Error).message
          }; it cannot be sent and is passed over, the pieces after it go on; it stays in "${
            e.paths[1]
          }"`,
        );
      }
      throw err;
    }
  }

  /** Starts checking what was handed over whole, once connected. */
  #startChecks(): void {
    if (
      this.#checking !== undefined || this.#checkWith === undefined ||
      this.#unchecked.length === 0 ||
      (this.#closing && Date.now() >= this.#deadline)
    ) return;
    this.#checking = this.#checkAll(this.#checkWith)
      .catch((e) => {
        // (those left are said unchecked at close, not tried again forever)
        this.#unchecked.length = 0;
        this.lastError = (e as Error)?.message ?? String(e);
        this.#notice(`stopped checking recordings: ${this.lastError}`);
      })
      .finally(() => {
        this.#checking = undefined;
        // (more may have come meanwhile)
        this.#startChecks();
        this.#wake?.();
      });
  }

  async #checkAll(w: CheckWith): Promise<void> {
    const found = new Map<string, { files: number; missing: number }>();
    while (this.#unchecked.length > 0) {
      if (this.#closing && Date.now() >= this.#deadline) return;
      const { r, label } = this.#unchecked.shift()!;
      await this.#check(w, r);
      if (label !== undefined) {
        const f = found.get(label) ?? { files: 0, missing: 0 };
        f.files++;
        f.missing += r.queued;
        found.set(label, f);
        if (!this.#unchecked.some((u) => u.label === label)) {
          found.delete(label);
          this.#notice(
            f.missing === 0
              ? `${label}: every piece of the ${f.files} ${
                f.files === 1 ? "recording" : "recordings"
              } is in the stream`
              : `${label}: ${f.missing} ${
                f.missing === 1 ? "piece is" : "pieces are"
              } not in the stream yet: sending ${
                f.missing === 1 ? "it" : "them"
              } (counted below as pending until acknowledged)`,
          );
        }
      }
    }
  }

  /** Reads one recording handed over whole and queues what the stream lacks. */
  async #check(w: CheckWith, r: ResentRecording): Promise<void> {
    let rec;
    try {
      rec = await recordingPieces(r.path);
    } catch (e) {
      r.error = (e as Error).message;
      r.checked = true;
      this.#notice(
        (e as Error).cause instanceof Deno.errors.NotFound
          ? `"${r.path}" is gone (deleted since it was handed over: segment retention, --keep?): not checked against the stream`
          : r.error,
      );
      return;
    }
    r.id = rec.id;
    r.subject = pieceSubject(this.opts.prefix, rec.header.host, rec.id);
    r.pieces = rec.pieces.length;
    r.tail = rec.tail;
    if (rec.damage) {
      r.damage = rec.damage;
      this.#notice(rec.damage);
    }
    if ([...this.#ids.values()].includes(rec.id)) {
      // this publisher sends it live, piece by piece
      r.checked = true;
      return;
    }
    let have = new Set<number>();
    if (w.jsm && w.stream) {
      try {
        have = await storedPieces(
          w.nc,
          w.jsm,
          w.stream,
          r.subject,
          Math.max(1000, Math.min(30_000, this.#deadline - Date.now())),
        );
      } catch (e) {
        this.#notice(
          `cannot ask the stream which pieces of ${r.path} it has (${
            (e as Error).message
          }); sending all of them (the stream drops duplicates within its window)`,
        );
      }
    } else {
      this.#notice(
        `cannot ask the stream which pieces it has (no stream found); sending every piece of the recordings handed over (the stream drops duplicates within its window)`,
      );
    }
    // a file still being written may be renamed to its final name meanwhile
    const closed = r.path.replace(/\.incomplete$/, "");
    for (const p of rec.pieces) {
      if (have.has(p.index)) {
        r.stored++;
        continue;
      }
      // (read back from the file when sent: a directory of segments is
      // never held in memory)
      this.#queue(rec.id, r.subject, { ...p, path: closed }, false);
      r.queued++;
    }
    r.checked = true;
  }
}

/** Reads a piece back from the recording (still `.incomplete`, or renamed). */
async function readPiece(e: Entry): Promise<Uint8Array> {
  let last: unknown;
  let missing = 0;
  let short: string | undefined;
  let shorts = 0;
  for (const path of e.paths) {
    let f: Deno.FsFile | undefined;
    try {
      f = await Deno.open(path, { read: true });
      await f.seek(e.offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(e.length);
      let off = 0;
      while (off < buf.length) {
        const n = await f.read(buf.subarray(off));
        if (n === null) {
          short = `"${path}" ends at offset ${
            e.offset + off
          }, inside the piece (${e.length} bytes from offset ${e.offset})`;
          shorts++;
          throw new Error(short);
        }
        off += n;
      }
      return buf;
    } catch (err) {
      last = err;
      if (err instanceof Deno.errors.NotFound) missing++;
    } finally {
      f?.close();
    }
  }
  if (short !== undefined && missing + shorts === e.paths.length) {
    // (cut from its file: reading it again finds no more)
    throw new PieceUnsendable(
      `piece ${e.index} of ${e.subject} (the ${e.kind}) cannot be read back: ${short}; it is passed over, the pieces after it go on`,
    );
  }
  if (missing === e.paths.length) {
    throw new PieceGone(
      `piece ${e.index} of ${e.subject} cannot be published: "${
        e.paths[1]
      }" was deleted (segment retention, --keep?) before the stream acknowledged it; it stays pending`,
    );
  }
  throw new Error(
    `Cannot read piece ${e.index} back from "${
      e.paths[1]
    }" (offset ${e.offset}): ${(last as Error)?.message}`,
  );
}
