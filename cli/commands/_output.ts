/**
 * The `--group` option of every command that writes evidence, and a text
 * output written through the output opener (`cli/io/open_output.ts`).
 *
 * @module
 */
import { Option } from "commander";
import { CliError, UsageError } from "../errors.ts";
import { openOutput, type OutputMode, outputMode } from "../io/mod.ts";

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

/** Writes `text` as a new file `path` (replacing it only with `force`). */
export async function writeTextOutput(
  path: string,
  text: string,
  options: { force?: boolean; group?: string; what: string },
): Promise<void> {
  const mode = modeOf(options.group);
  try {
    const out = await openOutput(path, {
      force: options.force,
      mode,
      what: options.what,
    });
    try {
      out.writeSync(new TextEncoder().encode(text));
    } catch (e) {
      out.discard();
      throw e;
    }
    await out.commit();
  } catch (e) {
    throw new CliError((e as Error).message, 2, { cause: e });
  }
}
