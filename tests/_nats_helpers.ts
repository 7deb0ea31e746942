/** Helpers of the NATS tests: run the recorder and the collector against a cluster. */
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { connectDeno } from "../cli/nats/deno_transport.ts";
import { jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { ensureStream, waitJetStream } from "../cli/nats/ensure_stream.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import {
  type RecordingPieces,
  recordingPieces,
} from "../cli/nats/recording_pieces.ts";
import { testHeader, workload } from "./_recording_helpers.ts";
import { sha256, toHex } from "../cli/log/_hash.ts";
import { PROCREC, procrec, type Run } from "./_record_helpers.ts";
import type { NatsCluster } from "./_nats_cluster.ts";

/** A procrec process started in the background. */
export interface Started {
  child: Deno.ChildProcess;
  done: Promise<Run>;
}

/** Starts `./procrec ARGS` in the background; `done` gives its output. */
export function startProcrec(
  args: string[],
  env?: Record<string, string>,
): Started {
  const child = new Deno.Command(PROCREC, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const done = child.output().then((o) => ({
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
  }));
  return { child, done };
}

/**
 * A shell loop that runs a short process every 0.1 s until the file `gate`
 * exists (`openGate`) or its directory is gone, and at most `max` of them.
 * A test whose check needs the recording still running (a collector killed
 * before it is complete, an outage while it publishes) holds it open this
 * way: a fixed number of processes ends too early on a loaded machine.
 */
export function gatedWorkload(gate: string, max = 900): string[] {
  return [
    "sh",
    "-c",
    // (and when the gate's directory is gone: a test that failed before
    // opening the gate, whose temporary directory was removed)
    `i=0; while [ ! -e '${gate}' ] && [ -d '${
      dirOf(gate)
    }' ] && [ $i -lt ${max} ]; do /bin/true; sleep 0.1; i=$((i+1)); done`,
  ];
}

function dirOf(path: string): string {
  return path.replace(/\/[^/]*$/, "") || "/";
}

/** Lets a `gatedWorkload` end. */
export async function openGate(gate: string): Promise<void> {
  await Deno.writeTextFile(gate, "");
}

/** A shell loop that runs `n` short processes over about n/10 s. */
export function slowWorkload(n: number): string[] {
  return ["sh", "-c", `for i in $(seq ${n}); do /bin/true; sleep 0.1; done`];
}

/** `record --only-command --publish URL -o OUT ...flags -- CMD` in the background. */
export function startRecordPublishing(
  url: string,
  out: string,
  command: string[],
  flags: string[] = [],
  env?: Record<string, string>,
): Started {
  return startProcrec([
    "record",
    "--only-command",
    "--publish",
    url,
    ...flags,
    "-o",
    out,
    "--",
    ...command,
  ], env);
}

/** `procrec collect URL -o DIR ...flags` to completion. */
export function collect(
  url: string,
  dir: string,
  flags: string[] = [],
): Promise<Run> {
  return procrec(["collect", url, "-o", dir, ...flags]);
}

/** Hex SHA-256 of a file. */
export async function fileSha(path: string): Promise<string> {
  return toHex(sha256(await Deno.readFile(path)));
}

/** Every file below `dir` (one level of host folders) ending in `suffix`. */
export async function collectedFiles(
  dir: string,
  suffix = ".cbor",
): Promise<string[]> {
  const out: string[] = [];
  for await (const h of Deno.readDir(dir)) {
    if (!h.isDirectory) continue;
    for await (const f of Deno.readDir(`${dir}/${h.name}`)) {
      if (f.isFile && f.name.endsWith(suffix)) {
        out.push(`${dir}/${h.name}/${f.name}`);
      }
    }
  }
  return out.sort();
}

/** An admin connection to the cluster and its JetStream manager. */
export async function adminConnection(
  c: NatsCluster,
  auth: { user?: string; pass?: string } = {},
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connectDeno({
    servers: c.url.replace("nats://", "").split(","),
    ...auth,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  return { nc, jsm: await waitJetStream(nc) };
}

/** Waits until `fn` returns a value (polling every 100 ms) or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Messages stored per subject in the stream. */
export async function subjectCounts(
  jsm: JetStreamManager,
  stream = "PROCREC",
): Promise<Record<string, number>> {
  const info = await jsm.streams.info(stream, { subjects_filter: ">" });
  return info.state.subjects ?? {};
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A recording of `host` whose header differs by `boot` (so does its id). */
export async function hostRecording(
  path: string,
  host: string,
  boot: number,
): Promise<RecordingPieces> {
  const w = await RecordingWriter.create(
    path,
    testHeader({
      host,
      bootId: `00000000-0000-4000-8000-${String(boot).padStart(12, "0")}`,
    }),
    { chunkEvents: 16, flushIntervalMs: 0 },
  );
  for (const e of workload(60)) w.write(e);
  await w.close();
  return await recordingPieces(path);
}

/** Publishes raw messages as a hostile host would. */
export async function publishRaw(
  c: NatsCluster,
  messages: {
    subject: string;
    index: string;
    bytes: Uint8Array;
    msgID?: string;
  }[],
): Promise<void> {
  const { nc, jsm } = await adminConnection(c);
  try {
    await ensureStream(jsm, "procrec", nc.info);
    const js = jetstream(nc);
    for (const m of messages) {
      const h = headers();
      h.set("Procrec-Piece", m.index);
      await js.publish(m.subject, m.bytes, {
        headers: h,
        ...(m.msgID ? { msgID: m.msgID } : {}),
      });
    }
  } finally {
    await nc.close();
  }
}
