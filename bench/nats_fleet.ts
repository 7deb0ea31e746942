/**
 * Benchmark (not a test): `deno task bench:nats`. 20 simulated hosts (a
 * recording replayed at a set rate by each, with `record --publish`'s
 * publisher) into one 3-node JetStream cluster of Debian nats-server
 * processes on loopback, collected by `procrec collect`'s engine. Prints the
 * sustained events/s, the latency from a piece's sealing on its host to its
 * collection (p50, p99), and the publishers' CPU per 100k events (with a
 * baseline of the same recordings written without publishing).
 *
 * BENCH_HOSTS (20), BENCH_RATE events/s per host (2000), BENCH_SECONDS (10).
 *
 * @module
 */
import { NatsCluster } from "../tests/_nats_cluster.ts";
import { collectRecordings } from "../cli/nats/collect_recordings.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import { testHeader, workload } from "../tests/_recording_helpers.ts";

const HOSTS = Number(Deno.env.get("BENCH_HOSTS") ?? 20);
const RATE = Number(Deno.env.get("BENCH_RATE") ?? 2000);
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const HELPER = new URL("./_nats_fleet_hosts.ts", import.meta.url).pathname;
const now = () => performance.timeOrigin + performance.now();

interface HostsResult {
  events: number;
  cpuMs: number;
  wallMs: number;
  /** When the hosts began writing (ms, same clock as this process). */
  startedAt: number;
  pending: number;
  seals: Record<string, number[]>;
}

async function runHosts(
  url: string,
  dir: string,
  extra: string[],
  source: string,
): Promise<HostsResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      HELPER,
      url,
      dir,
      String(HOSTS),
      String(RATE),
      String(SECONDS),
      source,
      ...extra,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("the simulated hosts failed");
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const dir = await Deno.makeTempDir({ prefix: "procrec-bench-nats-" });
const cluster = await NatsCluster.start();
try {
  // the source recording: a build-like workload of create/exec/exit
  const source = `${dir}/source.cbor`;
  const w = await RecordingWriter.create(source, testHeader());
  for (const e of workload(20_000)) w.write(e);
  await w.close();
  await Deno.mkdir(`${dir}/base`);
  await Deno.mkdir(`${dir}/hosts`);

  const base = await runHosts(
    cluster.url,
    `${dir}/base`,
    ["--no-publish"],
    source,
  );

  const collected = new Map<string, number>();
  const ac = new AbortController();
  let completed = 0;
  const collecting = collectRecordings({
    url: cluster.url,
    prefix: "procrec",
    outDir: `${dir}/collected`,
    follow: true,
    signal: ac.signal,
    onPiece: (host, id, index) =>
      collected.set(`${host}/${id}/${index}`, now()),
    onComplete: () => {
      if (++completed === HOSTS) ac.abort();
    },
  });
  const pub = await runHosts(cluster.url, `${dir}/hosts`, [], source);
  const result = await collecting;
  const t0 = pub.startedAt;
  const t1 = Math.max(...collected.values());

  const latencies: number[] = [];
  let missing = 0;
  for (const [id, seals] of Object.entries(pub.seals)) {
    seals.forEach((sealed, index) => {
      const got = collected.get(`${id}/${index}`);
      if (got === undefined) missing++;
      else latencies.push(got - sealed);
    });
  }
  latencies.sort((a, b) => a - b);
  const per100k = (ms: number, events: number) =>
    (ms * 100_000 / events).toFixed(0);
  console.log(
    `NATS fleet: ${HOSTS} hosts x ${RATE} events/s for ${SECONDS} s into a 3-node JetStream cluster (R3, loopback)`,
  );
  console.log(
    `  sustained: ${pub.events} events in ${
      ((t1 - t0) / 1000).toFixed(1)
    } s from the hosts' first event to the last collection (offered ${
      (HOSTS * RATE).toLocaleString("en-US")
    }/s) = ${
      Math.round(pub.events / ((t1 - t0) / 1000)).toLocaleString("en-US")
    } events/s; ${latencies.length} pieces collected, ${missing} missing, ${pub.pending} pending at close, ${result.problems.length} problems`,
  );
  console.log(
    `  latency sealing -> collection: p50 ${
      percentile(latencies, 0.5).toFixed(1)
    } ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, max ${
      latencies[latencies.length - 1].toFixed(1)
    } ms`,
  );
  console.log(
    `  publisher CPU per 100k events: ${
      per100k(pub.cpuMs, pub.events)
    } ms with publishing, ${
      per100k(base.cpuMs, base.events)
    } ms writing the same recordings without (publishing adds ${
      per100k(pub.cpuMs - base.cpuMs, pub.events)
    } ms)`,
  );
} finally {
  await cluster.stop();
  await Deno.remove(dir, { recursive: true });
}
