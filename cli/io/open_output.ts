/**
 * The one way procrec creates a file: recordings and their `.incomplete`,
 * bundles, reports, exports, imports and keys. Needs `--allow-read` and
 * `--allow-write` for the output's directory.
 *
 * - Never through a link: the data goes to a new file created exclusively
 *   (`O_CREAT | O_EXCL | O_NOFOLLOW`) in the output's directory, so a link
 *   planted at that name (by another user in a sticky `/tmp`) is refused, never
 *   followed; {@link OutputFile.commit} renames it over the named output, so
 *   `--force` replaces the output itself (a link there included) and never
 *   writes into what a link points at.
 * - Without `force`, an existing output is refused at open and again at
 *   commit (a hard link, which fails if the name appeared in between).
 * - A recording's `NAME.incomplete` is that new file (`incomplete: true`): a
 *   second writer of the same output fails to create it and stops.
 * - Mode 0600 (0640 with a group, see {@link outputMode}) set on the open file
 *   (`fchmod`), whatever the umask; keys (`secret: true`) are always 0600.
 * - The output's directory must exist (every command refuses a missing one).
 *
 * @example
 * ```ts
 * import { openOutput } from "./open_output.ts";
 * const dir = await Deno.makeTempDir();
 * const out = await openOutput(`${dir}/report.html`, { what: "report" });
 * out.writeSync(new TextEncoder().encode("<p>hi</p>"));
 * await out.commit();
 * const st = await Deno.stat(`${dir}/report.html`);
 * if ((st.mode! & 0o777) !== 0o600) throw new Error(st.mode!.toString(8));
 * // a link planted at the output is replaced, its target left alone
 * await Deno.writeTextFile(`${dir}/target`, "keep");
 * await Deno.symlink(`${dir}/target`, `${dir}/planted`);
 * const again = await openOutput(`${dir}/planted`, { force: true });
 * again.writeSync(new TextEncoder().encode("new"));
 * await again.commit();
 * if ((await Deno.readTextFile(`${dir}/target`)) !== "keep") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { type OutputMode, PRIVATE_MODE } from "./output_mode.ts";

/** Options of {@link openOutput}. */
export interface OutputOptions {
  /** Replace an existing output (a file or a link; never a directory). */
  force?: boolean;
  /** Who may read it (default {@link PRIVATE_MODE}). */
  mode?: OutputMode;
  /** A key file: 0600 whatever {@link mode} says. */
  secret?: boolean;
  /** The file is written as `NAME.incomplete`, a name others can see. */
  incomplete?: boolean;
  /** What the output is, for messages ("recording", "report", ...). */
  what?: string;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/**
 * Creates the new file of `path` (see the module doc); the caller writes to
 * it and then calls {@link OutputFile.commit} or {@link OutputFile.discard}.
 */
export async function openOutput(
  path: string,
  options: OutputOptions = {},
): Promise<OutputFile> {
  const what = options.what ?? "file";
  const fail = (why: string, cause?: unknown): never => {
    throw new OutputError(`Cannot write ${what} "${path}": ${why}`, {
      cause,
    });
  };
  const dir = dirname(path);
  const dirStat = await Deno.stat(dir).catch(() => undefined);
  if (!dirStat) fail(`the directory "${dir}" does not exist`);
  if (!dirStat!.isDirectory) fail(`"${dir}" is not a directory`);
  const existing = await Deno.lstat(path).catch(() => undefined);
  if (existing?.isDirectory) fail("it is a directory");
  // (--force replaces a file or a link, never a device, FIFO or socket:
  // -f -o /dev/null would have put a recording in its place; found by
  // review)
  if (
    existing && !existing.isFile && !existing.isSymlink &&
    !existing.isDirectory
  ) {
    fail(
      `it is ${
        existing.isCharDevice
          ? "a character device"
          : existing.isBlockDevice
          ? "a block device"
          : existing.isFifo
          ? "a FIFO"
          : existing.isSocket
          ? "a socket"
          : "not a regular file"
      }, which procrec never replaces; name a file`,
    );
  }
  if (existing && !options.force) {
    fail("the file exists (use --force to replace it)");
  }
  const mode = options.secret ? 0o600 : (options.mode ?? PRIVATE_MODE).file;
  const gid = options.secret ? undefined : options.mode?.gid;
  for (let attempt = 0;; attempt++) {
    const temp = options.incomplete
      ? `${path}.incomplete`
      : join(dir, `.${basename(path)}.${randomTag()}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(temp, CREATE_FLAGS, mode);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EEXIST" && !options.incomplete && attempt < 8) continue;
      if (code === "EEXIST" && options.incomplete) {
        fail(
          `"${temp}" exists: another procrec is writing it, or an earlier ` +
            `run stopped before closing it (read it with procrec replay; ` +
            `remove it to record again)`,
          e,
        );
      }
      fail(`cannot create "${temp}": ${(e as Error).message}`, e);
    }
    try {
      fs.fchmodSync(fd!, mode); // exactly, whatever the umask
      if (gid !== undefined) fs.fchownSync(fd!, -1, gid);
    } catch (e) {
      fs.closeSync(fd!);
      fs.rmSync(temp, { force: true });
      fail(
        gid !== undefined
          ? `cannot give it group ${options.mode?.groupName ?? gid}: ${
            (e as Error).message
          }`
          : `cannot set its mode: ${(e as Error).message}`,
        e,
      );
    }
    return new OutputFile(path, temp, fd!, !!options.force, what);
  }
}

/** An output could not be created or committed. */
export class OutputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutputError";
  }
}

/** A file being written by {@link openOutput}, renamed into place at commit. */
export class OutputFile {
  #fd: number | undefined;
  #bytes = 0;

  /** @internal Use {@link openOutput}. */
  constructor(
    /** The named output. */
    readonly path: string,
    /** Where the data is until commit. */
    readonly tempPath: string,
    fd: number,
    readonly force: boolean,
    readonly what: string,
  ) {
    this.#fd = fd;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Writes all of `bytes`. */
  writeSync(bytes: Uint8Array): void {
    let off = 0;
    try {
      while (off < bytes.length) {
        off += fs.writeSync(this.#open(), bytes, off, bytes.length - off);
      }
    } catch (e) {
      throw new OutputError(
        `Cannot write ${this.what} "${this.tempPath}": ${(e as Error).message}`,
        { cause: e },
      );
    } finally {
      this.#bytes += off;
    }
  }

  /** Writes all of `bytes` (the same as {@link writeSync}). */
  write(bytes: Uint8Array): Promise<void> {
    return Promise.resolve().then(() => this.writeSync(bytes));
  }

  /** A stream sink over {@link writeSync}; closing it does not commit. */
  get writable(): WritableStream<Uint8Array> {
    return new WritableStream({ write: (chunk) => this.writeSync(chunk) });
  }

  /** Flushes the data to the disk. */
  sync(): void {
    fs.fsyncSync(this.#open());
  }

  /** Whether commit, discard or abandon has been called. */
  get closed(): boolean {
    return this.#fd === undefined;
  }

  /**
   * Syncs and closes the file and gives it the output's name: renamed over
   * it with `force`, else linked (which fails if the name exists) and the
   * temporary name removed.
   */
  async commit(): Promise<string> {
    this.sync();
    this.#close();
    try {
      if (this.force) {
        await Deno.rename(this.tempPath, this.path);
      } else {
        if (await linkNew(this.tempPath, this.path)) {
          await Deno.remove(this.tempPath);
        }
      }
    } catch (e) {
      const exists = e instanceof Deno.errors.AlreadyExists;
      throw new OutputError(
        `Cannot rename ${this.what} "${this.tempPath}" to "${this.path}": ${
          exists
            ? "the file exists (use --force to replace it)"
            : (e as Error).message
        }; the complete ${this.what} is in "${this.tempPath}"`,
        { cause: e },
      );
    }
    await syncDirectory(dirname(this.path));
    return this.path;
  }

  /** Closes and removes the file: nothing is left. Never throws. */
  discard(): void {
    try {
      this.#close();
    } catch { /* closing a failed file */ }
    try {
      fs.rmSync(this.tempPath, { force: true });
    } catch { /* nothing more to do */ }
  }

  /** Closes the file and leaves it under its temporary name. Never throws. */
  abandon(): void {
    try {
      this.#close();
    } catch { /* closing a failed file */ }
  }

  #open(): number {
    if (this.#fd === undefined) {
      throw new OutputError(
        `Cannot write ${this.what} "${this.path}": it is closed`,
      );
    }
    return this.#fd;
  }

  #close(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Makes a rename in `dir` durable; best effort (not every system allows it). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch { /* the data itself was synced; only the name may be lost */ }
}

/**
 * Gives `temp` the name `path` unless `path` exists: a hard link (true: the
 * caller removes `temp`), else a rename (false).
 */
async function linkNew(temp: string, path: string): Promise<boolean> {
  try {
    await Deno.link(temp, path);
    return true;
  } catch (e) {
    // a file system without hard links: check, then rename (a small window)
    if (
      e instanceof Deno.errors.AlreadyExists ||
      await Deno.lstat(path).then(() => true, () => false)
    ) {
      throw e instanceof Deno.errors.AlreadyExists
        ? e
        : new Deno.errors.AlreadyExists("the file exists");
    }
    await Deno.rename(temp, path);
    return false;
  }
}

function randomTag(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
