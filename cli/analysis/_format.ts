/** Text helpers shared by the renderers. */
import type { ProcessNode } from "./forest.ts";
import { commandText, quoteArg } from "./command_text.ts";
import { escapeEvidence } from "../text/escape_text.ts";
import { formatTime } from "./format_time.ts";

/** ns since the time base as seconds with millisecond precision: `+1.234s`. */
export function formatT(t: number): string {
  return formatTime(t);
}

/** A duration in ns: `12ms`, `1.234s`, `2m03.000s`. */
export function formatDuration(ns: number): string {
  if (ns < 0) return `-${formatDuration(-ns)}`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(0)}us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(0)}ms`;
  if (ns < 60e9) return `${(ns / 1e9).toFixed(3)}s`;
  const m = Math.floor(ns / 60e9);
  return `${m}m${((ns - m * 60e9) / 1e9).toFixed(3).padStart(6, "0")}s`;
}

/** The command of a process (see {@link commandText}). */
export const commandOf: (n: ProcessNode) => string = commandText;

export { quoteArg };

/** A short label: image (or comm) and pid. */
export function labelOf(n: ProcessNode): string {
  return `${
    n.image ?? (n.comm !== undefined ? `[${n.comm}]` : "?")
  } (pid ${n.pid})`;
}

/**
 * Escapes control and formatting characters (newlines, C1, bidi) so one
 * process stays on one line, and a backslash of the evidence before `u` and
 * four hex digits (escapeEvidence): every `\uXXXX` shown is an escape.
 */
export function oneLine(s: string): string {
  return escapeEvidence(s);
}
