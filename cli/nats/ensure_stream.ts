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
  /** Why a stream procrec created on a cluster has fewer than 3 replicas. */
  note?: string;
}

/** What {@link ensureStream} reads of the server's `INFO` (`nc.info`). */
export interface ClusterInfo {
  /** The cluster's name, when the server is in one. */
  cluster?: string;
  /** The client addresses of the cluster's servers, its own included. */
  connect_urls?: string[];
}

/** How long a cluster that names 3 servers may take to accept 3 replicas. */
export const FORMING_WAIT_MS = 20_000;
const FORMING_RETRY_MS = 500;

/**
 * How many servers `info` says its cluster has: its `connect_urls` (which
 * list its own address too), 1 outside a cluster, 0 when it does not say
 * (a cluster that does not advertise).
 *
 * @example
 * ```ts
 * import { clusterServers } from "./ensure_stream.ts";
 * const three = clusterServers({ cluster: "c", connect_urls: ["a:1", "b:1", "c:1"] });
 * if (three !== 3 || clusterServers({}) !== 1) throw new Error();
 * if (clusterServers({ cluster: "c" }) !== 0) throw new Error();
 * ```
 */
export function clusterServers(info: ClusterInfo | undefined): number {
  if (!info) return 0;
  if (!info.cluster) return 1;
  return new Set(info.connect_urls ?? []).size;
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
 * `server` is what the server said of itself on connecting (`nc.info`):
 * when it names 3 servers or more in its cluster, a refusal of 3 replicas
 * for want of peers or resources is taken for a cluster still forming (its servers
 * not yet all in JetStream's group: a loaded host took seconds) and tried
 * again for up to `formingWaitMs`, rather than settling at once for a
 * stream of 1 replica that the loss of one server loses (found when a test
 * killed that server). A stream created with fewer than 3 replicas on a
 * cluster says why in {@link StreamChoice.note}.
 *
 * @example
 * ```ts ignore
 * const s = await ensureStream(jsm, "procrec", nc.info);
 * console.log(s.name, s.replicas, s.note ?? "");
 * ```
 */
export async function ensureStream(
  jsm: JetStreamManager,
  prefix: string,
  server?: ClusterInfo,
  formingWaitMs = FORMING_WAIT_MS,
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
  const servers = clusterServers(server);
  const formingUntil = Date.now() + formingWaitMs;
  let refused = "";
  for (const replicas of [3, 1]) {
    try {
      await jsm.streams.add({ ...base, num_replicas: replicas });
      return {
        name,
        created: true,
        replicas,
        subjects: base.subjects,
        duplicateWindowNs: DUPLICATE_WINDOW_NS,
        ...(replicas < 3 && server?.cluster
          ? {
            note:
              `created stream ${name} with ${replicas} replica: the cluster "${server.cluster}" refused 3 (${refused}); the pieces it holds are on one server only, lost with it`,
          }
          : {}),
      };
    } catch (e) {
      const text = String(e);
      if (
        replicas === 3 &&
        /replicas|insufficient resources|non-clustered|peers/i.test(text)
      ) {
        refused = (e as Error).message;
        // a cluster of 3 or more still forming: again, until it has formed
        if (
          servers >= 3 &&
          /insufficient resources|no suitable peers/i.test(text) &&
          Date.now() < formingUntil
        ) {
          await new Promise((r) => setTimeout(r, FORMING_RETRY_MS));
          return await ensureStream(
            jsm,
            prefix,
            server,
            formingUntil - Date.now(),
          );
        }
        // a single server or a smaller cluster: one replica
        continue;
      }
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
