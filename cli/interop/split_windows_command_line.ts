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
  let i = 0;
  const n = cmdline.length;
  const blank = (c: string) => c === " " || c === "\t";
  while (i < n && blank(cmdline[i])) i++;
  if (i >= n) return args;
  // program name
  let prog = "";
  if (cmdline[i] === '"') {
    i++;
    while (i < n && cmdline[i] !== '"') prog += cmdline[i++];
    if (i < n) i++;
  } else {
    while (i < n && !blank(cmdline[i])) prog += cmdline[i++];
  }
  args.push(prog);
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
