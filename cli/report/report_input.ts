/**
 * What a report is made of: analysed recordings (the forest comes from
 * `cli/analysis`, never rebuilt here), their headers and integrity, and, for
 * a bundle, the case. Plain data. Pure.
 *
 * @module
 */
import type { Forest } from "../analysis/mod.ts";

/** A Sigma rule's hit on one process (from `cli/hunt`), as the report shows it. */
export interface ReportDetection {
  /** The process's stable id (the forest's). */
  process: string;
  pid: number;
  /** UTC time, ISO 8601. */
  time: string;
  rule: { id?: string; title: string; level?: string };
  image?: string;
  cmdline?: string;
}

/** The recording header fields a report shows. */
export interface ReportHeader {
  host: string;
  os: string;
  kernel: string;
  bootId: string;
  /** UTC ns of t = 0, as a decimal string (it does not fit a JSON number). */
  timeBaseUtcNs: string;
  source: { name: string; reason: string };
  tool: { name: string; version: string };
  command?: { argv: string[] };
  /** How it was redacted, in a line (`describeRedaction`), when it was. */
  redaction?: string;
}

/** One analysed recording. */
export interface ReportRecording {
  /** Its name: file name, or member name in a bundle. */
  name: string;
  header: ReportHeader;
  forest: Forest;
  /** The recording as read: complete (trailer matches), chain intact, problems. */
  integrity: {
    complete: boolean;
    chainIntact: boolean;
    problems: string[];
    /** UTC ns at close, from the trailer, as a decimal string. */
    endUtcNs?: string;
    /** Events known missing (damaged or missing chunks, the tail's as the trailer counts them). */
    eventsMissing?: number;
    /** Events the trailer counts, when there is one. */
    trailerEvents?: number;
  };
  /** Sigma hits, when the report was made with rules (`report --rules`). */
  detections?: ReportDetection[];
}

/** Everything a report shows. */
export interface ReportInput {
  title: string;
  recordings: ReportRecording[];
  /** Set when the report is of a bundle. */
  bundle?: {
    name: string;
    created: string;
    case: { id?: string; examiner?: string; note?: string };
    signed: boolean;
  };
}
