/**
 * `procrec collect`: brings published recordings back from NATS JetStream,
 * one file per host and recording, byte-identical to the hosts' own files.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { collectRecordings } from "../nats/collect_recordings.ts";
import type { CollectProblem } from "../nats/collected_recording.ts";
import { action, print, printErr } from "./_run.ts";
import { addNatsOptions, natsAuth, type NatsFlags } from "./_nats_flags.ts";

interface CollectFlags extends NatsFlags {
  output?: string;
  host?: string;
  follow?: boolean;
  maxResident?: string;
  durable?: string;
}

const EXAMPLES = `
Examples:
  procrec collect nats://10.0.0.5:4222,10.0.0.6:4222 -o fleet/
  procrec collect nats://127.0.0.1:4222 -o fleet/ --host web-1 --follow

Writes DIR/<host>/<recording id>.cbor (.incomplete until its trailer arrives),
the exact bytes each host wrote, and checks the hash chain as the pieces come:
an altered or forged piece, a piece that contradicts one already collected,
and a hole in the stream are named (exit status 1). The consumer is durable
(--durable NAME, default procrec-collect[-HOST]): pieces are written and synced
before they are acknowledged, so a restarted collector resumes without
duplicates or holes. Without --follow it stops once it has caught up with the
stream; with --follow it runs until SIGINT or SIGTERM, in bounded memory: it
lets a complete recording go after its batch and keeps at most 1024
unfinished ones (--max-resident; the least recently written go first, from
the host with the most; their files are their state, read again, whole, when
a piece comes: give a fleet with more hosts recording at once a larger
number), so at the end it lists the recordings it still holds and counts the
others.
Collected recordings
are ordinary recordings: replay, verify, bundle them; \`procrec fleet DIR\`
lists them.
`;

/** Adds `collect` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("collect")
    .description(
      "collect recordings published to NATS JetStream into a directory",
    )
    .argument("<url>", "nats://HOST:PORT[,HOST:PORT...] or tls://...")
    .option("-o, --output <dir>", "output directory (one folder per host)")
    .option("--host <host>", "only this host's recordings")
    .option("--follow", "keep collecting until interrupted")
    .option("--durable <name>", "durable consumer name")
    .option(
      "--max-resident <n>",
      "with --follow: unfinished recordings kept in memory (default 1024); more hosts recording at once than this read their files again for each piece",
    );
  addNatsOptions(cmd)
    .addHelpText("after", EXAMPLES)
    .action(action(async (url: string, flags: CollectFlags) => {
      if (!flags.output) throw new UsageError("collect needs -o DIR");
      const maxResident = flags.maxResident === undefined
        ? undefined
        : Number(flags.maxResident);
      if (
        maxResident !== undefined &&
        (!/^[1-9][0-9]*$/.test(flags.maxResident!) ||
          !Number.isSafeInteger(maxResident))
      ) {
        throw new UsageError(
          `--max-resident "${flags.maxResident}" is not a whole number of recordings (1 or more)`,
        );
      }
      const auth = await natsAuth(url, flags);
      const abort = new AbortController();
      const stop = () => abort.abort();
      const sigs = ["SIGINT", "SIGTERM"] as const;
      for (const s of sigs) Deno.addSignalListener(s, stop);
      try {
        const result = await collectRecordings({
          url,
          ...auth,
          prefix: flags.subjectPrefix,
          outDir: flags.output,
          host: flags.host,
          follow: flags.follow,
          durable: flags.durable,
          maxResident,
          signal: abort.signal,
          onProblem: (p) => printErr(`procrec: collect: ${describe(p)}\n`),
          onComplete: (r) => printErr(`procrec: collect: complete ${r.path}\n`),
        });
        const lines = result.recordings.map((r) => {
          const g = r.gap();
          return `${r.host}\t${r.id}\t${r.state}\t${r.pieces} pieces${
            g ? `\tmissing ${g.from}${g.to > g.from ? `..${g.to}` : ""}` : ""
          }${r.duplicates ? `\t${r.duplicates} duplicates dropped` : ""}${
            r.problems ? `\t${r.problems} problems` : ""
          }\t${r.state === "complete" ? r.path : r.tempPath}`;
        });
        // (a follower lets recordings go as it runs: it lists what it still
        // holds and counts the others)
        const { complete, unfinished, withHole } = result.released;
        const released = [
          complete > 0 &&
          `${complete} complete (each named when it completed)`,
          unfinished > 0 &&
          `${unfinished} unfinished${
            withHole > 0 ? ` (${withHole} with a hole, named when found)` : ""
          }`,
        ].filter((x) => x);
        await print(
          `collected ${result.messages} pieces into ${flags.output}\n` +
            lines.map((l) => l + "\n").join("") +
            (released.length
              ? `and ${released.join(", ")} no longer listed\n`
              : ""),
        );
        // (the output failed: an error, whatever else the run found)
        if (result.stoppedBy !== undefined) {
          printErr(
            `procrec: collect stopped: ${result.stoppedBy}; run it again once the output can be written\n`,
          );
          return 2;
        }
        const bad = result.alteredCount > 0 || withHole > 0 ||
          result.recordings.some((r) => r.gap() !== undefined);
        return bad ? 1 : 0;
      } finally {
        for (const s of sigs) Deno.removeSignalListener(s, stop);
      }
    }));
}

function describe(p: CollectProblem): string {
  return `${p.host}/${p.id}${p.index !== undefined ? ` piece ${p.index}` : ""}${
    p.seq !== undefined ? ` (stream seq ${p.seq})` : ""
  }: ${p.reason}`;
}
