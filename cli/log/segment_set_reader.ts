/**
 * Reads a directory of segments (or several segment files) as one
 * recording: the segments in time order, each verified by the recording
 * reader, and the links between them (each header names its predecessor's id
 * and final hash). Needs `--allow-read`.
 *
 * - A directory may hold several chains (`collect`'s `DIR/<host>/` holds a
 *   service's segments and a host's one-off recordings alike): each link is
 *   checked within its chain ({@link segmentChains}), a recording without a
 *   segment header stands alone, and the recordings are read in time order.
 * - A segment that is not there is a gap, not an error: a `lost` event of
 *   reason `retention` (a later header says retention deleted it, with its
 *   event count) or `segment_missing`, and a problem of type `gap`.
 *   Retention deletes the oldest segments of a directory first, so only a
 *   gap before the oldest segment there can be retention: a gap after a
 *   segment that is there is `segment_missing`, whatever a header says.
 * - A predecessor that was never closed (its recorder died) is a `lost`
 *   event of reason `unclean_end`, count unknown; one that the disk filled
 *   is followed by the `disk` loss its successor recorded.
 * - A link whose hash does not match the predecessor is a `chain` problem.
 * - Every segment of one run shares the run's time base; segments of later
 *   runs are moved onto the first segment's time base (same boot: by the
 *   monotonic clock; another boot: by UTC).
 * - Reading starts at any segment: the first one read gives the processes
 *   alive at its start (its header's `alive` list) as `process_snapshot`
 *   events, so its trees have parents.
 *
 * @module
 */
import type { ProcEvent } from "../events/types.ts";
import { LiveProcesses } from "../analysis/live_processes.ts";
import { EventCounts } from "../events/event_counts.ts";
import { equalBytes, toHex } from "./_hash.ts";
import {
  type ChunkRead,
  type ReadProblem,
  RecordingReader,
  type RecordingReport,
} from "./recording_reader.ts";
import { decodeEvent, type RecordingHeader } from "./schema.ts";
import {
  listSegments,
  readSegmentEnd,
  readSegmentEntry,
  segmentChains,
  type SegmentEntry,
  type SegmentListProblem,
  sortSegments,
} from "./segment_directory.ts";

/** What every reader of a recording offers: a file, a bundle member, a directory. */
export interface RecordingSource {
  readonly name: string;
  readonly header: RecordingHeader;
  readonly report: RecordingReport;
  events(): AsyncGenerator<ProcEvent>;
  chunks(): AsyncIterableIterator<ChunkRead>;
  /**
   * The chunks of `chunks()` in batches (`ChunkBatch`: one object per
   * batch, its chunks' events in one array), where the source has them:
   * read by one or the other.
   */
  chunkBatches?(): AsyncIterable<{ readonly events: readonly ProcEvent[] }>;
  /** Once `chunks()` has ended: events that stand for what no chunk holds (a damaged tail's loss). */
  tailEvents(): ProcEvent[];
  /** Bytes read so far, where `report.bytes` counts only what is done. */
  readonly bytesSoFar?: number;
}

/** Options of {@link SegmentSetReader.open}. */
export interface SegmentSetOptions {
  /** Read only the segments covering this UTC span (ns). */
  fromUtcNs?: bigint;
  toUtcNs?: bigint;
  /** Called once reading ends (the bundle the segments are in is closed). */
  onClose?: () => Promise<void>;
}

/** One segment as read. */
export interface SegmentRead {
  entry: SegmentEntry;
  report: RecordingReport;
  /** Its final hash: the trailer's, or its last complete item's. */
  finalHash?: Uint8Array;
}

/** A link between two segments that is not whole. */
export interface SegmentGap {
  /** The segment after the gap (its name). */
  after: string;
  reason: "retention" | "segment_missing" | "unclean_end" | "disk" | "chain";
  /** Events known lost, when known. */
  events?: number;
  message: string;
}

/** Where a recording stands in its chain ({@link SegmentSetReader.chainOf}). */
export interface ChainLink {
  /** Its chain: an index of {@link SegmentSetReader.chains}. */
  chain: number;
  /** The recording before it in its chain, if one is there. */
  before?: SegmentEntry;
  /** The recording after it in its chain, if one is there. */
  after?: SegmentEntry;
}

/** The chains of the recordings found, and what reading them gave. */
interface ChainIndex {
  chains: SegmentEntry[][];
  links: Map<SegmentEntry, ChainLink>;
  /** The oldest segment found: only a gap before it can be retention. */
  oldest?: SegmentEntry;
  /**
   * Each recording read, by any of the readers of one set (one per boot):
   * `null` when it could not be opened.
   */
  reads: Map<SegmentEntry, SegmentRead | null>;
}

function chainIndex(all: SegmentEntry[]): ChainIndex {
  const chains: SegmentEntry[][] = [];
  const links = new Map<SegmentEntry, ChainLink>();
  for (const [i, place] of segmentChains(all).entries()) {
    const entry = all[i];
    const link: ChainLink = { chain: place.chain };
    if (place.before !== undefined) {
      link.before = all[place.before];
      links.get(link.before)!.after = entry;
    }
    links.set(entry, link);
    (chains[place.chain] ??= []).push(entry);
  }
  return {
    chains,
    links,
    oldest: all.find((s) => s.header.segment !== undefined),
    reads: new Map(),
  };
}

/** A directory or a list of segment files read as one recording. */
export class SegmentSetReader implements RecordingSource {
  readonly report: RecordingReport;
  readonly segmentsRead: SegmentRead[] = [];
  readonly gaps: SegmentGap[] = [];
  #used = false;
  #onClose: (() => Promise<void>) | undefined;
  /** The reader of the boot before this one ({@link byBoot}). */
  #before: SegmentSetReader | undefined;
  /** The segment being read (its bytes are in the report once it is done). */
  #current: RecordingReader | undefined;
  #index: ChainIndex;
  #filesOnly: boolean;

  /**
   * The chains of every recording found (not only those read), each oldest
   * first: one for a segment directory, more where one directory holds
   * several (`collect`'s `DIR/<host>/`: a service's segments, another
   * segment directory's, each one-off recording on its own).
   */
  get chains(): SegmentEntry[][] {
    return this.#index.chains;
  }

  /** Where `entry` (one of {@link all}) stands in its chain. */
  chainOf(entry: SegmentEntry): ChainLink {
    const link = this.#index.links.get(entry);
    if (!link) {
      throw new Error(`${entry.name} is not a recording of "${this.name}"`);
    }
    return link;
  }

  /**
   * Bytes of the segments read so far, the one being read included (the
   * report counts a segment once it is done): how far a read has got.
   */
  get bytesSoFar(): number {
    return this.report.bytes + (this.#current?.report.bytes ?? 0);
  }

  private constructor(
    readonly name: string,
    readonly header: RecordingHeader,
    /** The segments that will be read, oldest first. */
    readonly segments: SegmentEntry[],
    /** Every segment found (for the deletions their headers name). */
    readonly all: SegmentEntry[],
    /** Files that are not readable recordings. */
    readonly unreadable: SegmentListProblem[],
    readonly skippedBefore: boolean,
    index: ChainIndex,
    /** Files given one by one: the gap before each chain's first is not asked for. */
    filesOnly: boolean,
  ) {
    this.#index = index;
    this.#filesOnly = filesOnly;
    this.report = {
      name,
      bytes: 0,
      chunks: 0,
      events: 0,
      complete: false,
      chainIntact: true,
      eventsMissing: 0,
      counts: new EventCounts(),
      problems: [],
      problemCounts: {},
    };
  }

  /** Records a problem in the report. */
  #problem(p: ReadProblem): void {
    this.report.problems.push(p);
    this.report.problemCounts[p.type] = (this.report.problemCounts[p.type] ??
      0) + 1;
  }

  /** Opens a directory, or a list of segment files, as one recording. */
  static async open(
    paths: string[],
    options: SegmentSetOptions = {},
  ): Promise<SegmentSetReader> {
    const all: SegmentEntry[] = [];
    const unreadable: SegmentListProblem[] = [];
    // (files given one by one, and only files: what came before them was
    // not asked for; a directory among them is read whole, its oldest
    // segment's missing predecessor a gap as ever: found by review, a file
    // argument after the directory hid it)
    let files = paths.length > 0;
    for (const p of paths) {
      const st = await Deno.stat(p).catch((e) => {
        throw new Error(`Cannot read "${p}": ${(e as Error).message}`);
      });
      if (st.isDirectory) {
        const l = await listSegments(p);
        // (one by one: a spread of 125,000 segments overflows the stack)
        for (const s of l.segments) all.push(s);
        for (const u of l.problems) unreadable.push(u);
        files = false;
      } else {
        all.push(await readSegmentEntry(p));
      }
    }
    const name = paths.length === 1 ? paths[0] : paths.join(" ");
    // files given one by one: what came before them was not asked for
    return SegmentSetReader.fromEntries(name, all, options, unreadable, files);
  }

  /**
   * Reads `entries` (segments found elsewhere: the members of a bundle that
   * are one segment directory) as one recording named `name`.
   */
  static fromEntries(
    name: string,
    entries: SegmentEntry[],
    options: SegmentSetOptions = {},
    unreadable: SegmentListProblem[] = [],
    /** What came before the first entry was not asked for: no gap. */
    chosenOnly = false,
  ): SegmentSetReader {
    let all = [...entries];
    sortSegments(all);
    all = all.filter((s, i) => i === 0 || s.path !== all[i - 1].path);
    if (all.length === 0) {
      throw new Error(
        `Cannot read "${name}": it is a directory with no recordings (no segments)`,
      );
    }
    const { fromUtcNs, toUtcNs } = options;
    const index = chainIndex(all);
    // (a segment ends where the next of its chain begins: another chain's
    // next recording says nothing of where this one ends)
    const chosen = all.filter((s) => {
      const next = index.links.get(s)!.after;
      if (fromUtcNs !== undefined && next && next.startUtcNs <= fromUtcNs) {
        return false;
      }
      if (toUtcNs !== undefined && s.startUtcNs > toUtcNs) return false;
      return true;
    });
    if (chosen.length === 0) {
      throw new Error(
        `Cannot read "${name}": no segment covers the times asked for`,
      );
    }
    const reader = new SegmentSetReader(
      name,
      chosen[0].header,
      chosen,
      all,
      unreadable,
      chosenOnly || chosen[0] !== all[0],
      index,
      chosenOnly,
    );
    reader.#onClose = options.onClose;
    return reader;
  }

  /**
   * The segments to read, split where the boot id changes (a reboot): one
   * list per boot, in time order.
   */
  boots(): SegmentEntry[][] {
    const out: SegmentEntry[][] = [];
    for (const s of this.segments) {
      const last = out[out.length - 1];
      if (last && last[0].header.bootId === s.header.bootId) last.push(s);
      else out.push([s]);
    }
    return out;
  }

  /**
   * One reader per boot ({@link boots}), each named `NAME (boot ID)`; this
   * reader itself when its segments are of one boot. An analysis is of one
   * boot: pids start again at a reboot, and read as one recording a process
   * of the next boot was taken for the child of whichever process had its
   * parent's pid before (found by review). The next boot's first segment
   * follows a reboot, not a gap. This reader is then read through them:
   * each once, the last closing what this one would.
   *
   * @example
   * ```ts
   * import { SegmentSetReader } from "./segment_set_reader.ts";
   * import { RecordingWriter } from "./recording_writer.ts";
   * import { segmentName } from "./segment_directory.ts";
   * const dir = await Deno.makeTempDir();
   * for (const [i, boot] of ["a", "b"].entries()) {
   *   const utcNs = 1_800_000_000_000_000_000n + BigInt(i) * 3_600_000_000_000n;
   *   const w = await RecordingWriter.create(`${dir}/${segmentName("h", utcNs)}`, {
   *     host: "h", os: "linux", kernel: "6", bootId: boot,
   *     timeBase: { monoNs: 0n, utcNs }, clock: { source: "test", monoToUtcNs: utcNs },
   *     tool: { name: "procrec", version: "0" }, source: { name: "test", reason: "doc" },
   *     options: {}, segment: { id: boot, run: boot, index: 0, startUtcNs: utcNs, alive: [] },
   *   });
   *   await w.close();
   * }
   * const boots = (await SegmentSetReader.open([dir])).byBoot();
   * await Deno.remove(dir, { recursive: true });
   * if (boots.map((r) => r.header.bootId).join() !== "a,b") throw new Error();
   * ```
   */
  byBoot(): SegmentSetReader[] {
    const boots = this.boots();
    if (boots.length <= 1) return [this];
    if (this.#used) throw new Error(`Cannot read "${this.name}" twice`);
    this.#used = true;
    const readers = boots.map((segs, i) => {
      const r = new SegmentSetReader(
        `${this.name} (boot ${segs[0].header.bootId})`,
        segs[0].header,
        segs,
        this.all,
        i === 0 ? this.unreadable : [],
        i === 0 ? this.skippedBefore : true,
        this.#index,
        this.#filesOnly,
      );
      if (i === boots.length - 1) r.#onClose = this.#onClose;
      return r;
    });
    // (each later boot checks its link to the boot before, read before it:
    // the last segment before a reboot removed or replaced is named, as in
    // one read of the whole; found by review)
    for (let i = 1; i < readers.length; i++) {
      readers[i].#before = readers[i - 1];
    }
    return readers;
  }

  /** The events of every segment, in order, with gaps as `lost` events. */
  async *events(): AsyncGenerator<ProcEvent> {
    for await (const c of this.chunks()) yield* c.events;
  }

  /**
   * None: a segment's damaged tail is among the set's problems, and the next
   * segment's events follow it (it is not yet a lost span of its own).
   */
  tailEvents(): ProcEvent[] {
    return [];
  }

  /** Every readable chunk of every segment, in order (events moved onto one time base). */
  async *chunks(): AsyncGenerator<ChunkRead & { segment: string }> {
    if (this.#used) throw new Error(`Cannot read "${this.name}" twice`);
    this.#used = true;
    try {
      yield* this.#chunks(false) as AsyncGenerator<
        ChunkRead & { segment: string }
      >;
    } finally {
      await this.#onClose?.();
    }
  }

  /**
   * What {@link chunks} gives, as groups of events, one per batch of each
   * segment's chunks (`RecordingReader.chunkBatches`): the same events in
   * the same order, one object and one `await` per batch (replay's path,
   * `analysisChunks`). Read by this or by {@link chunks}, once.
   */
  async *chunkBatches(): AsyncGenerator<
    { readonly events: readonly ProcEvent[]; readonly segment: string }
  > {
    if (this.#used) throw new Error(`Cannot read "${this.name}" twice`);
    this.#used = true;
    try {
      yield* this.#chunks(true);
    } finally {
      await this.#onClose?.();
    }
  }

  /** Every chunk, or (`batched`) every batch's events, of every segment. */
  async *#chunks(
    batched: boolean,
  ): AsyncGenerator<
    (ChunkRead & { segment: string }) | { events: ProcEvent[]; segment: string }
  > {
    const r = this.report;
    const base = this.header;
    const live = new LiveProcesses();
    // (by id; a recording without segment header, id "", by its name)
    const claimKey = (l: { id: string; name: string }) =>
      l.id !== "" ? l.id : `name:${l.name}`;
    // (the id a link names it by: "" for a recording without segment header)
    const idOf = (s: SegmentEntry) => s.header.segment?.id ?? "";
    const deletedBy = new Map<
      string,
      { events: number; by: string; total?: number }
    >();
    for (const s of this.all) {
      // (the header's running total counts every deletion before it)
      const total = s.header.segment?.deletedEvents;
      for (const d of s.header.segment?.deleted ?? []) {
        deletedBy.set(claimKey(d), { events: d.events, by: s.name, total });
      }
    }
    for (const u of this.unreadable) {
      this.#problem({
        offset: 0,
        type: u.empty ? "truncated" : "damaged",
        reason: `${u.name}: ${u.reason}`,
      });
      // (an empty file a crash left holds nothing of the chain)
      if (!u.empty) r.chainIntact = false;
    }
    // every link is checked against the recording before it in its chain,
    // if it was read (here, or by the reader of the boot before: its gaps
    // named, but no loss of this boot's)
    const { reads, oldest } = this.#index;
    const mine = new Set(this.segments);
    let lastRead: SegmentEntry | undefined;
    let complete = true;
    for (const [i, entry] of this.segments.entries()) {
      const h = entry.header;
      const seg = h.segment;
      const delta = rebaseDelta(h, base);
      const startT = Number(
        entry.startUtcNs - BigInt(base.timeBase.utcNs),
      );
      const prior = this.chainOf(entry).before;
      const prev = prior ? reads.get(prior) : undefined;
      // (what the boot before lost is not this boot's)
      const bootBefore = this.#before !== undefined &&
        (prior ? !mine.has(prior) : i === 0);
      const pre: ProcEvent[] = [];
      const gap = (g: SegmentGap, lost?: ProcEvent) => {
        this.gaps.push(g);
        this.#problem({
          offset: 0,
          type: g.reason === "chain" ? "chain" : "gap",
          reason: `${entry.name}: ${g.message}`,
        });
        if (lost && !bootBefore) pre.push(lost);
      };
      const lostEvent = (
        reason: "retention" | "segment_missing" | "unclean_end",
        count?: number,
      ): ProcEvent => ({
        kind: "lost",
        t: startT,
        pid: 0,
        tid: 0,
        reason,
        count: count ?? 0,
        ...(count === undefined ? { countUnknown: true } : {}),
      });
      // a predecessor missing after a segment of its chain that is there:
      // retention deletes the oldest segments first, so this gap is no
      // retention, whatever a header says (found by review: a forged
      // record of a deleted middle segment verified intact)
      const missingAfter = (p: { id: string; name: string }, bName: string) => {
        const d = deletedBy.get(claimKey(p));
        gap(
          {
            after: entry.name,
            reason: "segment_missing",
            message:
              `its predecessor ${p.name} (id ${p.id}) is not there (the segment before it is ${bName})${
                d
                  ? `; ${d.by} says retention deleted it, but retention deletes the oldest segments first and ${bName} is still there`
                  : ""
              }`,
          },
          lostEvent("segment_missing"),
        );
        complete = false;
      };
      const p = seg?.previous;
      if (!seg) {
        // a recording without segment header stands alone: no link
      } else if (prior === undefined) {
        // the first recording of its chain: what came before it is not
        // there; files given one by one ask for nothing before them, but a
        // deletion by retention is said
        const d = p ? deletedBy.get(claimKey(p)) : undefined;
        if (p && (!this.#filesOnly || d)) {
          // (only the oldest segment can follow a retention gap: a chain
          // beginning later, its predecessor gone, is read as missing)
          const retention = d !== undefined && entry === oldest;
          gap(
            retention
              ? {
                after: entry.name,
                reason: "retention",
                events: d.total,
                message:
                  `the segments before it were deleted by retention (the last one, ${p.name}, held ${d.events} events; named in ${d.by}, which counts ${
                    d.total ?? "an unknown number of"
                  } events deleted in all)`,
              }
              : {
                after: entry.name,
                reason: "segment_missing",
                message:
                  `its predecessor ${p.name} (id ${p.id}) is not there, ${
                    d
                      ? `yet ${d.by} says retention deleted it: retention deletes the oldest segments first, and ${oldest?.name} is older`
                      : "and no header says retention deleted it"
                  }`,
              },
            lostEvent(
              retention ? "retention" : "segment_missing",
              retention ? d.total : undefined,
            ),
          );
          if (entry !== oldest) complete = false;
        }
      } else if (prev === undefined) {
        // the segment before it in its chain was not asked for (--from, or
        // the boot before not read): its link is not checked, but a gap
        // said to be retention is none
        if (
          p && p.id !== idOf(prior) && deletedBy.has(claimKey(p))
        ) {
          missingAfter(p, prior.name);
        }
      } else if (prev === null) {
        // the segment before it could not be read (said): its link cannot
        // be checked, but one naming another segment is a gap
        if (p && p.id !== idOf(prior)) missingAfter(p, prior.name);
      } else {
        if (!p) {
          gap({
            after: entry.name,
            reason: "chain",
            message:
              `it names no predecessor, but ${prior.name} of its run comes before it`,
          });
          r.chainIntact = false;
        } else if (p.id !== idOf(prior)) {
          const named = this.all.find((s) =>
            s !== entry && s.header.segment !== undefined && idOf(s) === p.id
          );
          if (named) {
            // (two segments naming one predecessor: a chain never forks)
            gap({
              after: entry.name,
              reason: "chain",
              message:
                `it names ${named.name} as its predecessor, but its chain goes on from there to ${prior.name} (two segments name one predecessor, or one is a copy)`,
            });
            r.chainIntact = false;
          } else missingAfter(p, prior.name);
        } else if (
          !prev.finalHash || !equalBytes(p.finalHash, prev.finalHash)
        ) {
          gap({
            after: entry.name,
            reason: "chain",
            message: `it names ${p.name} with final hash ${
              toHex(p.finalHash)
            }, but that segment ends in ${
              prev.finalHash ? toHex(prev.finalHash) : "nothing readable"
            } (altered or replaced)`,
          });
          r.chainIntact = false;
        } else if (p.closed && !prev.report.complete) {
          // (its trailer is not part of its hash: a segment cut after its
          // close, trailer and all, still matched; found by review)
          gap({
            after: entry.name,
            reason: "chain",
            message:
              `it says ${p.name} was closed, but that segment ends without its trailer (cut after it was closed)`,
          });
          r.chainIntact = false;
        } else if (!p.closed) {
          if (p.reason === "disk") {
            this.gaps.push({
              after: entry.name,
              reason: "disk",
              message:
                `${p.name} ends where the disk was full; the events lost are this segment's first event`,
            });
          } else {
            gap(
              {
                after: entry.name,
                reason: "unclean_end",
                message:
                  `${p.name} was not closed (its recorder was killed or the host lost power): events after its last complete chunk are lost, count unknown`,
              },
              lostEvent("unclean_end"),
            );
          }
        }
      }
      // the processes alive at the start, for a segment read without its
      // predecessor (or after a gap); never twice the same process
      const afterGap = prev == null || pre.some((e) => e.kind === "lost");
      if (seg && afterGap) {
        for (const raw of seg.alive ?? []) {
          try {
            const e = decodeEvent(raw);
            if (e.kind === "accounts") {
              // (the names of the users of the processes after it)
              e.t = startT;
              pre.push(e);
            } else if (e.kind === "image_hash") {
              // (the hash of the snapshot before it, paired by its time)
              e.t = e.execT = startT;
              if (pre.at(-1)?.pid === e.pid) pre.push(e);
            }
            if (e.kind !== "process_snapshot") continue;
            e.start += delta;
            e.t = startT;
            if (!live.has(e.pid, e.start)) pre.push(e);
          } catch (err) {
            this.#problem({
              offset: 0,
              type: "event",
              reason: `${entry.name}: header alive list: ${
                (err as Error).message
              }`,
            });
          }
        }
      }
      // (the recording read before it, of whichever chain)
      const newRun = lastRead !== undefined &&
        lastRead.header.segment?.run !== seg?.run;
      for (const e of pre) live.add(e);
      let reader: RecordingReader;
      try {
        reader = await (entry.open?.() ?? RecordingReader.open(entry.path));
        this.#current = reader;
      } catch (e) {
        this.#problem({
          offset: 0,
          type: "damaged",
          reason: `${entry.name}: ${(e as Error).message}`,
        });
        r.chainIntact = false;
        complete = false;
        reads.set(entry, null);
        continue;
      }
      const read: SegmentRead = { entry, report: reader.report };
      let hash: Uint8Array | undefined;
      let first = true;
      const shift = (events: ProcEvent[]) => {
        for (const e of events) {
          e.t += delta;
          if (e.kind === "process_create" || e.kind === "process_snapshot") {
            e.start += delta;
          } else if (e.kind === "image_hash") {
            // (its exec's time, by which it is paired with the exec; found
            // by review: a later run's hashes met no exec)
            e.execT += delta;
          }
        }
      };
      const known = (e: ProcEvent) =>
        e.kind === "process_snapshot" && live.has(e.pid, e.start);
      for await (const b of batched ? reader.chunkBatches() : []) {
        hash = b.hash(b.length - 1);
        let events = b.events;
        shift(events);
        if (newRun) {
          // a new run sees again the processes the last one knew: chunk by
          // chunk, as each chunk is checked against those known before it
          const kept: ProcEvent[] = [];
          for (let k = 0; k < b.length; k++) {
            const chunk = events.slice(b.eventsStart(k), b.eventsEnd(k))
              .filter((e) => !known(e));
            for (const e of chunk) {
              live.add(e);
              kept.push(e);
            }
          }
          events = kept;
        } else for (const e of events) live.add(e);
        r.counts.addAll(events);
        if (first && pre.length) events = [...pre, ...events];
        first = false;
        yield { events, segment: entry.name };
      }
      for await (const c of batched ? [] : reader.chunks()) {
        hash = c.hash;
        let events = c.events;
        shift(events);
        // a new run sees again the processes the last one knew
        if (newRun) events = events.filter((e) => !known(e));
        for (const e of events) live.add(e);
        r.counts.addAll(events);
        if (first && pre.length) events = [...pre, ...events];
        first = false;
        yield { ...c, events, segment: entry.name };
      }
      if (first && pre.length && batched) {
        yield { events: pre, segment: entry.name };
      } else if (first && pre.length) {
        yield {
          index: -1,
          offset: 0,
          length: 0,
          firstSeq: 0,
          hash: new Uint8Array(32),
          events: pre,
          segment: entry.name,
        };
      }
      const rr = reader.report;
      read.finalHash = rr.trailer && rr.complete
        ? rr.trailer.finalHash
        // (a copy: a chunk's hash is a view of the block it was read from,
        // which every segment's entry would keep alive)
        : hash?.slice() ??
          (entry.open
            ? reader.headerHash
            : await readSegmentEnd(entry.path).then(
              (e) => e.finalHash,
              () => undefined,
            ));
      this.segmentsRead.push(read);
      r.bytes += rr.bytes;
      this.#current = undefined;
      r.chunks += rr.chunks;
      r.events += rr.events + pre.length;
      r.eventsMissing += rr.eventsMissing;
      for (const pr of rr.problems) {
        this.#problem(prefixed(pr, entry.name));
      }
      // the newest segment of a live recorder is not closed yet: only a
      // closed one counts toward completeness, and a later segment of its
      // chain that links to an unclosed one accounts for it
      const next = this.chainOf(entry).after;
      if (!rr.complete) {
        const link = next && mine.has(next)
          ? next.header.segment?.previous
          : undefined;
        // (only a successor that says it was not closed accounts for it)
        const accounted = link !== undefined && link.id === seg?.id &&
          !link.closed;
        if (!accounted) complete = false;
        if (rr.problems.some((x) => x.type !== "truncated")) {
          r.chainIntact = false;
        }
      }
      reads.set(entry, read);
      lastRead = entry;
    }
    r.complete = complete &&
      r.problems.every((x) => x.type === "gap" || x.type === "truncated");
  }
}

function prefixed(p: ReadProblem, name: string): ReadProblem {
  return { ...p, reason: `${name}: ${p.reason}` };
}

/** ns to add to a segment's `t` to put it on `base`'s time base. */
function rebaseDelta(h: RecordingHeader, base: RecordingHeader): number {
  if (h.bootId === base.bootId) {
    return Number(BigInt(h.timeBase.monoNs) - BigInt(base.timeBase.monoNs));
  }
  return Number(BigInt(h.timeBase.utcNs) - BigInt(base.timeBase.utcNs));
}
