/**
 * Puts each `image_hash` event's SHA-256 on the exec (or snapshot) it belongs
 * to, for exports whose documents are made one event at a time (ECS, OCSF):
 * the recorder's hash worker writes the hash later in the stream, but a SIEM
 * rule looks for `process.hash.sha256` on the process's start document.
 *
 * Events come out in their order; an exec or snapshot is held back (with
 * every event behind it) until its hash arrives, or until `maxHeld` events
 * wait, or `maxWaitNs` of event time passed: a bounded look-ahead, never the
 * whole recording in memory. An `ok` hash becomes `info.sha256`; another
 * status becomes `info.hashState`. The `image_hash` events themselves pass
 * through unchanged.
 *
 * @module
 */
import type { ImageHash, ProcessInfo, ProcEvent } from "../events/types.ts";

interface Held {
  event: ProcEvent;
  /** `pid:t` while its hash is awaited. */
  key?: string;
}

/**
 * Joins image hashes onto their execs (see the module doc).
 *
 * @example
 * ```ts
 * import { joinImageHashes } from "./join_image_hashes.ts";
 * async function* events() {
 *   yield { kind: "exec", t: 5, pid: 9, tid: 9, info: { image: "/bin/ls", from: {} } } as const;
 *   yield { kind: "process_exit", t: 6, pid: 9, tid: 9, status: 0 } as const;
 *   yield { kind: "image_hash", t: 7, pid: 9, tid: 9, execT: 5, status: "ok", sha256: "ab" } as const;
 * }
 * const out = await Array.fromAsync(joinImageHashes(events()));
 * const exec = out[0];
 * if (exec.kind !== "exec" || exec.info.sha256 !== "ab" || out.length !== 3) throw new Error();
 * ```
 */
export async function* joinImageHashes(
  events: AsyncIterable<ProcEvent>,
  maxHeld = 65536,
  maxWaitNs = 10_000_000_000,
): AsyncGenerator<ProcEvent> {
  const held: Held[] = [];
  let head = 0;
  const awaiting = new Map<string, Held>();
  for await (const e of events) {
    if (e.kind === "image_hash") {
      const key = `${e.pid}:${e.execT}`;
      const h = awaiting.get(key);
      if (h !== undefined) {
        awaiting.delete(key);
        h.key = undefined;
        h.event = withHash(h.event, e);
      }
    }
    const entry: Held = { event: e };
    if (
      (e.kind === "exec" || e.kind === "process_snapshot") &&
      e.info !== undefined
    ) {
      entry.key = `${e.pid}:${e.t}`;
      awaiting.set(entry.key, entry);
    }
    held.push(entry);
    // release what no longer waits, or waited long enough
    while (head < held.length) {
      const h = held[head];
      const waiting = h.key !== undefined &&
        held.length - head <= maxHeld && e.t - h.event.t <= maxWaitNs;
      if (waiting) break;
      if (h.key !== undefined) awaiting.delete(h.key);
      head++;
      yield h.event;
    }
    if (head > 4096 && head * 2 > held.length) {
      held.splice(0, head);
      head = 0;
    }
  }
  for (; head < held.length; head++) yield held[head].event;
}

/** `e` (an exec or snapshot) with the hash's result on a copy of its info. */
function withHash(e: ProcEvent, hash: ImageHash): ProcEvent {
  if (e.kind !== "exec" && e.kind !== "process_snapshot") return e;
  if (e.info === undefined) return e;
  const info: ProcessInfo = { ...e.info };
  if (hash.status === "ok" && hash.sha256 !== undefined) {
    info.sha256 = hash.sha256;
  } else if (info.sha256 === undefined) info.hashState = hash.status;
  return { ...e, info } as ProcEvent;
}
