/**
 * The one way procrec reads a file it was given as evidence or as a key:
 * every read has a limit that fits its kind, and pipes, FIFOs and devices
 * are read once, as a stream, without blocking at open. Needs `--allow-read`.
 *
 * - A regular file is read from the file system.
 * - A FIFO or a pipe (`<(cat rec)`) or a character device (`/dev/zero`) is
 *   opened without blocking (a FIFO nobody writes to reads as empty instead
 *   of hanging) and read once; a reader that needs random access or two
 *   passes refuses it with {@link InputError}.
 * - `/dev/stdin` (and `-`) is the process's standard input, read once.
 * - A small input read whole ({@link readInputBytes}) stops at its limit:
 *   `--key /dev/zero` is an error naming the file and the limit, not gigabytes.
 *
 * @example
 * ```ts
 * import { readInputBytes } from "./read_input.ts";
 * let message = "";
 * await readInputBytes("/dev/zero", { what: "public key", maxBytes: 1024 })
 *   .catch((e) => (message = e.message));
 * if (!message.includes('"/dev/zero"') || !message.includes("1024 bytes")) throw new Error(message);
 * ```
 *
 * @module
 */
import { concatBytes } from "./concat_bytes.ts";
import * as fs from "node:fs";

/** Limits of the small inputs procrec reads whole. */
export const INPUT_LIMITS = {
  /** A PEM key file (an Ed25519 key is under 200 bytes). */
  key: 64 * 1024,
  /** A bundle's `manifest.json`. */
  manifest: 16 * 1024 * 1024,
  /** A bundle's `manifest.sig`. */
  signature: 64 * 1024,
} as const;

/** An input that cannot be read the way it was given. */
export class InputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InputError";
  }
}

/** What kind of input a path is. */
export interface InputInfo {
  /** `file`: a regular file; `stream`: read once (pipe, FIFO, device, stdin). */
  kind: "file" | "stream";
  /** The size of a regular file. */
  size?: number;
  /** Standard input. */
  stdin?: boolean;
}

const STDIN_NAMES = new Set([
  "-",
  "/dev/stdin",
  "/dev/fd/0",
  "/proc/self/fd/0",
]);

/**
 * What `path` is; throws {@link InputError} for a missing path, a directory
 * or a socket, naming the input as `what` ("recording", "public key").
 */
export async function inputInfo(
  path: string,
  what: string,
): Promise<InputInfo> {
  if (STDIN_NAMES.has(path)) return { kind: "stream", stdin: true };
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? `no such file${what === "recording" ? await unclosedHint(path) : ""}`
      : (e as Error).message;
    throw new InputError(`Cannot read ${what} "${path}": ${why}`, {
      cause: e,
    });
  }
  if (st.isDirectory) {
    throw new InputError(`Cannot read ${what} "${path}": it is a directory`);
  }
  if (st.isFile) return { kind: "file", size: st.size };
  if (st.isFifo || st.isCharDevice) return { kind: "stream" };
  throw new InputError(
    `Cannot read ${what} "${path}": it is not a file, a pipe or a device`,
  );
}

/**
 * For a recording `path` that is not there: what its unclosed name holds,
 * when that exists (`record -o NAME` writes `NAME.incomplete` until it
 * closes the recording), else "".
 */
export async function unclosedHint(path: string): Promise<string> {
  const open = `${path}.incomplete`;
  const there = await Deno.lstat(open).then(() => true, () => false);
  return there
    ? ` ("${open}" exists: a recording not closed, by a recorder still writing it or one that was killed; read it under that name)`
    : "";
}

/**
 * Refuses an input that is not a regular file, for readers that need random
 * access or two passes; `why` says what needs it.
 */
export async function requireRegularFile(
  path: string,
  what: string,
  why: string,
): Promise<InputInfo> {
  const info = await inputInfo(path, what);
  if (info.kind !== "file") {
    throw new InputError(
      `Cannot read ${what} "${path}": it is a pipe, FIFO or device, not a ` +
        `regular file, and ${why}; save it to a file first`,
    );
  }
  return info;
}

/** The bytes of `path`, read once (see the module doc). */
export async function openInputStream(
  path: string,
  what: string,
): Promise<AsyncIterable<Uint8Array>> {
  const info = await inputInfo(path, what);
  if (info.stdin) return Deno.stdin.readable;
  if (info.kind === "file") {
    try {
      return (await Deno.open(path, { read: true })).readable;
    } catch (e) {
      throw new InputError(
        `Cannot read ${what} "${path}": ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  return streamOf(path, what);
}

/** Reads a pipe, FIFO or device without ever blocking the process. */
async function* streamOf(
  path: string,
  what: string,
): AsyncGenerator<Uint8Array> {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new InputError(
      `Cannot read ${what} "${path}": ${(e as Error).message}`,
      { cause: e },
    );
  }
  try {
    let wait = 1;
    for (;;) {
      const buf = new Uint8Array(1 << 16);
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as { code?: string }).code !== "EAGAIN") {
          throw new InputError(
            `Cannot read ${what} "${path}": ${(e as Error).message}`,
            { cause: e },
          );
        }
        // a writer that has not written yet: wait for it, not the CPU
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(50, wait * 2);
        continue;
      }
      if (n === 0) return;
      wait = 1;
      yield buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Options of {@link readInputBytes}. */
export interface ReadInputOptions {
  /** What the input is, for messages ("public key", "private key"). */
  what: string;
  /** Its size limit; a larger input is an error that names the limit. */
  maxBytes: number;
}

/** Reads a small input whole, up to its limit. */
export async function readInputBytes(
  path: string,
  options: ReadInputOptions,
): Promise<Uint8Array> {
  const { what, maxBytes } = options;
  const tooBig = () =>
    new InputError(
      `Cannot read ${what} "${path}": it is larger than ${maxBytes} bytes, the limit for a ${what}`,
    );
  const info = await inputInfo(path, what);
  if (info.size !== undefined && info.size > maxBytes) throw tooBig();
  const parts: Uint8Array[] = [];
  let total = 0;
  const source = await openInputStream(path, what);
  for await (const chunk of source) {
    total += chunk.length;
    // leaving the loop closes the input: the rest (of /dev/zero) is not read
    if (total > maxBytes) throw tooBig();
    parts.push(chunk.slice());
  }
  return concatBytes(parts);
}
