/**
 * Segment mode: a recording kept as a directory of segments (made 0700, each
 * file through the one output opener: 0600, never through a link), each a complete
 * recording (header, chunks, trailer) that names its predecessor, so the
 * directory is one verifiable chain. Needs `--allow-read` and `--allow-write`
 * for the directory.
 *
 * - Rotation (by size or age, or {@link SegmentWriter.rotateNow}) closes the
 *   segment and opens the next between two events: no event is lost or
 *   written twice. Every segment of a run shares the run's time base.
 * - Each header lists what stands at its start ({@link LiveProcesses}): the
 *   host's account names, the processes alive (image, arguments, current
 *   name) and their images' hashes, so a segment read alone has parents
 *   for its trees, and its running processes their hashes and users.
 * - Retention deletes closed segments only, oldest first, and the next
 *   header names each one deleted (name, span, final hash, events); every
 *   header carries the running total of events retention deleted from the
 *   chain (`deletedEvents`), absent once it cannot be known.
 * - A full disk (ENOSPC, EDQUOT) never ends the recording: the segment is
 *   left as `NAME.incomplete` with every chunk written before, events are
 *   counted, and when a new segment can be written it starts with one `lost`
 *   event of reason `disk`. Each try to begin one applies retention first,
 *   as a rotation does (the segments beyond `--keep` are what frees space).
 * - A new run in a directory links to the previous run's last segment; one
 *   still `.incomplete` (its recorder died) is linked with `closed: false`.
 *
 * @module
 */
import type { Lost, ProcEvent } from "../events/types.ts";
import {
  type DeletedSegment,
  encodeEvent,
  type HeaderInit,
  RecordingWriter,
  type SegmentInfo,
  type WriterOptions,
} from "../log/mod.ts";
import {
  listSegments,
  readSegmentEnd,
  sameFile,
  type SegmentEntry,
  segmentName,
} from "../log/segment_directory.ts";
import { toHex } from "../log/_hash.ts";
import { LiveProcesses } from "../analysis/live_processes.ts";
import { isDiskFull, makeOutputDir, openOutput } from "../io/mod.ts";
import type { Retention, Rotation } from "./parse_rotation.ts";
import { readKernelFileOnce } from "../native/ffi.ts";
import { type DirLock, lockHolder, takeLock } from "./_dir_lock.ts";

/** The file in a segment directory naming the writer's pid while it runs. */
export const WRITER_PID_FILE = "writer.pid";
/**
 * The file whose lock (flock) a recorder holds while it writes the
 * directory: the claim that two recorders cannot both take, and that the
 * kernel lets go when the recorder ends however it ends. Empty; removed at
 * a clean stop (a killed recorder's stays, and holds nobody off).
 */
export const WRITER_LOCK_FILE = "writer.lock";

/** Options of {@link SegmentWriter.open}. */
export interface SegmentWriterOptions {
  dir: string;
  rotate?: Rotation;
  keep?: Retention;
  /** Passed to each segment's {@link RecordingWriter}. */
  writer?: WriterOptions;
  /** Where notices go (stderr). */
  warn?: (line: string) => void;
  /** UTC now in ns (tests). */
  nowUtcNs?: () => bigint;
}

/** A closed segment retention may delete. */
interface ClosedSegment {
  name: string;
  path: string;
  startUtcNs: bigint;
  bytes: number;
  /** Known when this run wrote it; read from the file otherwise. */
  id?: string;
  /** The id of the segment its header names as its predecessor. */
  previousId?: string;
  end?: { finalHash: Uint8Array; endUtcNs: bigint; events: number };
}

type Previous = NonNullable<SegmentInfo["previous"]>;

function randomId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

function defaultNow(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Writes events into a directory of segments.
 *
 * @example
 * ```ts
 * import { SegmentWriter } from "./segment_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const w = await SegmentWriter.open({
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "test", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
 *   options: {},
 * }, { dir, writer: { flushIntervalMs: 0 } });
 * w.write({ kind: "comm", t: 1, pid: 2, tid: 2, comm: "x" });
 * await w.rotateNow();
 * w.write({ kind: "comm", t: 2, pid: 2, tid: 2, comm: "y" });
 * await w.close();
 * const names = [...Deno.readDirSync(dir)].map((e) => e.name);
 * await Deno.remove(dir, { recursive: true });
 * if (names.filter((n) => n.endsWith(".cbor")).length !== 2) throw new Error(names.join());
 * ```
 */
export class SegmentWriter {
  readonly dir: string;
  readonly run = randomId();
  #header: HeaderInit;
  #opts: SegmentWriterOptions;
  #now: () => bigint;
  #w: RecordingWriter | undefined;
  #id = "";
  #index = 0;
  #segStartUtcNs = 0n;
  #live: LiveProcesses;
  #previous: Previous | undefined;
  /** The predecessor the current segment's header names (its id). */
  #currentPreviousId: string | undefined;
  #closed: ClosedSegment[] = [];
  #lastT = 0;
  /** Events counted while no segment could be written. */
  #diskLost = 0;
  #diskLostTotal = 0;
  /**
   * The `lost` record (reason disk) written into the current segment, by
   * its place among the segment's events, until the segment closes.
   */
  #pendingLoss: { index: number; count: number } | undefined;
  #diskSince: bigint | undefined;
  #retryAt = 0n;
  #rotateRequested = false;
  #pendingDeleted: DeletedSegment[] = [];
  #segments = 0;
  #deletedTotal = 0;
  /**
   * Events in the segments of this chain that retention deleted, this run
   * and the runs before (each header carries it); undefined once it cannot
   * be known (a deletion whose events could not be read, a segment gone
   * without a header naming its deletion, a chain begun by a recorder that
   * did not count).
   */
  #deletedEvents: number | undefined = 0;
  /**
   * The id of the last segment of the chain retention deleted (at the
   * start, the predecessor of the oldest segment there): the one the next
   * deletion's header must name for the total to hold.
   */
  #lastDeletedId: string | undefined;
  #done = false;

  private constructor(header: HeaderInit, opts: SegmentWriterOptions) {
    this.dir = opts.dir.replace(/\/+$/, "") || "/";
    this.#header = header;
    this.#opts = opts;
    this.#now = opts.nowUtcNs ?? defaultNow;
    this.#live = new LiveProcesses(header.os);
  }

  /**
   * Opens the directory (creating it, mode 0700), links to the last segment
   * already there, applies retention, and begins the first segment.
   */
  static async open(
    header: HeaderInit,
    opts: SegmentWriterOptions,
  ): Promise<SegmentWriter> {
    const s = new SegmentWriter(header, opts);
    await makeOutputDir(s.dir, opts.writer?.mode).catch((e) => {
      throw new Error(
        `Cannot record to "${opts.dir}": ${(e as Error).message}`,
        { cause: e },
      );
    });
    try {
      await s.#claim();
      await s.#settle();
    } catch (e) {
      // (the claim goes with the run it was for)
      s.#releaseClaim();
      throw e;
    }
    return s;
  }

  /**
   * The directory as this run finds it: a segment left under two names
   * made one, the segments there listed and the last linked to, retention
   * applied, the first segment begun.
   */
  async #settle(): Promise<void> {
    // a recorder killed within its commit left the segment under both
    // names: the second name goes (the same file stays as NAME.cbor; kept,
    // retention would free no space when it deleted NAME.cbor)
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isFile || !e.name.endsWith(".cbor.incomplete")) continue;
      const path = `${this.dir}/${e.name}`;
      const closed = path.slice(0, -".incomplete".length);
      // (both regular files, not a link to the other: found by review)
      const other = await Deno.lstat(closed).catch(() => undefined);
      if (!other?.isFile || !(await sameFile(path, closed))) continue;
      try {
        await Deno.remove(path);
        this.#warn(
          `procrec: removed "${path}", a second name of "${closed}" (a recorder stopped within its commit)`,
        );
      } catch (err) {
        this.#warn(
          `procrec: cannot remove "${path}", a second name of "${closed}": ${
            (err as Error).message
          }`,
        );
      }
    }
    const { segments } = await listSegments(this.dir);
    for (const seg of segments) {
      this.#closed.push({
        name: seg.name,
        path: seg.path,
        startUtcNs: seg.startUtcNs,
        bytes: seg.bytes,
        id: seg.header.segment?.id,
        previousId: seg.header.segment?.previous?.id,
      });
    }
    this.#carryDeletedEvents(segments);
    const last = segments[segments.length - 1];
    if (last) this.#previous = await linkTo(last);
    await this.#begin(await this.#retain());
  }

  /**
   * The total of events retention deleted before this run, from the
   * directory's segments: the one the header naming the deletion of the
   * oldest segment's predecessor carries (retention deletes oldest first,
   * so that header's total counts every deletion before it). Unknown when
   * no header names it, or that header has no total (an earlier recorder).
   */
  #carryDeletedEvents(segments: SegmentEntry[]): void {
    const before = segments[0]?.header.segment?.previous;
    this.#lastDeletedId = before?.id;
    if (before === undefined) return; // the chain begins here: none deleted
    this.#deletedEvents = undefined;
    for (const s of segments) {
      const seg = s.header.segment;
      if (seg?.deleted?.some((d) => d.id === before.id)) {
        this.#deletedEvents = seg.deletedEvents;
      }
    }
  }

  /** Path of the segment being written (undefined while the disk is full). */
  get path(): string | undefined {
    return this.#w?.tempPath;
  }

  /** Segments this run began. */
  get segments(): number {
    return this.#segments;
  }

  /** Segments retention deleted in this run. */
  get deleted(): number {
    return this.#deletedTotal;
  }

  /** Events counted as lost for want of disk space so far (not yet written). */
  get diskLost(): number {
    return this.#diskLost;
  }

  /**
   * Every event lost for want of disk space in this run, those recorded in
   * a later segment (reason `disk`) and those not (yet).
   */
  get diskLostTotal(): number {
    return this.#diskLostTotal;
  }

  /**
   * Adds one event to the current segment (or counts it while the disk is
   * full). A segment that reaches its size is sealed here and rotated at
   * the next {@link tick}: a segment exceeds `--rotate` by at most the
   * events of one read.
   */
  write(event: ProcEvent): void {
    this.#live.add(event);
    this.#lastT = event.t;
    const w = this.#w;
    if (!w) {
      this.#diskLost++;
      this.#diskLostTotal++;
      return;
    }
    const before = w.events;
    try {
      w.write(event);
      // a segment full: its last chunk is sealed now, the rotation follows
      // at the next tick (between two reads); the events until then go into
      // one more chunk, not one chunk each
      const max = this.#opts.rotate?.bytes;
      if (
        !this.#rotateRequested && max !== undefined &&
        w.bytes + w.pendingBytes >= max
      ) {
        w.flush();
        this.#rotateRequested = true;
      }
    } catch (e) {
      this.#diskFull(e, w.events === before ? 1 : 0);
    }
  }

  /** Asks for a rotation at the next {@link tick} (SIGHUP). */
  requestRotation(): void {
    this.#rotateRequested = true;
  }

  /**
   * Called between reads: rotates when the segment is due, or retries a
   * segment after a full disk. Never throws for a full disk.
   */
  async tick(): Promise<void> {
    const now = this.#now();
    if (!this.#w) {
      // (the segments beyond --keep go first, as at a rotation: on a disk
      // they filled, deleting them is what lets the next one begin; found
      // by review: without, events were lost until the recording ended)
      if (now >= this.#retryAt) await this.#begin(await this.#retain());
      return;
    }
    const r = this.#opts.rotate ?? {};
    if (
      this.#rotateRequested ||
      (r.bytes !== undefined && this.#w.bytes >= r.bytes) ||
      (r.ms !== undefined &&
        now - this.#segStartUtcNs >= BigInt(r.ms) * 1_000_000n)
    ) {
      await this.rotateNow();
    }
  }

  /** Closes the current segment and begins the next. */
  async rotateNow(): Promise<void> {
    this.#rotateRequested = false;
    if (!this.#w) return;
    if (!(await this.#closeCurrent())) return;
    await this.#begin(await this.#retain());
  }

  /** Closes the last segment and releases the directory; returns the directory. */
  async close(): Promise<string> {
    if (this.#done) return this.dir;
    this.#done = true;
    if (this.#w) await this.#closeCurrent();
    if (this.#diskLost > 0) {
      this.#warn(
        `procrec: ${this.#diskLost} events were lost at the end for want of disk space in "${this.dir}" (no segment could be written to record them)`,
      );
    }
    this.#releaseClaim();
    return this.#opts.dir;
  }

  /** Stops without closing the segment, as a crash would; never throws. */
  abandon(): void {
    this.#done = true;
    this.#w?.abandon();
    this.#w = undefined;
    this.#releaseClaim();
  }

  /** Closes the current segment; false when the disk was full. */
  async #closeCurrent(): Promise<boolean> {
    const w = this.#w!;
    try {
      await w.close();
    } catch (e) {
      this.#diskFull(e, 0);
      return false;
    }
    this.#w = undefined;
    const name = w.path.split("/").pop()!;
    this.#previous = {
      name,
      id: this.#id,
      finalHash: w.lastHash,
      closed: true,
    };
    this.#closed.push({
      name,
      path: w.path,
      startUtcNs: this.#segStartUtcNs,
      bytes: w.bytes,
      id: this.#id,
      previousId: this.#currentPreviousId,
      end: {
        finalHash: w.lastHash,
        endUtcNs: this.#now(),
        events: w.events,
      },
    });
    return true;
  }

  /** A write failed: a full disk is counted; anything else is thrown. */
  #diskFull(e: unknown, notAdded: number): void {
    if (!isDiskFull(e)) throw e;
    const w = this.#w!;
    let lostNow = w.unwritten + notAdded;
    let again = 0;
    const pending = this.#pendingLoss;
    // the loss record among what was not written (found by review: it was
    // counted as a lost event, and the events it stood for were forgotten).
    // A failed write drops its chunk from the writer's count: `w.events` is
    // then what the file holds (found by review: it was taken as what was
    // given, a loss record written a chunk before counted twice)
    if (pending && pending.index >= w.events) {
      lostNow -= 1;
      again = pending.count;
    }
    this.#pendingLoss = undefined;
    this.#diskLost += lostNow + again;
    this.#diskLostTotal += lostNow;
    this.#diskSince ??= this.#now();
    w.abandon();
    this.#w = undefined;
    const name = w.tempPath.split("/").pop()!;
    this.#previous = {
      name,
      id: this.#id,
      finalHash: w.lastHash,
      closed: false,
      reason: "disk",
    };
    this.#closed.push({
      name,
      path: w.tempPath,
      startUtcNs: this.#segStartUtcNs,
      bytes: w.bytes,
      id: this.#id,
      previousId: this.#currentPreviousId,
      end: {
        finalHash: w.lastHash,
        endUtcNs: this.#now(),
        // (the events the file holds: a count less the failed chunk twice
        // went negative, and the header naming its deletion was refused)
        events: w.events,
      },
    });
    this.#retryAt = this.#now() + 1_000_000_000n;
    this.#warn(
      `procrec: disk full in "${this.dir}": ${
        (e as Error).message
      }; still capturing, counting the events that cannot be written (recorded as lost, reason disk, once space returns)`,
    );
  }

  /** Begins a segment; on a full disk, schedules a retry. */
  async #begin(deleted: DeletedSegment[]): Promise<void> {
    // (the segment before is closed: its loss record, if any, is on disk)
    this.#pendingLoss = undefined;
    // what retention deleted while no header could be written is said now
    const said = [...this.#pendingDeleted, ...deleted];
    const start = this.#now();
    let startUtcNs = start;
    const newest = this.#closed.reduce(
      (m, c) => c.startUtcNs > m ? c.startUtcNs : m,
      -1n,
    );
    if (startUtcNs <= newest) startUtcNs = newest + 1000n; // names sort in time
    const name = segmentName(this.#header.host, startUtcNs);
    const id = randomId();
    const t = Number(startUtcNs - BigInt(this.#header.timeBase.utcNs));
    const segment: SegmentInfo = {
      id,
      run: this.run,
      index: this.#index,
      startUtcNs,
      ...(this.#previous ? { previous: this.#previous } : {}),
      ...(said.length ? { deleted: said } : {}),
      ...(this.#deletedEvents !== undefined
        ? { deletedEvents: this.#deletedEvents }
        : {}),
      alive: this.#live.snapshot(t).map(encodeEvent),
    };
    let w: RecordingWriter;
    try {
      // the directory claimed first (a full disk at the start left it
      // unclaimed): no segment of this run in a directory another recorder
      // took meanwhile (found by review)
      if (this.#unclaimed) {
        this.#lockDir();
        const other = await runningWriter(this.dir);
        if (other !== undefined && other !== Deno.pid) {
          throw new Error(
            `Cannot record to "${this.#opts.dir}": another recorder (pid ${other}) claimed it while the disk was full`,
          );
        }
        await this.#writePidFile();
        this.#unclaimed = false;
      }
      w = await RecordingWriter.create(
        `${this.dir}/${name}`,
        { ...this.#header, segment },
        this.#opts.writer,
      );
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      await Deno.remove(`${this.dir}/${name}.incomplete`).catch(() => {});
      this.#pendingDeleted = said;
      if (this.#diskSince === undefined) {
        this.#diskSince = start;
        this.#warn(
          `procrec: disk full in "${this.dir}": cannot begin a segment; still capturing, counting the events that cannot be written`,
        );
      }
      this.#retryAt = this.#now() + 1_000_000_000n;
      return;
    }
    this.#pendingDeleted = [];
    this.#w = w;
    this.#id = id;
    this.#currentPreviousId = this.#previous?.id;
    this.#index++;
    this.#segments++;
    this.#segStartUtcNs = startUtcNs;
    if (this.#diskLost > 0) {
      const lost: Lost = {
        kind: "lost",
        t: this.#lastT,
        pid: 0,
        tid: 0,
        reason: "disk",
        count: this.#diskLost,
      };
      const seconds = Number(start - (this.#diskSince ?? start)) / 1e9;
      this.#warn(
        `procrec: disk space returned in "${this.dir}": ${this.#diskLost} events were lost in ${
          seconds.toFixed(1)
        } s (recorded as lost, reason disk); recording resumes in ${name}`,
      );
      this.#diskLost = 0;
      this.#diskSince = undefined;
      // (if the disk fills again before it is on disk, the events it stands
      // for are lost again, and it is no event of the session)
      this.#pendingLoss = { index: this.#w!.events, count: lost.count };
      this.write(lost);
    }
  }

  /** Deletes closed segments beyond the retention, oldest first. */
  async #retain(): Promise<DeletedSegment[]> {
    const keep = this.#opts.keep;
    const deleted: DeletedSegment[] = [];
    if (!keep) return deleted;
    const now = this.#now();
    for (;;) {
      const oldest = this.#closed[0];
      if (!oldest) break;
      const total = this.#closed.reduce((n, c) => n + c.bytes, 0);
      const overCount = keep.count !== undefined &&
        this.#closed.length + 1 > keep.count;
      const overBytes = keep.bytes !== undefined && total > keep.bytes;
      let overAge = false;
      if (keep.ageMs !== undefined) {
        const end = await this.#endOf(oldest);
        overAge = end !== undefined &&
          now - end.endUtcNs > BigInt(keep.ageMs) * 1_000_000n;
      }
      if (!overCount && !overBytes && !overAge) break;
      const end = await this.#endOf(oldest);
      try {
        await Deno.remove(oldest.path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) {
          this.#warn(
            `procrec: retention cannot delete "${oldest.path}": ${
              (e as Error).message
            }`,
          );
          break;
        }
      }
      this.#closed.shift();
      this.#deletedTotal++;
      // the total holds while each deletion follows the last (a segment
      // between them gone otherwise was not counted) and its events are known
      if (
        end === undefined || oldest.previousId !== this.#lastDeletedId
      ) {
        this.#deletedEvents = undefined;
      } else if (this.#deletedEvents !== undefined) {
        this.#deletedEvents += end.events;
      }
      this.#lastDeletedId = oldest.id;
      deleted.push({
        name: oldest.name,
        id: oldest.id ?? "",
        startUtcNs: oldest.startUtcNs,
        endUtcNs: end?.endUtcNs ?? oldest.startUtcNs,
        finalHash: end?.finalHash ?? new Uint8Array(32),
        events: end?.events ?? 0,
      });
    }
    return deleted;
  }

  async #endOf(c: ClosedSegment): Promise<ClosedSegment["end"]> {
    if (c.end) return c.end;
    try {
      const end = await readSegmentEnd(c.path);
      let endUtcNs = end.endUtcNs;
      if (endUtcNs === undefined) {
        const st = await Deno.stat(c.path);
        endUtcNs = BigInt((st.mtime ?? new Date()).getTime()) * 1_000_000n;
      }
      c.end = { finalHash: end.finalHash, endUtcNs, events: end.events };
    } catch (e) {
      this.#warn(
        `procrec: retention cannot read "${c.path}": ${(e as Error).message}`,
      );
      return undefined;
    }
    return c.end;
  }

  /**
   * Refuses a directory another live recorder writes; names this one (its
   * pid, boot id and start time: a file left by a recorder of an earlier
   * boot, or whose pid another process now has, names no live writer).
   */
  async #claim(): Promise<void> {
    this.#lockDir();
    const other = await runningWriter(this.dir);
    if (other !== undefined && other !== Deno.pid) {
      throw new Error(
        `Cannot record to "${this.#opts.dir}": another recorder (pid ${other}) is writing there`,
      );
    }
    try {
      await this.#writePidFile();
    } catch (e) {
      // a full disk does not stop the recording (no more than it does once
      // recording): the file is written with the first segment that can be
      if (!isDiskFull(e)) throw e;
      this.#unclaimed = true;
      this.#warn(
        `procrec: disk full in "${this.dir}": cannot write ${WRITER_PID_FILE} (${
          (e as Error).message
        }); still capturing, it is written when a segment can be`,
      );
    }
  }

  /**
   * Takes {@link WRITER_LOCK_FILE}'s lock, or refuses the directory when
   * another recorder holds it (the check of writer.pid, then its writing,
   * let two recorders started at the same instant both claim it; found by
   * review), or when another user owns the lock file (planted: see
   * {@link takeLock}). A lock that cannot be tried (a full disk, no libc) leaves
   * writer.pid the only claim, as before, and is tried again when the
   * claim is written.
   */
  #lockDir(): void {
    if (this.#lock) return;
    const got = takeLock(`${this.dir}/${WRITER_LOCK_FILE}`);
    if ("taken" in got) {
      this.#lock = got.taken;
      return;
    }
    if ("foreign" in got) {
      const { uid, own } = got.foreign;
      throw new Error(
        `Cannot record to "${this.#opts.dir}": its ${WRITER_LOCK_FILE} is owned by uid ${uid}, not by this recorder's user (uid ${own}): another user made it, and may hold it to keep every recorder out; remove it (rm ${this.dir}/${WRITER_LOCK_FILE}) and let no other user write the directory (chown ${own} ${this.dir}; chmod 0700 ${this.dir})`,
      );
    }
    if ("held" in got) {
      const other = writerNamed(pidFileFields(this.dir), this.dir) ??
        lockHolder(`${this.dir}/${WRITER_LOCK_FILE}`);
      throw new Error(
        `Cannot record to "${this.#opts.dir}": another recorder${
          other !== undefined && other !== Deno.pid ? ` (pid ${other})` : ""
        } is writing there (it holds ${WRITER_LOCK_FILE})`,
      );
    }
    if (!this.#lockWarned) {
      this.#lockWarned = true;
      this.#warn(
        `procrec: ${got.error}: ${WRITER_PID_FILE} alone keeps another recorder out of "${this.dir}"`,
      );
    }
  }

  /** This recorder's lock on the directory (see {@link WRITER_LOCK_FILE}). */
  #lock: DirLock | undefined;
  #lockWarned = false;

  /**
   * Removes {@link WRITER_PID_FILE} when it names this process (never
   * another recorder's: one refused, or never claimed, leaves it alone;
   * found by review), then lets the directory's lock go. Never throws.
   */
  #releaseClaim(): void {
    if (namesThisProcess(pidFileFields(this.dir))) {
      try {
        Deno.removeSync(`${this.dir}/${WRITER_PID_FILE}`);
      } catch { /* gone */ }
    }
    this.#lock?.release();
    this.#lock = undefined;
  }

  /** The directory's {@link WRITER_PID_FILE} is not written yet (a full disk at the start). */
  #unclaimed = false;

  /** Writes {@link WRITER_PID_FILE}, naming this process. */
  async #writePidFile(): Promise<void> {
    const out = await openOutput(`${this.dir}/${WRITER_PID_FILE}`, {
      force: true,
      mode: this.#opts.writer?.mode,
      what: "writer pid file",
    });
    try {
      out.writeSync(new TextEncoder().encode(writerLine(Deno.pid)));
      await out.commit();
    } catch (e) {
      // (a full disk: no `.writer.pid.*.tmp` left behind)
      out.discard();
      throw e;
    }
  }

  #warn(line: string): void {
    this.#opts.warn?.(line + "\n");
  }
}

/**
 * The pid of the recorder that writes the segment directory `dir`, when it
 * is still running: the process its {@link WRITER_PID_FILE} names (`PID
 * BOOT_ID START`, START the process's start time in clock ticks after boot,
 * as `/proc/PID/stat` gives it), in this boot, with that start time. A file
 * of an earlier version (the pid alone) names a running writer when that
 * pid runs procrec. `undefined` for no file, a file of an earlier boot, or
 * a pid that ended or that another process took since.
 *
 * @example
 * ```ts
 * import { runningWriter, WRITER_PID_FILE } from "./segment_writer.ts";
 * const dir = await Deno.makeTempDir();
 * // (a recorder of another boot: not running, whatever runs as pid 1 now)
 * await Deno.writeTextFile(`${dir}/${WRITER_PID_FILE}`, "1 0000 5\n");
 * const before = await runningWriter(dir);
 * await Deno.remove(dir, { recursive: true });
 * if (before !== undefined) throw new Error(`${before}`);
 * ```
 */
export function runningWriter(dir: string): Promise<number | undefined> {
  return Promise.resolve(writerNamed(pidFileFields(dir), dir));
}

/** Whether the words of a {@link WRITER_PID_FILE} name this very process. */
function namesThisProcess(fields: string[] | undefined): boolean {
  if (fields === undefined || Number(fields[0]) !== Deno.pid) return false;
  return fields[1] === undefined ||
    (fields[1] === thisBoot() && fields[2] === startOf(Deno.pid));
}

/** The running recorder the words of a {@link WRITER_PID_FILE} name, if any. */
function writerNamed(
  fields: string[] | undefined,
  dir?: string,
): number | undefined {
  if (fields === undefined) return undefined;
  const [pidText, bootId, start] = fields;
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  // (a running procrec: a file that names another process, as a forged
  // one naming pid 1 with its start time did, names no writer; found by
  // review)
  const procrec = () =>
    /procrec|cli\/main\.ts/.test(readProc(`/proc/${pid}/cmdline`));
  if (bootId === undefined) return procrec() ? pid : undefined;
  if (bootId !== thisBoot() || start !== startOf(pid)) return undefined;
  if (!procrec()) return undefined;
  // a recorder writing the directory holds its writer.lock: a process that
  // does not (named by a forged writer.pid, its command line made to say
  // procrec) is no writer; found by review
  if (dir === undefined) return pid;
  return lockHolder(`${dir}/${WRITER_LOCK_FILE}`) === pid ? pid : undefined;
}

/**
 * The words of `dir`'s {@link WRITER_PID_FILE} (`PID BOOT_ID START`), or
 * undefined when there is none. A directory under review may be hostile: a
 * FIFO or a huge file in the pid file's place names no writer, and is never
 * read.
 */
function pidFileFields(dir: string): string[] | undefined {
  const path = `${dir}/${WRITER_PID_FILE}`;
  try {
    const st = Deno.lstatSync(path);
    if (!st.isFile || st.size > MAX_PID_FILE_BYTES) return undefined;
    return Deno.readTextFileSync(path).trim().split(/\s+/);
  } catch {
    return undefined;
  }
}

/** A line of {@link WRITER_PID_FILE} for process `pid`. */
function writerLine(pid: number): string {
  return `${pid} ${thisBoot()} ${startOf(pid)}\n`;
}

/** The kernel's boot id ("" when it cannot be read). */
function thisBoot(): string {
  return readProc("/proc/sys/kernel/random/boot_id").trim();
}

/** The largest {@link WRITER_PID_FILE} read (its line is under 100 bytes). */
const MAX_PID_FILE_BYTES = 4096;

/** Field 22 of `/proc/PID/stat`: when the process started ("" if gone). */
function startOf(pid: number): string {
  return procStat(pid)[19] ?? "";
}

/**
 * The fields of `/proc/PID/stat` from the third on (state, ppid, ...:
 * field N is at N - 3); none when the process is gone.
 */
export function procStat(pid: number): string[] {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === "") return [];
  // (the command name, field 2, may hold spaces and parentheses)
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** A file of /proc ("" when it cannot be read: a process gone). */
function readProc(path: string): string {
  try {
    // (through libc: Deno wants --allow-all for /proc/PID files)
    return readKernelFileOnce(path);
  } catch {
    return "";
  }
}

/** The link a new segment makes to the last one of the directory. */
async function linkTo(last: SegmentEntry): Promise<Previous> {
  const end = await readSegmentEnd(last.path);
  return {
    name: last.name,
    id: last.header.segment?.id ?? "",
    finalHash: end.finalHash,
    closed: end.closed,
  };
}
