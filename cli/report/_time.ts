import { isoFromNs } from "../bundle/manifest.ts";

/** UTC ns given as a decimal string, as ISO 8601 with nanoseconds. */
export function isoFromNsText(ns: string): string {
  return isoFromNs(BigInt(ns));
}
