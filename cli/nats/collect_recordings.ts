/**
 * `procrec collect`'s engine: a durable JetStream consumer writes one
 * recording per host and recording id under an output directory, byte for
 * byte as the host wrote it, checking the chain as pieces arrive. Each batch
 * is written and synced before its messages are acknowledged, and the state
 * is the files themselves, so a collector killed at any point resumes
 * without duplicates or holes. Needs `--allow-net`, `--allow-read`,
 * `--allow-write`.
 *
 * @module
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  type JsMsg,
} from "@nats-io/jetstream";
import { connectNats, type ConnectOptions } from "./connect_nats.ts";
import { waitJetStream } from "./ensure_stream.ts";
import { retryJetStream } from "./retry_jetstream.ts";
import {
  COLLECT_MARK,
  HASH_HEADER,
  parsePieceSubject,
  PIECE_HEADER,
  subjectToken,
} from "./piece_subject.ts";
import {
  CollectedRecording,
  type CollectProblem,
} from "./collected_recording.ts";
import { ResidentRecordings } from "./_resident_recordings.ts";
import { isDiskFull } from "../io/disk_full.ts";

/** Options of {@link collectRecordings}. */
export interface CollectOptions extends ConnectOptions {
  prefix: string;
  outDir: string;
  /** Only this host's recordings. */
  host?: string;
  /** Keep collecting until `signal` aborts (else stop when caught up). */
  follow?: boolean;
  /** Durable consumer name (default `procrec-collect`, `-<host>` with a host). */
  durable?: string;
  signal?: AbortSignal;
  /** Called for each problem as it is found. */
  onProblem?: (p: CollectProblem) => void;
  /** Called for each recording completed (trailer collected). */
  onComplete?: (r: CollectedRecording) => void;
  /** Called for each piece written, in index order (benchmarks). */
  onPiece?: (host: string, id: string, index: number) => void;
  /**
   * With `follow`: the unfinished recordings kept in memory at most (default
   * {@link MAX_RESIDENT}), checked after each batch. The least recently
   * written go first, from the host with the most in memory; their state is
   * their files, read again when a piece of theirs comes. Complete
   * recordings are let go after their batch.
   */
  maxResident?: number;
  /** Called each time the collector has caught up, with the recordings it keeps in memory (tests). */
  onCaughtUp?: (resident: readonly CollectedRecording[]) => void;
}

/** What a collection run did. */
export interface CollectResult {
  /**
   * Without `follow`, every recording the run wrote to; with `follow`, those
   * still kept in memory at the end (see {@link released}).
   */
  recordings: CollectedRecording[];
  /**
   * The problems named (each went to `onProblem` as it was found): all of
   * them without `follow`; with `follow` the first {@link KEPT_PROBLEMS}.
   */
  problems: CollectProblem[];
  /** Problems named in the run. */
  problemCount: number;
  /** Of them, those that are not holes: altered, forged or unwritable pieces. */
  alteredCount: number;
  /**
   * With `follow`: recordings let go from memory: complete ones (each named
   * by `onComplete`), unfinished ones, and of those the ones with a hole
   * (named once, as found).
   */
  released: { complete: number; unfinished: number; withHole: number };
  /** Messages taken from the stream in this run. */
  messages: number;
  /**
   * Why the run stopped early: a recording could not be written for want
   * of space or for an I/O error of the output's file system. Its pieces
   * from there on are left unacknowledged, and the next run writes them.
   */
  stoppedBy?: string;
}

/**
 * Whether `e` is the output's file system failing (full, over quota,
 * read-only, an I/O error), not something about the recording: the run
 * stops, and the pieces not written stay in the stream for the next run.
 * Acknowledged, as before, they were lost to every later run of this
 * consumer with nothing said (found by review).
 */
function writeFailure(e: unknown): boolean {
  if (isDiskFull(e)) return true;
  for (let x = e as Error | undefined; x; x = x.cause as Error | undefined) {
    const code = (x as { code?: unknown }).code;
    if (code === "EIO" || code === "EROFS") return true;
    if (/os error (5|30)\b/.test(String(x.message ?? ""))) return true;
  }
  return false;
}

const BATCH = 256;

/** {@link CollectOptions.maxResident} by default. */
export const MAX_RESIDENT = 1024;
/** Problems a `follow` run keeps for its result (all are named as found). */
export const KEPT_PROBLEMS = 1000;

/**
 * Collects until caught up (or, with `follow`, until `signal` aborts).
 *
 * @example
 * ```ts ignore
 * const r = await collectRecordings({ url: "nats://127.0.0.1:4222", prefix: "procrec", outDir: "fleet" });
 * console.log(r.recordings.length, r.problems.length);
 * ```
 */
export async function collectRecordings(
  opts: CollectOptions,
): Promise<CollectResult> {
  const nc = await connectNats({ ...opts, name: "procrec collect" });
  const resident = new ResidentRecordings(
    Math.max(1, opts.maxResident ?? MAX_RESIDENT),
  );
  const open = resident.open;
  const problems: CollectProblem[] = [];
  let problemCount = 0, alteredCount = 0;
  const name = (p: CollectProblem) => {
    problemCount++;
    if (!p.gap) alteredCount++;
    // (a follower runs for months: it keeps the first problems only)
    if (!opts.follow || problems.length < KEPT_PROBLEMS) problems.push(p);
    opts.onProblem?.(p);
  };
  let messages = 0;
  /** Why the run stops after this batch (see {@link writeFailure}). */
  let stoppedBy: string | undefined;
  try {
    await markCollectDir(opts.outDir);
    const jsm = await waitJetStream(nc);
    const filter = opts.host
      ? `${opts.prefix}.${subjectToken(opts.host)}.>`
      : `${opts.prefix}.>`;
    // with --follow, a collector may start before any host created the stream
    const stream = await retryJetStream(
      `find a stream for "${filter}" on ${opts.url}`,
      async () => {
        for (;;) {
          try {
            return await jsm.streams.find(filter.replace(/>$/, "x"));
          } catch (e) {
            if (
              !opts.follow || opts.signal?.aborted ||
              !/no stream matches/i.test(String(e))
            ) throw e;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      },
    );
    const durable = opts.durable ??
      (opts.host
        ? `procrec-collect-${subjectToken(opts.host)}`
        : "procrec-collect");
    const existing = await retryJetStream(
      `look up consumer "${durable}" of stream "${stream}"`,
      () =>
        jsm.consumers.info(stream, durable).catch((e) => {
          if (/consumer not found/i.test(String(e))) return undefined;
          throw e;
        }),
    );
    if (!existing) {
      await retryJetStream(
        `create consumer "${durable}" on stream "${stream}"`,
        () =>
          jsm.consumers.add(stream, {
            durable_name: durable,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
            filter_subject: filter,
            // a killed collector's unacknowledged pieces come back this soon
            ack_wait: 5e9,
            max_ack_pending: 10_000,
          }),
      );
    }
    const js = jetstream(nc);
    const consumer = await retryJetStream(
      `open consumer "${durable}"`,
      () => js.consumers.get(stream, durable),
    );
    // recordings whose file cannot be opened or resumed: named once, their
    // pieces left unwritten (the other hosts' go on)
    const broken = new Set<string>();
    const recording = async (host: string, id: string, seq: number) => {
      const key = `${host}/${id}`;
      let r = open.get(key);
      if (!r) {
        if (broken.has(key)) return undefined;
        // a complete recording let go is known by its hashes (its file is
        // not read again for a late piece)
        const known = resident.completeHashes(key);
        try {
          r = known !== undefined
            ? CollectedRecording.completeFrom(opts.outDir, host, id, known)
            : await CollectedRecording.open(opts.outDir, host, id);
        } catch (e) {
          broken.add(key);
          if (writeFailure(e)) {
            stop(key, e, seq);
            return undefined;
          }
          name({
            host,
            id,
            seq,
            reason: `${
              (e as Error).message
            }; its pieces are not written in this run (this consumer acknowledges them; the stream keeps them, and collect with another --durable name reads them again)`,
          });
          return undefined;
        }
        const onPiece = opts.onPiece;
        if (onPiece) r.onWritten = (i) => onPiece(host, id, i);
        resident.add(key, r);
      }
      return r;
    };
    // a recording that cannot be written (its file removed, the disk
    // full...): named, and no more of its pieces are written in this run;
    // the other hosts' go on
    // the output's file system failing: the run stops after this batch,
    // and the pieces of the recording it failed on are not acknowledged
    const unwritten = new Set<string>();
    const stop = (key: string, e: unknown, seq?: number) => {
      unwritten.add(key);
      const [host, id] = key.split("/");
      const reason = `${
        (e as Error).message
      }; collect stops: its pieces from here on are not acknowledged, and the next collect run writes them`;
      stoppedBy ??= `${key}: ${reason}`;
      name({ host, id, seq, reason });
    };
    const fail = (r: CollectedRecording, e: unknown, seq?: number) => {
      const key = `${r.host}/${r.id}`;
      resident.drop(key);
      broken.add(key);
      if (writeFailure(e)) {
        stop(key, e, seq);
        return;
      }
      name({
        host: r.host,
        id: r.id,
        seq,
        reason: `${
          (e as Error).message
        }; no more of its pieces are written in this run (this consumer acknowledges them; the stream keeps them, and collect with another --durable name reads them again)`,
      });
    };
    // a fetch returns once it has `want` pieces or at its expiry: ask for
    // what the stream says is waiting (at least one), so that a follower
    // gets each piece as it comes instead of at the expiry
    let want = BATCH;
    while (!opts.signal?.aborted) {
      const batch: JsMsg[] = [];
      // a leader election or an outage: wait (with --follow for as long as
      // it takes; else up to a minute)
      await retryJetStream("fetch pieces", async () => {
        const iter = await consumer.fetch({
          max_messages: want,
          expires: 1000,
        });
        for await (const m of iter) batch.push(m);
      }, opts.follow ? Infinity : 60_000);
      if (opts.follow) {
        const left = batch.length ? batch[batch.length - 1].info.pending : 0;
        want = Math.max(1, Math.min(BATCH, left));
      }
      const touched = new Set<CollectedRecording>();
      /** The recording of each message taken ("" for none). */
      const keyOf = new Map<JsMsg, string>();
      /** Messages not looked at: the run stopped before them. */
      let untaken = 0;
      for (const m of batch) {
        if (stoppedBy !== undefined) {
          untaken++;
          continue;
        }
        messages++;
        const where = parsePieceSubject(opts.prefix, m.subject);
        // (a header a hostile host made unreadable is no piece's: reading
        // it threw, and stopped every collect run for all hosts; found by
        // review)
        const headers = readHeaders(m);
        // (digits only: "", "0x1" or " 2 " are no index)
        const indexText = headers?.get(PIECE_HEADER) ?? "";
        const index = /^(0|[1-9][0-9]*)$/.test(indexText)
          ? Number(indexText)
          : NaN;
        if (!where || !Number.isSafeInteger(index)) {
          name({
            host: where?.host ?? "?",
            id: where?.id ?? "?",
            seq: m.seq,
            reason:
              `message ${m.seq} on "${m.subject}" is not a recording piece (subject PREFIX.<host>.<id> and a Procrec-Piece header expected${
                headers === null ? "; its headers cannot be read" : ""
              }); skipped`,
          });
          keyOf.set(m, "");
          continue;
        }
        keyOf.set(m, `${where.host}/${where.id}`);
        const r = await recording(where.host, where.id, m.seq);
        if (r === undefined) continue;
        const wasComplete = r.state === "complete";
        const had = r.pieces + r.aheadCount;
        try {
          for (
            const p of r.accept({
              index,
              bytes: m.data,
              claimedHash: headers?.get(HASH_HEADER) || undefined,
              seq: m.seq,
            })
          ) name(p);
        } catch (e) {
          fail(r, e, m.seq);
          continue;
        }
        touched.add(r);
        // (the most recently written go last; a piece refused moves none)
        if (r.pieces + r.aheadCount !== had) {
          resident.written(`${r.host}/${r.id}`, r);
        }
        if (!wasComplete && r.state === "complete") {
          r.completedInRun = true;
          opts.onComplete?.(r);
        }
      }
      for (const r of touched) {
        try {
          await r.sync();
        } catch (e) {
          fail(r, e);
        }
      }
      // written and synced: now the stream may forget them (but for those
      // of a recording the output failed on, and those not taken: they come
      // back to the next run)
      for (const m of batch) {
        const key = keyOf.get(m);
        if (key !== undefined && !unwritten.has(key)) m.ack();
      }
      if (batch.length > 0) await nc.flush();
      if (stoppedBy !== undefined) {
        if (untaken > 0) {
          opts.onProblem?.({
            host: "?",
            id: "?",
            reason:
              `${untaken} more pieces of this batch were not looked at (collect stopped); the next run takes them`,
          });
        }
        break;
      }
      // (a follower keeps a bounded number in memory, whatever comes)
      if (opts.follow) resident.release();
      // caught up: nothing left in the stream for this consumer, and
      // nothing delivered to an earlier (killed) collector waiting for
      // redelivery; what is missing now is a hole (a busy stream is caught
      // up when a batch takes its last piece, not only when a fetch comes
      // back empty)
      const last = batch[batch.length - 1];
      if (last !== undefined && last.info.pending > 0) continue;
      const info = await retryJetStream(
        `read consumer "${durable}"`,
        () => consumer.info(),
        opts.follow ? Infinity : 60_000,
      );
      if (info.num_pending > 0 || info.num_ack_pending > 0) continue;
      for (const g of resident.unnamedHoles()) {
        name({
          host: g.host,
          id: g.id,
          index: g.from,
          gap: true,
          reason: `${
            g.to > g.from
              ? `pieces ${g.from}..${g.to} are`
              : `piece ${g.from} is`
          } missing from the stream (${g.held} later ${
            g.held === 1 ? "piece is" : "pieces are"
          } held until ${g.to > g.from ? "they come" : "it comes"})`,
        });
      }
      if (!opts.follow) break;
      opts.onCaughtUp?.([...open.values()]);
    }
  } finally {
    for (const r of open.values()) {
      await r.sync().catch(() => {});
      r.close();
    }
    await nc.drain().catch(() => nc.close());
  }
  return {
    recordings: [...open.values()],
    problems,
    problemCount,
    alteredCount,
    released: {
      complete: resident.releasedComplete,
      unfinished: resident.releasedUnfinished.all,
      withHole: resident.releasedUnfinished.withHole,
    },
    messages,
    ...(stoppedBy !== undefined ? { stoppedBy } : {}),
  };
}

/**
 * The headers of `m`, `undefined` when it has none, `null` when they cannot
 * be read (the client throws on a value holding a line break).
 */
function readHeaders(m: JsMsg): JsMsg["headers"] | null {
  try {
    return m.headers;
  } catch {
    return null;
  }
}

/** Writes {@link COLLECT_MARK} in `dir` when it is not there. */
async function markCollectDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await Deno.writeTextFile(
      `${dir}/${COLLECT_MARK}`,
      "procrec collect writes DIR/<host>/<recording id>.cbor here\n",
      { createNew: true, mode: 0o600 },
    );
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}
