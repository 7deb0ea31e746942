/**
 * All of procrec's FFI: the symbols of the native event-source library
 * (`driver/include/procrec_abi.h`), how it is found and loaded, and how a C
 * status becomes a typed error. Also the one libc call the recorder needs
 * (`clock_gettime`, to put the kernel's monotonic timestamps on a time base).
 *
 * Needs `--allow-ffi` (and `--allow-env=PROCREC_LIB`, `--allow-read`).
 *
 * The library path is `$PROCREC_LIB` when set, else
 * `driver/linux/build/libprocrec.so` (Windows: `driver/windows/build/procrec.dll`)
 * relative to the repository root.
 *
 * @module
 */

/** The ABI version this binding was written for (`PROCREC_ABI_VERSION`). */
export const PROCREC_ABI_VERSION = 6;

/** Environment variable that overrides the library path. */
export const LIBRARY_ENV = "PROCREC_LIB";

/** The symbols of `procrec_abi.h`, exactly. */
export const symbols = {
  /** uint32_t procrec_abi_version(void) */
  procrec_abi_version: { parameters: [], result: "u32" },
  procrec_open: {
    parameters: [
      "buffer", // const struct procrec_options *opts
      "buffer", // void **out
    ],
    result: "i32", // int32_t status
  },
  procrec_start: {
    parameters: ["pointer"], // void *h
    result: "i32",
  },
  procrec_read: {
    parameters: [
      "pointer", // void *h
      "buffer", // uint8_t *buf
      "u32", // uint32_t cap
      "u32", // uint32_t timeout_ms
    ],
    result: "i32", // int32_t bytes (> 0), 0 on timeout, < 0 status
    nonblocking: true,
  },
  procrec_stats: {
    parameters: [
      "pointer", // void *h
      "buffer", // struct procrec_stats *out
    ],
    result: "i32",
  },
  procrec_stop: {
    parameters: ["pointer"], // void *h
    result: "i32",
  },
  procrec_close: {
    parameters: ["pointer"], // void *h
    result: "void",
  },
  procrec_last_error: {
    parameters: [
      "pointer", // void *h (NULL: this thread's last open failure)
      "buffer", // char *buf
      "u32", // uint32_t cap
    ],
    result: "i32",
  },
  procrec_source: {
    parameters: [
      "pointer", // void *h
      "buffer", // char *buf
      "u32", // uint32_t cap
    ],
    result: "i32", // enum pr_source in use
  },
  procrec_control: {
    parameters: [
      "pointer", // void *h
      "u32", // uint32_t op (enum pr_control)
      "buffer", // const uint8_t *arg
      "u32", // uint32_t len
    ],
    result: "i32",
  },
  /**
   * Linux only (driver/linux/chunk_encoder.h; absent from procrec.dll, then
   * null): records to the CBOR event arrays of a chunk body.
   */
  procrec_encode_cbor: {
    parameters: [
      "buffer", // const uint8_t *recs
      "u32", // uint32_t len
      "u64", // uint64_t base_mono
      "u32", // uint32_t watch_pid
      "buffer", // uint8_t *out
      "u32", // uint32_t cap
      "buffer", // uint32_t *ends
      "u32", // uint32_t ends_cap
      "buffer", // uint64_t *res (PR_ENC_SLOTS)
      "buffer", // double *meta (4 per event) or NULL
    ],
    result: "i32", // 0, or -1: a record cannot be framed
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libc functions procrec calls. */
export const libcSymbols = {
  clock_gettime: {
    parameters: [
      "i32", // clockid_t clk_id
      "buffer", // struct timespec *tp
    ],
    result: "i32",
  },
  /** uid_t geteuid(void) */
  geteuid: { parameters: [], result: "u32" },
  open: {
    parameters: [
      "buffer", // const char *pathname
      "i32", // int flags
    ],
    result: "i32", // int fd
  },
  read: {
    parameters: [
      "i32", // int fd
      "buffer", // void *buf
      "usize", // size_t count
    ],
    result: "isize", // ssize_t
  },
  close: {
    parameters: ["i32"], // int fd
    result: "i32",
  },
  capget: {
    parameters: [
      "buffer", // cap_user_header_t hdrp
      "buffer", // cap_user_data_t datap (struct __user_cap_data_struct[2])
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded native library. */
export type NativeLibrary = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** Status codes of `procrec_abi.h`. */
export const Status = {
  OK: 0,
  INVAL: -1,
  PERM: -2,
  NOSUP: -3,
  NOMEM: -4,
  IO: -5,
  STATE: -6,
  ABI: -7,
} as const;

const STATUS_NAMES: Record<number, string> = {
  [-1]: "PR_E_INVAL",
  [-2]: "PR_E_PERM",
  [-3]: "PR_E_NOSUP",
  [-4]: "PR_E_NOMEM",
  [-5]: "PR_E_IO",
  [-6]: "PR_E_STATE",
  [-7]: "PR_E_ABI",
};

/** A call into the native library failed. */
export class NativeError extends Error {
  constructor(
    message: string,
    /** The C status (negative), 0 when the failure is not a status. */
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "NativeError";
  }
}

/** The library could not be found or loaded. */
export class LibraryLoadError extends NativeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 0, options);
    this.name = "LibraryLoadError";
  }
}

/** The process lacks a privilege; {@link privilege} names it. */
export class PrivilegeError extends NativeError {
  constructor(
    message: string,
    /** The missing privilege, e.g. "CAP_NET_ADMIN". */
    readonly privilege: string,
    options?: ErrorOptions,
  ) {
    super(message, Status.PERM, options);
    this.name = "PrivilegeError";
  }
}

/** The kernel or OS lacks the mechanism. */
export class NotSupportedError extends NativeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, Status.NOSUP, options);
    this.name = "NotSupportedError";
  }
}

/** The library is of another ABI version, or a size does not match. */
export class AbiMismatchError extends NativeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, Status.ABI, options);
    this.name = "AbiMismatchError";
  }
}

/** What each source needs to record (Linux). */
export const SOURCE_PRIVILEGE: Record<string, string> = {
  netlink: "CAP_NET_ADMIN",
  ebpf: "CAP_BPF and CAP_PERFMON",
  auto: "CAP_NET_ADMIN (proc connector) or CAP_BPF and CAP_PERFMON (eBPF)",
  windows: "Administrator",
};

/**
 * Turns a C status into a typed error: {@link PrivilegeError} for PR_E_PERM
 * (naming `privilege`), {@link NotSupportedError}, {@link AbiMismatchError},
 * a `RangeError` for PR_E_INVAL, else {@link NativeError}.
 *
 * @example
 * ```ts
 * import { PrivilegeError, statusError } from "./ffi.ts";
 * const e = statusError(-2, "open the event source", "socket: EPERM", "CAP_NET_ADMIN");
 * if (!(e instanceof PrivilegeError) || !e.message.includes("CAP_NET_ADMIN")) {
 *   throw new Error(e.message);
 * }
 * ```
 */
export function statusError(
  status: number,
  action: string,
  detail: string,
  privilege = "root",
): Error {
  const name = STATUS_NAMES[status] ?? `status ${status}`;
  const why = detail ? `${detail} (${name})` : name;
  switch (status) {
    case Status.PERM:
      return new PrivilegeError(
        `Cannot ${action}: missing privilege ${privilege}: ${why}; run as root (sudo) or grant ${privilege}`,
        privilege,
      );
    case Status.NOSUP:
      return new NotSupportedError(
        `Cannot ${action}: not supported by this kernel: ${why}`,
      );
    case Status.ABI:
      return new AbiMismatchError(`Cannot ${action}: ABI mismatch: ${why}`);
    case Status.INVAL:
      return new RangeError(`Cannot ${action}: invalid argument: ${why}`);
    default:
      return new NativeError(`Cannot ${action}: ${why}`, status);
  }
}

/** The repository root, from this file's location. */
function repoRoot(): string {
  return decodeURIComponent(new URL("../../", import.meta.url).pathname)
    .replace(/^\/([A-Za-z]:)/, "$1");
}

/** Where the library is looked for: `$PROCREC_LIB`, else the build output. */
export function libraryPath(): string {
  const env = Deno.env.get(LIBRARY_ENV);
  if (env) return env;
  const root = repoRoot();
  return Deno.build.os === "windows"
    ? `${root}driver/windows/build/procrec.dll`
    : `${root}driver/linux/build/libprocrec.so`;
}

let loaded:
  | {
    path: string;
    dl: Deno.DynamicLibrary<typeof symbols>;
    lib: NativeLibrary;
  }
  | undefined;

/**
 * Loads the native library once (per path) and checks its ABI version.
 * Throws {@link LibraryLoadError} naming the path and how to build it, or
 * {@link AbiMismatchError}.
 */
export function loadLibrary(path = libraryPath()): NativeLibrary {
  if (loaded?.path === path) return loaded.lib;
  let dl: Deno.DynamicLibrary<typeof symbols>;
  try {
    dl = Deno.dlopen(path, symbols);
  } catch (e) {
    const how = Deno.env.get(LIBRARY_ENV)
      ? `check ${LIBRARY_ENV}`
      : "run `make build` in the repository root (or set " + LIBRARY_ENV +
        " to the library's path)";
    throw new LibraryLoadError(
      `Cannot load the procrec library "${path}": ${
        (e as Error).message
      }; ${how}`,
      { cause: e },
    );
  }
  const lib = dl.symbols;
  const version = lib.procrec_abi_version();
  if (version !== PROCREC_ABI_VERSION) {
    dl.close();
    throw new AbiMismatchError(
      `Cannot use the procrec library "${path}": its ABI version is ${version}, expected ${PROCREC_ABI_VERSION}; rebuild it with \`make build\``,
    );
  }
  loaded = { path, dl, lib };
  return lib;
}

/** Unloads what {@link loadLibrary} and {@link clockNs} loaded (tests, exit). */
export function unloadLibraries(): void {
  loaded?.dl.close();
  loaded = undefined;
  libc?.close();
  libc = undefined;
}

/** Reads a NUL-terminated message from a C buffer. */
export function cString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}

let libc: Deno.DynamicLibrary<typeof libcSymbols> | undefined;

/** CLOCK_REALTIME and CLOCK_MONOTONIC of Linux. */
export const CLOCK_REALTIME = 0;
/** The kernel's monotonic clock, the clock of every record's `mono_ns`. */
export const CLOCK_MONOTONIC = 1;

/**
 * Reads a clock (Linux) in nanoseconds through libc's `clock_gettime`.
 *
 * @example
 * ```ts
 * import { clockNs, CLOCK_MONOTONIC, unloadLibraries } from "./ffi.ts";
 * if (Deno.build.os === "linux") {
 *   const a = clockNs(CLOCK_MONOTONIC), b = clockNs(CLOCK_MONOTONIC);
 *   unloadLibraries();
 *   if (b < a) throw new Error("monotonic went back");
 * }
 * ```
 */
export function clockNs(clock: number): bigint {
  const ts = new BigInt64Array(2);
  const rc = libcLib().symbols.clock_gettime(clock, new Uint8Array(ts.buffer));
  if (rc !== 0) {
    throw new NativeError(
      `Cannot read clock ${clock}: clock_gettime failed`,
      rc,
    );
  }
  return ts[0] * 1_000_000_000n + ts[1];
}

/**
 * {@link readKernelFile}, leaving libc loaded only if it was before: for a
 * caller that reads a file or two and holds no library (a test counts a
 * library left loaded as a leak).
 */
export function readKernelFileOnce(path: string, max = 65536): string {
  const had = libc !== undefined;
  try {
    return readKernelFile(path, max);
  } finally {
    if (!had) {
      libc?.close();
      libc = undefined;
    }
  }
}

function libcLib(): Deno.DynamicLibrary<typeof libcSymbols> {
  if (!libc) {
    try {
      libc = Deno.dlopen("libc.so.6", libcSymbols);
    } catch (e) {
      throw new LibraryLoadError(
        `Cannot load libc.so.6: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  return libc;
}

/**
 * This process's effective uid and effective capability bits (Linux
 * `geteuid` and `capget`; Deno refuses to read `/proc/self/status` without
 * `--allow-all`).
 */
export function processPrivilege(): { euid: number; capEff: bigint } {
  const l = libcLib().symbols;
  const hdr = new Uint32Array([0x20080522, 0]); // _LINUX_CAPABILITY_VERSION_3, this process
  const data = new Uint32Array(6); // 2 x { effective, permitted, inheritable }
  const rc = l.capget(new Uint8Array(hdr.buffer), new Uint8Array(data.buffer));
  if (rc !== 0) {
    throw new NativeError(
      "Cannot read this process's capabilities: capget failed",
      rc,
    );
  }
  return {
    euid: l.geteuid(),
    capEff: BigInt(data[0]) | (BigInt(data[3]) << 32n),
  };
}

/**
 * Reads a small kernel file (`/proc/sys/...`) through libc: Deno refuses
 * `/proc/sys` and `/proc/self` to `Deno.readTextFile` without `--allow-all`.
 */
export function readKernelFile(path: string, max = 65536): string {
  const l = libcLib().symbols;
  const fd = l.open(new TextEncoder().encode(path + "\0"), 0); // O_RDONLY
  if (fd < 0) throw new Deno.errors.NotFound(`Cannot open "${path}"`);
  try {
    const buf = new Uint8Array(max);
    let n = 0;
    for (;;) {
      const r = Number(l.read(fd, buf.subarray(n), BigInt(max - n)));
      if (r < 0) throw new Error(`Cannot read "${path}"`);
      if (r === 0 || n + r >= max) {
        n += r;
        break;
      }
      n += r;
    }
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    l.close(fd);
  }
}
