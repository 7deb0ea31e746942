/**
 * The text of `procrec service status` (pure).
 *
 * @module
 */
import { escapeText } from "../text/mod.ts";

/** What `procrec service status` found in a segment directory. */
export interface ServiceStatus {
  dir: string;
  /** Recordings (segments) in the directory, closed and open. */
  segments: number;
  /** Bytes of all of them. */
  bytes: number;
  /** The newest segment, if any. */
  newest?: {
    name: string;
    /** Still being written (`.incomplete`). */
    open: boolean;
    /** Seconds since it was last written. */
    ageSeconds: number;
    events: number;
    /** Events the recording says were lost. */
    lost: number;
    /** Why it could not be read whole (damaged), if it could not. */
    error?: string;
  };
  /**
   * The recorder that writes the directory, when it runs (the process its
   * `writer.pid` names); empty when none does.
   */
  writers: number[];
  /** The writer is stopped (SIGSTOP, a debugger): it records nothing. */
  writerStopped?: boolean;
  /**
   * The writer runs but holds no segment of the directory open (twice
   * looked at): it cannot write one (a full disk), and counts what it
   * captures as lost until it can.
   */
  writerNotWriting?: boolean;
  /**
   * Whether the writer holds a segment could not be looked at (its
   * descriptors are another user's to read): said, not taken for healthy
   * or not.
   */
  writerUnchecked?: boolean;
}

/**
 * Renders the status as lines of `name: value`, and whether it is healthy
 * (the directory's recorder runs and its newest segment reads whole).
 *
 * @example
 * ```ts
 * import { renderServiceStatus } from "./render_service_status.ts";
 * const { text, healthy } = renderServiceStatus({ dir: "/var/lib/procrec",
 *   segments: 0, bytes: 0, writers: [] });
 * if (healthy || !text.includes("no segments")) throw new Error(text);
 * ```
 */
export function renderServiceStatus(
  s: ServiceStatus,
): { text: string; healthy: boolean } {
  const healthy = s.writers.length > 0 && s.newest?.error === undefined &&
    s.writerStopped !== true && s.writerNotWriting !== true;
  const lines = [`directory: ${s.dir}`];
  lines.push(
    `segments:  ${s.segments} (${formatBytes(s.bytes)} on disk)`,
  );
  if (!s.newest) {
    lines.push("newest:    no segments yet");
  } else {
    const n = s.newest;
    lines.push(
      `newest:    ${n.name}${n.open ? " (open)" : " (closed)"}`,
      `age:       last written ${formatAge(n.ageSeconds)} ago`,
      `events:    ${n.events} in the newest segment, ${n.lost} lost`,
    );
    if (n.error !== undefined) {
      lines.push(`damaged:   the newest segment: ${escapeText(n.error)}`);
    }
  }
  lines.push(
    healthy
      ? `writer:    alive (pid ${s.writers.join(", ")}${
        s.writerUnchecked
          ? "; whether it writes a segment was not checked: its open files are not this user's to read"
          : ""
      })`
      : s.writerStopped
      ? `writer:    STOPPED (pid ${
        s.writers.join(", ")
      }: stopped by a signal or a debugger, it records nothing)`
      : s.writerNotWriting
      ? `writer:    alive (pid ${
        s.writers.join(", ")
      }), but WRITING NOTHING: it holds no segment open (it cannot begin one: a full disk?); what it captures is counted as lost until it can`
      : s.writers.length > 0
      ? `writer:    alive (pid ${
        s.writers.join(", ")
      }), but the newest segment is damaged`
      : `writer:    NOT running${
        s.newest?.open
          ? " (the newest segment was left open: an unclean stop)"
          : ""
      }`,
  );
  return { text: lines.join("\n") + "\n", healthy };
}

function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function formatAge(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}
