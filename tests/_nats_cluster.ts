/**
 * Test helper: a 3-node JetStream cluster of Debian `nats-server` processes on
 * free loopback ports (routes between them, JetStream store in a temp dir),
 * started and stopped by the test.
 *
 * @module
 */

/** One server of the cluster. */
export interface NatsNode {
  name: string;
  port: number;
  clusterPort: number;
  storeDir: string;
  configPath: string;
  process?: Deno.ChildProcess;
}

/** Where Debian installs the server. */
export const NATS_SERVER = Deno.env.get("NATS_SERVER") ??
  "/usr/sbin/nats-server";

/** Extra configuration text (accounts, authorization) given to every node. */
export interface ClusterOptions {
  nodes?: number;
  /** Appended to each node's configuration. */
  extraConfig?: string;
  /** Environment of the servers (variables the configuration names). */
  env?: Record<string, string>;
  /** The address client ports listen on (default 127.0.0.1). */
  clientHost?: string;
  /** Client ports speak TLS only, with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
}

/** A running cluster; {@link NatsCluster.stop} in `finally`. */
export class NatsCluster {
  private constructor(
    readonly dir: string,
    readonly nodes: NatsNode[],
    readonly env: Record<string, string> = {},
    readonly clientHost = "127.0.0.1",
  ) {}

  /** `nats://127.0.0.1:P1,127.0.0.1:P2,...`: every seed server. */
  get url(): string {
    return `nats://${
      this.nodes.map((n) => `${this.clientHost}:${n.port}`).join(",")
    }`;
  }

  /** `tls://127.0.0.1:P1,...`: every seed server, TLS required. */
  get tlsUrl(): string {
    return this.url.replace(/^nats:/, "tls:");
  }

  /** Starts `nodes` servers (3 by default) and waits until JetStream has a leader. */
  static async start(opts: ClusterOptions = {}): Promise<NatsCluster> {
    const count = opts.nodes ?? 3;
    const dir = await Deno.makeTempDir({ prefix: "procrec-nats-" });
    const nodes: NatsNode[] = [];
    for (let i = 0; i < count; i++) {
      nodes.push({
        name: `n${i + 1}`,
        port: freePort(),
        clusterPort: freePort(),
        storeDir: `${dir}/n${i + 1}`,
        configPath: `${dir}/n${i + 1}.conf`,
      });
    }
    for (const n of nodes) {
      const routes = nodes.filter((o) => o !== n).map((o) =>
        `nats-route://127.0.0.1:${o.clusterPort}`
      );
      await Deno.writeTextFile(
        n.configPath,
        [
          `server_name: ${n.name}`,
          `listen: ${opts.clientHost ?? "127.0.0.1"}:${n.port}`,
          `jetstream { store_dir: "${n.storeDir}" }`,
          count > 1
            ? `cluster { name: procrec-test, listen: 127.0.0.1:${n.clusterPort}, routes: [${
              routes.join(", ")
            }] }`
            : "",
          opts.tls
            ? `tls { cert_file: "${opts.tls.certFile}", key_file: "${opts.tls.keyFile}" }`
            : "",
          opts.extraConfig ?? "",
        ].join("\n") + "\n",
      );
    }
    const c = new NatsCluster(dir, nodes, opts.env, opts.clientHost);
    try {
      for (const n of nodes) c.startNode(n);
      for (const n of nodes) await c.waitReady(n);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** Starts one node again (after {@link killNode}); same ports and store. */
  startNode(n: NatsNode): void {
    n.process = new Deno.Command(NATS_SERVER, {
      args: ["-c", n.configPath],
      env: this.env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // keep the server's log in the temp dir, for a failing start's message
    const log = `${this.dir}/${n.name}.log`;
    n.process.stderr.pipeTo(
      Deno.openSync(log, { write: true, create: true, append: true }).writable,
    ).catch(() => {});
  }

  /** Kills one node (SIGKILL) and waits for it to be gone. */
  async killNode(n: NatsNode): Promise<void> {
    if (!n.process) return;
    try {
      n.process.kill("SIGKILL");
    } catch { /* gone */ }
    await n.process.status;
    n.process = undefined;
  }

  /** Waits until the node's JetStream answers (`/healthz?js-enabled-only`-like: a TCP INFO line). */
  async waitReady(n: NatsNode, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        const conn = await Deno.connect({
          hostname: this.clientHost,
          port: n.port,
        });
        const buf = new Uint8Array(4096);
        const got = await conn.read(buf);
        conn.close();
        if (
          got &&
          new TextDecoder().decode(buf.subarray(0, got)).startsWith("INFO")
        ) {
          return;
        }
      } catch { /* not listening yet */ }
      if (Date.now() > end) {
        const log = await Deno.readTextFile(`${this.dir}/${n.name}.log`).catch(
          () => "",
        );
        throw new Error(
          `Cannot start nats-server ${n.name} on port ${n.port}: no INFO within ${timeoutMs} ms; its log ends:\n${
            log.split("\n").slice(-5).join("\n")
          }`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills every node and removes the store. */
  async stop(): Promise<void> {
    for (const n of this.nodes) await this.killNode(n);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * A loopback TCP port that was free a moment ago, below the kernel's range
 * of ephemeral ports: a node restarted after an outage binds its ports
 * again, and one from that range may meanwhile be the source port of
 * another node's outgoing connection (CI failed once so: "bind: address
 * already in use" on a restarted node's cluster port).
 */
export function freePort(): number {
  let low = 32768;
  try {
    low = Number(
      Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim()
        .split(/\s+/)[0],
    ) || low;
  } catch { /* the default */ }
  const from = 10_000;
  for (let i = 0; i < 200 && low > from + 100; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    try {
      const l = Deno.listen({ hostname: "127.0.0.1", port });
      l.close();
      return port;
    } catch { /* taken: another */ }
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Whether the Debian server is installed (tests that need it fail loudly without it). */
export async function natsServerInstalled(): Promise<boolean> {
  return await Deno.stat(NATS_SERVER).then(() => true, () => false);
}

/** Throws, naming the package, when Debian's nats-server is not installed. */
export async function requireNatsServer(): Promise<void> {
  if (!await natsServerInstalled()) {
    throw new Error(
      "the NATS tests need Debian's nats-server (scripts/setup.sh installs it)",
    );
  }
}

/** Runs `fn` with a started cluster and a temp dir, stopping both after. */
export async function withCluster(
  fn: (c: NatsCluster, dir: string) => Promise<void>,
  options?: ClusterOptions,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "procrec-nats-test-" });
  try {
    const c = await NatsCluster.start(options);
    try {
      await fn(c, dir);
    } finally {
      await c.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
