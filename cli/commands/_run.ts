/**
 * Glue between commander actions and the exit status: an action returns its
 * exit status (0 ok, 1 different/tampered, 2 error) and `main.ts` sets it.
 *
 * @module
 */

import {
  applyStyles,
  escapeText,
  STYLE_MARKERS,
  wantsColor,
} from "../text/mod.ts";

/**
 * Whether stdout takes colour: a terminal, and `NO_COLOR` unset or empty
 * (never into a file or a pipe). Renderers asked for colour mark parts with
 * `style()`; {@link print} turns the marks into SGR sequences.
 */
export function stdoutColor(): boolean {
  return wantsColor(Deno.stdout.isTerminal(), {
    NO_COLOR: Deno.env.get("NO_COLOR"),
    TERM: Deno.env.get("TERM"),
  });
}

let status = 0;

/** Wraps a command action so that its returned status becomes the exit status. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number | void> | number | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await fn(...args);
    if (typeof code === "number") status = code;
  };
}

/** The status the last action returned. */
export function actionStatus(): number {
  return status;
}

/** Whether stdout's reader went away (`| head`): nothing more is written. */
let stdoutGone = false;

/**
 * Writes text to stdout, all of it. Every control character but newline and
 * tab is escaped on the way ({@link escapeText}): whatever a string from
 * evidence holds, no escape sequence reaches the terminal.
 *
 * A broken pipe (the reader stopped early, as `| head` does) is no error:
 * the rest of the output is dropped quietly and the command's exit status
 * stays what it would have been (0, or 1 for different or tampered), the same
 * in every command. With `color`, the style marks of the text
 * (text/style.ts) become SGR sequences: only those, and evidence cannot
 * carry a mark, so it still cannot reach the terminal raw.
 */
export async function print(text: string, color = false): Promise<void> {
  if (stdoutGone) return;
  await writeStdout(new TextEncoder().encode(safeText(text, color)));
}

/** `text` as {@link print} writes it: escaped, and with `color` styled. */
export function safeText(text: string, color = false): string {
  return color
    ? applyStyles(escapeText(text, "\n\t" + STYLE_MARKERS), true)
    : escapeText(text, "\n\t");
}

/** Whether stdout's reader went away: a long output can stop making itself. */
export function stdoutClosed(): boolean {
  return stdoutGone;
}

/**
 * Writes bytes made by {@link safeText} to stdout, all of them; after a
 * broken pipe, nothing (see {@link print}).
 */
export async function writeStdout(bytes: Uint8Array): Promise<void> {
  if (stdoutGone) return;
  let off = 0;
  try {
    while (off < bytes.length) {
      off += await Deno.stdout.write(bytes.subarray(off));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    stdoutGone = true;
  }
}

/**
 * Writes text to stdout now, all of it, escaped as {@link print} does:
 * for lines that must appear as they happen (`record --follow`). A broken
 * pipe ends the output quietly, as in {@link print}.
 */
export function printSync(text: string): void {
  if (stdoutGone) return;
  const bytes = new TextEncoder().encode(escapeText(text, "\n\t"));
  let off = 0;
  try {
    while (off < bytes.length) {
      off += Deno.stdout.writeSync(bytes.subarray(off));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    stdoutGone = true;
  }
}

/** Writes text to stderr, all of it, escaped as {@link print} does. */
export function printErr(text: string): void {
  const bytes = new TextEncoder().encode(escapeText(text, "\n\t"));
  let off = 0;
  try {
    while (off < bytes.length) {
      off += Deno.stderr.writeSync(bytes.subarray(off));
    }
  } catch (e) {
    // nobody reads stderr any more: nothing to tell them
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}
