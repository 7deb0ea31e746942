/**
 * The `--group` option of every command that writes evidence, and a text
 * output written through the output opener (`cli/io/open_output.ts`).
 *
 * @module
 */
import { Option } from "commander";
import { CliError, UsageError } from "../errors.ts";
import { openOutput, type OutputMode, outputMode } from "../io/mod.ts";
import { utf8Blocks } from "./_stream_output.ts";

/** `--group NAME`: outputs 0640 (directories 0750) owned by that group. */
export function groupOption(): Option {
  return new Option(
    "--group <name>",
    "let this group read what is written: files 0640 and directories 0750 " +
      "owned by the group (default: owner only, 0600 and 0700)",
  );
}

/** The output mode of `--group` (a usage error names a missing group). */
export function modeOf(group: string | undefined): OutputMode {
  try {
    return outputMode(group);
  } catch (e) {
    throw new UsageError(`--group: ${(e as Error).message}`);
  }
}

/**
 * Writes `text` (a string, or pieces of it: a text too long for one string)
 * as a new file `path` (replacing it only with `force`); the bytes written.
 * An error from the pieces or the disk leaves no file (nor the one replaced
 * touched) and is thrown as it is, or as a {@link CliError} (exit 2) when it
 * comes from opening or writing the file.
 */
export async function writeTextOutput(
  path: string,
  text: string | Iterable<string>,
  options: { force?: boolean; group?: string; what: string },
): Promise<number> {
  const mode = modeOf(options.group);
  let out;
  try {
    out = await openOutput(path, {
      force: options.force,
      mode,
      what: options.what,
    });
  } catch (e) {
    throw new CliError((e as Error).message, 2, { cause: e });
  }
  // (an error of the pieces' maker, thrown as it is)
  let made: unknown = undefined;
  try {
    if (typeof text === "string") {
      out.writeSync(new TextEncoder().encode(text));
    } else {
      for (const block of utf8Blocks(told(text, (e) => made = e))) {
        out.writeSync(block);
      }
    }
    await out.commit();
  } catch (e) {
    if (!out.closed) out.discard();
    if (e === made) throw e;
    throw new CliError((e as Error).message, 2, { cause: e });
  }
  return out.bytes;
}

/** The pieces of `text`, telling `failed` the error their making throws. */
function* told(
  text: Iterable<string>,
  failed: (e: unknown) => void,
): Generator<string> {
  try {
    yield* text;
  } catch (e) {
    failed(e);
    throw e;
  }
}
