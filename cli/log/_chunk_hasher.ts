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
let answered = 0;
const pending = new Map<number, (out: Uint8Array | undefined) => void>();

function fail(): void {
  broken = true;
  ready = false;
  const w = worker;
  worker = undefined;
  for (const resolve of pending.values()) resolve(undefined);
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
    w.on("message", (m: { id: number; out: Uint8Array }) => {
      ready = true;
      const resolve = pending.get(m.id);
      if (resolve === undefined) return;
      pending.delete(m.id);
      answered++;
      if (pending.size === 0) w.unref();
      resolve(m.out);
    });
    w.on("error", fail);
    w.on("exit", fail);
    // a new worker holds the process: only a job out does (see post)
    w.unref();
    // a first, empty job: it answers once the worker is up
    worker = w;
    post(new ArrayBuffer(0), new Int32Array(0));
    return w;
  } catch {
    broken = true;
    return undefined;
  }
}

function post(
  bytes: ArrayBuffer,
  spans: Int32Array,
): Promise<Uint8Array | undefined> {
  const w = worker!;
  const id = nextId++;
  const p = new Promise<Uint8Array | undefined>((resolve) =>
    pending.set(id, resolve)
  );
  if (pending.size === 1) w.ref();
  try {
    w.postMessage({ id, bytes, spans }, [bytes, spans.buffer as ArrayBuffer]);
  } catch {
    fail();
  }
  return p;
}

/**
 * Whether the worker is up (has answered): a reader hashes on its own
 * thread until then rather than wait for its start.
 */
export function chunkHasherReady(): boolean {
  return ready && !broken;
}

/**
 * The SHA-256 of each chunk item of `bytes` and whether its body matches its
 * digest: `spans` holds five offsets in `bytes` per chunk (item start, item
 * end, body start, digest start, digest end). The answer holds the hashes
 * (32 bytes each, in order) then a byte per chunk, 1 when the body matches
 * its 16-byte digest; `undefined` when the worker is not there (hash on
 * this thread then). Both arrays are handed over (transferred).
 *
 * @example
 * ```ts
 * import { hashChunks, startChunkHasher } from "./_chunk_hasher.ts";
 * import { sha256, toHex } from "./_hash.ts";
 * import { newEncoder } from "./_cbor.ts";
 * const body = new Uint8Array([0x80]);
 * const item = newEncoder().encode(["chunk", 0, 0, new Uint8Array(32), sha256(body).slice(0, 16), body]);
 * await startChunkHasher();
 * const out = await hashChunks(new Uint8Array(item).buffer, new Int32Array([0, item.length, item.length - 1, item.length - 18, item.length - 2]));
 * if (out !== undefined && (toHex(out.subarray(0, 32)) !== toHex(sha256(item)) || out[32] !== 1)) throw new Error();
 * ```
 */
export function hashChunks(
  bytes: ArrayBuffer,
  spans: Int32Array,
): Promise<Uint8Array | undefined> {
  if (start() === undefined) return Promise.resolve(undefined);
  return post(bytes, spans);
}

/** Jobs the worker has answered so far in this process (for tests). */
export function chunkHasherJobs(): number {
  return answered;
}
