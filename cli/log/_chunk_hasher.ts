/**
 * Hashing chunk items on a second thread: a reader of a big recording hands
 * the items of the next chunks to a worker (`_chunk_hash_worker.ts`) and
 * decodes the events of the current ones meanwhile, so the two halves of
 * reading (SHA-256 of every item and body, decoding) run side by side.
 *
 * One worker serves the whole process, started on first use. It keeps the
 * process alive only while a job is out (it is unref'd when idle), so a
 * reader left unfinished never holds the process open. Anything that goes
 * wrong with it (it cannot start, it fails) makes {@link hashChunks} answer
 * `undefined`, and the reader hashes on its own thread: the same result.
 *
 * @module
 */
import type { Worker } from "node:worker_threads";

/** The worker class, loaded by {@link startChunkHasher} (small reads never). */
let WorkerClass: typeof Worker | undefined;
let worker: Worker | undefined;
/** The worker has answered once (it is started and its module loaded). */
let ready = false;
let broken = false;
let nextId = 0;
let used = 0;
/** Jobs posted and not answered: the worker holds the process meanwhile. */
const pending = new Set<number>();

function fail(): void {
  broken = true;
  ready = false;
  const w = worker;
  worker = undefined;
  pending.clear();
  w?.terminate().catch(() => {});
}

/**
 * Loads the worker class and starts the worker unless it is started (it
 * answers later: see {@link chunkHasherReady}).
 */
export async function startChunkHasher(): Promise<void> {
  if (WorkerClass === undefined && !broken) {
    try {
      WorkerClass = (await import("node:worker_threads")).Worker;
    } catch {
      broken = true;
    }
  }
  start();
}

function start(): Worker | undefined {
  if (worker !== undefined || broken || WorkerClass === undefined) {
    return worker;
  }
  try {
    const w = new WorkerClass(
      new URL("./_chunk_hash_worker.ts", import.meta.url),
    );
    w.on("message", (m: { id: number }) => {
      ready = true;
      if (!pending.delete(m.id)) return;
      if (pending.size === 0) w.unref();
    });
    w.on("error", fail);
    w.on("exit", fail);
    // a new worker holds the process: only a job out does (see post)
    w.unref();
    // a first, empty job: it answers once the worker is up
    worker = w;
    post(new ArrayBuffer(0), new Int32Array(0), new SharedArrayBuffer(4));
    return w;
  } catch {
    broken = true;
    return undefined;
  }
}

function post(
  bytes: ArrayBuffer,
  spans: Int32Array,
  result: SharedArrayBuffer,
): void {
  const w = worker!;
  const id = nextId++;
  pending.add(id);
  if (pending.size === 1) w.ref();
  try {
    w.postMessage({ id, bytes, spans, result }, [
      bytes,
      spans.buffer as ArrayBuffer,
    ]);
  } catch {
    fail();
  }
}

/**
 * Whether the worker is up (has answered): a reader hashes on its own
 * thread until then rather than wait for its start.
 */
export function chunkHasherReady(): boolean {
  return ready && !broken;
}

/** {@link HashJob.state}: not taken, answered, taken by the reader. */
export const JOB_FREE = 0;
export const JOB_DONE = 1;
export const JOB_TAKEN = 2;

/** A job handed to the worker (see {@link hashChunks}). */
export interface HashJob {
  /** The job's state ({@link JOB_FREE} until one side takes it). */
  state: Int32Array;
  /** The answer, once the state is {@link JOB_DONE}. */
  out: Uint8Array;
}

/**
 * Hands the worker the chunk items of `bytes` to hash: `spans` holds five
 * offsets in `bytes` per chunk (item start, item end, body start, digest
 * start, digest end). The answer, in shared memory, holds the SHA-256 of
 * each item (32 bytes each, in order) then a byte per chunk, 1 when the body
 * matches its 16-byte digest. The reader never waits for it: when it needs
 * the hashes and the job's state is not {@link JOB_DONE}, it sets
 * {@link JOB_TAKEN} (an atomic exchange: the worker then skips the job) and
 * hashes the items itself. `undefined` when the worker is not there. Both
 * arrays are handed over (transferred).
 *
 * @example
 * ```ts
 * import { hashChunks, JOB_DONE, startChunkHasher } from "./_chunk_hasher.ts";
 * import { sha256, toHex } from "./_hash.ts";
 * import { newEncoder } from "./_cbor.ts";
 * const body = new Uint8Array([0x80]);
 * const item = newEncoder().encode(["chunk", 0, 0, new Uint8Array(32), sha256(body).slice(0, 16), body]);
 * await startChunkHasher();
 * const job = hashChunks(new Uint8Array(item).buffer, new Int32Array([0, item.length, item.length - 1, item.length - 18, item.length - 2]));
 * for (let i = 0; job !== undefined && i < 500 && Atomics.load(job.state, 0) !== JOB_DONE; i++) {
 *   await new Promise((r) => setTimeout(r, 10));
 * }
 * if (job !== undefined && Atomics.load(job.state, 0) === JOB_DONE &&
 *   (toHex(job.out.subarray(0, 32)) !== toHex(sha256(item)) || job.out[32] !== 1)) throw new Error();
 * ```
 */
export function hashChunks(
  bytes: ArrayBuffer,
  spans: Int32Array,
): HashJob | undefined {
  if (start() === undefined) return undefined;
  const n = spans.length / 5;
  const result = new SharedArrayBuffer(4 + 33 * n);
  post(bytes, spans, result);
  return {
    state: new Int32Array(result, 0, 1),
    out: new Uint8Array(result, 4),
  };
}

/** A reader took a job's hashes from the worker. */
export function noteWorkerJobUsed(): void {
  used++;
}

/**
 * Jobs handed to the worker in this process, and jobs whose hashes readers
 * took from it (tests).
 */
export function chunkHasherJobs(): { posted: number; used: number } {
  return { posted: nextId, used };
}
