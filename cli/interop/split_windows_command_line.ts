/**
 * Splits a Windows command line into arguments the way `CommandLineToArgvW`
 * and the Microsoft C runtime do.
 *
 * @module
 */

/**
 * The arguments of a Windows command line. The program name (first argument)
 * ends at the closing quote or the first blank and takes backslashes
 * literally; later arguments follow the C runtime rules: 2n backslashes
 * before a quote give n backslashes and toggle quoting, 2n+1 give n and a
 * literal quote, and `""` inside quotes is a literal quote.
 *
 * @example
 * ```ts
 * import { splitWindowsCommandLine } from "./split_windows_command_line.ts";
 * const a = splitWindowsCommandLine('"C:\\Program Files\\a.exe" -x "b c" d\\"e \\\\"f g"');
 * if (JSON.stringify(a) !== JSON.stringify(["C:\\Program Files\\a.exe", "-x", "b c", 'd"e', "\\f g"])) {
 *   throw new Error(JSON.stringify(a));
 * }
 * ```
 */
export function splitWindowsCommandLine(cmdline: string): string[] {
  const args: string[] = [];
  const n = cmdline.length;
  const blank = (c: string) => c === " " || c === "\t";
  const first = programName(cmdline);
  if (first === undefined) return args;
  let i = first.end;
  args.push(first.name);
  for (;;) {
    while (i < n && blank(cmdline[i])) i++;
    if (i >= n) break;
    let arg = "";
    let quoted = false;
    while (i < n && (quoted || !blank(cmdline[i]))) {
      let slashes = 0;
      while (i < n && cmdline[i] === "\\") {
        slashes++;
        i++;
      }
      if (i < n && cmdline[i] === '"') {
        arg += "\\".repeat(slashes >> 1);
        if (slashes % 2 === 1) {
          arg += '"';
          i++;
        } else if (quoted && cmdline[i + 1] === '"') {
          arg += '"';
          i += 2;
        } else {
          quoted = !quoted;
          i++;
        }
      } else {
        arg += "\\".repeat(slashes);
        if (i < n && (quoted || !blank(cmdline[i]))) arg += cmdline[i++];
      }
    }
    args.push(arg);
  }
  return args;
}

/**
 * The program a Windows command line names (its first argument, as
 * {@link splitWindowsCommandLine} reads it), or `undefined` for a blank
 * line.
 *
 * @example
 * ```ts
 * import { windowsProgramName } from "./split_windows_command_line.ts";
 * if (windowsProgramName(' "C:\\a b\\x.exe" -y') !== "C:\\a b\\x.exe") throw new Error();
 * ```
 */
export function windowsProgramName(cmdline: string): string | undefined {
  return programName(cmdline)?.name;
}

/** The program name of `cmdline` and where it ends. */
function programName(
  cmdline: string,
): { name: string; end: number } | undefined {
  let i = 0;
  const n = cmdline.length;
  const blank = (c: string) => c === " " || c === "\t";
  while (i < n && blank(cmdline[i])) i++;
  if (i >= n) return undefined;
  // up to the closing quote (backslashes taken literally), or the first blank
  let name = "";
  if (cmdline[i] === '"') {
    i++;
    while (i < n && cmdline[i] !== '"') name += cmdline[i++];
    if (i < n) i++;
  } else {
    while (i < n && !blank(cmdline[i])) name += cmdline[i++];
  }
  return { name, end: i };
}
