/**
 * The processes alive right now, as the recorded events say: what a new
 * segment's header lists so that a reader starting at it has, for each
 * process running, what a read of the whole directory gives it there: its
 * parent, image, arguments and current name, its image's hash, and the
 * host's account names that name its user. Pure; its size is the number of
 * live processes (an exit removes the process).
 *
 * @module
 */
import type {
  Accounts,
  ImageHash,
  InfoField,
  ProcessInfo,
  ProcessSnapshot,
  ProcEvent,
} from "../events/types.ts";

/** How far apart two starts of one pid may be and still be one process. */
export const SAME_START_NS = 20_000_000;

/** A process alive, as {@link LiveProcesses} keeps it. */
interface Alive {
  ppid: number;
  start: number;
  info?: ProcessInfo;
  guid?: string;
  /** `t` of the exec, snapshot or creation whose image `info` names: what its hash names. */
  imageT?: number;
  /** The hash worker's first answer for that image. */
  hash?: ImageHash;
}

/**
 * A table of live processes fed event by event.
 *
 * @example
 * ```ts
 * import { LiveProcesses } from "./live_processes.ts";
 * const live = new LiveProcesses("linux");
 * live.add({ kind: "process_create", t: 1, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *   creatorPid: 1, creatorTid: 1, start: 1 });
 * live.add({ kind: "process_create", t: 2, pid: 6, tid: 6, ppid: 5, ptid: 5,
 *   creatorPid: 5, creatorTid: 5, start: 2 });
 * live.add({ kind: "process_exit", t: 3, pid: 5, tid: 5, status: 0 });
 * const s = live.snapshot(10);
 * if (s.length !== 1 || s[0].kind !== "process_snapshot" || s[0].pid !== 6 ||
 *   s[0].t !== 10) throw new Error();
 * ```
 */
/** How {@link LiveProcesses.snapshot} lists the processes. */
export interface SnapshotOptions {
  /** By start time, then pid (a parent before its child), not by pid. */
  parentsFirst?: boolean;
  /**
   * Filled with the `t` of the image each snapshot names whose hash had
   * not come, by pid (what that hash's `execT` will be, when it comes).
   */
  awaiting?: Map<number, number>;
}

export class LiveProcesses {
  #procs = new Map<number, Alive>();
  #accounts: Accounts | undefined;

  /**
   * `os`: the recording's (on Linux a fork that did not exec runs the image
   * of the process it was forked from, and is given it as the analysis
   * gives it).
   */
  constructor(readonly os?: string) {}

  /** Processes alive. */
  get size(): number {
    return this.#procs.size;
  }

  /** Feeds one event. */
  add(e: ProcEvent): void {
    switch (e.kind) {
      case "process_create":
      case "process_snapshot": {
        const own = e.info;
        const told = own !== undefined &&
          (own.image !== undefined || own.argv !== undefined ||
            own.cmdline !== undefined);
        let info = own;
        if (!told && e.kind === "process_create" && this.os === "linux") {
          // (as the analysis names it: the creator's image when a process
          // other than the parent created it, else the parent's)
          const by = (e.creatorPid !== e.ppid
            ? this.#procs.get(e.creatorPid)
            : undefined) ?? this.#procs.get(e.ppid);
          info = forkInfo(own, by?.info);
        }
        const p: Alive = { ppid: e.ppid, start: e.start };
        if (info !== undefined) p.info = info;
        if (e.guid !== undefined) p.guid = e.guid;
        // (the image a snapshot or a creation names is hashed for it; a
        // fork's is its parent's, hashed for the parent, and the analysis
        // puts no hash on a fork)
        if (told || (e.kind === "process_snapshot" && own !== undefined)) {
          p.imageT = e.t;
        }
        this.#procs.set(e.pid, p);
        break;
      }
      case "exec": {
        const p = this.#procs.get(e.pid);
        if (p === undefined) break;
        p.info = e.info;
        p.imageT = e.t;
        delete p.hash;
        break;
      }
      case "comm": {
        // (the name the process gave itself last, by any of its threads, as
        // the analysis keeps it; a copy: the info is an event's, which
        // others hold)
        const p = this.#procs.get(e.pid);
        if (p === undefined) break;
        const info: ProcessInfo = { ...(p.info ?? { from: {} }), comm: e.comm };
        info.from = { ...info.from, comm: "kernel" };
        const flawed = withField(info.notUtf8, "comm", e.notUtf8 === true);
        if (flawed === undefined) delete info.notUtf8;
        else info.notUtf8 = flawed;
        p.info = info;
        break;
      }
      case "image_hash": {
        const p = this.#procs.get(e.pid);
        // (the first answer stands, as in the analysis)
        if (p !== undefined && p.imageT === e.execT && p.hash === undefined) {
          p.hash = e;
        }
        break;
      }
      case "accounts":
        this.#accounts = e;
        break;
      case "process_exit":
        this.#procs.delete(e.pid);
        break;
    }
  }

  /**
   * Whether `pid` is alive with this `start` (the same process), within
   * {@link SAME_START_NS}: a run of the recorder measures its clocks' offset
   * anew (a few ns off the last run's, found by review: the processes seen
   * by both runs of a directory were listed twice), and a start read from
   * `/proc` is whole clock ticks (at most 10 ms), where the eBPF source
   * has the exact one. A pid is not used again so soon.
   *
   * @example
   * ```ts
   * import { LiveProcesses } from "./live_processes.ts";
   * const l = new LiveProcesses();
   * l.add({ kind: "process_snapshot", t: 0, pid: 1, tid: 1, ppid: 0,
   *   start: 260_000_000 });
   * if (!l.has(1, 259_999_995) || l.has(1, 300_000_000)) throw new Error();
   * ```
   */
  has(pid: number, start: number): boolean {
    const p = this.#procs.get(pid);
    return p !== undefined && Math.abs(p.start - start) <= SAME_START_NS;
  }

  /**
   * What stands at `t` for the events fed: the latest `accounts` (its
   * names are the users of the snapshots after it), then each live process
   * as a `process_snapshot` at `t`, by pid, followed by its image's
   * `image_hash` when the hash had come (its `execT` the snapshot's `t`,
   * which it is paired with, as a snapshot's own hash is).
   *
   * @example
   * ```ts
   * import { LiveProcesses } from "./live_processes.ts";
   * const l = new LiveProcesses("linux");
   * l.add({ kind: "accounts", t: 0, pid: 0, tid: 0, users: [[0, "root"]], groups: [] });
   * l.add({ kind: "process_snapshot", t: 0, pid: 7, tid: 7, ppid: 1, start: 0,
   *   info: { image: "/bin/sh", uid: 0, from: { image: "proc" } } });
   * l.add({ kind: "image_hash", t: 3, pid: 7, tid: 7, execT: 0, status: "ok",
   *   sha256: "ab" });
   * l.add({ kind: "comm", t: 4, pid: 7, tid: 7, comm: "worker" });
   * const [a, s, h] = l.snapshot(9);
   * if (a.kind !== "accounts" || s.kind !== "process_snapshot" ||
   *   s.info?.comm !== "worker" || h.kind !== "image_hash" || h.execT !== 9 ||
   *   h.sha256 !== "ab") throw new Error();
   * ```
   */
  snapshot(t: number, options: SnapshotOptions = {}): ProcEvent[] {
    const out: ProcEvent[] = [];
    if (this.#accounts !== undefined) out.push({ ...this.#accounts, t });
    const pids = [...this.#procs.keys()].sort(
      options.parentsFirst
        ? (a, b) =>
          this.#procs.get(a)!.start - this.#procs.get(b)!.start || a - b
        : (a, b) => a - b,
    );
    for (const pid of pids) {
      const p = this.#procs.get(pid)!;
      if (p.hash === undefined && p.imageT !== undefined) {
        options.awaiting?.set(pid, p.imageT);
      }
      const s: ProcessSnapshot = {
        kind: "process_snapshot",
        t,
        pid,
        tid: pid,
        ppid: p.ppid,
        start: p.start,
      };
      if (p.info !== undefined) s.info = p.info;
      if (p.guid !== undefined) s.guid = p.guid;
      out.push(s);
      if (p.hash !== undefined) out.push({ ...p.hash, t, execT: t });
    }
    return out;
  }
}

/** The fields {@link ProcessInfo.notUtf8} lists, in its order. */
const INFO_FIELDS: readonly InfoField[] = [
  "image",
  "argv",
  "comm",
  "cwd",
  "cred",
  "file",
  "ns",
  "cgroup",
];

/** `list` with `field` in it (`on`) or not, in {@link INFO_FIELDS} order; none when empty. */
function withField(
  list: InfoField[] | undefined,
  field: InfoField,
  on: boolean,
): InfoField[] | undefined {
  const set = new Set(list);
  if (on) set.add(field);
  else set.delete(field);
  const out = INFO_FIELDS.filter((f) => set.has(f));
  return out.length > 0 ? out : undefined;
}

/**
 * What a fork that did not exec runs, as the analysis gives it: its own
 * fields, with the image and arguments (and the name, when it has none) of
 * the process it was forked from, their provenance and flaws with them;
 * nothing else of that process's (its other fields' provenance would name
 * texts the fork's info lacks).
 */
function forkInfo(
  own: ProcessInfo | undefined,
  of: ProcessInfo | undefined,
): ProcessInfo | undefined {
  if (of === undefined || (of.image === undefined && of.argv === undefined)) {
    return own;
  }
  const info: ProcessInfo = { ...(own ?? { from: {} }) };
  info.from = { ...info.from };
  let flawed = info.notUtf8;
  const take = (f: "image" | "argv" | "comm") => {
    if (of[f] === undefined) return;
    if (f === "argv") info.argv = of.argv;
    else info[f] = of[f];
    const source = of.from[f];
    if (source !== undefined) info.from[f] = source;
    else delete info.from[f];
    flawed = withField(flawed, f, of.notUtf8?.includes(f) === true);
  };
  take("image");
  take("argv");
  if (info.comm === undefined) take("comm");
  if (flawed === undefined) delete info.notUtf8;
  else info.notUtf8 = flawed;
  return info;
}
