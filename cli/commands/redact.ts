/**
 * `procrec redact`: redacts an existing recording into a new one, or tests
 * guesses at the secrets of a redacted recording. Needs `--allow-read` and
 * `--allow-write` (the output).
 *
 * @module
 */
import type { Command } from "commander";
import { createHash } from "node:crypto";
import { CliError, UsageError } from "../errors.ts";
import {
  type RecordingSource,
  RecordingWriter,
  SegmentSetReader,
  SOURCE_HASH_PREFIX,
} from "../log/mod.ts";
import { toHex } from "../log/_hash.ts";
import {
  MarkerIndex,
  redactedHeader,
  redactionHmac,
  redactionKeyId,
  type Redactor,
} from "../redact/mod.ts";
import { asCliError, openRecordingInput, splitMember } from "./_input.ts";
import { requireRegularFile } from "../io/mod.ts";
import { loadRedactor, readRedactionKey } from "./_redaction.ts";
import { action, print, printErr } from "./_run.ts";
import { groupOption, modeOf } from "./_output.ts";

const EXAMPLES = `
Examples:
  procrec keygen --redact -o redact.key
  procrec redact run.cbor -o run.redacted.cbor --rules rules.json --redact-key redact.key
  procrec redact case.zip#run.cbor -o run.redacted.cbor --rules rules.json --redact-key redact.key
  procrec redact run.redacted.cbor --check-guess --redact-key redact.key < guesses.txt
  procrec redact run.redacted.cbor --check-source run.cbor --redact-key redact.key

Redacting writes a new recording: the source's events and header with every
secret a rule finds replaced by [redacted:RULE:HMAC] (HMAC-SHA-256 of the
secret under the key), as record --redact does. Its header lists the rules,
names the key (never the key itself) and names its source: path, host, boot
id and start, whether it was complete, and the SHA-256 of the source file
(of the bundle, for a bundle member) and its final hash, both keyed
(HMAC-SHA-256 under the key: a plain hash would let anyone test guesses at
the secrets by rebuilding the source from the copy). A damaged source
is redacted as far as it reads; its gaps stay as "lost" events. The new
recording verifies on its own (procrec verify); it is written 0600 (0640
with --group), never through a link. The rules file is JSON (see procrec
record --help, or README "Redaction").

--check-guess reads guesses from standard input, one per line (not from the
command line, where the process list and procrec itself would see them),
and says for each whether it is the secret behind markers of the recording.
Exit status: 0 a guess matched, 1 none did, 2 error. --check-source FILE
says whether FILE is the source the copy was redacted from (its keyed
SHA-256): exit 0 it is, 1 it is not, 2 error. Export and report take
--redact RULES --redact-key KEY too, to write from a recording redacted on
the fly.
`;

interface Flags {
  output?: string;
  rules?: string;
  redactKey?: string;
  checkGuess?: boolean;
  checkSource?: string;
  force?: boolean;
  group?: string;
}

/** Adds `redact`. */
export function register(program: Command): void {
  program
    .command("redact")
    .description(
      "redact secrets of a recording into a new one, or test a guess at a redacted secret",
    )
    .argument("<recording>", "recording (or bundle#member) to read")
    .option("-o, --output <file>", "redacted recording to write")
    .option("--rules <file>", "redaction rules (JSON)")
    .option(
      "--redact-key <file>",
      "the HMAC key (procrec keygen --redact -o FILE)",
    )
    .option(
      "--check-guess",
      "test guesses (standard input, one a line) against the markers",
    )
    .option(
      "--check-source <file>",
      "say whether FILE is the recording (or bundle) this copy was redacted from",
    )
    .option("-f, --force", "replace the output file if it exists")
    .addOption(groupOption())
    .addHelpText("after", EXAMPLES)
    .action(action(async (input: string, flags: Flags) => {
      if (flags.checkGuess) return await checkGuesses(input, flags);
      if (flags.checkSource !== undefined) {
        return await checkSource(input, flags.checkSource, flags);
      }
      return await redactRecording(input, flags);
    }));
}

async function redactRecording(input: string, flags: Flags): Promise<number> {
  if (flags.output === undefined) {
    throw new UsageError(`Cannot redact "${input}": -o FILE is needed`);
  }
  if (flags.rules === undefined) {
    throw new UsageError(`Cannot redact "${input}": --rules FILE is needed`);
  }
  const out = flags.output;
  const mode = modeOf(flags.group);
  const redactor = (await loadRedactor(
    { rules: flags.rules, key: flags.redactKey },
    "--rules",
  ))!;
  // a bundle member (case.zip#a.cbor) is hashed as the bundle it is in
  // (case.zip#recordings/a.cbor too: the member's full name, as report takes it)
  const file = (await splitMember(input)).file;
  if (await Deno.stat(file).then((st) => st.isDirectory, () => false)) {
    throw new UsageError(
      `Cannot redact "${input}": it is a directory; redact each recording or segment in it (procrec redact DIR/NAME.cbor -o OUT ...), so that each copy names the file it came from`,
    );
  }
  await asCliError(
    requireRegularFile(
      file,
      "recording",
      "procrec redact reads it twice (its hash, then the copy)",
    ),
  );
  if (await sameFile(file, out)) {
    throw new UsageError(
      `Cannot redact "${input}" into "${out}": it is the source itself`,
    );
  }
  // first pass: what the source is (its hash, whether it is whole)
  const sha256 = await sha256File(file);
  const first = await openRecordingInput(input);
  for await (const _ of first.chunks()) { /* read to the end */ }
  const r = first.report;
  const h = first.header;
  // second pass: redact and write
  const reader = await openRecordingInput(input);
  // (the source named by keyed hashes: its plain hash would let anyone
  // test guesses at the secrets by rebuilding it from the copy)
  const header = redactedHeader(h, redactor, {
    path: input,
    // (empty: the readers before the keyed hashes require the fields)
    sha256: "",
    bytes: 0,
    sha256Hmac: redactor.sourceHash(sha256.hex),
    ...(r.complete && r.trailer
      ? { finalHashHmac: redactor.sourceHash(toHex(r.trailer.finalHash)) }
      : {}),
    complete: r.complete && r.chainIntact,
    host: h.host,
    bootId: h.bootId,
    startUtcNs: h.timeBase.utcNs,
  });
  const writer = await RecordingWriter.create(out, header, {
    overwrite: flags.force,
    flushIntervalMs: 0,
    mode,
  }).catch((e) => {
    throw new CliError((e as Error).message, 2, { cause: e });
  });
  try {
    const last = await copyRedacted(reader, writer, redactor);
    if (reader.report.events !== r.events) {
      throw new CliError(
        `Cannot redact "${input}": it changed while it was read (${r.events} events, then ${reader.report.events})`,
      );
    }
    // the copy ends where its source did (its trailer's end, or its last
    // event), not when it was made
    // (a segment file is read as a segment set, whose report has no
    // trailer: its segment's is the end)
    const trailer = first instanceof SegmentSetReader
      ? first.segmentsRead.at(-1)?.report.trailer
      : r.trailer;
    await writer.close({
      endUtcNs: trailer?.endUtcNs ??
        h.timeBase.utcNs + BigInt(Math.trunc(Math.max(0, last ?? 0))),
    });
  } catch (e) {
    writer.abandon();
    await Deno.remove(`${out}.incomplete`).catch(() => {});
    throw e;
  }
  const counts = Object.entries(redactor.counts).map(([k, v]) => `${k} ${v}`);
  // (the source's hash keyed, as the copy's header names it: its plain
  // SHA-256, printed beside the copy, lets anyone test guesses at what was
  // redacted by rebuilding the source from the copy; found by review)
  await print(
    `wrote ${out}: ${r.events} events from ${input} (its SHA-256 keyed: ${
      redactor.sourceHash(sha256.hex)
    }; --check-source checks a file against it); redacted per rule: ${
      counts.join(", ")
    }\n`,
  );
  if (!(r.complete && r.chainIntact)) {
    printErr(
      `procrec: warning: the source "${input}" is not complete and intact (its header in the output says so):\n`,
    );
    for (const p of r.problems.slice(0, 20)) {
      printErr(`  ${p.reason}\n`);
    }
  }
  return 0;
}

/** Copies the events redacted; returns the latest event time, if any. */
async function copyRedacted(
  reader: RecordingSource,
  writer: RecordingWriter,
  redactor: Redactor,
): Promise<number | undefined> {
  let last: number | undefined;
  for await (const ev of reader.events()) {
    writer.write(redactor.event(ev));
    if (last === undefined || ev.t > last) last = ev.t;
  }
  return last;
}

/**
 * Whether `candidate` is the file the redacted copy `input` names as its
 * source: the keyed SHA-256 in its header, under the key of `--redact-key`
 * (or the plain one of a copy written before the keyed hashes).
 */
async function checkSource(
  input: string,
  candidate: string,
  flags: Flags,
): Promise<number> {
  const { key, reader } = await openChecked(input, flags, "--check-source");
  const source = reader.header.redaction?.source;
  if (!source) {
    throw new CliError(
      `Cannot check the source of "${input}": it is no redacted copy (its header's "redaction" names no source)`,
    );
  }
  if (source.sha256Hmac === undefined && source.sha256 === "") {
    // (export --redact, report --redact or import --redact of a recording
    // already redacted: redacted as it was read, never hashed; said "NOT
    // the source" of every file)
    throw new CliError(
      `Cannot check the source of "${input}": it was redacted as it was read from "${source.path}", which was not hashed (an export --redact or import --redact of a redacted recording): nothing to compare a file with`,
    );
  }
  const id = redactionKeyId(key);
  if (
    source.sha256Hmac !== undefined && reader.header.redaction!.keyId !== id
  ) {
    throw new CliError(
      `Cannot check the source of "${input}": it was redacted with key ${
        reader.header.redaction!.keyId
      }, "${flags.redactKey}" is key ${id}`,
    );
  }
  // (a bundle member is hashed as its bundle; a name with # in it, as
  // itself, as redacting does)
  const file = (await splitMember(candidate)).file;
  await asCliError(
    requireRegularFile(file, "recording", "procrec redact hashes it"),
  );
  const { hex } = await sha256File(file);
  const same = source.sha256Hmac !== undefined
    ? redactionHmac(key, SOURCE_HASH_PREFIX + hex) === source.sha256Hmac
    : source.sha256 === hex;
  await print(
    same
      ? `"${candidate}" is the source of "${input}" (its ${
        source.sha256Hmac !== undefined ? "keyed " : ""
      }SHA-256 matches)\n`
      : `"${candidate}" is NOT the source of "${input}" (its SHA-256 ${hex} differs from the one the copy names)\n`,
  );
  return same ? 0 : 1;
}

/**
 * The key and the recording of a check (`--check-guess`, `--check-source`):
 * it needs `--redact-key` and takes neither `-o` nor `--rules`.
 */
async function openChecked(input: string, flags: Flags, check: string) {
  if (flags.redactKey === undefined) {
    throw new UsageError(`${check} needs --redact-key FILE`);
  }
  if (flags.output !== undefined || flags.rules !== undefined) {
    throw new UsageError(`${check} takes neither -o nor --rules`);
  }
  const key = await readRedactionKey(flags.redactKey);
  return { key, reader: await openRecordingInput(input) };
}

async function checkGuesses(input: string, flags: Flags): Promise<number> {
  const { key, reader } = await openChecked(input, flags, "--check-guess");
  const red = reader.header.redaction;
  if (!red) {
    throw new CliError(
      `Cannot check guesses against "${input}": it is not redacted (its header has no "redaction")`,
    );
  }
  const id = redactionKeyId(key);
  // (a copy redacted again with another key keeps the markers of the key
  // before, which its source's redaction names: the holder of either key
  // checks guesses against the markers of that key; found by review)
  const keys: string[] = [];
  for (let r: typeof red | undefined = red; r; r = r.source?.redaction) {
    keys.push(r.keyId);
  }
  if (!keys.includes(id)) {
    throw new CliError(
      `Cannot check guesses against "${input}": it was redacted with key ${
        [...keys].reverse().join(", then with key ")
      }; "${flags.redactKey}" is key ${id}`,
    );
  }
  const index = new MarkerIndex();
  index.addValue(reader.header.command);
  for await (const ev of reader.events()) index.addEvent(ev);
  if (Deno.stdin.isTerminal()) {
    printErr("type one guess per line (it is echoed), then Ctrl-D:\n");
  }
  const guesses = await readGuesses();
  if (guesses.length === 0) {
    throw new UsageError("--check-guess read no guess from standard input");
  }
  let matched = 0;
  const lines: string[] = [];
  guesses.forEach((g, i) => {
    const s = index.get(redactionHmac(key, g));
    if (!s) {
      lines.push(`guess ${i + 1}: matches no marker`);
      return;
    }
    matched++;
    const where = s.first
      ? `first in a ${s.first.kind} event of pid ${s.first.pid} at ${
        (s.first.t / 1e9).toFixed(3)
      }s`
      : "in the header";
    lines.push(
      `guess ${
        i + 1
      }: MATCHES ${s.count} marker(s) of rule ${s.rule}, ${where}`,
    );
  });
  await print(
    lines.join("\n") +
      `\n${matched} of ${guesses.length} guesses matched (${index.size} markers in ${input})\n`,
  );
  return matched > 0 ? 0 : 1;
}

/** Guesses from standard input: one a line, at most 1 MiB in all. */
async function readGuesses(): Promise<string[]> {
  const limit = 1 << 20;
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const part of Deno.stdin.readable) {
    n += part.length;
    if (n > limit) {
      throw new UsageError("--check-guess: more than 1 MiB of guesses");
    }
    parts.push(part);
  }
  const bytes = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return new TextDecoder().decode(bytes).split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l !== "");
}

async function sha256File(
  path: string,
): Promise<{ hex: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new CliError(`Cannot read "${path}": ${(e as Error).message}`);
  }
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    file.close();
  }
  return { hex: hash.digest("hex"), bytes };
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
