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
import { TOOL_VERSION } from "../version.ts";

/** The instant every event's `t` counts from, on both clocks. */
export interface TimeBase {
  monoNs: bigint;
  utcNs: bigint;
}

/**
 * Reads CLOCK_MONOTONIC and CLOCK_REALTIME at (nearly) the same instant: the
 * realtime read is bracketed by two monotonic reads and paired with their
 * midpoint.
 */
export function sampleTimeBase(): TimeBase {
  const m1 = clockNs(CLOCK_MONOTONIC);
  const utc = clockNs(CLOCK_REALTIME);
  const m2 = clockNs(CLOCK_MONOTONIC);
  return { monoNs: (m1 + m2) / 2n, utcNs: utc };
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
