/**
 * procrec's command line: parses, dispatches to one command file, prints
 * errors and sets the exit status (0 ok, 1 different/tampered, 2 error).
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/mod.ts";
import { actionStatus, printErr } from "./commands/_run.ts";
import { CliError } from "./errors.ts";
import { versionLine } from "./version.ts";
import { childrenKept } from "./keep_children.ts";

/** Runs the command line; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  const program = new Command("procrec")
    .description(
      "Forensic recorder and replayer of process lifecycles: record from the kernel,\n" +
        "replay and diff process trees, package and verify evidence.",
    )
    .version(
      args.some((a) => a === "--version" || a === "-V")
        ? await versionLine()
        : "",
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  // only the named verb's file is loaded (all of them for --help and the like)
  await registerCommands(program, args[0]);
  program.commands.forEach((c) => c.exitOverride());
  try {
    await program.parseAsync(args, { from: "user" });
    return actionStatus();
  } catch (e) {
    // a write to a closed pipe outside print() (`| head`): quietly, with the
    // status the command had set (see print() in commands/_run.ts)
    if (e instanceof Deno.errors.BrokenPipe) return actionStatus();
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors were printed by commander
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof CliError) {
      printErr(`procrec: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    printErr(`procrec: ${err?.message ?? String(e)}\n`);
    // the cause only when the message does not already carry its text
    if (
      err?.cause instanceof Error && !err.message.includes(err.cause.message)
    ) {
      printErr(`  cause: ${err.cause.message}\n`);
    }
    if (Deno.env.get("PROCREC_DEBUG")) printErr(`${err?.stack}\n`);
    return 2;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  // (a command left running would be killed by a return from here)
  if (childrenKept()) Deno.exit(code);
  Deno.exitCode = code;
}
