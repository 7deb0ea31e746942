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
import { sha256OfOpenFile } from "./resolve_exec_rules.ts";

/** One running process. */
export interface LiveSubject extends ExecSubject {
  pid: number;
}

/**
 * Every process now, by pid (kernel threads, which have no image, left out).
 * A process whose image file has one of `contentSizes` also gets the file's
 * size and SHA-256, so that a `file` rule's copies are found as the
 * enforcer finds them: the file is opened by the path the kernel gave and
 * used only if it is still the device and inode the process runs; each file
 * is read once.
 *
 * ```ts ignore
 * for (const p of await liveSubjects()) console.log(p.pid, p.image);
 * ```
 */
export async function liveSubjects(
  contentSizes: ReadonlySet<number> = new Set(),
): Promise<LiveSubject[]> {
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
  if (contentSizes.size > 0) {
    const hashes = new Map<string, { size?: number; sha256?: string }>();
    for (const p of out) {
      if (p.image === undefined || p.dev === undefined) continue;
      const key = `${p.dev}:${p.ino}`;
      if (!hashes.has(key)) hashes.set(key, imageContent(p, contentSizes));
      Object.assign(p, hashes.get(key));
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/**
 * The size and SHA-256 of `p`'s image when it is one of `sizes`; {} when
 * not, or when the path no longer names the file the process runs (deleted,
 * replaced, unreadable).
 */
function imageContent(
  p: LiveSubject,
  sizes: ReadonlySet<number>,
): { size?: number; sha256?: string } {
  let f: Deno.FsFile | undefined;
  try {
    f = Deno.openSync(p.image!, { read: true });
    const st = f.statSync();
    if (!st.isFile || st.dev !== p.dev || st.ino !== p.ino) return {};
    if (!sizes.has(st.size)) return {};
    return { size: st.size, sha256: sha256OfOpenFile(f) };
  } catch {
    return {}; // gone or not readable: its content is not known
  } finally {
    f?.close();
  }
}
