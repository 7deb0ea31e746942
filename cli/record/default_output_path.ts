/**
 * The default file of a recording: `recordings/<host>-<UTC time>.cbor`. Pure.
 *
 * @example
 * ```ts
 * import { defaultOutputPath } from "./default_output_path.ts";
 * const p = defaultOutputPath("web-1", new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
 * if (p !== "recordings/web-1-20260102T030405Z.cbor") throw new Error(p);
 * ```
 */
export function defaultOutputPath(
  host: string,
  now: Date,
  dir = "recordings",
): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const safeHost = host.replace(/[^A-Za-z0-9._-]/g, "_") || "host";
  return `${dir}/${safeHost}-${stamp}.cbor`;
}
