import { createHash, type Hash } from "node:crypto";

/** Bytes of a file, block by block, hashed as they pass; the whole file is hashed even if the consumer stops early. */
export async function* hashedFileBlocks(
  path: string,
  hash: Hash,
  counter: { bytes: number },
): AsyncGenerator<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  try {
    for (;;) {
      const n = await file.read(buf);
      if (n === null) return;
      const block = buf.slice(0, n);
      hash.update(block);
      counter.bytes += n;
      yield block;
    }
  } finally {
    // drain what the consumer did not want, so the hash covers the whole file
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
      counter.bytes += n;
    }
    file.close();
  }
}

/** A new SHA-256 hasher. */
export function newSha256(): Hash {
  return createHash("sha256");
}

/** A ReadableStream of a file that hashes what passes through it. */
export function hashedFileStream(
  path: string,
  hash: Hash,
  counter: { bytes: number },
): ReadableStream<Uint8Array> {
  const it = hashedFileBlocks(path, hash, counter);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await it.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel() {
      await it.return(undefined);
    },
  });
}
