/**
 * Parses a NATS target URL and checks that credentials travel safely. Pure.
 *
 * @module
 */

/** Where and how to connect. */
export interface NatsTarget {
  /** `host:port` of every seed server. */
  servers: string[];
  /** `tls://`: the connection must be TLS. */
  tls: boolean;
  /** Every seed server is on a loopback address. */
  loopback: boolean;
  /** The URL as given (without any user:password part). */
  url: string;
}

/**
 * Parses `nats://HOST:PORT[,HOST:PORT...]` (or `tls://...`); the port
 * defaults to 4222. A user or password inside the URL is refused: use
 * `--nats-user`/`--nats-password-file` or `--nats-creds`.
 *
 * @example
 * ```ts
 * import { parseNatsTarget } from "./nats_target.ts";
 * const t = parseNatsTarget("nats://127.0.0.1:4222,localhost");
 * if (t.servers.join() !== "127.0.0.1:4222,localhost:4222" || !t.loopback) throw new Error();
 * ```
 */
export function parseNatsTarget(url: string): NatsTarget {
  const m = /^(nats|tls):\/\/(.+)$/.exec(url.trim());
  if (!m) {
    throw new RangeError(
      `Cannot use NATS URL "${url}": expected nats://HOST:PORT[,HOST:PORT...] or tls://...`,
    );
  }
  const servers: string[] = [];
  let loopback = true;
  for (const part of m[2].split(",")) {
    const p = part.trim().replace(/\/$/, "");
    if (p.includes("@")) {
      throw new RangeError(
        `Cannot use NATS URL "${url}": credentials in the URL are refused (use --nats-user with --nats-password-file, or --nats-creds)`,
      );
    }
    const hm = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(p);
    if (!hm || (hm[2] !== undefined && Number(hm[2]) > 65535)) {
      throw new RangeError(
        `Cannot use NATS URL "${url}": "${part}" is not HOST[:PORT]`,
      );
    }
    const host = hm[1];
    servers.push(`${host}:${hm[2] ?? "4222"}`);
    if (!isLoopback(host)) loopback = false;
  }
  return { servers, tls: m[1] === "tls", loopback, url: url.trim() };
}

/** `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
