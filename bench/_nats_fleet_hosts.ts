/**
 * Part of `bench/nats_fleet.ts` (run by it, not alone): simulated hosts in
 * one process, each replaying a source recording's events at a set rate into
 * its own recording with `record --publish`'s publisher. Prints one JSON
 * line: events, CPU, and each piece's sealing time.
 *
 * Usage: deno run --allow-all bench/_nats_fleet_hosts.ts URL DIR HOSTS RATE SECONDS SOURCE [--no-publish]
 *
 * @module
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader, RecordingWriter } from "../cli/log/mod.ts";
import { PiecePublisher } from "../cli/nats/piece_publisher.ts";
import { testHeader } from "../tests/_recording_helpers.ts";

const [url, dir, hostsText, rateText, secondsText, source] = Deno.args;
const publish = !Deno.args.includes("--no-publish");
const hosts = Number(hostsText);
const rate = Number(rateText);
const seconds = Number(secondsText);

/** CPU time of this process (user + system), ms, from /proc. */
function cpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
}

const reader = await RecordingReader.open(source);
const events: ProcEvent[] = await Array.fromAsync(reader.events());
const now = () => performance.timeOrigin + performance.now();

const seals: Record<string, number[]> = {};
const pubs: PiecePublisher[] = [];
const writers: RecordingWriter[] = [];
for (let h = 0; h < hosts; h++) {
  const host = `host-${String(h + 1).padStart(2, "0")}`;
  const pub = publish
    ? PiecePublisher.start({ url, prefix: "procrec" }, host)
    : undefined;
  if (pub) pubs.push(pub);
  let id = "";
  const w = await RecordingWriter.create(
    `${dir}/${host}${publish ? "" : "-base"}.cbor`,
    testHeader({ host, bootId: crypto.randomUUID() }),
    {
      onPiece: (p) => {
        if (p.kind === "header") id = `${host}/${toHex(p.hash)}`;
        (seals[id] ??= [])[p.index] = now();
        pub?.add(p);
      },
      ...(pub ? { publishCounts: (id: string) => pub.counts(id) } : {}),
    },
  );
  writers.push(w);
}

const cpu0 = cpuMs();
const startedAt = now();
const start = Date.now();
let written = 0;
const perHost = rate * seconds;
// every 10 ms each host writes what its rate owes since the start
for (;;) {
  const due = Math.min(perHost, Math.floor((Date.now() - start) * rate / 1000));
  for (const w of writers) {
    while (w.events < due) w.write(events[w.events % events.length]);
  }
  written = due * hosts;
  if (due >= perHost) break;
  await new Promise((r) => setTimeout(r, 10));
}
for (const w of writers) await w.close();
const counts = await Promise.all(pubs.map((p) => p.close(120_000)));
const cpu = cpuMs() - cpu0;
console.log(JSON.stringify({
  events: written,
  cpuMs: cpu,
  wallMs: Date.now() - start,
  startedAt,
  pending: counts.reduce((a, c) => a + c.pending, 0),
  seals,
}));

function toHex(b: Uint8Array): string {
  return [...b.subarray(0, 16)].map((x) => x.toString(16).padStart(2, "0"))
    .join("");
}
