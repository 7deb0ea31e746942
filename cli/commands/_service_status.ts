/**
 * Gathers `procrec service status` from a segment directory and `/proc`.
 * Needs `--allow-read` (the directory, the writer's `/proc/PID/stat`).
 *
 * @module
 */
import { RecordingReader } from "../log/mod.ts";
import type { ServiceStatus } from "../service/mod.ts";
import { CliError } from "../errors.ts";
import {
  procStat,
  runningWriter,
  WRITER_PID_FILE,
} from "../record/segment_writer.ts";
import { readKernelFileOnce } from "../native/ffi.ts";

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
  // the newest is the last written (a name sorts by host first: a host
  // renamed, or a stray file, would sort after the segment being written);
  // the name breaks ties
  files.sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name));
  const status: ServiceStatus = {
    dir: abs,
    segments: files.length,
    bytes: files.reduce((n, f) => n + f.size, 0),
    writers: [],
  };
  // the recorder that claimed the directory, if it still runs (its pid
  // file names it by pid, boot and start time)
  const writer = await runningWriter(abs);
  if (writer !== undefined) {
    status.writers = [writer];
    // a recorder that cannot begin a segment (a full disk) holds none; a
    // rotation holds none for an instant: look again before saying so
    const holds = await holdsSegment(writer, abs);
    if (holds === undefined) status.writerUnchecked = true;
    else if (
      !holds &&
      await new Promise((r) => setTimeout(r, 300)).then(() =>
          holdsSegment(writer, abs)
        ) === false
    ) status.writerNotWriting = true;
  }
  const newest = files.at(-1);
  if (!newest) return status;
  // a directory of single recordings (no pid file): the processes that hold
  // the newest open for writing
  const claimed = await Deno.lstat(`${abs}/${WRITER_PID_FILE}`).then(
    () => true,
    () => false,
  );
  if (!claimed && newest.name.endsWith(".incomplete")) {
    status.writers = await writersOf(`${abs}/${newest.name}`);
  }
  const path = `${abs}/${newest.name}`;
  let events = 0;
  let lost = 0;
  let error: string | undefined;
  try {
    const reader = await RecordingReader.open(path);
    for await (const ev of reader.events()) {
      events++;
      if (ev.kind === "lost") lost += ev.count;
    }
    const r = reader.report;
    if (!r.chainIntact) {
      error = "its chain is broken (procrec verify says where)";
    }
  } catch (e) {
    // (renamed at rotation since the listing: not an error)
    if (!(e instanceof Deno.errors.NotFound)) error = (e as Error).message;
  }
  status.newest = {
    name: newest.name,
    open: newest.name.endsWith(".incomplete"),
    ageSeconds: Math.max(0, (Date.now() - newest.mtime) / 1000),
    events,
    lost,
    ...(error !== undefined ? { error } : {}),
  };
  // (stopped by a signal or a debugger: alive, but recording nothing)
  if (status.writers.some(stopped)) status.writerStopped = true;
  return status;
}

/** Whether the process is stopped (state T or t in `/proc/PID/stat`). */
function stopped(pid: number): boolean {
  // (none when it ended since runningWriter looked)
  const state = procStat(pid)[0];
  return state === "T" || state === "t";
}

/**
 * Whether process `pid` holds a segment of `dir` (`*.cbor.incomplete`) open
 * for writing; undefined when its descriptors cannot be read (another
 * user's process, or gone).
 */
async function holdsSegment(
  pid: number,
  dir: string,
): Promise<boolean | undefined> {
  try {
    for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
      const target = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`)
        .catch(() => "");
      if (
        !target.startsWith(`${dir}/`) || !target.endsWith(".cbor.incomplete")
      ) continue;
      if (writeMode(`/proc/${pid}/fdinfo/${fd.name}`)) return true;
    }
    return false;
  } catch {
    return undefined;
  }
}

/** Whether the descriptor `fdinfo` describes is open for writing. */
function writeMode(fdinfo: string): boolean {
  // (flags in octal; access mode 1 or 2: written)
  const flags = /^flags:\s+([0-7]+)$/m.exec(readKernelFileOnce(fdinfo));
  return flags !== null && (parseInt(flags[1], 8) & 3) !== 0;
}

/**
 * Pids of the processes that hold `path` open for writing (from
 * `/proc/PID/fd` and the access mode in `/proc/PID/fdinfo`).
 */
async function writersOf(path: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const p of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(p.name)) continue;
    try {
      for await (const fd of Deno.readDir(`/proc/${p.name}/fd`)) {
        const target = await Deno.readLink(`/proc/${p.name}/fd/${fd.name}`)
          .catch(() => "");
        if (target !== path) continue;
        if (writeMode(`/proc/${p.name}/fdinfo/${fd.name}`)) {
          pids.push(Number(p.name));
          break;
        }
      }
    } catch { /* gone, or not ours to read */ }
  }
  return pids;
}
