/**
 * `procrec verify`: checks a bundle or a recording. Exit 0 intact, 1
 * tampered or incomplete, 2 error. Needs `--allow-read`.
 *
 * @module
 */
import type { Command } from "commander";
import {
  importPublicKey,
  looksLikeZip,
  renderVerifyResult,
  verifyBundle,
  type VerifyingKey,
  verifyRecording,
} from "../bundle/mod.ts";
import { CliError } from "../errors.ts";
import { unclosedHint } from "../io/read_input.ts";
import { verifySegments } from "../bundle/verify_segments.ts";
import { runningWriter } from "../record/segment_writer.ts";
import { action, print } from "./_run.ts";
import { asCliError, openRecordingInput, readKeyFile } from "./_input.ts";
import { hasTimeFlags, spanOf } from "./_time_span.ts";
import { SegmentSetReader } from "../log/mod.ts";
import { UsageError } from "../errors.ts";

const EXAMPLES = `
Examples:
  procrec verify case.zip --key ir-team.key.pub    bundle: members, chains, signature
  procrec verify incident.cbor                      recording: chunk chain and trailer
  procrec verify case.zip --key k.pub --json        the same, as JSON
  procrec verify /var/lib/procrec/                  segment directory: every segment and link
  procrec verify /var/lib/procrec/ --from 2026-12-02T10:00:00Z --to 2026-12-02T11:00:00Z

A segment directory (record -o DIR/ --rotate), or several segment files, is
verified as one recording: each segment's chain and trailer, and each link
(every header names its predecessor's id and final hash). A directory that
holds several chains (collect's DIR/<host>/: a service's segments, another
segment directory's, one-off recordings) is verified chain by chain, with a
line for each. Retention deletes the oldest segments first: a segment deleted
before the oldest one there (a later header names it), an unclean end that
the next segment records, and the newest segment of a live recorder are
notes; a segment missing without a record, or after a segment of its chain
that is there (whatever a header says), fails (incomplete), a broken link
fails (tampered).
--from/--to verify only the segments covering a span (absolute UTC times,
ISO-8601; offsets such as 90s from the oldest segment's start; or clock
times on its day) and the links between them; the segments outside are
named in a note, not read. A single recording or a bundle is verified whole.

A bundle is checked member by member against manifest.json (size, SHA-256),
members the manifest does not list are flagged, and every recording's chunk
chain and trailer are checked. The signature is checked only with the key you
give (--key); no key inside the bundle is ever used. Without --key, a signed
bundle's signature is reported as not checked, and an unsigned bundle as
unsigned: that is self-consistency, not proof of origin. With --key, an
unsigned bundle fails. Exit status: 0 intact, 1 tampered or incomplete (each
failing member, chunk or signature is named), 2 error (unreadable input).
`;

interface VerifyFlags {
  key?: string;
  json?: boolean;
  from?: string;
  to?: string;
}

/** Adds `verify` to the program. */
export function register(program: Command): void {
  program
    .command("verify")
    .description(
      "verify an evidence bundle or a recording (exit 0 intact, 1 tampered or incomplete)",
    )
    .argument(
      "<input...>",
      "bundle (.zip), recording, segment directory or segment files",
    )
    .option(
      "--key <public-key>",
      "public key (PEM) the bundle must be signed with",
    )
    .option("--json", "print the result as JSON")
    .option(
      "--from <time>",
      "segment directories: only segments covering this time or later (UTC 2026-12-02T10:14:00Z, offset 90s, clock 10:14)",
    )
    .option(
      "--to <time>",
      "segment directories: only segments covering this time or earlier",
    )
    .addHelpText("after", EXAMPLES)
    .action(action(async (inputs: string[], flags: VerifyFlags) => {
      const input = inputs[0];
      let key: VerifyingKey | undefined;
      if (flags.key !== undefined) {
        const pem = await readKeyFile(flags.key, "public key");
        key = await importPublicKey(pem, flags.key).catch((e) => {
          throw new CliError((e as Error).message);
        });
      }
      let info;
      try {
        info = await Deno.stat(input);
      } catch (e) {
        throw new CliError(
          `Cannot verify "${input}": ${(e as Error).message}${
            e instanceof Deno.errors.NotFound ? await unclosedHint(input) : ""
          }`,
        );
      }
      const segments = info.isDirectory || inputs.length > 1;
      if (hasTimeFlags(flags) && !segments) {
        throw new UsageError(
          `Cannot verify "${input}" with --from/--to: they choose segments of a segment directory; a recording or a bundle is verified whole`,
        );
      }
      let result;
      try {
        if (segments) {
          if (key) {
            throw new CliError(
              `Cannot verify "${input}" with --key: segments are recordings, and only bundles are signed`,
            );
          }
          let writerAlive = false;
          if (info.isDirectory) {
            writerAlive = (await runningWriter(input)) !== undefined;
          }
          // relative times count from the start of the oldest segment
          const span = hasTimeFlags(flags)
            ? spanOf(
              flags,
              BigInt(
                (await asCliError(SegmentSetReader.open(inputs))).header
                  .timeBase.utcNs,
              ),
            )
            : {};
          result = await verifySegments(inputs, { writerAlive, ...span });
        } else if (!info.isFile) {
          // a pipe, FIFO or device: a recording read once (a bundle is refused)
          if (key) {
            throw new CliError(
              `Cannot verify "${input}" with --key: only bundles are signed, and a bundle must be a regular file`,
            );
          }
          result = await verifyRecording(
            input,
            await openRecordingInput(input),
          );
        } else if (await looksLikeZip(input)) {
          result = await verifyBundle(input, { key });
        } else {
          if (key) {
            throw new CliError(
              `Cannot verify "${input}" with --key: it is a recording, and only bundles are signed`,
            );
          }
          result = await verifyRecording(input);
        }
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError((e as Error).message, 2, { cause: e });
      }
      await print(
        flags.json
          ? JSON.stringify(result, null, 2) + "\n"
          : renderVerifyResult(result),
      );
      return result.exitCode;
    }));
}
