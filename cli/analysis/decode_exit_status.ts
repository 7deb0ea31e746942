import type { ExitStatus } from "./forest.ts";

const LINUX_SIGNALS = [
  "",
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
];

/**
 * The Linux number of a signal name, or 0 when it has none.
 *
 * @example
 * ```ts
 * import { linuxSignalNumber } from "./decode_exit_status.ts";
 * if (linuxSignalNumber("SIGTERM") !== 15) throw new Error("SIGTERM");
 * ```
 */
export function linuxSignalNumber(name: string): number {
  return Math.max(0, LINUX_SIGNALS.indexOf(name));
}

/** Names of common NTSTATUS values a process exits with. */
const NTSTATUS: Record<number, string> = {
  0x00000000: "STATUS_SUCCESS",
  0x00000103: "STILL_ACTIVE",
  0x40010004: "DBG_TERMINATE_PROCESS",
  0x80000003: "STATUS_BREAKPOINT",
  0x80000004: "STATUS_SINGLE_STEP",
  0xC0000005: "STATUS_ACCESS_VIOLATION",
  0xC0000006: "STATUS_IN_PAGE_ERROR",
  0xC0000008: "STATUS_INVALID_HANDLE",
  0xC0000017: "STATUS_NO_MEMORY",
  0xC000001D: "STATUS_ILLEGAL_INSTRUCTION",
  0xC0000022: "STATUS_ACCESS_DENIED",
  0xC0000025: "STATUS_NONCONTINUABLE_EXCEPTION",
  0xC000008C: "STATUS_ARRAY_BOUNDS_EXCEEDED",
  0xC000008E: "STATUS_FLOAT_DIVIDE_BY_ZERO",
  0xC0000094: "STATUS_INTEGER_DIVIDE_BY_ZERO",
  0xC0000095: "STATUS_INTEGER_OVERFLOW",
  0xC0000096: "STATUS_PRIVILEGED_INSTRUCTION",
  0xC00000FD: "STATUS_STACK_OVERFLOW",
  0xC0000135: "STATUS_DLL_NOT_FOUND",
  0xC0000139: "STATUS_ENTRYPOINT_NOT_FOUND",
  0xC000013A: "STATUS_CONTROL_C_EXIT",
  0xC0000142: "STATUS_DLL_INIT_FAILED",
  0xC0000374: "STATUS_HEAP_CORRUPTION",
  0xC0000409: "STATUS_STACK_BUFFER_OVERRUN",
  0xC000041D: "STATUS_FATAL_USER_CALLBACK_EXCEPTION",
  0xC0000420: "STATUS_ASSERTION_FAILURE",
  0xE0434352: "CLR_EXCEPTION",
  0xE06D7363: "CPP_EH_EXCEPTION",
};

/**
 * Decodes a raw exit status: on Linux a wait status (`code << 8`, or the
 * signal number with 0x80 for a core dump), on Windows an exit code or
 * NTSTATUS (values from 0x40000000 up are shown in hex with their name).
 * `unknown` says the source did not report the status (Sysmon Event ID 5).
 *
 * @example
 * ```ts
 * import { decodeExitStatus } from "./decode_exit_status.ts";
 * if (decodeExitStatus(0x300, "linux").text !== "exit 3") throw new Error();
 * if (decodeExitStatus(9, "linux").text !== "signal 9 (SIGKILL)") throw new Error();
 * const av = decodeExitStatus(0xC0000005, "windows");
 * if (av.text !== "0xC0000005 STATUS_ACCESS_VIOLATION") throw new Error(av.text);
 * ```
 */
export function decodeExitStatus(
  raw: number,
  os: "linux" | "windows",
  unknown = false,
): ExitStatus {
  if (unknown) {
    return {
      raw,
      kind: "unknown",
      success: false,
      text: "exit status unknown",
    };
  }
  if (os === "windows") {
    const v = raw >>> 0;
    const name = NTSTATUS[v];
    if (v < 0x40000000) {
      return {
        raw,
        kind: "code",
        code: v,
        ...(v === 0x103 ? { name } : {}),
        success: v === 0,
        text: v === 0x103 ? `exit ${v} (STILL_ACTIVE)` : `exit ${v}`,
      };
    }
    const hex = "0x" + v.toString(16).toUpperCase().padStart(8, "0");
    return {
      raw,
      kind: "ntstatus",
      code: v,
      ...(name ? { name } : {}),
      success: false,
      text: name ? `${hex} ${name}` : hex,
    };
  }
  const sig = raw & 0x7f;
  if (sig === 0) {
    const code = (raw >> 8) & 0xff;
    return {
      raw,
      kind: "code",
      code,
      success: code === 0,
      text: `exit ${code}`,
    };
  }
  const name = LINUX_SIGNALS[sig];
  const core = (raw & 0x80) !== 0;
  const detail = [name, core ? "core dumped" : ""].filter((s) => s).join(", ");
  return {
    raw,
    kind: "signal",
    signal: sig,
    ...(name ? { name } : {}),
    ...(core ? { coreDumped: true } : {}),
    success: false,
    text: detail ? `signal ${sig} (${detail})` : `signal ${sig}`,
  };
}
