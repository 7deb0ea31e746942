/**
 * `procrec publish`: sends a recording's pieces that the NATS stream does not
 * have yet (after `record --publish` ended with pieces pending, or for a
 * recording made without `--publish`).
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { PiecePublisher } from "../nats/piece_publisher.ts";
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
to its last whole piece. A closed recording's bytes after its last whole piece
(damaged or altered) are an error, named with their offset; the pieces before
them are sent. A piece larger than the server's max_payload is named and
passed over (the others are sent). A segment directory stands for its segments,
each its own recording, oldest first. --wait bounds the whole run. Exit status 0
when every piece is acknowledged, 2 otherwise (what is pending is said).
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
      const files = await expandSegmentDirs(recs);
      // one publisher for all: it asks the stream which pieces of each
      // recording it holds and sends the others (as record does with the
      // segments earlier runs left)
      const pub = PiecePublisher.start(
        { ...opts, onNotice: (t) => printErr(`procrec: publish: ${t}\n`) },
        "",
      );
      pub.resend(files);
      await pub.close(waitMs);
      for (const r of pub.resent) {
        if (r.error !== undefined) {
          // (said when it was found)
          status = 2;
          continue;
        }
        if (!r.checked || r.id === undefined) {
          await print(
            `${r.path}: nothing sent: not checked against the stream within --wait (${
              pub.lastError ?? "no answer in time"
            })\n`,
          );
          status = 2;
          continue;
        }
        // (the damage itself was said when it was found)
        if (r.damage !== undefined) status = 2;
        const left = r.tail === 0
          ? ""
          : r.damage !== undefined
          ? ` (${r.tail} bytes after the last whole piece not sent: not pieces, in a closed recording)`
          : ` (${r.tail} bytes after the last whole piece left out: one still being written, or what a crash left)`;
        if (r.queued === 0) {
          await print(
            `${r.path}: all ${r.pieces} pieces are already in the stream (${r.subject})${left}\n`,
          );
          continue;
        }
        const c = pub.counts(r.id);
        await print(
          `${r.path}: sent ${c.published} of ${r.pieces} pieces to ${r.subject}: ${c.acked} acknowledged, ${c.pending} pending${left}\n`,
        );
        if (c.pending > 0) {
          const never = pub.unsendable(r.id);
          printErr(
            `procrec: publish: ${r.path}: ${c.pending} pieces not acknowledged (${
              never > 0
                ? `${never} of them can never be sent as they are, said above${
                  never < c.pending ? "; " : ""
                }`
                : ""
            }${
              never < c.pending
                ? pub.lastError ?? "no acknowledgement in time"
                : ""
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
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(rec);
    } catch (e) {
      // (before anything is sent)
      throw new Error(`Cannot publish "${rec}": ${(e as Error).message}`);
    }
    if (!st.isDirectory) {
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
