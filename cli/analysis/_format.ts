/** Text helpers shared by the renderers. */
import type { ProcessNode } from "./forest.ts";

/** ns since the time base as seconds with millisecond precision: `+1.234s`. */
export function formatT(t: number): string {
  const s = (Math.abs(t) / 1e9).toFixed(3);
  return `${t < 0 ? "-" : "+"}${s}s`;
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

const PLAIN = /^[A-Za-z0-9_\-.,/:=@%+^~]+$/;

/** One argument as a POSIX shell would need it quoted. */
export function quoteArg(a: string): string {
  if (PLAIN.test(a)) return a;
  return `'${a.replaceAll("'", `'\\''`)}'`;
}

/** The command of a process: argv, else cmdline, else image, else comm. */
export function commandOf(n: ProcessNode): string {
  if (n.argv && n.argv.length > 0) return n.argv.map(quoteArg).join(" ");
  if (n.cmdline !== undefined && n.cmdline !== "") return n.cmdline;
  if (n.image !== undefined) return n.image;
  if (n.comm !== undefined) return `[${n.comm}]`;
  return "?";
}

/** A short label: image (or comm) and pid. */
export function labelOf(n: ProcessNode): string {
  return `${
    n.image ?? (n.comm !== undefined ? `[${n.comm}]` : "?")
  } (pid ${n.pid})`;
}

/** Replaces control characters so one process stays on one line. */
export function oneLine(s: string): string {
  return s.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
