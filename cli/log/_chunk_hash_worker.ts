/**
 * The worker side of {@link hashChunks} (`_chunk_hasher.ts`): hashes the
 * chunk items of a job while the reader's thread decodes the events of the
 * job before it. A job is a copy of consecutive chunk items and, per chunk,
 * five offsets in it (item start and end, body start, digest start and end);
 * the answer gives per chunk the SHA-256 of the item (32 bytes, at 32 × i)
 * and whether the body matches its 16-byte digest (a byte at 32 × n + i).
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { digestMatchesAt, sha256Into } from "./_hash.ts";

/** One job, as {@link hashChunks} posts it. */
interface Job {
  id: number;
  bytes: ArrayBuffer;
  spans: Int32Array;
}

parentPort?.on("message", (job: Job) => {
  const bytes = new Uint8Array(job.bytes);
  const spans = job.spans;
  const n = spans.length / 5;
  const out = new Uint8Array(33 * n);
  for (let i = 0; i < n; i++) {
    const s = 5 * i;
    const end = spans[s + 1];
    sha256Into(bytes, spans[s], end, out, 32 * i);
    const digestLength = spans[s + 4] - spans[s + 3];
    out[32 * n + i] = digestLength === 16 &&
        digestMatchesAt(bytes, spans[s + 2], end, bytes, spans[s + 3], 16)
      ? 1
      : 0;
  }
  parentPort!.postMessage({ id: job.id, out }, [out.buffer]);
});
