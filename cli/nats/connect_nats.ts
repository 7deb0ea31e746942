/**
 * Opens a NATS connection for publishing or collecting, with the security
 * rules of `procrec`: credentials files must not be readable by others, and a
 * password never goes over a non-loopback connection without TLS. Needs
 * `--allow-net` and `--allow-read` (credentials, CA).
 *
 * @module
 */
import {
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
} from "@nats-io/transport-node";
import { connectDeno } from "./deno_transport.ts";
import { type NatsTarget, parseNatsTarget } from "./nats_target.ts";

/** Credentials and TLS of a connection (the `--nats-*` options). */
export interface NatsAuth {
  /** A `.creds` file (user JWT and NKey seed). */
  credsFile?: string;
  user?: string;
  /** A file whose first line is the password. */
  passwordFile?: string;
  /** A PEM file of the CA that signed the servers' certificates (implies TLS). */
  tlsCaFile?: string;
}

/** Options of {@link connectNats}. */
export interface ConnectOptions extends NatsAuth {
  url: string;
  /** Keep trying to connect in the background instead of failing (publishers). */
  waitOnFirstConnect?: boolean;
  /** Connection name shown by the server. */
  name?: string;
  /** Give up connecting after this many ms (default 5000). */
  timeoutMs?: number;
}

/**
 * Reads a secret file, refusing one that others can read (mode & 0o004) or
 * that is not a regular file.
 */
export async function readSecretFile(
  path: string,
  what: string,
): Promise<Uint8Array> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    throw new Error(`Cannot read ${what} "${path}": ${(e as Error).message}`);
  }
  if (!st.isFile) throw new Error(`Cannot read ${what} "${path}": not a file`);
  if (st.mode !== null && (st.mode & 0o004) !== 0) {
    throw new Error(
      `Cannot use ${what} "${path}": it is readable by every user (mode ${
        (st.mode & 0o777).toString(8)
      }); chmod o-rwx "${path}"`,
    );
  }
  return await Deno.readFile(path);
}

/** Checks the combination of target and credentials; returns the parsed target. */
export function checkNatsAuth(url: string, auth: NatsAuth): NatsTarget {
  const t = parseNatsTarget(url);
  if (auth.credsFile && (auth.user || auth.passwordFile)) {
    throw new RangeError(
      "Cannot connect to NATS: give --nats-creds or --nats-user/--nats-password-file, not both",
    );
  }
  if (!!auth.user !== !!auth.passwordFile) {
    throw new RangeError(
      "Cannot connect to NATS: --nats-user and --nats-password-file go together",
    );
  }
  if (auth.passwordFile && !t.loopback && !t.tls && !auth.tlsCaFile) {
    throw new RangeError(
      `Cannot send a password to "${t.url}" without TLS: use tls:// (and --nats-tls-ca), a loopback server, or --nats-creds`,
    );
  }
  return t;
}

/**
 * Connects (reconnecting forever once connected).
 *
 * @example
 * ```ts ignore
 * const nc = await connectNats({ url: "nats://127.0.0.1:4222" });
 * await nc.close();
 * ```
 */
export async function connectNats(
  opts: ConnectOptions,
): Promise<NatsConnection> {
  const t = checkNatsAuth(opts.url, opts);
  const o: ConnectionOptions = {
    servers: t.servers,
    name: opts.name ?? "procrec",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    timeout: opts.timeoutMs ?? 5000,
    waitOnFirstConnect: opts.waitOnFirstConnect,
    // the seed list is the cluster: do not wander to advertised addresses
    ignoreClusterUpdates: true,
    pingInterval: 5000,
    maxPingOut: 2,
  };
  if (opts.credsFile) {
    const creds = await readSecretFile(opts.credsFile, "NATS credentials file");
    o.authenticator = credsAuthenticator(creds);
  }
  if (opts.user && opts.passwordFile) {
    const text = new TextDecoder().decode(
      await readSecretFile(opts.passwordFile, "NATS password file"),
    );
    o.user = opts.user;
    o.pass = text.split(/\r?\n/)[0];
  }
  if (t.tls || opts.tlsCaFile) {
    o.tls = opts.tlsCaFile ? { caFile: opts.tlsCaFile } : {};
  }
  try {
    return await connectDeno(o);
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /UnknownIssuer|invalid peer certificate/i.test(msg)
      ? opts.tlsCaFile
        ? `; the servers' certificates are not signed by the CA in "${opts.tlsCaFile}" (--nats-tls-ca)`
        : "; give the CA that signed the servers' certificates with --nats-tls-ca"
      : /does not support 'tls'/.test(msg)
      ? "; the server has no TLS: configure tls {} on its client port, or drop tls:// and --nats-tls-ca"
      : "";
    throw new Error(`Cannot connect to NATS "${t.url}": ${msg}${hint}`, {
      cause: e,
    });
  }
}
