/**
 * The header of a live recording: host, kernel, boot id, clocks, tool,
 * source and options. Needs `--allow-read=/proc`, `--allow-sys` and
 * `--allow-ffi` (libc `clock_gettime`).
 *
 * @module
 */
import {
  CLOCK_MONOTONIC,
  CLOCK_REALTIME,
  clockNs,
  readKernelFile,
} from "../native/ffi.ts";
import type { HeaderInit } from "../log/mod.ts";
import type { HostCheck } from "./check_host.ts";
import { TOOL_VERSION } from "../version.ts";

/** The instant every event's `t` counts from, on both clocks. */
export interface TimeBase {
  monoNs: bigint;
  utcNs: bigint;
}

/**
 * Where the kernel shows the offsets of this process's time namespace
 * (Linux 5.6 and later; time_namespaces(7)).
 */
export const TIME_NAMESPACE_FILE = "/proc/self/timens_offsets";

/** What a time namespace adds to the host's clocks, ns. */
export interface TimeNamespaceOffsets {
  monoNs: bigint;
  bootNs: bigint;
}

/**
 * Parses the text of a `timens_offsets` file: a line `<clock> <seconds>
 * <nanoseconds>` for each of `monotonic` and `boottime` (or their numbers, 1
 * and 7); lines of other clocks are passed over. Throws naming the file, the
 * line and what was expected.
 *
 * @example
 * ```ts
 * import { parseTimeNamespaceOffsets } from "./recording_header.ts";
 * const o = parseTimeNamespaceOffsets(
 *   "monotonic      86400         5\nboottime          -2 999999999\n",
 * );
 * if (o.monoNs !== 86_400_000_000_005n || o.bootNs !== -1_000_000_001n) {
 *   throw new Error(`${o.monoNs} ${o.bootNs}`);
 * }
 * let said = "";
 * try {
 *   parseTimeNamespaceOffsets("monotonic 1 x\n", "f");
 * } catch (e) {
 *   said = (e as Error).message;
 * }
 * if (!said.includes('"f" line 1')) throw new Error(said);
 * ```
 */
export function parseTimeNamespaceOffsets(
  text: string,
  path = TIME_NAMESPACE_FILE,
): TimeNamespaceOffsets {
  let monoNs: bigint | undefined;
  let bootNs: bigint | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const m = /^(\S+)\s+(-?\d{1,12})\s+(\d{1,9})$/.exec(line);
    if (!m) {
      throw new Error(
        `"${path}" line ${i + 1} "${line}": expected "<clock> <seconds> ` +
          `<nanoseconds>" (nanoseconds 0 to 999999999)`,
      );
    }
    // the kernel's timespec: whole seconds, signed, then 0 to 999999999 ns
    // added (-2 999999999 is -1.000000001 s)
    const ns = BigInt(m[2]) * 1_000_000_000n + BigInt(m[3]);
    if (m[1] === "monotonic" || m[1] === "1") monoNs = ns;
    else if (m[1] === "boottime" || m[1] === "7") bootNs = ns;
  }
  if (monoNs === undefined || bootNs === undefined) {
    throw new Error(
      `"${path}": no ${
        monoNs === undefined ? "monotonic" : "boottime"
      } line (expected one for monotonic and one for boottime)`,
    );
  }
  return { monoNs, bootNs };
}

let timeNamespace: TimeNamespaceOffsets | undefined;

/**
 * The offsets of this process's time namespace ({@link TIME_NAMESPACE_FILE},
 * read once: a process leaves its time namespace only by exec), zero on a
 * kernel without time namespaces. Throws when the file is there but cannot
 * be read or parsed.
 *
 * @example
 * ```ts
 * import { readTimeNamespaceOffsets } from "./recording_header.ts";
 * import { unloadLibraries } from "../native/ffi.ts";
 * if (Deno.build.os === "linux") {
 *   const o = readTimeNamespaceOffsets();
 *   unloadLibraries();
 *   if (typeof o.monoNs !== "bigint") throw new Error("no offsets");
 * }
 * ```
 */
export function readTimeNamespaceOffsets(): TimeNamespaceOffsets {
  if (timeNamespace) return timeNamespace;
  let text: string;
  try {
    text = readKernelFile(TIME_NAMESPACE_FILE);
  } catch (e) {
    // before Linux 5.6, or without CONFIG_TIME_NS, every clock is the host's
    if (e instanceof Deno.errors.NotFound) {
      return timeNamespace = { monoNs: 0n, bootNs: 0n };
    }
    throw e;
  }
  return timeNamespace = parseTimeNamespaceOffsets(text);
}

/**
 * CLOCK_MONOTONIC as the host (the initial time namespace) reads it, ns:
 * the clock of the kernel's event times (bpf_ktime_get_ns, the proc
 * connector), which time namespaces do not shift. Inside one, the
 * namespace's monotonic offset is taken off this process's own read.
 *
 * @example
 * ```ts
 * import { hostMonoNs } from "./recording_header.ts";
 * import { unloadLibraries } from "../native/ffi.ts";
 * if (Deno.build.os === "linux") {
 *   const a = hostMonoNs(), b = hostMonoNs();
 *   unloadLibraries();
 *   if (b < a) throw new Error("the monotonic clock went back");
 * }
 * ```
 */
export function hostMonoNs(): bigint {
  const offsets = readTimeNamespaceOffsets();
  return clockNs(CLOCK_MONOTONIC) - offsets.monoNs;
}

/**
 * Reads the host's CLOCK_MONOTONIC ({@link hostMonoNs}) and CLOCK_REALTIME at
 * (nearly) the same instant: the realtime read is bracketed by two
 * monotonic reads and paired with their midpoint. In a time namespace the
 * pair is still the kernel's: event times map to UTC through it.
 *
 * @example
 * ```ts
 * import { sampleTimeBase } from "./recording_header.ts";
 * import { unloadLibraries } from "../native/ffi.ts";
 * if (Deno.build.os === "linux") {
 *   const b = sampleTimeBase();
 *   unloadLibraries();
 *   const off = Number(b.utcNs / 1_000_000n) - Date.now();
 *   if (Math.abs(off) > 1000) throw new Error(`UTC off by ${off} ms`);
 * }
 * ```
 */
export function sampleTimeBase(): TimeBase {
  readTimeNamespaceOffsets(); // a failure throws before the clocks are read
  const m1 = hostMonoNs();
  const utc = clockNs(CLOCK_REALTIME);
  const m2 = hostMonoNs();
  return { monoNs: (m1 + m2) / 2n, utcNs: utc };
}

/** Seconds with nanoseconds, signed: `+86400 s`, `-1.500000000 s`. */
function signedSeconds(ns: bigint): string {
  const abs = ns < 0n ? -ns : ns;
  const frac = abs % 1_000_000_000n;
  return `${ns < 0n ? "-" : "+"}${abs / 1_000_000_000n}${
    frac ? "." + frac.toString().padStart(9, "0") : ""
  } s`;
}

/**
 * `procrec doctor`'s line on the time namespace: whether the recorder runs
 * in one with clock offsets, which it takes off its own clock reads so that
 * events keep the kernel's times; a failure when the offsets cannot be read
 * (the library then refuses to record).
 *
 * @example
 * ```ts
 * import { checkTimeNamespace } from "./recording_header.ts";
 * import { unloadLibraries } from "../native/ffi.ts";
 * if (Deno.build.os === "linux") {
 *   const c = checkTimeNamespace();
 *   unloadLibraries();
 *   if (!c.ok || c.name !== "time namespace") throw new Error(c.detail);
 * }
 * ```
 */
export function checkTimeNamespace(): HostCheck {
  const name = "time namespace";
  try {
    const o = readTimeNamespaceOffsets();
    if (o.monoNs === 0n && o.bootNs === 0n) {
      return { name, ok: true, detail: "no clock offsets (the host's clocks)" };
    }
    return {
      name,
      ok: true,
      detail:
        `monotonic ${signedSeconds(o.monoNs)}, boottime ${
          signedSeconds(o.bootNs)
        } from the host's clocks; the recorder takes them off its own clock ` +
        `reads and start times, so events carry the kernel's (host's) times`,
    };
  } catch (e) {
    return {
      name,
      ok: false,
      detail: (e as Error).message,
      fix: "the recorder cannot put its clocks on the kernel's event times " +
        "without the offsets: run it outside the time namespace",
    };
  }
}

/** Test hook: the boot id to record instead of this boot's (a reboot, simulated). */
export const BOOT_ID_ENV = "PROCREC_TEST_BOOT_ID";

/** The boot id of this Linux boot (`/proc/sys/kernel/random/boot_id`). */
export async function readBootId(): Promise<string> {
  const forced = Deno.env.get(BOOT_ID_ENV);
  if (forced) return forced;
  const path = "/proc/sys/kernel/random/boot_id";
  try {
    return await Promise.resolve(readKernelFile(path).trim());
  } catch (e) {
    throw new Error(
      `Cannot read the boot id from "${path}": ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** What {@link buildRecordingHeader} needs from the session. */
export interface HeaderParts {
  timeBase: TimeBase;
  source: { name: string; reason: string };
  options: Record<string, unknown>;
  command?: { argv: string[]; pid?: number; onlyCommand?: boolean };
}

/** Builds the header of a recording made on this host now. */
export async function buildRecordingHeader(
  parts: HeaderParts,
): Promise<HeaderInit> {
  const os = Deno.build.os === "windows" ? "windows" : "linux";
  return {
    host: Deno.hostname(),
    os,
    kernel: Deno.osRelease(),
    bootId: os === "linux" ? await readBootId() : "",
    timeBase: parts.timeBase,
    clock: {
      source: "CLOCK_MONOTONIC",
      monoToUtcNs: parts.timeBase.utcNs - parts.timeBase.monoNs,
    },
    tool: { name: "procrec", version: TOOL_VERSION },
    source: parts.source,
    options: parts.options,
    ...(parts.command ? { command: parts.command } : {}),
  };
}
