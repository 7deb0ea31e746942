/**
 * `procrec search`: finds processes by image, command line, hash, user and
 * time across many recordings, directories and bundles.
 *
 * @module
 */
import type { Command } from "commander";
import { pushAll } from "./_push_all.ts";
import { UsageError } from "../errors.ts";
import { looksLikeZip, openBundle } from "../bundle/mod.ts";
import { RecordingReader, type RecordingReport } from "../log/mod.ts";
import { collectHostDir } from "../fleet/read_fleet_row.ts";
import { subjectToken } from "../nats/piece_subject.ts";
import { findRecordings } from "../fleet/find_recordings.ts";
import { hasCriteria, type SearchQuery } from "../fleet/search_query.ts";
import { hashPrefix } from "../analysis/select_processes.ts";
import { type SearchHit, searchRecording } from "../fleet/search_recording.ts";
import { renderHitLines } from "../fleet/render_hits.ts";
import { printLines } from "./_stream_output.ts";
import { action, printErr } from "./_run.ts";

interface SearchFlags {
  image?: string;
  cmdline?: string;
  hash?: string;
  user?: string;
  from?: string;
  to?: string;
  json?: boolean;
}

const HELP = `
Every criterion given must match (AND); at least one of --image, --cmdline,
--hash, --user is needed. --image is a full path (with a slash) or a file name,
case-insensitive; --cmdline a regular expression over the command line (argv
joined by spaces, or the Windows command line); --hash the start (4 or more
hex digits, any case) of a hash of the image, as replay --hash takes it: the
SHA-256 the recorder took, or any of Sysmon's Hashes (SHA256, SHA1, MD5,
IMPHASH) for an import; --user a user name (as the host named the uid then)
or a numeric uid; --from/--to UTC times (ISO 8601, e.g.
2026-12-02T10:00:00Z). Directories are searched for
*.cbor, *.cbor.incomplete and bundles (*.zip, every recording inside).
Each hit: host, recording, pid, UTC time, the event that matched, the image
and command line, then the parent chain (nearest first; [pid] when the parent
is not in the recording; at most 64, then "..." when it goes on). Exit status 1 when there are hits, 0 when none,
2 on errors.

Examples:
  procrec search fleet/ --image curl --cmdline 'https?://'
  procrec search case.zip fleet/web-1 --user 0 --from 2026-12-02T10:00:00Z --json
`;

/** Adds `search` to the program. */
export function register(program: Command): void {
  program
    .command("search")
    .description(
      "find processes by image, command line, hash or user across recordings, directories and bundles",
    )
    .argument("<path...>", "recordings, directories or bundles")
    .option("--image <image>", "image path or file name")
    .option("--cmdline <regex>", "regular expression over the command line")
    .option("--hash <hex>", "image hash, or its start")
    .option("--user <user>", "user name or uid")
    .option("--from <time>", "not before this UTC time (ISO 8601)")
    .option("--to <time>", "not after this UTC time (ISO 8601)")
    .option("--json", "one JSON object per hit, one per line")
    .addHelpText("after", HELP)
    .action(action(async (paths: string[], flags: SearchFlags) => {
      const q = parseQuery(flags);
      const hits: SearchHit[] = [];
      let failed = 0;
      for (const file of await findRecordings(paths)) {
        try {
          if (await looksLikeZip(file)) {
            const bundle = await openBundle(file);
            try {
              for (const m of bundle.recordings) {
                const r = await bundle.openRecording(m);
                const found = await searchRecording(
                  `${file}#${m}`,
                  r.header,
                  r.events(),
                  q,
                );
                pushAll(hits, checked(`${file}#${m}`, r.report, found));
              }
            } finally {
              await bundle.close();
            }
          } else {
            const r = await RecordingReader.open(file);
            const found = await searchRecording(file, r.header, r.events(), q);
            const under = await collectHostDir(file);
            const as =
              under !== undefined && under !== subjectToken(r.header.host)
                ? under
                : undefined;
            for (const h of found) if (as !== undefined) h.collectedAs = as;
            pushAll(hits, checked(file, r.report, found));
          }
        } catch (e) {
          failed++;
          printErr(`procrec: search: ${(e as Error).message}\n`);
        }
      }
      // (a line at a time: a search over a fleet can hit millions of
      // processes, more text than one string holds)
      await printLines(
        flags.json ? hits.map((h) => JSON.stringify(h)) : renderHitLines(hits),
      );
      if (failed) return 2;
      return hits.length ? 1 : 0;
    }));
}

/**
 * `hits` of a recording read whole, marked when its check failed (its chain
 * broken, a chunk damaged: altered or spliced evidence), which is said on
 * stderr too; a recording only cut short (a crash) passes. Found by review:
 * the hits of a spliced recording were shown as any others.
 */
function checked(
  name: string,
  report: RecordingReport,
  hits: SearchHit[],
): SearchHit[] {
  const bad = report.problems.filter((p) => p.type !== "truncated");
  if (bad.length === 0 && report.chainIntact) return hits;
  printErr(
    `procrec: search: "${name}" does not pass its own check (${
      bad[0]?.reason ?? "its chain is broken"
    }${
      bad.length > 1 ? ` and ${bad.length - 1} more` : ""
    }): its ${hits.length} hits are marked; procrec verify says more\n`,
  );
  for (const h of hits) h.integrity = "broken";
  return hits;
}

function parseQuery(f: SearchFlags): SearchQuery {
  const q: SearchQuery = {
    image: f.image,
    user: f.user,
  };
  if (f.hash !== undefined) {
    try {
      q.hash = hashPrefix(f.hash);
    } catch (e) {
      throw new UsageError(`--hash: ${(e as Error).message}`);
    }
  }
  if (f.cmdline !== undefined) {
    try {
      q.cmdline = new RegExp(f.cmdline);
    } catch (e) {
      throw new UsageError(`--cmdline "${f.cmdline}": ${(e as Error).message}`);
    }
  }
  const time = (name: string, text?: string) => {
    if (text === undefined) return undefined;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) {
      throw new UsageError(
        `--${name} "${text}" is not a time (ISO 8601, e.g. 2026-12-02T10:00:00Z)`,
      );
    }
    return BigInt(ms) * 1_000_000n;
  };
  q.fromUtcNs = time("from", f.from);
  q.toUtcNs = time("to", f.to);
  if (!hasCriteria(q)) {
    throw new UsageError(
      "search needs at least one of --image, --cmdline, --hash, --user",
    );
  }
  return q;
}
