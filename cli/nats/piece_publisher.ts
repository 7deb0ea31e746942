/**
 * Publishes sealed recording pieces to a NATS JetStream stream, in the
 * background. The local file is the spool: {@link PiecePublisher.add} only
 * queues (it never blocks or waits on the network), a bounded amount of piece
 * bytes is held in memory and the rest is read back from the file when sent;
 * pieces not acknowledged are re-sent, in order, after a reconnect (the
 * stream's `Nats-Msg-Id` deduplication drops what it already has). Needs
 * `--allow-net` and `--allow-read` (the recording).
 *
 * @module
 */
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { PublishCounts, SealedPiece } from "../log/mod.ts";
import { recordingId } from "../log/mod.ts";
import { toHex } from "../log/_hash.ts";
import { connectNats, type ConnectOptions } from "./connect_nats.ts";
import { ensureStream, waitJetStream } from "./ensure_stream.ts";
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
}

/** A piece's file is gone (deleted by segment retention, or by hand). */
class PieceGone extends Error {}

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

  /** Queues a piece of recording `id` (`procrec publish`); never blocks. */
  addFor(id: string, piece: SealedPiece): void {
    const keep = this.#held + piece.bytes.length <=
      (this.opts.heldBytes ?? HELD_BYTES);
    if (keep) this.#held += piece.bytes.length;
    this.#entries.push({
      id,
      subject: pieceSubject(this.opts.prefix, this.host, id),
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
    });
    this.#sealed++;
    this.#of(id).sealed++;
    this.#wake?.();
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
   * Stops taking pieces and waits up to `timeoutMs` for every queued piece to
   * be acknowledged; then closes the connection and returns the figures.
   */
  async close(timeoutMs: number): Promise<PublishCounts> {
    this.#closing = true;
    this.#deadline = Date.now() + timeoutMs;
    this.#wake?.();
    await this.#done;
    await this.#nc?.close().catch(() => {});
    return this.counts();
  }

  #notice(text: string): void {
    if (text === this.#lastNotice) return;
    this.#lastNotice = text;
    this.opts.onNotice?.(text);
  }

  #expired(): boolean {
    return this.#closing &&
      (this.#head >= this.#entries.length || Date.now() >= this.#deadline);
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
    if (this.opts.createStream !== false) {
      try {
        const jsm = await waitJetStream(nc, 15_000);
        const s = await ensureStream(jsm, this.opts.prefix, nc.info);
        if (s.note) this.#notice(s.note);
      } catch (e) {
        // an operator's stream with restricted permissions: publish anyway
        this.#notice(`${(e as Error).message} (publishing anyway)`);
      }
    }
    const js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
    let backoff = 250;
    while (!this.#expired()) {
      if (this.#head >= this.#entries.length) {
        await this.#sleep(60_000);
        continue;
      }
      const batch = this.#entries.slice(this.#head, this.#head + WINDOW)
        .filter((e) => !e.acked && !e.gone);
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
        } else failed ??= r.reason;
      }
      while (
        this.#head < this.#entries.length &&
        (this.#entries[this.#head].acked || this.#entries[this.#head].gone)
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
      throw new RangeError(
        `piece ${e.index} of ${e.subject} is ${bytes.length} bytes, above the server's max_payload of ${max}: raise max_payload on the servers (it stays pending until then)`,
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
    await js.publish(e.subject, bytes, {
      msgID: e.msgId,
      headers: h,
      timeout: PUBLISH_TIMEOUT_MS,
    });
  }
}

/** Reads a piece back from the recording (still `.incomplete`, or renamed). */
async function readPiece(e: Entry): Promise<Uint8Array> {
  let last: unknown;
  let missing = 0;
  for (const path of e.paths) {
    let f: Deno.FsFile | undefined;
    try {
      f = await Deno.open(path, { read: true });
      await f.seek(e.offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(e.length);
      let off = 0;
      while (off < buf.length) {
        const n = await f.read(buf.subarray(off));
        if (n === null) throw new Error(`it ends at ${e.offset + off}`);
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
