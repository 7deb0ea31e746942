/**
 * Finds the JetStream stream that stores a prefix's pieces, or creates it with
 * sane limits. Needs a NATS connection.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  DiscardPolicy,
  type JetStreamManager,
  jetstreamManager,
  StorageType,
} from "@nats-io/jetstream";
import { streamName } from "./piece_subject.ts";

/** Deduplication window of a stream procrec creates (ns). */
export const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9;

/** The stream procrec uses. */
export interface StreamChoice {
  name: string;
  /** procrec created it just now. */
  created: boolean;
  replicas: number;
  subjects: string[];
  duplicateWindowNs: number;
}

/**
 * Waits (up to `timeoutMs`) until JetStream answers: right after a cluster
 * starts, it has no meta leader for a second or two.
 */
export async function waitJetStream(
  nc: NatsConnection,
  timeoutMs = 15_000,
): Promise<JetStreamManager> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await jetstreamManager(nc, { timeout: 2000 });
    } catch (e) {
      if (Date.now() > end || !/timeout|unavailable/i.test(String(e))) {
        throw new Error(
          `Cannot use JetStream on the NATS server: ${(e as Error).message}`,
          { cause: e },
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Returns the stream that captures `PREFIX.>` (as an operator configured it),
 * or creates `streamName(prefix)`: file storage, 3 replicas when the cluster
 * has 3 nodes or more (else 1), a 10-minute deduplication window.
 *
 * @example
 * ```ts ignore
 * const s = await ensureStream(jsm, "procrec");
 * console.log(s.name, s.replicas);
 * ```
 */
export async function ensureStream(
  jsm: JetStreamManager,
  prefix: string,
): Promise<StreamChoice> {
  const probe = `${prefix}._probe_.x`;
  const found = await jsm.streams.find(probe).catch((e) => {
    if (/no stream matches/i.test(String(e))) return undefined;
    throw new Error(
      `Cannot look up the stream for "${prefix}.>": ${(e as Error).message}`,
      { cause: e },
    );
  });
  if (found) {
    const info = await jsm.streams.info(found);
    return {
      name: found,
      created: false,
      replicas: info.config.num_replicas,
      subjects: info.config.subjects ?? [],
      duplicateWindowNs: info.config.duplicate_window,
    };
  }
  const name = streamName(prefix);
  const base = {
    name,
    subjects: [`${prefix}.>`],
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    duplicate_window: DUPLICATE_WINDOW_NS,
  };
  for (const replicas of [3, 1]) {
    try {
      await jsm.streams.add({ ...base, num_replicas: replicas });
      return {
        name,
        created: true,
        replicas,
        subjects: base.subjects,
        duplicateWindowNs: DUPLICATE_WINDOW_NS,
      };
    } catch (e) {
      const text = String(e);
      // a single server or a smaller cluster: one replica
      if (
        replicas === 3 &&
        /replicas|insufficient resources|non-clustered|peers/i.test(text)
      ) continue;
      if (/already in use|already exists/i.test(text)) {
        return await ensureStream(jsm, prefix);
      }
      throw new Error(
        `Cannot create stream "${name}" for "${prefix}.>": ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
  }
  throw new Error(`Cannot create stream "${name}": no replica count worked`);
}
