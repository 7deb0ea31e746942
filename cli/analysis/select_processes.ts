import type { Forest, ProcessNode } from "./forest.ts";
import { commandText } from "./command_text.ts";
import { linuxSignalNumber } from "./decode_exit_status.ts";
import { containerOf } from "./container_of.ts";
import { identityOf } from "./process_identity.ts";

/**
 * The flags `--flag` takes: the analysis's process flags and the identity
 * marks the tree prints.
 */
export const FILTER_FLAGS = [
  "existing-before-recording",
  "seen-without-create",
  "reparented",
  "parent-differs-from-creator",
  "in-lost-span",
  "exit-missing",
  "exit-inferred",
  "end-lost",
  "comm-not-utf8",
  "denied",
  "setuid",
  "setgid",
  "fileless",
  "deleted-image",
  "argv-truncated",
  "no-exec",
  "not-utf8",
] as const;

/** A flag `--flag` takes. */
export type FilterFlag = typeof FILTER_FLAGS[number];

/**
 * Which processes to show. Every given kind of criterion must hold (AND);
 * within a kind that takes several values (image, cmdline, user, signal)
 * any value does (OR).
 */
export interface TreeFilter {
  /** Processes with this pid (every process that had it). */
  pid?: number;
  /** Only these processes, by stable id (e.g. those a Sigma rule hit). */
  ids?: ReadonlySet<string>;
  /**
   * The command text the tree prints, the image, comm or an exec's image
   * contains one of these (case-insensitive).
   */
  image?: string | string[];
  /** The command text (or argv joined by spaces, or image) matches one. */
  cmdline?: RegExp[];
  /** Ran as one of these users (name or uid; real or effective). */
  user?: string[];
  /** Ended with a failure: a non-zero code, a signal, an error status. */
  failed?: boolean;
  /**
   * Killed by a signal: one of these (number or name, `TERM` or `SIGTERM`);
   * an empty list: any signal.
   */
  signal?: string[];
  /** Has one of these flags (process flags or identity marks). */
  flag?: FilterFlag[];
  /**
   * One of its images has a hash that starts with one of these (lowercase
   * hex): the SHA-256 the recorder took, or any hash Sysmon's `Hashes` gave.
   */
  hash?: string[];
  /**
   * Ran in one of these containers: an id or a prefix of it, a pod uid or a
   * prefix of it, or a name (systemd-nspawn machine); any case.
   */
  container?: string[];
  /** Leave out Linux kernel threads (kthreadd, pid 2, and its children). */
  excludeKthreads?: boolean;
  /** Started at or after this time (ns since the time base). */
  startedFrom?: number;
  /** Started at or before this time (ns since the time base). */
  startedTo?: number;
  /** A process id (`{...}`) or pid: that process and its descendants. */
  subtree?: string;
  /** Alive at or after this time (ns since the time base). */
  from?: number;
  /** Alive at or before this time (ns since the time base). */
  to?: number;
}

/** The outcome of {@link selectProcesses}. */
export interface Selection {
  /** Processes that match. */
  matched: Set<string>;
  /** Matched processes and their ancestors (for context): what a tree shows. */
  shown: Set<string>;
}

/** Whether a filter has any criterion. */
export function isFiltering(filter: TreeFilter | undefined): boolean {
  return filter !== undefined &&
    (filter.pid !== undefined || filter.ids !== undefined ||
      filter.image !== undefined ||
      filter.subtree !== undefined || filter.from !== undefined ||
      filter.to !== undefined || filter.cmdline !== undefined ||
      filter.user !== undefined || filter.failed === true ||
      filter.signal !== undefined || filter.excludeKthreads === true ||
      filter.flag !== undefined || filter.hash !== undefined ||
      filter.container !== undefined ||
      filter.startedFrom !== undefined || filter.startedTo !== undefined);
}

/**
 * Selects the processes a filter matches, plus their ancestors.
 *
 * @example
 * ```ts
 * import { analyze } from "./analyze.ts";
 * import { selectProcesses } from "./select_processes.ts";
 * const f = await analyze([
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 0 },
 *   { kind: "process_create", t: 1, pid: 6, tid: 6, ppid: 5, ptid: 5,
 *     creatorPid: 5, creatorTid: 5, start: 1 },
 * ], { os: "linux", bootId: "b" });
 * const s = selectProcesses(f, { pid: 6 });
 * if (s.matched.size !== 1 || s.shown.size !== 2) throw new Error();
 * ```
 */
export function selectProcesses(forest: Forest, filter: TreeFilter): Selection {
  const matches = processMatcher(forest, filter);
  const matched = new Set<string>();
  const shown = new Set<string>();
  for (const n of forest.processes) {
    if (!matches(n)) continue;
    matched.add(n.id);
    let p: ProcessNode | undefined = n;
    while (p && !shown.has(p.id)) {
      shown.add(p.id);
      p = p.parentId !== undefined ? forest.byId.get(p.parentId) : undefined;
    }
  }
  return { matched, shown };
}

/**
 * What a matcher needs of a forest: its OS, account names, the time of the
 * last event and the recording's end, and (for `subtree`) its processes. A
 * live analysis can hand over what it has so far.
 */
export type MatchContext =
  & Pick<Forest, "meta" | "accounts" | "last" | "end">
  & {
    processes?: Forest["processes"];
    byId?: Forest["byId"];
  };

/**
 * The test `filter` puts to one process, alone (no ancestors): what
 * {@link selectProcesses} and `record --follow` apply.
 *
 * @example
 * ```ts
 * import { processMatcher } from "./select_processes.ts";
 * const m = processMatcher({ meta: { os: "linux", bootId: "b" } }, { pid: 7 });
 * const n = { id: "x", pid: 7, start: 0, ppid: 1, children: [], execs: [],
 *   threads: [], flags: [] };
 * if (!m(n) || m({ ...n, pid: 8 })) throw new Error();
 * ```
 */
export function processMatcher(
  forest: MatchContext,
  filter: TreeFilter,
): (n: ProcessNode) => boolean {
  let inSubtree: Set<string> | undefined;
  if (filter.subtree !== undefined) {
    inSubtree = new Set();
    const key = filter.subtree;
    const roots = (forest.processes ?? []).filter((n) =>
      n.id === key || n.guid === key || String(n.pid) === key
    );
    const stack = roots.map((n) => n.id);
    while (stack.length) {
      const id = stack.pop()!;
      if (inSubtree.has(id)) continue;
      inSubtree.add(id);
      const n = forest.byId?.get(id);
      if (n) { for (const c of n.children) stack.push(c); }
    }
  }
  const needles = filter.image === undefined
    ? undefined
    : (Array.isArray(filter.image) ? filter.image : [filter.image]).map((s) =>
      s.toLowerCase()
    );
  const signals = filter.signal?.map(signalNumber);
  // (a process without an exit was alive until the recording's end: its
  // trailer's end time, long after the last event on a quiet host; found
  // by review, --at after the last event missed every running process)
  const last = Math.max(forest.last ?? 0, forest.end ?? -Infinity);
  const linux = forest.meta.os === "linux";
  const matches = (n: ProcessNode): boolean => {
    if (filter.ids !== undefined && !filter.ids.has(n.id)) return false;
    if (filter.pid !== undefined && n.pid !== filter.pid) return false;
    if (inSubtree && !inSubtree.has(n.id)) return false;
    if (needles !== undefined) {
      const hay = commandTexts(n).join("\n").toLowerCase();
      if (!needles.some((x) => hay.includes(x))) return false;
    }
    if (filter.cmdline !== undefined) {
      const texts = commandTexts(n);
      if (!filter.cmdline.some((re) => texts.some((t) => re.test(t)))) {
        return false;
      }
    }
    if (filter.user !== undefined && !ranAs(forest, n, filter.user)) {
      return false;
    }
    if (filter.failed && !(n.exit !== undefined && !n.exit.success)) {
      return false;
    }
    if (signals !== undefined) {
      const sig = n.exit?.kind === "signal" ? n.exit.signal : undefined;
      if (sig === undefined) return false;
      if (signals.length > 0 && !signals.includes(sig)) return false;
    }
    if (filter.excludeKthreads && linux && isKernelThread(n)) return false;
    if (filter.flag !== undefined) {
      const have = [...n.flags, ...identityOf(n, forest.meta.os).flags];
      if (!filter.flag.some((f) => (have as string[]).includes(f))) {
        return false;
      }
    }
    if (filter.hash !== undefined && !hasHash(n, filter.hash)) return false;
    if (filter.container !== undefined && !inContainer(n, filter.container)) {
      return false;
    }
    const end = n.end ?? Math.max(last, n.start);
    if (filter.from !== undefined && end < filter.from) return false;
    if (filter.to !== undefined && n.start > filter.to) return false;
    if (filter.startedFrom !== undefined && n.start < filter.startedFrom) {
      return false;
    }
    if (filter.startedTo !== undefined && n.start > filter.startedTo) {
      return false;
    }
    return true;
  };
  return matches;
}

/**
 * The forest with only the processes a filter matches (events, lost spans
 * and problems stay whole): what `--summary` summarizes under filters.
 */
export function restrictForest(forest: Forest, filter: TreeFilter): Forest {
  if (!isFiltering(filter)) return forest;
  const { matched } = selectProcesses(forest, filter);
  return {
    ...forest,
    processes: forest.processes.filter((n) => matched.has(n.id)),
  };
}

/**
 * The number of a signal given as a number or a Linux name (`TERM`,
 * `SIGTERM`, any case); throws an Error when it is neither.
 *
 * @example
 * ```ts
 * import { signalNumber } from "./select_processes.ts";
 * if (signalNumber("term") !== 15 || signalNumber("9") !== 9) throw new Error();
 * ```
 */
export function signalNumber(text: string): number {
  if (/^\d+$/.test(text) && Number(text) > 0 && Number(text) < 128) {
    return Number(text);
  }
  const up = text.toUpperCase();
  const n = linuxSignalNumber(up.startsWith("SIG") ? up : `SIG${up}`);
  if (n === 0) {
    throw new Error(
      `signal "${text}" is not a signal number (1-127) or name (TERM, SIGKILL)`,
    );
  }
  return n;
}

/** The texts a process's command can be matched against. */
function commandTexts(n: ProcessNode): string[] {
  const out = [commandText(n)];
  if (n.argv && n.argv.length > 0) out.push(n.argv.join(" "));
  if (n.cmdline) out.push(n.cmdline);
  if (n.image) out.push(n.image);
  if (n.comm !== undefined) out.push(n.comm);
  // earlier images it exec'd (not what a fork inherited from its parent)
  for (const e of n.execs) {
    if (e.via !== "exec") continue;
    if (e.argv || e.cmdline || e.image) out.push(commandText(e));
    if (e.image) out.push(e.image);
  }
  return out;
}

/** Whether any step of a process ran as one of `users` (name or uid). */
function ranAs(forest: MatchContext, n: ProcessNode, users: string[]): boolean {
  const want = users.map((u) => u.toLowerCase());
  const names = forest.accounts?.users;
  const hit = (id: number | undefined, name: string | undefined) =>
    (id !== undefined &&
      (want.includes(String(id)) ||
        want.includes(names?.get(id)?.toLowerCase() ?? "\0"))) ||
    (name !== undefined && want.includes(name.toLowerCase()));
  return n.execs.some((e) =>
    hit(e.uid, e.userName) || hit(e.euid, e.effectiveUserName) ||
    (e.user !== undefined &&
      want.some((w) => {
        const u = e.user!.toLowerCase();
        return u === w || u.endsWith(`\\${w}`);
      }))
  );
}

/**
 * Whether `text` is a hash prefix `--hash` takes: hex digits, at least 4
 * (lowercased), else an Error naming it.
 *
 * @example
 * ```ts
 * import { hashPrefix } from "./select_processes.ts";
 * if (hashPrefix("ABCD12") !== "abcd12") throw new Error();
 * ```
 */
export function hashPrefix(text: string): string {
  const t = text.trim().toLowerCase().replace(/^sha256[:=]/, "");
  if (!/^[0-9a-f]{4,128}$/.test(t)) {
    throw new Error(
      `hash "${text}" is not a hash prefix (4 to 128 hex digits, e.g. the start of a SHA-256)`,
    );
  }
  return t;
}

/** Every hash any image of a process carries, lowercase hex. */
export function hashesOf(n: ProcessNode): string[] {
  const out: string[] = [];
  for (const e of n.execs) {
    if (e.sha256) out.push(e.sha256.toLowerCase());
    // Sysmon: "SHA1=...,MD5=...,SHA256=...,IMPHASH=..."
    for (const pair of (e.hashes ?? "").split(",")) {
      const v = pair.slice(pair.indexOf("=") + 1).trim().toLowerCase();
      if (/^[0-9a-f]+$/.test(v)) out.push(v);
    }
  }
  return out;
}

function hasHash(n: ProcessNode, prefixes: string[]): boolean {
  const have = hashesOf(n);
  return prefixes.some((p) => have.some((h) => h.startsWith(p)));
}

/** Whether any image of a process ran in one of the containers named. */
function inContainer(n: ProcessNode, wanted: string[]): boolean {
  const want = wanted.map((w) => w.toLowerCase());
  for (const e of n.execs) {
    if (e.cgroup === undefined) continue;
    const c = containerOf(e.cgroup);
    if (!c) continue;
    const id = c.id.toLowerCase(), pod = c.podUid?.toLowerCase();
    if (
      want.some((w) =>
        id.startsWith(w) || (pod !== undefined && pod.startsWith(w)) ||
        `${c.runtime}:${id}`.startsWith(w)
      )
    ) return true;
  }
  return false;
}

/**
 * A Linux kernel thread: kthreadd (pid 2) or a child of it that never exec'd.
 *
 * @example
 * ```ts
 * import { isKernelThread } from "./select_processes.ts";
 * const kworker = { pid: 40, ppid: 2, execs: [], comm: "kworker/0:1" };
 * if (!isKernelThread(kworker)) throw new Error();
 * ```
 */
export function isKernelThread(
  n: Pick<ProcessNode, "pid" | "ppid" | "image" | "argv" | "execs">,
): boolean {
  if (n.pid !== 2 && n.ppid !== 2) return false;
  return !n.image && !(n.argv && n.argv.length > 0) &&
    !n.execs.some((e) => e.via === "exec");
}
