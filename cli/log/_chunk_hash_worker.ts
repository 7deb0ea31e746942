/**
 * The worker side of {@link hashChunks} (`_chunk_hasher.ts`): hashes the
 * chunk items of a job while the reader's thread decodes the events of the
 * job before it. A job is a copy of consecutive chunk items and, per chunk,
 * five offsets in it (item start and end, body start, digest start and end);
 * the answer, written into shared memory after a state word, gives per chunk
 * the SHA-256 of the item (32 bytes, at 32 × i) and whether the body matches
 * its 16-byte digest (a byte at 32 × n + i); the state says when it is
 * there, or that the reader took the job itself.
 * Items of up to 4 KiB are hashed by the system's library where it is to be
 * had (`_sha256_native.ts`: loaded here, not in the reader's thread, whose
 * small reads should not pay for loading it).
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { digestMatchesAt, sha256Into } from "./_hash.ts";
import { sha256NativeInto } from "./_sha256_native.ts";

/**
 * Small items by the system's library where it is to be had (several times
 * faster), else as the reader's thread hashes them: the same hash.
 */
const NATIVE_MAX = 4096;

function hashInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): void {
  if (
    end - start > NATIVE_MAX || !sha256NativeInto(bytes, start, end, out, at)
  ) sha256Into(bytes, start, end, out, at);
}

const DIGEST = new Uint8Array(32);

/** Whether the body from `start` to `end` has the 16-byte digest at `at`. */
function digestMatches(
  bytes: Uint8Array,
  start: number,
  end: number,
  at: number,
): boolean {
  if (
    end - start > NATIVE_MAX ||
    !sha256NativeInto(bytes, start, end, DIGEST, 0)
  ) return digestMatchesAt(bytes, start, end, bytes, at, 16);
  for (let i = 0; i < 16; i++) if (DIGEST[i] !== bytes[at + i]) return false;
  return true;
}

/** One job, as {@link hashChunks} posts it. */
interface Job {
  id: number;
  bytes: ArrayBuffer;
  spans: Int32Array;
  /** State (an Int32 at 0), then the answer (see `hashChunks`). */
  result: SharedArrayBuffer;
}

parentPort?.on("message", (job: Job) => {
  const state = new Int32Array(job.result, 0, 1);
  // the reader may have hashed the job itself already: then skip it
  if (Atomics.compareExchange(state, 0, 0, WORKING) === 0) {
    const bytes = new Uint8Array(job.bytes);
    const spans = job.spans;
    const n = spans.length / 5;
    const out = new Uint8Array(job.result, 4);
    for (let i = 0; i < n; i++) {
      const s = 5 * i;
      const end = spans[s + 1];
      hashInto(bytes, spans[s], end, out, 32 * i);
      const digestLength = spans[s + 4] - spans[s + 3];
      out[32 * n + i] = digestLength === 16 &&
          digestMatches(bytes, spans[s + 2], end, spans[s + 3])
        ? 1
        : 0;
    }
    Atomics.store(state, 0, DONE);
  }
  parentPort!.postMessage({ id: job.id });
});

const WORKING = 3;
const DONE = 1;
