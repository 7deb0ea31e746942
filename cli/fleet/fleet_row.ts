/**
 * One row of `procrec fleet`: a recording's host, id, span, events, losses,
 * last piece time and chain state. Pure.
 *
 * @module
 */
import type { RecordingHeader } from "../log/schema.ts";
import type { RecordingReport } from "../log/recording_reader.ts";
import { isoNs } from "./search_recording.ts";
import { subjectToken } from "../nats/piece_subject.ts";
import { escapeText } from "../text/escape_text.ts";

/** Where a recording's chain stands. */
export type ChainState =
  /** Trailer present and every chunk verified. */
  | "complete"
  /** Every chunk verified so far, no trailer yet (still recording or collecting). */
  | "open"
  /** A chunk or the trailer failed verification. */
  | "broken";

/** One recording in the fleet view. */
export interface FleetRow {
  host: string;
  id: string;
  path: string;
  /** UTC of the first and last event (ISO 8601), when any. */
  first?: string;
  last?: string;
  events: number;
  lost: number;
  /** When the last piece reached the file (its modification time, ISO 8601). */
  lastPiece?: string;
  chain: ChainState;
  /** The reader's first problem, when the chain is broken. */
  problem?: string;
  /**
   * The host whose directory `collect` wrote it in (`DIR/<host>/<id>.cbor`:
   * the host the server let publish it), when that is not the header's
   * host: a recording passed off as another host's.
   */
  collectedAs?: string;
}

/** What {@link fleetRow} needs of one read recording. */
export interface FleetInput {
  path: string;
  id: string;
  header: RecordingHeader;
  report: RecordingReport;
  /** Event time bounds (ns since the time base), when any event. */
  firstT?: number;
  lastT?: number;
  /** Lost events counted from the `lost` events. */
  lost: number;
  mtime?: Date | null;
  /**
   * The host directory it lies in, when that is `collect`'s output
   * (`DIR/<host>/<id>.cbor` with `DIR` marked by collect).
   */
  collectedUnder?: string;
}

/**
 * Builds the row.
 *
 * @example
 * ```ts ignore
 * const row = fleetRow({ path, id, header, report, lost: 0, firstT: 0, lastT: 10 });
 * ```
 */
export function fleetRow(i: FleetInput): FleetRow {
  const base = BigInt(i.header.timeBase.utcNs);
  const at = (t?: number) =>
    t === undefined ? undefined : isoNs(base + BigInt(Math.trunc(t)));
  const r = i.report;
  // a recording still being written ends without a trailer: "truncated"
  // alone is an open recording, anything else breaks the chain
  const chain: ChainState = r.problems.some((p) => p.type !== "truncated")
    ? "broken"
    : r.complete
    ? "complete"
    : "open";
  const dirHost = i.collectedUnder;
  return {
    host: i.header.host,
    ...(dirHost !== undefined && dirHost !== subjectToken(i.header.host)
      ? { collectedAs: dirHost }
      : {}),
    id: i.id,
    path: i.path,
    first: at(i.firstT),
    last: at(i.lastT),
    events: r.events,
    lost: i.lost,
    lastPiece: i.mtime ? i.mtime.toISOString() : undefined,
    chain,
    problem: chain === "broken"
      ? r.problems.find((p) => p.type !== "truncated")?.reason
      : undefined,
  };
}

/**
 * The fleet table: one line per recording, sorted by host then first event.
 *
 * @example
 * ```ts
 * import { renderFleet } from "./fleet_row.ts";
 * const text = renderFleet([{ host: "h", id: "ab", path: "d/h/ab.cbor", events: 3, lost: 0, chain: "open" }]);
 * if (!/^h +ab +- +- +3 +0 +- +open$/m.test(text)) throw new Error(text);
 * ```
 */
export function renderFleet(rows: FleetRow[]): string {
  const sorted = [...rows].sort((a, b) =>
    a.host < b.host
      ? -1
      : a.host > b.host
      ? 1
      : (a.first ?? "") < (b.first ?? "")
      ? -1
      : 1
  );
  const table = [
    [
      "HOST",
      "RECORDING",
      "FIRST EVENT",
      "LAST EVENT",
      "EVENTS",
      "LOST",
      "LAST PIECE",
      "CHAIN",
    ],
    ...sorted.map((r) => [
      // (the host is evidence: escaped, newlines too)
      r.collectedAs !== undefined
        ? `${escapeText(r.host)} (collected as ${r.collectedAs})`
        : escapeText(r.host),
      r.id,
      r.first ?? "-",
      r.last ?? "-",
      String(r.events),
      String(r.lost),
      r.lastPiece ?? "-",
      r.chain + (r.problem ? ` (${escapeText(r.problem)})` : ""),
    ]),
  ];
  // (a loop, not Math.max(...): a fleet of 130,000 recordings is more
  // arguments than a call takes)
  const widths = table[0].map((_, c) => {
    let w = 0;
    if (c !== 7) { for (const row of table) w = Math.max(w, row[c].length); }
    return w;
  });
  const hosts = new Set(rows.map((r) => r.host)).size;
  return table.map((row) =>
    row.map((cell, c) => c === row.length - 1 ? cell : cell.padEnd(widths[c]))
      .join("  ")
  ).join("\n") + `\n${rows.length} recordings, ${hosts} hosts\n`;
}
