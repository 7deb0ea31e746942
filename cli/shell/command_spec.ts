/**
 * A plain description of procrec's command line, taken from the commander
 * program, from which the shell completions and the man page are generated
 * (so they never drift from `--help`).
 *
 * @module
 */
import type { Command } from "commander";

/** One option of a command, as `--help` lists it. */
export interface OptionSpec {
  /** The flags as written, e.g. `-o, --output <file>`. */
  flags: string;
  short?: string;
  long?: string;
  description: string;
  /** Whether the option takes a value (`<x>` or `[x]`). */
  takesValue: boolean;
  /** Fixed choices of the value, when the option declares them. */
  choices?: string[];
}

/** One command (or the program itself) and its subcommands. */
export interface CommandSpec {
  name: string;
  description: string;
  /** Positional arguments as `<name>`, `[name]` or `<name...>`. */
  args: string[];
  options: OptionSpec[];
  /** Fixed choices of the first positional argument, when it declares them. */
  argChoices?: string[];
  /** Text shown after the options in `--help` (examples, notes). */
  helpAfter: string;
  commands: CommandSpec[];
}

/** The spec of a commander command and its subcommands, help options included. */
export function commandSpec(cmd: Command): CommandSpec {
  const help = cmd.createHelp();
  const options = help.visibleOptions(cmd).map((o): OptionSpec => ({
    flags: o.flags,
    short: o.short,
    long: o.long,
    description: o.description,
    takesValue: o.required || o.optional,
    choices: o.argChoices,
  }));
  const args = help.visibleArguments(cmd).map((a) => {
    const n = a.name() + (a.variadic ? "..." : "");
    return a.required ? `<${n}>` : `[${n}]`;
  });
  const first = help.visibleArguments(cmd)[0];
  return {
    name: cmd.name(),
    argChoices: first?.argChoices,
    description: cmd.description(),
    args,
    options,
    helpAfter: helpTextAfter(cmd),
    commands: help.visibleCommands(cmd)
      .filter((c) => c.name() !== "help")
      .map(commandSpec),
  };
}

/** The "after" help text of a command (examples), without printing it. */
function helpTextAfter(cmd: Command): string {
  let text = "";
  // commander keeps addHelpText("after") texts as "afterHelp" listeners
  const emitter = cmd as unknown as { listeners(event: string): unknown[] };
  const listeners = emitter.listeners("afterHelp") as ((
    ctx: { error: boolean; command: Command; write: (s: string) => void },
  ) => void)[];
  for (const l of listeners) {
    l({ error: false, command: cmd, write: (s: string) => (text += s) });
  }
  return text.trim();
}
