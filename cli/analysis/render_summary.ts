import { formatDuration, oneLine } from "./_format.ts";
import { formatTime, type TimeStyle } from "./format_time.ts";
import { style } from "../text/style.ts";
import type { Summary, SummaryProcess } from "./summarize.ts";

/** Options of {@link renderSummary}. */
export interface RenderSummaryOptions {
  /** How the time line prints (default: relative). */
  time?: TimeStyle;
  /** Commands uncut (default: cut at 120 characters). */
  wide?: boolean;
  /** Mark failures and losses red with `style()`. */
  color?: boolean;
}

/**
 * Renders a summary as a few lines of text (ends with a newline). When the
 * recording's end is known ({@link Summary.end}), the longest-lived list
 * says that a running process's figure counts until then; otherwise it
 * counts until the last event (the `+`: at least that long).
 *
 * @example
 * ```ts
 * import { analyze } from "./analyze.ts";
 * import { renderSummary } from "./render_summary.ts";
 * import { summarize } from "./summarize.ts";
 * const f = await analyze([], { os: "linux", bootId: "b" });
 * const text = renderSummary(summarize(f));
 * if (!text.startsWith("events: 0")) throw new Error(text);
 * const g = await analyze([
 *   { kind: "process_create", t: 1e9, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 1e9 },
 * ], { os: "linux", bootId: "b" });
 * const ended = renderSummary(summarize({ ...g, end: 61e9 }));
 * if (!ended.includes("longest-lived (running ones until the recording's end, +61.000s):\n  1m00.000s+ (running)")) throw new Error(ended);
 * const cut = renderSummary(summarize(g));
 * if (!cut.includes("longest-lived:\n  0us+ (running)")) throw new Error(cut);
 * ```
 */
export function renderSummary(
  s: Summary,
  options: RenderSummaryOptions = {},
): string {
  return renderSummaryLines(s, options).join("\n") + "\n";
}

/**
 * The lines of {@link renderSummary} (without their newlines), for a
 * summary too big for one string: `--all` failures of millions of
 * processes.
 */
export function renderSummaryLines(
  s: Summary,
  options: RenderSummaryOptions = {},
): string[] {
  const who = (p: SummaryProcess) => whoOf(p, options.wide === true);
  const out: string[] = [];
  // (kinds and loss reasons are names from the recording: escaped, as all
  // evidence text is; found by review: a reason with a newline forged lines)
  const kinds = Object.entries(s.counts).map(([k, v]) => `${oneLine(k)} ${v}`)
    .join(
      ", ",
    );
  out.push(`events: ${s.events}${kinds ? ` (${kinds})` : ""}`);
  if (s.first !== undefined && s.last !== undefined) {
    out.push(
      `time: ${formatTime(s.first, options.time)} to ${
        formatTime(s.last, options.time)
      } (${formatDuration(s.last - s.first)})`,
    );
  }
  out.push(
    `processes: ${s.processes} (${s.exited} exited, ${s.existing} running before the recording, ${s.reparented} reparented${
      s.parentDiffersFromCreator
        ? `, ${s.parentDiffersFromCreator} with a parent that is not their creator`
        : ""
    })`,
  );
  out.push(
    `threads: ${s.threads} (exits: ${s.threadExits.teardown} teardown, ${s.threadExits.standalone} standalone, ${s.threadExits.lastThread} last-thread; ${s.remoteThreads} remote)`,
  );
  if (s.lost.spans === 0) out.push("lost: none");
  else {
    const reasons = Object.entries(s.lost.byReason).map(([k, v]) =>
      `${oneLine(k)} ${v}`
    ).join(", ");
    out.push(
      `lost: ${s.lost.events} events in ${s.lost.spans} spans${
        s.lost.unknownSpans ? ` (${s.lost.unknownSpans} of unknown size)` : ""
      } [${reasons}]; ${s.lost.processesAffected} processes overlap a lost span`,
    );
  }
  if (s.topSpawners.length) {
    out.push("top spawners:");
    for (const p of s.topSpawners) {
      out.push(
        `  ${p.children} ${p.children === 1 ? "child" : "children"}  ${who(p)}`,
      );
    }
  }
  if (s.longestLived.length) {
    // (a running process's figure counts until the recording's end when it
    // is known, and the header says so, naming it; otherwise until the last
    // event, the `+` saying "at least")
    const until = s.end !== undefined && s.longestLived.some((p) => p.running)
      ? ` (running ones until the recording's end, ${
        formatTime(s.end, options.time)
      })`
      : "";
    out.push(`longest-lived${until}:`);
    for (const p of s.longestLived) {
      out.push(
        `  ${formatDuration(p.duration)}${
          p.running ? "+ (running)" : p.endLost ? "+ (unknown (damaged))" : ""
        }  ${who(p)}`,
      );
    }
  }
  const red = (t: string) => style("red", t, options.color === true);
  out.push(
    s.failuresTotal ? red(`failures: ${s.failuresTotal}`) : "failures: 0",
  );
  for (const p of s.failures) out.push(`  ${red(p.exit)}  ${who(p)}`);
  if (s.failuresTotal > s.failures.length) {
    out.push(`  ... ${s.failuresTotal - s.failures.length} more`);
  }
  if (s.problems) out.push(`analysis problems: ${s.problems}`);
  return out;
}

function whoOf(p: SummaryProcess, wide: boolean): string {
  const cmd = p.command ?? p.image ?? "?";
  return oneLine(
    `pid ${p.pid}  ${
      !wide && cmd.length > 120 ? cmd.slice(0, 117) + "..." : cmd
    }`,
  );
}
