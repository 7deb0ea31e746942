/**
 * The running processes as {@link ExecSubject}s, for `record --rules FILE
 * --dry-run`: the native library's snapshot (the same /proc reading that
 * starts every recording; Deno itself may not read other processes' /proc
 * entries). Needs `--allow-ffi` and the capture privilege of the proc
 * connector (root).
 *
 * @module
 */
import { decodeRecords } from "../native/decode_records.ts";
import { EventSource } from "../native/event_source.ts";
import type { ExecSubject } from "./match_exec_rule.ts";

/** One running process. */
export interface LiveSubject extends ExecSubject {
  pid: number;
}

/**
 * Every process now, by pid (kernel threads, which have no image, left out).
 *
 * ```ts ignore
 * for (const p of await liveSubjects()) console.log(p.pid, p.image);
 * ```
 */
export async function liveSubjects(): Promise<LiveSubject[]> {
  const src = EventSource.open({ source: "netlink" });
  const snaps = [];
  try {
    src.start(); // the snapshot is in the ring when start returns
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = await src.read(buf, 0);
      if (n <= 0) break;
      for (const e of decodeRecords(buf.subarray(0, n), 0n).events) {
        if (e.kind === "process_snapshot") snaps.push(e);
      }
    }
    src.stop();
  } finally {
    await src.close();
  }
  const imageOf = new Map(snaps.map((s) => [s.pid, s.info?.image]));
  const out: LiveSubject[] = [];
  for (const s of snaps) {
    const i = s.info;
    if (!i?.image) continue;
    out.push({
      pid: s.pid,
      image: i.image,
      ...(i.argv ? { argv: i.argv } : {}),
      ...(i.uid !== undefined ? { uid: i.uid, euid: i.euid ?? i.uid } : {}),
      ...(i.dev !== undefined && i.ino !== undefined
        ? { dev: i.dev, ino: i.ino }
        : {}),
      ...(i.cgroup !== undefined ? { cgroup: i.cgroup } : {}),
      ...(imageOf.get(s.ppid) ? { parent: imageOf.get(s.ppid) } : {}),
    });
  }
  return out.sort((a, b) => a.pid - b.pid);
}
