/**
 * Every `procrec` command, one file each. A command file exports a
 * `register(program)` that adds its verb (or verbs) to the commander program.
 *
 * The files are loaded when they are needed ({@link registerCommands}): a
 * command line that names a verb loads only that verb's file (and what it
 * imports), so `procrec record` starts without parsing the NATS clients, the
 * report, the bundle or the hunt code. Anything else (`--help`, `help`,
 * `--version`, no verb, an unknown verb, or a verb whose file needs the whole
 * program, such as `completions` and `manpage`) registers every command, in
 * the order `--help` lists them, exactly as before.
 *
 * @module
 */
import type { Command } from "commander";

/** Adds a command to the program. */
export type Register = (program: Command) => void;

/** A command file: the verbs it registers, and how to load it. */
export interface CommandFile {
  /** The verbs it adds, in the order it adds them. */
  verbs: readonly string[];
  /** Its verbs need every command registered (they describe the program). */
  needsAll?: boolean;
  /** Loads the file. */
  load: () => Promise<{ register: Register }>;
}

/** The command files, in the order `--help` lists their verbs. */
export const COMMAND_FILES: readonly CommandFile[] = [
  { verbs: ["record"], load: () => import("./record.ts") },
  { verbs: ["doctor"], load: () => import("./doctor.ts") },
  { verbs: ["bundle"], load: () => import("./bundle.ts") },
  { verbs: ["keygen"], load: () => import("./keygen.ts") },
  { verbs: ["verify"], load: () => import("./verify.ts") },
  { verbs: ["report"], load: () => import("./report.ts") },
  { verbs: ["replay"], load: () => import("./replay.ts") },
  { verbs: ["diff"], load: () => import("./diff.ts") },
  { verbs: ["import"], load: () => import("./import.ts") },
  { verbs: ["export"], load: () => import("./export.ts") },
  { verbs: ["redact"], load: () => import("./redact.ts") },
  { verbs: ["service"], load: () => import("./service.ts") },
  {
    verbs: ["completions", "manpage"],
    needsAll: true,
    load: () => import("./completions.ts"),
  },
  { verbs: ["publish"], load: () => import("./publish.ts") },
  { verbs: ["collect"], load: () => import("./collect.ts") },
  { verbs: ["fleet"], load: () => import("./fleet.ts") },
  { verbs: ["search"], load: () => import("./search.ts") },
  { verbs: ["hunt"], load: () => import("./hunt.ts") },
];

/**
 * The command files to load for a command line whose first argument is
 * `verb`: that verb's file alone, or every file (no verb, an option such as
 * `--help`, `help`, an unknown verb, or a verb that needs the whole program).
 *
 * @example
 * ```ts
 * import { commandFilesFor } from "./mod.ts";
 * if (commandFilesFor("record")[0].verbs[0] !== "record") throw new Error();
 * if (commandFilesFor("--help").length < 2) throw new Error();
 * ```
 */
export function commandFilesFor(verb: string | undefined): CommandFile[] {
  const one = COMMAND_FILES.find((f) => verb && f.verbs.includes(verb));
  return one && !one.needsAll ? [one] : [...COMMAND_FILES];
}

/**
 * Registers, in `--help` order, the commands a command line needs (see
 * {@link commandFilesFor}); the files load in parallel.
 */
export async function registerCommands(
  program: Command,
  verb: string | undefined,
): Promise<void> {
  const files = await Promise.all(
    commandFilesFor(verb).map((f) => f.load()),
  );
  for (const file of files) file.register(program);
}
