/**
 * `procrec import sysmon FILE... -o REC [--host H]` and
 * `procrec import jsonl FILE -o REC`: evidence procrec did not record, made
 * into recordings. Needs `--allow-read` for the inputs and `--allow-write`
 * for the outputs.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, extname } from "node:path";
import type { Command } from "commander";
import { action, print } from "./_run.ts";
import { groupOption, modeOf } from "./_output.ts";
import { loadRedactor } from "./_redaction.ts";
import type { HeaderInit } from "../log/mod.ts";
import type { ImportedIntegrity } from "../log/schema.ts";
import {
  type ReadRecording,
  redactedOnTheFly,
  type Redactor,
  withoutQuotedValues,
} from "../redact/mod.ts";
import {
  InputError,
  inputInfo,
  openInputStream,
  requireRegularFile,
} from "../io/mod.ts";
import { CliError } from "../errors.ts";
import {
  bytesWithProgress,
  Progress,
  PROGRESS_HELP,
  type ProgressMode,
  progressMode,
  progressShown,
} from "./_progress.ts";
import { pathExists } from "../path_exists.ts";
import { RecordingWriter } from "../log/mod.ts";
import {
  formatImportStats,
  formatReplacements,
  type HashedSysmonFile,
  ImportInputError,
  parseEndLine,
  planSysmonRecordings,
  type ProcrecJsonEnd,
  readProcrecJsonLines,
  readSysmonRecords,
} from "../interop/mod.ts";

/** Adds `import sysmon` and `import jsonl`. */
export function register(program: Command): void {
  const imp = program
    .command("import")
    .description("make recordings from evidence procrec did not record");
  imp
    .command("sysmon")
    .description(
      "import Sysmon Event ID 1 and 5 (JSON lines or Windows event XML)\n" +
        "into one recording per host (or per file with --host)",
    )
    .argument("<files...>", "Sysmon exports (format detected)")
    .requiredOption("-o, --output <rec>", "recording to write")
    .option("--host <name>", "host name: one recording per input file")
    .option("-f, --force", "replace existing recordings")
    .addOption(groupOption())
    .option(
      "--redact <rules>",
      "redact secrets found by these rules (JSON) before writing",
    )
    .option("--redact-key <file>", "the HMAC key of --redact")
    .option("--progress", PROGRESS_HELP)
    .option("--no-progress", "never show the progress line")
    .addHelpText(
      "after",
      `
Examples:
  procrec import sysmon sysmon.jsonl -o case.cbor       one recording per host
  procrec import sysmon a.xml b.xml -o h.cbor --host H  one per file, host H
  procrec import sysmon s.jsonl -o c.cbor --redact rules.json --redact-key k

Holes in the data (terminations without creation, parents never created,
missing ProcessId, duplicates, pid reuse) are kept as far as they can be,
counted and listed at the end; malformed input stops with file, line, field.`,
    )
    .action(action(importSysmon));
  imp
    .command("jsonl")
    .description("import a recording exported with `export --format jsonl`")
    .argument("<file>", "procrec JSON lines")
    .requiredOption("-o, --output <rec>", "recording to write")
    .option("-f, --force", "replace an existing recording")
    .addOption(groupOption())
    .option(
      "--redact <rules>",
      "redact secrets found by these rules (JSON) before writing",
    )
    .option("--redact-key <file>", "the HMAC key of --redact")
    .option("--progress", PROGRESS_HELP)
    .option("--no-progress", "never show the progress line")
    .action(action(importJsonl));
}

interface Opts {
  output: string;
  host?: string;
  force?: boolean;
  group?: string;
  redact?: string;
  redactKey?: string;
  progress?: boolean;
}

/**
 * `run`, whose error, with `--redact`, quotes no value from the input: a
 * message naming a malformed field quoted its value (`"mysql -pSECRET"`),
 * and with it the secret `--redact` was given for, on stderr and in CI logs
 * (found by review). The message keeps the file, line and field, and says
 * what the value is not; the redaction rules then run over what is left.
 */
async function withoutSecrets<T>(
  redactor: Redactor | undefined,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (!redactor || !(e instanceof Error)) throw e;
    const message = redactor.text(withoutQuotedValues(e.message));
    // (no cause: main prints a cause's message, which quotes the value)
    throw new CliError(message, e instanceof CliError ? e.exitCode : 2);
  }
}

/** The redactor of `--redact`, if given. */
function redactorOf(opts: Opts): Promise<Redactor | undefined> {
  return loadRedactor({ rules: opts.redact, key: opts.redactKey }, "--redact");
}

/**
 * `header` redacted by `redactor` (which it then names, with the redaction
 * `header` already had as its source's), or as it is. The
 * imported files are named by keyed hashes then (their plain SHA-256 would
 * let anyone test guesses at the secrets by rebuilding an input from the
 * recording).
 */
function redactHeader(
  header: HeaderInit,
  redactor: Redactor | undefined,
  read: ReadRecording,
): HeaderInit {
  // (an export of a redacted recording names its redaction: the new one
  // names it as its source's, as export --redact does; it was replaced,
  // markers of a key no longer named left in the events)
  return redactor ? redactedOnTheFly(header, redactor, read) : header;
}

async function importSysmon(files: string[], opts: Opts): Promise<number> {
  const redactor = await redactorOf(opts);
  return await withoutSecrets(
    redactor,
    () => importSysmonWith(files, opts, redactor),
  );
}

async function importSysmonWith(
  files: string[],
  opts: Opts,
  redactor: Redactor | undefined,
): Promise<number> {
  const mode = modeOf(opts.group);
  const read: HashedSysmonFile[] = [];
  for (const path of files) {
    const hash = createHash("sha256");
    const name = basename(path);
    const r = await withInput(
      path,
      (chunks) => readSysmonRecords(hashing(chunks, hash), name),
      { mode: progressMode(opts.progress), label: "import: reading" },
    );
    read.push({ ...r, sha256: hash.digest("hex") });
  }
  const plans = wrap(() => planSysmonRecordings(read, opts.host));
  const paths = plans.length === 1
    ? [opts.output]
    : outputNames(opts.output, plans.map((p) => p.key));
  if (!opts.force) {
    // refuse before writing any, so a refusal leaves no partial set
    for (const p of paths) {
      if (await pathExists(p)) {
        throw new CliError(
          `Cannot create recording "${p}": the file exists (use --force to replace it)`,
        );
      }
    }
  }
  let report = "";
  for (const [i, plan] of plans.entries()) {
    const path = paths[i];
    const w = await RecordingWriter.create(
      path,
      // (Sysmon's input is never redacted: nothing to name as a source)
      redactHeader(plan.header, redactor, { path: "", complete: true }),
      {
        overwrite: opts.force,
        mode,
        flushIntervalMs: 0,
      },
    ).catch((e) => {
      throw new CliError((e as Error).message, 2, { cause: e });
    });
    let last: number | undefined;
    for (const e of plan.events) {
      w.write(redactor ? redactor.event(e) : e);
      if (last === undefined || e.t > last) last = e.t;
    }
    // the recording ends at its last event, not at the time of the import
    const done = await w.close({
      endUtcNs: plan.header.timeBase.utcNs + BigInt(last ?? 0),
    });
    report += formatImportStats(done, plan.header.host, plan.stats);
  }
  const skipped = read.reduce((n, f) => n + f.skipped, 0);
  if (skipped > 0) {
    report += `skipped ${skipped} events that are not Sysmon Event ID 1 or 5\n`;
  }
  for (const f of read) {
    if (f.replaced) report += formatReplacements(f.name, f.replaced);
  }
  await print(report);
  return 0;
}

async function importJsonl(file: string, opts: Opts): Promise<number> {
  const redactor = await redactorOf(opts);
  return await withoutSecrets(
    redactor,
    () => importJsonlWith(file, opts, redactor),
  );
}

async function importJsonlWith(
  file: string,
  opts: Opts,
  redactor: Redactor | undefined,
): Promise<number> {
  const mode = modeOf(opts.group);
  await requireRegularFile(
    file,
    "input",
    "import jsonl reads it twice (its hash goes into the header, first)",
  ).catch((e) => {
    throw new CliError((e as Error).message, 2, { cause: e });
  });
  // the header, written first, names the input's hash: read it twice
  const hash = createHash("sha256");
  const progress = progressMode(opts.progress);
  // (and its last bytes: an export's end line, which says what the header
  // is to say of the recording it was made from)
  const tail = new Tail(TAIL_BYTES);
  await withInput(file, async (chunks) => {
    for await (const c of chunks) {
      hash.update(c);
      tail.add(c);
    }
  }, { mode: progress, label: "import: hashing" });
  const sha256 = hash.digest("hex");
  const name = basename(file);
  const lastLine = new TextDecoder().decode(tail.bytes()).trimEnd().split("\n")
    .at(-1);
  const tailEnd = lastLine === undefined
    ? undefined
    : parseEndLine(lastLine, name, 0);
  const path = await withInput(file, async (chunks) => {
    const input = readProcrecJsonLines(chunks, name);
    // (an exported segment is not a segment here: the processes alive at
    // its start, which its header lists, are already in the export as
    // snapshot events, and its links name files that are not beside it)
    const { format: _f, version: _v, segment, ...header } = await input
      .header();
    // what the export says of the recording it was made from (version 2);
    // one that lacks its end line was cut short
    const integrity: ImportedIntegrity | undefined = input.ending().version < 2
      ? undefined
      : tailEnd
      ? {
        complete: tailEnd.complete,
        chainIntact: tailEnd.chainIntact,
        problems: tailEnd.problems,
      }
      : {
        complete: false,
        chainIntact: false,
        problems: [
          "the export ends before its end line: it was cut short",
        ],
      };
    const w = await RecordingWriter.create(
      opts.output,
      redactHeader(
        {
          ...header,
          // what the exported recording was itself imported from, if anything
          options: header.import
            ? { ...header.options, importedFrom: header.import }
            : header.options,
          source: {
            name: "import",
            reason: `procrec JSON lines export${
              segment
                ? ` of segment ${segment.index} (id ${segment.id}) of run ${segment.run}`
                : ""
            }; recorded by ${header.source.name}`,
          },
          import: {
            format: "jsonl",
            files: [{ name, sha256 }],
            ...(integrity ? { integrity } : {}),
          },
        },
        redactor,
        {
          path: file,
          // (what the export says of the recording it was made from)
          complete: integrity !== undefined && integrity.complete &&
            integrity.chainIntact,
        },
      ),
      { overwrite: opts.force, mode, flushIntervalMs: 0 },
    ).catch(
      (e) => {
        throw new CliError((e as Error).message, 2, { cause: e });
      },
    );
    let last: number | undefined;
    let end: ProcrecJsonEnd | undefined;
    try {
      for await (const e of input.events) {
        w.write(redactor ? redactor.event(e) : e);
        if (last === undefined || e.t > last) last = e.t;
      }
      end = input.ending().end;
      if ((end === undefined) !== (tailEnd === undefined)) {
        throw new CliError(
          `Cannot import "${file}": it changed while it was read (its end line ${
            end ? "appeared" : "went"
          })`,
        );
      }
    } catch (e) {
      // no half recording that looks complete
      await Deno.remove(await w.close()).catch(() => {});
      throw e;
    }
    // (the recording's own end, from its export; else its last event's)
    return await w.close({
      endUtcNs: end?.endUtcNs ??
        header.timeBase.utcNs + BigInt(last ?? 0),
    });
  }, { mode: progress, label: "import: reading" });
  await print(`${path}: imported from ${file}\n`);
  return 0;
}

/**
 * Runs `fn` on the bytes of `path`, read once through the bounded input
 * reader (a pipe, FIFO, device or stdin as a stream, never blocking at open).
 */
async function withInput<T>(
  path: string,
  fn: (chunks: AsyncIterable<Uint8Array>) => Promise<T>,
  progress: { mode: ProgressMode; label: string } = {
    mode: "off",
    label: "",
  },
): Promise<T> {
  let chunks: AsyncIterable<Uint8Array>;
  try {
    const info = await inputInfo(path, "input").catch((e) => {
      throw e instanceof InputError
        ? new InputError(
          e.message.replace(/^Cannot read input/, "Cannot import"),
        )
        : e;
    });
    chunks = await openInputStream(path, "input");
    if (progressShown(progress.mode)) {
      // (the percentage for a regular file; standard input or a pipe shows
      // the bytes read)
      chunks = bytesWithProgress(
        chunks,
        new Progress(
          `${progress.label} ${path}`,
          info.kind === "file" && !info.stdin ? info.size : undefined,
          progress.mode,
        ),
      );
    }
  } catch (e) {
    throw new CliError((e as Error).message, 2, { cause: e });
  }
  try {
    return await fn(chunks);
  } catch (e) {
    if (e instanceof ImportInputError || e instanceof RangeError) {
      throw new CliError(e.message, 2, { cause: e });
    }
    throw e;
  }
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ImportInputError || e instanceof RangeError) {
      throw new CliError(e.message, 2, { cause: e });
    }
    throw e;
  }
}

async function* hashing(
  chunks: AsyncIterable<Uint8Array>,
  hash: ReturnType<typeof createHash>,
): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    hash.update(c);
    yield c;
  }
}

/**
 * One output per key: `out.cbor` + `MKT01.example.com` ->
 * `out.MKT01.example.com.cbor`. Keys that sanitise alike (`WEB 01`, `WEB_01`,
 * or names that differ only in case) each get a suffix from their own hash,
 * so no host's recording replaces another's.
 */
function outputNames(output: string, keys: string[]): string[] {
  const ext = extname(output);
  const stem = ext ? output.slice(0, -ext.length) : output;
  const safe = keys.map((key) =>
    basename(key).replace(/\.(jsonl|json|xml|evtx)$/i, "")
      .replace(/[^A-Za-z0-9._-]/g, "_")
  );
  // the distinct keys of each sanitised name
  const seen = new Map<string, Set<string>>();
  for (const [i, s] of safe.entries()) {
    const k = s.toLowerCase();
    seen.set(k, (seen.get(k) ?? new Set()).add(keys[i]));
  }
  const named = safe.map((s, i) =>
    seen.get(s.toLowerCase())!.size > 1
      ? `${s}-${createHash("sha256").update(keys[i]).digest("hex").slice(0, 8)}`
      : s
  );
  // (equal keys: input files of one name in two folders, numbered in the
  // order given)
  const count = new Map<string, number>();
  for (const n of named) count.set(n, (count.get(n) ?? 0) + 1);
  const nth = new Map<string, number>();
  return named.map((n) => {
    if (count.get(n)! === 1) return `${stem}.${n}${ext}`;
    const k = (nth.get(n) ?? 0) + 1;
    nth.set(n, k);
    return `${stem}.${n}-${k}${ext}`;
  });
}

/** The last bytes of an export kept while it is hashed (its end line). */
const TAIL_BYTES = 1 << 20;

/** The last chunks of a stream that hold at least its last `max` bytes. */
class Tail {
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  constructor(readonly max: number) {}
  add(chunk: Uint8Array): void {
    // (a copy: a reader may hand the same buffer again)
    this.#chunks.push(chunk.slice());
    this.#bytes += chunk.length;
    while (this.#bytes - this.#chunks[0].length >= this.max) {
      this.#bytes -= this.#chunks.shift()!.length;
    }
  }
  /** The kept bytes, in one array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#bytes);
    let at = 0;
    for (const c of this.#chunks) out.set(c, at), at += c.length;
    return out;
  }
}
