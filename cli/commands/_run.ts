/**
 * Glue between commander actions and the exit status: an action returns its
 * exit status (0 ok, 1 different/tampered, 2 error) and `main.ts` sets it.
 *
 * @module
 */

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

/** Writes text to stdout, all of it. */
export async function print(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) {
    off += await Deno.stdout.write(bytes.subarray(off));
  }
}

/** Writes text to stderr, all of it. */
export function printErr(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}
