/**
 * `procrec publish`: sends a recording's pieces that the NATS stream does not
 * have yet (after `record --publish` ended with pieces pending, or for a
 * recording made without `--publish`).
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { connectNats } from "../nats/connect_nats.ts";
import { ensureStream, waitJetStream } from "../nats/ensure_stream.ts";
import { PiecePublisher } from "../nats/piece_publisher.ts";
import { pieceSubject } from "../nats/piece_subject.ts";
import { recordingPieces } from "../nats/recording_pieces.ts";
import { storedPieces } from "../nats/stored_pieces.ts";
import { parseDuration } from "../record/parse_duration.ts";
import { listSegments } from "../log/mod.ts";
import { action, print, printErr } from "./_run.ts";
import { addNatsOptions, natsAuth, type NatsFlags } from "./_nats_flags.ts";

interface PublishFlags extends NatsFlags {
  to?: string;
  wait: string;
}

const EXAMPLES = `
Examples:
  procrec publish recordings/web-1.cbor --to nats://10.0.0.5:4222,10.0.0.6:4222
  procrec publish /var/lib/procrec/ --to nats://10.0.0.5:4222   every segment

Each piece goes to PREFIX.<host>.<recording id> with Nats-Msg-Id <id>:<index>:<hash>,
as \`record --publish\` sends it. procrec first asks the stream which pieces of
the recording it holds (when the credentials allow it) and sends only the
others, in order; a recording still being written (NAME.incomplete) is sent up
to its last whole piece. A segment directory stands for its segments, each
its own recording, oldest first. Exit status 0 when every piece is acknowledged, 2
otherwise (what is pending is said).
`;

/** Adds `publish` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("publish")
    .description("send a recording's missing pieces to NATS JetStream")
    .argument(
      "<recording...>",
      "recordings (or segment directories) to publish",
    )
    .option("--to <url>", "nats://HOST:PORT[,HOST:PORT...] or tls://...")
    .option("--wait <time>", "how long to wait for acknowledgements", "30s");
  addNatsOptions(cmd)
    .addHelpText("after", EXAMPLES)
    .action(action(async (recs: string[], flags: PublishFlags) => {
      if (!flags.to) throw new UsageError("publish needs --to URL");
      const auth = await natsAuth(flags.to, flags);
      let waitMs: number;
      try {
        waitMs = parseDuration(flags.wait);
      } catch (e) {
        throw new UsageError(`--wait: ${(e as Error).message}`);
      }
      const opts = {
        url: flags.to,
        ...auth,
        prefix: flags.subjectPrefix,
      };
      let status = 0;
      for (const rec of await expandSegmentDirs(recs)) {
        const { id, header, pieces, tail } = await recordingPieces(rec);
        const subject = pieceSubject(opts.prefix, header.host, id);
        let have = new Set<number>();
        const nc = await connectNats(opts);
        try {
          const jsm = await waitJetStream(nc);
          const s = await ensureStream(jsm, opts.prefix, nc.info);
          if (s.note) printErr(`procrec: publish: ${s.note}\n`);
          have = await storedPieces(nc, jsm, s.name, subject);
        } catch (e) {
          printErr(
            `procrec: publish: cannot ask the stream which pieces it has (${
              (e as Error).message
            }); sending all of them (the stream drops duplicates within its window)\n`,
          );
        } finally {
          await nc.close();
        }
        const missing = pieces.filter((p) => !have.has(p.index));
        if (missing.length === 0) {
          await print(
            `${rec}: all ${pieces.length} pieces are already in the stream (${subject})\n`,
          );
          continue;
        }
        const pub = PiecePublisher.start(
          {
            ...opts,
            createStream: false,
            onNotice: (t) => printErr(`procrec: publish: ${t}\n`),
          },
          header.host,
        );
        for (const p of missing) pub.addFor(id, p);
        const c = await pub.close(waitMs);
        await print(
          `${rec}: sent ${c.published} of ${pieces.length} pieces to ${subject}: ${c.acked} acknowledged, ${c.pending} pending${
            tail
              ? ` (${tail} bytes after the last whole piece left out: one still being written, or what a crash left)`
              : ""
          }\n`,
        );
        if (c.pending > 0) {
          printErr(
            `procrec: publish: ${rec}: ${c.pending} pieces not acknowledged (${
              pub.lastError ?? "no acknowledgement in time"
            })\n`,
          );
          status = 2;
        }
      }
      return status;
    }));
}

/** The recordings named: a segment directory stands for its segments. */
async function expandSegmentDirs(recs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const rec of recs) {
    const st = await Deno.stat(rec).catch(() => undefined);
    if (!st?.isDirectory) {
      out.push(rec);
      continue;
    }
    const { segments, problems } = await listSegments(rec);
    for (const p of problems) {
      printErr(`procrec: publish: skipping "${rec}/${p.name}": ${p.reason}\n`);
    }
    if (segments.length === 0) {
      throw new UsageError(`Cannot publish "${rec}": no recordings in it`);
    }
    for (const s of segments) out.push(s.path);
  }
  return out;
}
