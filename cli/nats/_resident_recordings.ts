/**
 * The recordings `collect` keeps in memory (private to cli/nats). A follower
 * runs for months, so with `follow` it keeps a bounded number: complete
 * recordings are let go after their batch (their pieces' hashes stay in a
 * cache bounded by bytes, so that a late piece is still told apart without
 * reading the file), and past the bound the least recently written
 * unfinished ones go, of the hosts that have the most in memory (one host's
 * made-up ids push out its own). An unfinished recording's state
 * is its files, read again when a piece of it comes; a hole it had is kept
 * here, so it is named once, and counted at the end. Pure apart from the
 * recordings' own files.
 *
 * @module
 */
import type {
  CollectedRecording,
  PackedHashes,
} from "./collected_recording.ts";

/** A hole of a recording let go unfinished. */
export interface ReleasedHole {
  host: string;
  id: string;
  from: number;
  to: number;
  held: number;
  /** Named already (each hole is named once). */
  named: boolean;
}

/** Recordings let go unfinished whose hole (or none) is kept, at most. */
const KEPT_RELEASED = 100_000;

/**
 * Bytes of complete recordings' hashes kept, at most, each entry counted
 * with what it costs beside its hashes (the map's entry, its key, the
 * buffer's object: about 500 bytes measured for a one-piece recording).
 */
const COMPLETE_CACHE_BYTES = 32 << 20;
/** What a cache entry costs beside its hashes and its key (bytes). */
const ENTRY_BYTES = 512;

function entryCost(key: string, hashes: PackedHashes): number {
  return hashes.size + ENTRY_BYTES + 2 * key.length;
}

export class ResidentRecordings {
  /** In the order last written to: the least recent first. */
  readonly open = new Map<string, CollectedRecording>();
  /** Recordings in {@link open} by host. */
  #perHost = new Map<string, number>();
  /** Hashes of complete recordings let go, by key (the least recent first). */
  #complete = new Map<string, PackedHashes>();
  #completeBytes = 0;
  /** Recordings let go unfinished, by key: their hole, or null. */
  #unfinished = new Map<string, ReleasedHole | null>();
  /** Let go past {@link KEPT_RELEASED}: counted, not kept. */
  #uncountedUnfinished = 0;
  #uncountedHoles = 0;
  /** Complete recordings let go that completed in this run. */
  releasedComplete = 0;

  constructor(readonly maxResident: number) {}

  /** The hashes of a complete recording that was let go, if still known. */
  completeHashes(key: string): PackedHashes | undefined {
    return this.#complete.get(key);
  }

  /** Adds a recording opened (or read again). */
  add(key: string, r: CollectedRecording): void {
    this.open.set(key, r);
    this.#perHost.set(r.host, (this.#perHost.get(r.host) ?? 0) + 1);
    const was = this.#unfinished.get(key);
    if (was !== undefined) {
      // (its hole, named already, is not named again)
      if (was?.named) r.holeNamedAt = was.from;
      this.#unfinished.delete(key);
    }
  }

  /** A piece of `r` was written or held: it goes last. */
  written(key: string, r: CollectedRecording): void {
    this.open.delete(key);
    this.open.set(key, r);
  }

  /** Takes a recording out of memory (it failed: the caller names it). */
  drop(key: string): void {
    const r = this.open.get(key);
    if (r === undefined) return;
    this.open.delete(key);
    this.#countDown(r.host);
  }

  /**
   * With `follow`, after a batch is synced and acknowledged: lets the
   * complete recordings go, then the least recently written unfinished ones
   * past {@link maxResident}, of the hosts with the most in memory.
   */
  release(): void {
    for (const [key, r] of this.open) {
      if (r.state === "complete") this.#let(key, r);
    }
    while (this.open.size > this.maxResident) {
      let most = 0;
      for (const n of this.#perHost.values()) if (n > most) most = n;
      // the least recently written of the hosts with the most
      let victim: [string, CollectedRecording] | undefined;
      for (const entry of this.open) {
        if (this.#perHost.get(entry[1].host) === most) {
          victim = entry;
          break;
        }
      }
      // (never without one: the counts follow the map)
      victim ??= this.open.entries().next().value!;
      this.#let(victim[0], victim[1]);
    }
  }

  /**
   * The holes to name now that the stream is caught up, each once: those of
   * the recordings in memory, then those of the ones let go.
   */
  *unnamedHoles(): Generator<{
    host: string;
    id: string;
    from: number;
    to: number;
    held: number;
  }> {
    for (const r of this.open.values()) {
      const g = r.gap();
      if (g && r.holeNamedAt !== g.from) {
        r.holeNamedAt = g.from;
        yield { host: r.host, id: r.id, ...g };
      }
    }
    for (const h of this.#unfinished.values()) {
      if (h !== null && !h.named) {
        h.named = true;
        yield h;
      }
    }
  }

  /** Recordings let go unfinished: in all, and of them with a hole. */
  get releasedUnfinished(): { all: number; withHole: number } {
    let holes = 0;
    for (const h of this.#unfinished.values()) if (h !== null) holes++;
    return {
      all: this.#unfinished.size + this.#uncountedUnfinished,
      withHole: holes + this.#uncountedHoles,
    };
  }

  #let(key: string, r: CollectedRecording): void {
    this.open.delete(key);
    this.#countDown(r.host);
    if (r.state === "complete") {
      if (r.completedInRun) this.releasedComplete++;
      const hashes = r.hashes.trimmed();
      const old = this.#complete.get(key);
      if (old !== undefined) {
        this.#complete.delete(key);
        this.#completeBytes -= entryCost(key, old);
      }
      this.#complete.set(key, hashes);
      this.#completeBytes += entryCost(key, hashes);
      for (const [k, h] of this.#complete) {
        if (this.#completeBytes <= COMPLETE_CACHE_BYTES) break;
        this.#complete.delete(k);
        this.#completeBytes -= entryCost(k, h);
      }
      return;
    }
    const g = r.gap();
    if (this.#unfinished.size < KEPT_RELEASED) {
      this.#unfinished.set(
        key,
        g === undefined ? null : {
          host: r.host,
          id: r.id,
          ...g,
          named: r.holeNamedAt === g.from,
        },
      );
    } else {
      this.#uncountedUnfinished++;
      if (g !== undefined) this.#uncountedHoles++;
    }
  }

  #countDown(host: string): void {
    const n = (this.#perHost.get(host) ?? 1) - 1;
    if (n === 0) this.#perHost.delete(host);
    else this.#perHost.set(host, n);
  }
}
