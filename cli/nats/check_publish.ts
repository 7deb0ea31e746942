/**
 * `procrec doctor --publish URL`: can this host publish its recordings?
 * Checks the URL and credentials, the connection, JetStream, the stream and
 * the permission to publish under this host's subject, without storing
 * anything. Needs `--allow-net` and `--allow-read` (credentials).
 *
 * @module
 */
import { headers } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import type { HostCheck } from "../record/check_host.ts";
import { checkNatsAuth, connectNats, type NatsAuth } from "./connect_nats.ts";
import { waitJetStream } from "./ensure_stream.ts";
import { PIECE_HEADER, pieceSubject, streamName } from "./piece_subject.ts";
import { retryJetStream } from "./retry_jetstream.ts";

/** Options of {@link checkPublish}. */
export interface CheckPublishOptions extends NatsAuth {
  url: string;
  prefix: string;
  host: string;
}

/**
 * The checks, in order; a failed one stops the checks that depend on it.
 *
 * @example
 * ```ts ignore
 * const checks = await checkPublish({ url: "nats://127.0.0.1:4222", prefix: "procrec", host: "web-1" });
 * ```
 */
export async function checkPublish(
  opts: CheckPublishOptions,
): Promise<HostCheck[]> {
  const checks: HostCheck[] = [];
  const fail = (name: string, e: unknown, fix: string) => {
    checks.push({ name, ok: false, detail: (e as Error).message, fix });
    return checks;
  };
  try {
    const t = checkNatsAuth(opts.url, opts);
    checks.push({
      name: "NATS URL and credentials",
      ok: true,
      detail: `${t.servers.length} seed servers, ${
        t.tls || opts.tlsCaFile ? "TLS" : "no TLS"
      }, ${
        opts.credsFile
          ? "credentials file"
          : opts.user
          ? `user ${opts.user}`
          : "no credentials"
      }`,
    });
  } catch (e) {
    return fail(
      "NATS URL and credentials",
      e,
      "give nats://HOST:PORT[,HOST:PORT...]; a password only over tls:// or loopback",
    );
  }
  let nc;
  try {
    nc = await connectNats({ ...opts, name: "procrec doctor" });
    const info = nc.info;
    checks.push({
      name: "NATS connection",
      ok: true,
      detail: `connected to ${info?.server_name ?? "?"} (nats-server ${
        info?.version ?? "?"
      }${info?.cluster ? `, cluster ${info.cluster}` : ""})`,
    });
  } catch (e) {
    return fail(
      "NATS connection",
      e,
      "check that a server listens there and that the credentials are right",
    );
  }
  try {
    const jsm = await waitJetStream(nc, 10_000);
    checks.push({ name: "JetStream", ok: true, detail: "enabled" });
    const subject = pieceSubject(opts.prefix, opts.host, "0".repeat(32));
    const stream = await retryJetStream(
      `look up the stream of "${opts.prefix}.>"`,
      () =>
        jsm.streams.find(subject).catch((e) => {
          if (/no stream matches/i.test(String(e))) return undefined;
          throw e;
        }),
      10_000,
    );
    if (stream) {
      const si = await jsm.streams.info(stream);
      checks.push({
        name: "stream",
        ok: true,
        detail: `${stream}: subjects ${
          (si.config.subjects ?? []).join(" ")
        }, ${si.config.num_replicas} replicas, ${si.config.storage} storage, dedupe window ${
          Math.round(si.config.duplicate_window / 1e9)
        } s, ${si.state.messages} messages`,
      });
    } else {
      checks.push({
        name: "stream",
        ok: true,
        detail:
          `none captures "${opts.prefix}.>" yet: the first record --publish creates ${
            streamName(opts.prefix)
          } (3 replicas on a cluster of 3 or more, file storage), if its user may`,
      });
    }
    // a publish that JetStream answers but never stores: the expected
    // stream name cannot match, so the answer proves the permission
    const h = headers();
    h.set(PIECE_HEADER, "0");
    const probe = await jetstream(nc, { timeout: 5000 }).publish(
      subject,
      new Uint8Array(0),
      { headers: h, expect: { streamName: "procrec-doctor-probe" } },
    ).then(() => "stored", (e) => e as Error);
    const text = probe instanceof Error ? probe.message : probe;
    if (/expected stream|wrong last|does not match/i.test(text) || !stream) {
      checks.push({
        name: "publish permission",
        ok: stream ? true : !/permission|timeout/i.test(text),
        detail: stream
          ? `this host may publish on ${opts.prefix}.${
            subject.split(".")[1]
          }.> (probe answered by JetStream, nothing stored)`
          : `not provable before the stream exists (the probe got: ${text}); run doctor again after the first record --publish`,
      });
    } else {
      checks.push({
        name: "publish permission",
        ok: false,
        detail: `publishing on ${subject} failed: ${text}`,
        fix:
          "give this host's NATS user publish rights on PREFIX.<host>.> (see docs/nats-authorization.conf)",
      });
    }
  } catch (e) {
    fail("JetStream", e, "enable JetStream on the servers (jetstream {})");
  } finally {
    await nc.close().catch(() => {});
  }
  return checks;
}
