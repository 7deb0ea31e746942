/**
 * A NATS client transport over Deno's own sockets (`Deno.connect`, and
 * `Deno.startTls` for TLS), used instead of the Node transport of
 * `@nats-io/transport-node`. NATS sends a plaintext `INFO` line before the
 * TLS handshake; the Deno versions we pin cannot upgrade a `node:net` socket
 * that has already been read from (denoland/deno#27087), while
 * `Deno.startTls` upgrades a `Deno.TcpConn` whose bytes we read ourselves.
 * Needs `--allow-net`, and `--allow-read` for a CA file.
 *
 * @module
 */
import {
  checkOptions,
  type ConnectionOptions,
  type Deferred,
  deferred,
  extractProtocolMessage,
  INFO,
  type NatsConnection,
  NatsConnectionImpl,
  type Server,
  type ServerInfo,
  setTransportFactory,
  type Transport,
} from "@nats-io/transport-node";

/** Bytes read from the socket at most per read. */
const READ_BYTES = 64 * 1024;
/** An orderly close waits this long at most for queued writes (ms). */
const CLOSE_FLUSH_MS = 2000;
/** The INFO line must arrive within this many bytes. */
const MAX_INFO_BYTES = 1024 * 1024;

/**
 * One connection to one server. `nats-core` creates one per (re)connect
 * through the factory {@link connectDeno} installs.
 */
export class DenoTransport implements Transport {
  readonly lang = "nats.js/deno";
  /** The pinned `@nats-io/*` version (package.json). */
  readonly version = "3.4.0";
  closeError?: Error;
  #conn: Deno.Conn | undefined;
  #encrypted = false;
  #connected = false;
  #done = false;
  #yields: Uint8Array[] = [];
  #signal: Deferred<void> = deferred();
  #closed: Deferred<void | Error> = deferred();
  /** The tail of the write queue: frames go out whole and in order. */
  #writing: Promise<void> = Promise.resolve();

  get isClosed(): boolean {
    return this.#done;
  }

  isEncrypted(): boolean {
    return this.#encrypted;
  }

  /** Dials, reads INFO, upgrades to TLS when the server or the options ask. */
  async connect(server: Server, options: ConnectionOptions): Promise<void> {
    const where = `${server.hostname}:${server.port}`;
    let conn: Deno.Conn | undefined;
    try {
      const tcp = await Deno.connect({
        hostname: server.hostname,
        port: server.port,
      });
      conn = tcp;
      tcp.setNoDelay(true);
      const { line, info } = await readInfo(tcp, where);
      checkOptions(info, options);
      const wantTls = info.tls_required === true ||
        (info.tls_available === true && options.tls !== null &&
          options.tls !== undefined);
      if (options.tls && options.tls.handshakeFirst) {
        throw new Error(
          "TLS before the server's greeting (handshakeFirst) is not supported",
        );
      }
      if (wantTls) {
        const caCerts = await caCertificates(options);
        const hostname = server.tlsName || server.hostname;
        const tls = await Deno.startTls(tcp, { hostname, caCerts });
        conn = tls;
        try {
          await tls.handshake();
        } catch (e) {
          throw new Error(
            `TLS handshake with ${where} (as "${hostname}") failed: ${
              (e as Error).message
            }`,
            { cause: e },
          );
        }
        this.#encrypted = true;
      }
      if (this.#done) throw new Error(`connection to ${where} was discarded`);
      this.#conn = conn;
      this.#connected = true;
      // the parser starts with the INFO line (it is the first protocol message)
      this.#yields.push(line);
      this.#signal.resolve();
      this.#readLoop(conn);
    } catch (e) {
      try {
        conn?.close();
      } catch { /* already closed */ }
      if (e instanceof Deno.errors.ConnectionRefused) {
        throw new Error(`connection refused by ${where}`, { cause: e });
      }
      throw e;
    }
  }

  async #readLoop(conn: Deno.Conn): Promise<void> {
    let err: Error | undefined;
    try {
      // one buffer for every read; each frame is a copy of what was read
      // (a fresh 64 KiB buffer per read made every small ack cost 64 KiB)
      const buf = new Uint8Array(READ_BYTES);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        this.#yields.push(buf.slice(0, n));
        this.#signal.resolve();
      }
    } catch (e) {
      if (!this.#done) err = e as Error;
    }
    await this.#close(err, false);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this.#iterate();
  }

  async *#iterate(): AsyncIterableIterator<Uint8Array> {
    for (;;) {
      if (this.#yields.length === 0) {
        if (this.#done) return;
        await this.#signal;
      }
      const frames = this.#yields;
      this.#yields = [];
      for (const f of frames) yield f;
      if (this.#done && this.#yields.length === 0) return;
      if (this.#yields.length === 0) this.#signal = deferred();
    }
  }

  /** Queues a frame; write errors surface as the connection closing. */
  send(frame: Uint8Array): void {
    const conn = this.#conn;
    if (this.#done || !conn) return;
    this.#writing = this.#writing.then(async () => {
      if (this.#done) return;
      let off = 0;
      while (off < frame.length) off += await conn.write(frame.subarray(off));
    }).catch((e) => {
      // the read side sees the broken connection and closes it
      this.closeError ??= e as Error;
    });
  }

  close(err?: Error): Promise<void> {
    return this.#close(err, true);
  }

  disconnect(): void {
    this.#close(undefined, true).catch(() => {});
  }

  discard(): void {
    this.#done = true;
    this.#signal.resolve();
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#conn = undefined;
  }

  closed(): Promise<void | Error> {
    return this.#closed;
  }

  async #close(err: Error | undefined, internal: boolean): Promise<void> {
    if (!this.#connected) return;
    if (this.#done) {
      this.discard();
      return;
    }
    this.closeError = err;
    // an orderly close sends what is queued first, waiting a bounded time
    // (a server that stopped reading must not hold the close forever)
    if (!err && internal) {
      let timer: number | undefined;
      await Promise.race([
        this.#writing,
        new Promise<void>((r) => timer = setTimeout(r, CLOSE_FLUSH_MS)),
      ]);
      clearTimeout(timer);
    }
    this.#done = true;
    this.#signal.resolve();
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#conn = undefined;
    this.#closed.resolve(this.closeError);
  }
}

/** Reads the server's first line (`INFO {...}`) and parses it. */
async function readInfo(
  conn: Deno.Conn,
  where: string,
): Promise<{ line: Uint8Array; info: ServerInfo }> {
  let got = new Uint8Array(0);
  for (;;) {
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    if (n === null) {
      throw new Error(`${where} closed the connection before its INFO line`);
    }
    const next = new Uint8Array(got.length + n);
    next.set(got);
    next.set(buf.subarray(0, n), got.length);
    got = next;
    const pm = extractProtocolMessage(got);
    if (pm !== "") {
      const m = INFO.exec(pm);
      if (!m) {
        throw new Error(
          `${where} is not a NATS server: its first line is not INFO`,
        );
      }
      // the server says nothing more before the client's CONNECT (or the
      // TLS handshake), so the line is all that was read
      return { line: got, info: JSON.parse(m[1]) as ServerInfo };
    }
    if (got.length > MAX_INFO_BYTES) {
      throw new Error(
        `${where} sent no INFO line within ${MAX_INFO_BYTES} bytes`,
      );
    }
  }
}

/** The PEM certificates of `tls.caFile`/`tls.ca`, or undefined (system roots). */
async function caCertificates(
  options: ConnectionOptions,
): Promise<string[] | undefined> {
  const tls = options.tls;
  if (!tls) return undefined;
  if (tls.caFile) {
    let pem: string;
    try {
      pem = await Deno.readTextFile(tls.caFile);
    } catch (e) {
      throw new Error(
        `Cannot read the CA file "${tls.caFile}": ${(e as Error).message}`,
      );
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new Error(
        `Cannot use the CA file "${tls.caFile}": no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)`,
      );
    }
    return [pem];
  }
  return tls.ca ? [tls.ca] : undefined;
}

/**
 * Connects with {@link DenoTransport} (the same options and connection object
 * as `@nats-io/transport-node`'s `connect`).
 *
 * @example
 * ```ts ignore
 * const nc = await connectDeno({ servers: "127.0.0.1:4222" });
 * await nc.close();
 * ```
 */
export function connectDeno(
  opts: ConnectionOptions,
): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new DenoTransport() });
  return NatsConnectionImpl.connect(opts);
}
