/**
 * An exclusive lock on a segment directory's lock file, held for as long as
 * its recorder writes there: flock(2) through libc, which the kernel drops
 * with the process however it ends, so a killed recorder leaves no claim
 * behind, and two recorders started at the same instant cannot both take
 * it (writer.pid alone was checked, then written: both could find no
 * writer and both write). Linux only; needs `--allow-ffi`.
 *
 * @module
 */

import { readKernelFileOnce } from "../native/ffi.ts";

const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  geteuid: { parameters: [], result: "u32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** What taking the lock came to. */
export type LockAttempt =
  | { taken: DirLock }
  | { held: true }
  | { foreign: { uid: number; own: number } }
  | { error: string };

/**
 * The lock on one file, taken with {@link takeLock}; {@link release}
 * removes the file and lets the lock go. (A recorder that opened the file
 * just before it was removed may then lock it: {@link takeLock} checks that
 * the file it locked is still the one at its path, and tries again if not.)
 *
 * @example
 * ```ts
 * import { takeLock } from "./_dir_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const a = takeLock(`${dir}/writer.lock`);
 * const b = takeLock(`${dir}/writer.lock`); // (flock: per open file)
 * if (!("taken" in a) || !("held" in b)) throw new Error(JSON.stringify(b));
 * a.taken.release();
 * const c = takeLock(`${dir}/writer.lock`);
 * if (!("taken" in c)) throw new Error("not taken after release");
 * c.taken.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DirLock {
  #lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
  #fd: number;
  #path: string;

  constructor(
    lib: Deno.DynamicLibrary<typeof SYMBOLS>,
    fd: number,
    path: string,
  ) {
    this.#lib = lib;
    this.#fd = fd;
    this.#path = path;
  }

  /** Removes the file and lets the lock go. Never throws; once only. */
  release(): void {
    if (!this.#lib) return;
    // (removed while locked: whoever locks it next finds it gone)
    try {
      Deno.removeSync(this.#path);
    } catch { /* gone, or the directory is */ }
    this.#lib.symbols.close(this.#fd);
    this.#lib.close();
    this.#lib = undefined;
  }
}

/**
 * Takes the exclusive lock on `path` (created mode 0600 when missing, never
 * through a symbolic link), without waiting: `held` when another open file
 * holds it (another recorder, in this process or another), `foreign` when
 * the file is another user's (never locked: see below), `error` with the
 * reason when it cannot be tried (libc not loadable, the file not
 * creatable: a full disk, a read-only or foreign directory).
 */
export function takeLock(path: string): LockAttempt {
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch (e) {
    return { error: `cannot load libc.so.6: ${(e as Error).message}` };
  }
  const l = lib.symbols;
  const errno = () => {
    const p = l.__errno_location();
    return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
  };
  const cPath = new TextEncoder().encode(path + "\0");
  // (a file removed by its holder between our open and our lock is locked
  // in vain: open the one at the path again; a few times at most, each
  // needs a recorder that ended just then)
  for (let attempt = 0; attempt < 8; attempt++) {
    const fd = l.open(cPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600);
    if (fd < 0) {
      const err = errno();
      lib.close();
      return { error: `cannot open "${path}" (${errnoText(err)})` };
    }
    // a lock file another user made (in a directory others can write) is
    // theirs to hold whenever they like: each recorder would be refused as
    // if another one wrote there, and the service restarted in vain forever
    // (found by review)
    const uid = ownerOf(fd);
    const own = l.geteuid();
    if (uid !== undefined && uid !== own) {
      l.close(fd);
      lib.close();
      return { foreign: { uid, own } };
    }
    let rc = l.flock(fd, LOCK_EX | LOCK_NB);
    let err = rc === 0 ? 0 : errno();
    while (rc !== 0 && err === EINTR) {
      rc = l.flock(fd, LOCK_EX | LOCK_NB);
      err = rc === 0 ? 0 : errno();
    }
    if (rc === 0 && isFileAt(fd, path)) {
      return { taken: new DirLock(lib, fd, path) };
    }
    l.close(fd);
    if (rc === 0) continue;
    lib.close();
    return err === EWOULDBLOCK
      ? { held: true }
      : { error: `cannot lock "${path}" (${errnoText(err)})` };
  }
  lib.close();
  return { error: `cannot lock "${path}": it was replaced at each try` };
}

/**
 * The process that holds a flock on the file at `path`, as the kernel's
 * lock table (`/proc/locks`) names it; undefined when none is listed or
 * the table cannot be read.
 *
 * @example
 * ```ts
 * import { lockHolder, takeLock } from "./_dir_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const a = takeLock(`${dir}/writer.lock`);
 * const pid = lockHolder(`${dir}/writer.lock`);
 * if ("taken" in a) a.taken.release();
 * await Deno.remove(dir, { recursive: true });
 * if (pid !== Deno.pid) throw new Error(`${pid}`);
 * ```
 */
export function lockHolder(path: string): number | undefined {
  try {
    const st = Deno.lstatSync(path);
    if (st.ino === null || st.dev === null) return undefined;
    // the file as the table names it: device major and minor in hex, then
    // the inode (the inode alone matched a file of that number on another
    // file system, which any process could lock)
    const dev = st.dev;
    const hi = Math.floor(dev / 2 ** 32);
    const major = ((dev >>> 8) & 0xfff) | ((hi & ~0xfff) >>> 0);
    const minor = (dev & 0xff) | ((dev >>> 12) & ~0xff & 0xfffff);
    const key = `${major.toString(16).padStart(2, "0")}:${
      minor.toString(16).padStart(2, "0")
    }:${st.ino}`;
    // (through libc: Deno refuses /proc's files to a process without
    // --allow-all, as the recorder runs)
    const table = readKernelFileOnce("/proc/locks", 1 << 20);
    for (const line of table.split("\n")) {
      // "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"
      const f = line.trim().split(/\s+/);
      if (f[1] !== "FLOCK" || f[3] !== "WRITE") continue;
      if (f[5] === key) return Number(f[4]);
    }
  } catch { /* no table, or the file is gone */ }
  return undefined;
}

/** The owner of the open file `fd` (undefined if it cannot be told). */
function ownerOf(fd: number): number | undefined {
  try {
    return Deno.statSync(`/proc/self/fd/${fd}`).uid ?? undefined;
  } catch {
    return undefined;
  }
}

/** The open file `fd` is the file at `path` (not one removed since). */
function isFileAt(fd: number, path: string): boolean {
  try {
    const open = Deno.statSync(`/proc/self/fd/${fd}`);
    const now = Deno.lstatSync(path);
    return open.ino === now.ino && open.dev === now.dev;
  } catch {
    return false;
  }
}

/** The names of the errors opening and locking a file can give. */
const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  13: "EACCES",
  20: "ENOTDIR",
  21: "EISDIR",
  24: "EMFILE",
  28: "ENOSPC",
  30: "EROFS",
  37: "ENOLCK",
  40: "ELOOP: a symbolic link",
  122: "EDQUOT",
};

function errnoText(err: number): string {
  return ERRNO[err] ?? `errno ${err}`;
}
