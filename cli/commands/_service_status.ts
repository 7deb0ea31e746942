/**
 * Gathers `procrec service status` from a segment directory and `/proc`.
 * Needs `--allow-read` (the directory, `/proc/PID/fd` of every process).
 *
 * @module
 */
import { RecordingReader } from "../log/mod.ts";
import type { ServiceStatus } from "../service/mod.ts";
import { CliError } from "../errors.ts";

const SEGMENT = /\.cbor(\.incomplete)?$/;

/** Reads the status of the segment directory `dir`. */
export async function readServiceStatus(dir: string): Promise<ServiceStatus> {
  let abs: string;
  try {
    abs = await Deno.realPath(dir);
    if (!(await Deno.stat(abs)).isDirectory) throw new Error("not a directory");
  } catch (e) {
    throw new CliError(
      `Cannot read the service's directory "${dir}": ${(e as Error).message}`,
    );
  }
  const files: { name: string; mtime: number; size: number }[] = [];
  for await (const e of Deno.readDir(abs)) {
    if (!e.isFile || !SEGMENT.test(e.name)) continue;
    const st = await Deno.lstat(`${abs}/${e.name}`);
    files.push({
      name: e.name,
      mtime: st.mtime?.getTime() ?? 0,
      size: st.size,
    });
  }
  // names sort in time (host and UTC start); the last write breaks ties
  files.sort((a, b) => a.name.localeCompare(b.name) || a.mtime - b.mtime);
  const status: ServiceStatus = {
    dir: abs,
    segments: files.length,
    bytes: files.reduce((n, f) => n + f.size, 0),
    writers: [],
  };
  const newest = files.at(-1);
  if (!newest) return status;
  const path = `${abs}/${newest.name}`;
  let events = 0;
  let lost = 0;
  try {
    const reader = await RecordingReader.open(path);
    for await (const ev of reader.events()) {
      events++;
      if (ev.kind === "lost") lost += ev.count;
    }
  } catch { /* an unreadable newest segment shows 0 events */ }
  status.newest = {
    name: newest.name,
    open: newest.name.endsWith(".incomplete"),
    ageSeconds: Math.max(0, (Date.now() - newest.mtime) / 1000),
    events,
    lost,
  };
  if (status.newest.open) status.writers = await holdersOf(path);
  return status;
}

/** Pids whose open files include `path` (from `/proc/PID/fd`). */
async function holdersOf(path: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const p of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(p.name)) continue;
    try {
      for await (const fd of Deno.readDir(`/proc/${p.name}/fd`)) {
        const target = await Deno.readLink(`/proc/${p.name}/fd/${fd.name}`)
          .catch(() => "");
        if (target === path) {
          pids.push(Number(p.name));
          break;
        }
      }
    } catch { /* gone, or not ours to read */ }
  }
  return pids;
}
