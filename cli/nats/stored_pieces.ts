/**
 * Which pieces of a recording the stream already holds, read with an
 * ordered, headers-only consumer. Needs a NATS connection.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { PIECE_HEADER } from "./piece_subject.ts";

/**
 * The piece indexes stored on `subject`. Throws when the stream says it
 * holds more messages there than could be read within `timeoutMs` (never a
 * partial set: the caller would send again pieces the stream holds). A
 * fetch that brings nothing is tried again until then: a cluster's consumer
 * can take longer than one fetch's wait to deliver its first message.
 *
 * @example
 * ```ts ignore
 * const have = await storedPieces(nc, jsm, "PROCREC", "procrec.h.0123...");
 * ```
 */
export async function storedPieces(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  timeoutMs = 30_000,
): Promise<Set<number>> {
  const out = new Set<number>();
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const total = info.state.subjects?.[subject] ?? 0;
  if (total === 0) return out;
  const c = await jetstream(nc).consumers.get(stream, {
    filter_subjects: subject,
    headers_only: true,
  });
  const end = Date.now() + timeoutMs;
  let seen = 0;
  while (seen < total && Date.now() < end) {
    const iter = await c.fetch({ max_messages: 1000, expires: 2000 });
    for await (const m of iter) {
      seen++;
      // (headers that cannot be read are no piece's: the client throws)
      let i = NaN;
      try {
        i = Number(m.headers?.get(PIECE_HEADER));
      } catch { /* not a piece */ }
      if (Number.isSafeInteger(i)) out.add(i);
      if (m.info.pending === 0) seen = total;
    }
  }
  await c.delete().catch(() => {});
  if (seen < total) {
    throw new Error(
      `the stream holds ${total} messages on ${subject}, ${seen} of them read in ${
        Math.round(timeoutMs / 1000)
      } s`,
    );
  }
  return out;
}
