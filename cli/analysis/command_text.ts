/**
 * The one rendering of a process's command for people (tree, diff, report):
 * its argv, each argument quoted as a POSIX shell would need it, else the
 * command line as recorded (Windows), else the image, else `[comm]`. Pure.
 *
 * @module
 */

/** What a command is rendered from (a process node or an exec step). */
export interface CommandSource {
  argv?: string[];
  cmdline?: string;
  image?: string;
  comm?: string;
}

const PLAIN = /^[A-Za-z0-9_\-.,/:=@%+^~]+$/;

/**
 * One argument as a POSIX shell would need it quoted.
 *
 * @example
 * ```ts
 * import { quoteArg } from "./command_text.ts";
 * if (quoteArg("-O2") !== "-O2" || quoteArg("a b") !== "'a b'") throw new Error();
 * if (quoteArg("it's") !== "'it'\\''s'") throw new Error(quoteArg("it's"));
 * ```
 */
export function quoteArg(a: string): string {
  if (PLAIN.test(a)) return a;
  return `'${a.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command of a process: argv (quoted), else the command line, else the
 * image, else `[comm]`, else `?`.
 *
 * @example
 * ```ts
 * import { commandText } from "./command_text.ts";
 * if (commandText({ argv: ["sh", "-c", "ls /"] }) !== "sh -c 'ls /'") throw new Error();
 * if (commandText({ cmdline: "cmd.exe /c dir", image: "C:\\cmd.exe" }) !== "cmd.exe /c dir") throw new Error();
 * if (commandText({ comm: "kworker" }) !== "[kworker]") throw new Error();
 * ```
 */
export function commandText(p: CommandSource): string {
  if (p.argv && p.argv.length > 0) return p.argv.map(quoteArg).join(" ");
  if (p.cmdline !== undefined && p.cmdline !== "") return p.cmdline;
  if (p.image !== undefined) return p.image;
  if (p.comm !== undefined) return `[${p.comm}]`;
  return "?";
}
