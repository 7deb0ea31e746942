/**
 * Sysmon's process GUIDs: `{8ee6d027-e76d-5f51-3b03-000000000400}`. Unique
 * per host only; compared without regard to case.
 *
 * @module
 */

const GUID =
  /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;
const EARLIEST = Date.UTC(2000, 0, 1) / 1000;

/**
 * The key two GUIDs are compared by (trimmed, lower case, without the braces
 * around a GUID of the usual shape: `{AB...}` and `ab...` are one process;
 * found by review, they were two), or `undefined` for an empty or all-zero
 * GUID (Sysmon's "no process").
 *
 * @example
 * ```ts
 * import { guidKey } from "./sysmon_guid.ts";
 * if (guidKey("{AB-1}") !== "{ab-1}") throw new Error();
 * const g = "8EE6D027-E76D-5F51-3B03-000000000400";
 * if (guidKey(`{${g}}`) !== guidKey(g)) throw new Error();
 * if (guidKey("{00000000-0000-0000-0000-000000000000}") !== undefined) throw new Error();
 * ```
 */
export function guidKey(guid: string | undefined): string | undefined {
  const k = guid?.trim().toLowerCase();
  if (!k || /^\{?[0-]*\}?$/.test(k)) return undefined;
  const m = GUID.exec(k);
  return m ? m.slice(1, 6).join("-") : k;
}

/**
 * The process start, in whole seconds since the Unix epoch, that Sysmon puts
 * in the second and third groups of a process GUID (third group high 16
 * bits, second group low 16 bits), or `undefined` when the GUID is not of
 * that shape or the time is before 2000.
 *
 * Sysmon does not document this layout; both shared datasets agree with it
 * for every Event ID 1 (the GUID's second is the `UtcTime` second), and the
 * importer uses it only for the start of processes it never saw created,
 * never later than the first record that names them.
 *
 * @example
 * ```ts
 * import { guidStartSeconds } from "./sysmon_guid.ts";
 * const s = guidStartSeconds("{81056205-565c-64dc-2304-000000000800}");
 * if (s !== 0x64dc565c) throw new Error(String(s)); // 2023-08-16 04:53:48 UTC
 * ```
 */
export function guidStartSeconds(guid: string): number | undefined {
  const m = GUID.exec(guid.trim());
  if (!m) return undefined;
  const s = parseInt(m[3] + m[2], 16);
  return s >= EARLIEST ? s : undefined;
}
