import type { Forest, ProcessNode } from "./forest.ts";

/** Which processes to show; every given criterion must hold. */
export interface TreeFilter {
  /** Processes with this pid (every process that had it). */
  pid?: number;
  /** Image, argv or command line contains this (case-insensitive). */
  image?: string;
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
    (filter.pid !== undefined || filter.image !== undefined ||
      filter.subtree !== undefined || filter.from !== undefined ||
      filter.to !== undefined);
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
  let inSubtree: Set<string> | undefined;
  if (filter.subtree !== undefined) {
    inSubtree = new Set();
    const key = filter.subtree;
    const roots = forest.processes.filter((n) =>
      n.id === key || n.guid === key || String(n.pid) === key
    );
    const stack = roots.map((n) => n.id);
    while (stack.length) {
      const id = stack.pop()!;
      if (inSubtree.has(id)) continue;
      inSubtree.add(id);
      const n = forest.byId.get(id);
      if (n) { for (const c of n.children) stack.push(c); }
    }
  }
  const needle = filter.image?.toLowerCase();
  const last = forest.last ?? 0;
  const matches = (n: ProcessNode): boolean => {
    if (filter.pid !== undefined && n.pid !== filter.pid) return false;
    if (inSubtree && !inSubtree.has(n.id)) return false;
    if (needle !== undefined) {
      const hay = [
        n.image,
        n.comm,
        n.cmdline,
        ...(n.argv ?? []),
        ...n.execs.map((e) => e.image),
      ].filter((s) => s !== undefined).join("\n").toLowerCase();
      if (!hay.includes(needle)) return false;
    }
    const end = n.end ?? Math.max(last, n.start);
    if (filter.from !== undefined && end < filter.from) return false;
    if (filter.to !== undefined && n.start > filter.to) return false;
    return true;
  };
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
