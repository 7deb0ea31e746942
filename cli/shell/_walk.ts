import type { CommandSpec, OptionSpec } from "./command_spec.ts";

/** A command with the words that lead to it (`["bundle", "create"]`). */
export interface CommandAt {
  path: string[];
  spec: CommandSpec;
}

/** Every command below the program, depth first, each with its path. */
export function walkCommands(program: CommandSpec): CommandAt[] {
  const out: CommandAt[] = [];
  const visit = (spec: CommandSpec, path: string[]) => {
    out.push({ path, spec });
    for (const c of spec.commands) visit(c, [...path, c.name]);
  };
  visit(program, []);
  return out;
}

/** The option words of a command: `--long` and `-s` forms. */
export function optionWords(options: OptionSpec[]): string[] {
  return options.flatMap((o) =>
    [o.long, o.short].filter((x): x is string => !!x)
  );
}

/** Single-quotes a string for a POSIX shell. */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
