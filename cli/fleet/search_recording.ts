/**
 * Finds the processes of one recording that match a search, with their
 * parent chains. Pure: takes the header and the events.
 *
 * @module
 */
import { isoFromNs } from "../text/iso_from_ns.ts";
import type { ProcessInfo, ProcEvent } from "../events/types.ts";
import type { RecordingHeader } from "../log/schema.ts";
import type { ExecStep, ProcessNode } from "../analysis/forest.ts";
import { ForestBuilder } from "../analysis/forest_builder.ts";
import { processId } from "../analysis/process_id.ts";
import { CHAIN_GOES_ON, MAX_PARENTS } from "../analysis/parent_chain.ts";
import {
  commandLineOf,
  hasHashPrefix,
  matchesInfo,
  type SearchQuery,
} from "./search_query.ts";

/** One match. */
export interface SearchHit {
  host: string;
  /** Where the recording was read from. */
  recording: string;
  pid: number;
  /** Stable process id. */
  process: string;
  /** UTC time of the matching event, ISO 8601 with ns. */
  time: string;
  utcNs: string;
  /** What matched: an exec, a creation, or a process found running. */
  event: "exec" | "process_create" | "process_snapshot";
  image?: string;
  cmdline?: string;
  /**
   * The user: as the description gives it (Windows), or the name the
   * host's accounts gave its uid at that moment (Linux).
   */
  user?: string;
  uid?: number;
  /**
   * Ancestors, nearest first: `image[pid]` (or `[pid]` when the image is
   * unknown, or the parent is not in the recording); at most
   * {@link MAX_PARENTS}, then {@link CHAIN_GOES_ON} when there are more.
   */
  parents: string[];
  /**
   * The host directory of `collect`'s output the recording lies in, when
   * that is not the host its header names (a host that published a
   * recording naming another: `host` is the claim, this the publisher).
   */
  collectedAs?: string;
  /**
   * The recording's own check failed: its chain is broken (altered or
   * spliced), or a chunk is damaged: what matched may not be what was
   * recorded.
   */
  integrity?: "broken";
}

/**
 * Searches the events of one recording.
 *
 * @example
 * ```ts
 * import { searchRecording } from "./search_recording.ts";
 * import type { RecordingHeader } from "../log/schema.ts";
 * const header: RecordingHeader = { format: "procrec", version: 1, host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "t", monoToUtcNs: 0n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "t", reason: "" }, options: {} };
 * const hits = await searchRecording("r.cbor", header, [
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1, creatorPid: 1, creatorTid: 1, start: 0 },
 *   { kind: "exec", t: 1, pid: 5, tid: 5, info: { image: "/bin/sh", argv: ["sh"], from: {} } },
 *   { kind: "process_create", t: 2, pid: 6, tid: 6, ppid: 5, ptid: 5, creatorPid: 5, creatorTid: 5, start: 2 },
 *   { kind: "exec", t: 3, pid: 6, tid: 6, info: { image: "/usr/bin/curl", argv: ["curl", "x"], from: {} } },
 * ], { image: "curl" });
 * if (hits.length !== 1 || hits[0].parents[0] !== "/bin/sh[5]") throw new Error(JSON.stringify(hits));
 * // a Linux recording hashes an image in an event of its own, after the exec
 * const hashed = await searchRecording("r.cbor", header, [
 *   { kind: "exec", t: 1, pid: 5, tid: 5, info: { image: "/bin/sleep", argv: ["sleep", "1"], from: {} } },
 *   { kind: "image_hash", t: 9, pid: 5, tid: 5, execT: 1, status: "ok", sha256: "4add4bb89d8ca0e3" },
 * ], { hash: "4add4bb8" });
 * if (hashed.length !== 1 || hashed[0].image !== "/bin/sleep") throw new Error(JSON.stringify(hashed));
 * ```
 */
export async function searchRecording(
  recording: string,
  header: RecordingHeader,
  events: AsyncIterable<ProcEvent> | Iterable<ProcEvent>,
  q: SearchQuery,
): Promise<SearchHit[]> {
  // (the parents' chain is all it reads of the forest: the tree analysis;
  // a hash needs the images' steps too, which the analysis joins each
  // image_hash event to: found by review, search --hash never matched a
  // Linux recording, whose hashes come in events of their own)
  const hashing = q.hash !== undefined;
  const b = new ForestBuilder({ os: header.os, bootId: header.bootId }, {
    detail: hashing ? "processes" : "tree",
  });
  const starts = new Map<number, number>();
  type Found = { ev: ProcEvent; start: number; userName?: string };
  const found: Found[] = [];
  // (with a hash: what matched all else, and the step the analysis gives
  // the hash to once it comes, later in the stream)
  const awaiting: (Found & { step?: ExecStep })[] = [];
  const rest: SearchQuery = { ...q, hash: undefined };
  const base = BigInt(header.timeBase.utcNs);
  const consider = (ev: ProcEvent) => {
    if (
      ev.kind !== "exec" && ev.kind !== "process_create" &&
      ev.kind !== "process_snapshot"
    ) return;
    if (ev.kind !== "exec") starts.set(ev.pid, ev.start);
    const info = ev.info;
    if (!info) return;
    const utc = base + BigInt(Math.trunc(ev.t));
    if (q.fromUtcNs !== undefined && utc < q.fromUtcNs) return;
    if (q.toUtcNs !== undefined && utc > q.toUtcNs) return;
    // the name the host gave the uid then, as the analysis names the step
    // (a Linux exec carries the uid; the names come in accounts events)
    const userName = info.uid !== undefined
      ? b.accounts?.users.get(info.uid)
      : undefined;
    const at = { ev, start: starts.get(ev.pid) ?? ev.t, userName };
    if (!hashing) {
      if (matchesInfo(info, q, header.os, { userName })) found.push(at);
      return;
    }
    if (!matchesInfo(info, rest, header.os, { userName })) return;
    awaiting.push({ ...at, step: stepOf(b.latest(ev.pid), ev) });
  };
  if (Symbol.asyncIterator in events) {
    for await (const e of events) {
      b.add(e);
      consider(e);
    }
  } else {
    for (const e of events) {
      b.add(e);
      consider(e);
    }
  }
  const forest = b.finish();
  for (const a of awaiting) {
    const info = (a.ev as { info: ProcessInfo }).info;
    // (no step: the description's own hashes, which Sysmon's carry)
    if (hasHashPrefix(a.step ?? info, q.hash!)) found.push(a);
  }
  return found.map(({ ev, start, userName }) => {
    const id = processId(header.bootId, ev.pid, start);
    const parents: string[] = [];
    const seen = new Set<string>([id]);
    let node = forest.byId.get(id);
    while (node) {
      const parent = node.parentId ? forest.byId.get(node.parentId) : undefined;
      if (!parent || seen.has(parent.id)) {
        // the parent is not in the recording: its pid is all there is
        if (!parent && node.ppid > 0) parents.push(`[${node.ppid}]`);
        break;
      }
      if (parents.length === MAX_PARENTS) {
        // (the nearest MAX_PARENTS, then a mark that the chain goes on: a
        // chain walked whole for every hit grows with the square of a deep
        // tree's depth)
        parents.push(CHAIN_GOES_ON);
        break;
      }
      seen.add(parent.id);
      parents.push(`${parent.image ?? parent.comm ?? ""}[${parent.pid}]`);
      node = parent;
    }
    const info = (ev as { info: ProcessInfo }).info;
    const utc = base + BigInt(Math.trunc(ev.t));
    return {
      host: header.host,
      recording,
      pid: ev.pid,
      process: id,
      time: isoNs(utc),
      utcNs: utc.toString(),
      event: ev.kind as SearchHit["event"],
      image: info.image,
      cmdline: commandLineOf(info),
      user: info.user ?? userName,
      uid: info.uid,
      parents,
    };
  });
}

/**
 * The step the analysis made of `ev` (an exec's, a creation's or a
 * snapshot's, with a description) in `node`, the process that holds its pid
 * once it was added: one of its last steps (a Linux creation may be
 * followed by the fork step it inherits).
 */
function stepOf(
  node: ProcessNode | undefined,
  ev: ProcEvent,
): ExecStep | undefined {
  if (!node) return undefined;
  const via = ev.kind === "exec"
    ? "exec"
    : ev.kind === "process_snapshot"
    ? "snapshot"
    : "create";
  for (
    let i = node.execs.length - 1;
    i >= 0 && i >= node.execs.length - 2;
    i--
  ) {
    const s = node.execs[i];
    // (equal times, NaN equal to NaN, as the analysis joins them)
    const same = s.t === ev.t || (Number.isNaN(s.t) && Number.isNaN(ev.t));
    if (s.via === via && same) {
      return s;
    }
  }
  return undefined;
}

/** UTC ns as ISO 8601 with nanoseconds (the one format: {@link isoFromNs}). */
export function isoNs(utcNs: bigint): string {
  return isoFromNs(utcNs);
}
