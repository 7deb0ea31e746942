/**
 * The forest builder's passes over the whole history, run once at
 * `finish()`: each small, named for what it settles, and pure.
 *
 * @module
 */
import type { AnalysisProblem, LostSpan, ProcessNode } from "./forest.ts";
import {
  addChild,
  addFlag,
  sortIfNeeded,
  threadOrder,
} from "./_forest_nodes.ts";
import { ProcessIndex } from "./_process_index.ts";

/**
 * Threads that exited while their process went on are standalone exits
 * (`dead[i]`: process `nodes[i]` ended).
 */
export function classifyRunningThreadExits(
  nodes: readonly ProcessNode[],
  dead: Uint8Array,
): void {
  for (let i = 0; i < nodes.length; i++) {
    if (dead[i] !== 0) continue;
    for (const th of nodes[i].threads) {
      if (th.end !== undefined && th.exitClass === undefined) {
        th.exitClass = "standalone";
      }
    }
  }
}

/**
 * Snapshots arrive in any order: each is linked to the snapshot of its
 * parent pid, if that one started before it (so links stay acyclic).
 */
export function linkSnapshots(
  nodes: ProcessNode[],
  parents: (ProcessNode | undefined)[],
  unsortedKids: Set<ProcessNode>,
  snapshots: readonly number[],
  parentOf: Int32Array,
): void {
  // (`snapshots`: the places in `nodes` of the snapshots, in order: the
  // builder lists them, so this pass does not visit every process)
  const snapshotByPid = new Map<number, number>();
  for (const i of snapshots) snapshotByPid.set(nodes[i].pid, i);
  if (snapshotByPid.size === 0) return;
  const linked: number[] = [];
  for (const i of snapshots) {
    const n = nodes[i];
    if (n.parentId === undefined) {
      const at = snapshotByPid.get(n.ppid);
      const p = at === undefined ? undefined : nodes[at];
      if (p && (p.start < n.start || (p.start === n.start && p.pid < n.pid))) {
        n.parentId = p.id;
        parents[i] = p;
        parentOf[i] = at!;
        addChild(p, n.id);
        unsortedKids.add(p);
        linked.push(i);
      }
    }
  }
  if (linked.length > 0) breakLoops(nodes, parents, parentOf, linked);
}

/**
 * Undoes the links of {@link linkSnapshots} that closed a loop of parents,
 * which hostile input can ask for (two snapshots each naming the other as
 * its parent; found by review: the processes of the loop had no root and
 * vanished from the tree). A loop needs one of those links (a process is
 * linked as it comes only under one alive before it), and that one is
 * undone. Each process is walked once: linear in the processes.
 */
function breakLoops(
  nodes: ProcessNode[],
  parents: (ProcessNode | undefined)[],
  parentOf: Int32Array,
  linked: number[],
): void {
  // 1: on the walk going on; 2: its way up is known to end
  const state = new Uint8Array(nodes.length);
  const mine = new Uint8Array(nodes.length);
  for (const i of linked) mine[i] = 1;
  const path: number[] = [];
  for (const from of linked) {
    if (state[from] !== 0) continue;
    path.length = 0;
    let q = from;
    while (q >= 0 && state[q] === 0) {
      state[q] = 1;
      path.push(q);
      q = parentOf[q];
    }
    if (q >= 0 && state[q] === 1) {
      const loop = path.slice(path.indexOf(q));
      const cut = loop.find((k) => mine[k] === 1) ?? loop[0];
      const n = nodes[cut], p = parents[cut];
      n.parentId = undefined;
      parents[cut] = undefined;
      parentOf[cut] = -1;
      if (p) p.children = p.children.filter((id) => id !== n.id);
    }
    for (const k of path) state[k] = 2;
  }
}

/**
 * Re-parenting: the parent exited while the child ran (by time, so the
 * order in which independent exits arrive does not matter).
 */
export function markReparented(
  nodes: ProcessNode[],
  parents: (ProcessNode | undefined)[],
): void {
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    const p = parents[i];
    if (p?.end !== undefined && (n.end === undefined || n.end > p.end)) {
      addFlag(n, "reparented");
      n.reparentedAt = p.end;
    }
  }
}

/**
 * A damaged tail: when the recording's last events are a loss of reason
 * `recording` (damaged chunks at the end, told by the reader), nothing after
 * it was read, so a process with no exit seen is not known to be running:
 * its end is `unknown (damaged)`.
 */
export function markEndLost(
  nodes: ProcessNode[],
  spans: LostSpan[],
  last: number,
): void {
  const tail = spans.find((s) => s.reason === "recording" && s.to >= last);
  if (tail === undefined) return;
  for (const n of nodes) {
    if (n.end !== undefined || n.start > tail.to) continue;
    addFlag(n, "end-lost");
    n.endState = "unknown (damaged)";
  }
}

/** Flags processes whose lifetime overlaps a lost span. */
export function markLostSpans(
  nodes: ProcessNode[],
  spans: LostSpan[],
  last: number,
): void {
  if (spans.length === 0) return;
  const sorted = [...spans].sort((a, b) => a.from - b.from);
  const maxTo: number[] = [];
  let m = -Infinity;
  for (const s of sorted) {
    m = Math.max(m, s.to);
    maxTo.push(m);
  }
  for (const n of nodes) {
    const end = n.end ?? Math.max(last, n.start);
    // spans with from <= end
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].from <= end) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && maxTo[lo - 1] >= n.start) addFlag(n, "in-lost-span");
  }
}

/** The forest's order of processes: by start, pid, then id. */
export function processOrder(a: ProcessNode, b: ProcessNode): number {
  return a.start - b.start || a.pid - b.pid ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** What the builder knows of its processes' order, so that sorting visits only what needs it. */
export interface ForestOrder {
  /** The processes were added in {@link processOrder}. */
  inOrder: boolean;
  /** Every start is a safe integer and every pid a 32-bit unsigned integer (see ProcessIndex). */
  searchable: boolean;
  /** The processes whose children were not added in the forest's order. */
  unsortedKids: Set<ProcessNode>;
  /** The processes whose threads were not added in {@link threadOrder}. */
  unsortedThreads: Set<ProcessNode>;
}

/**
 * The canonical order: processes and children by (start, pid, id), threads
 * main first then by start and tid (flags are kept in {@link FLAG_ORDER} as
 * they are added). Only what `order` says may be out of order is checked:
 * the processes unless they were added in order, the children of
 * `unsortedKids`, the threads of `unsortedThreads`. Returns the index of
 * the processes by id.
 */
export function sortForest(
  nodes: ProcessNode[],
  order: ForestOrder,
): ProcessIndex {
  if (!order.inOrder) sortIfNeeded(nodes, processOrder);
  const byId = new ProcessIndex(nodes, order.searchable);
  for (const n of order.unsortedKids) {
    if (n.children.length > 1) {
      const kids = n.children.map((id) => byId.get(id)!);
      if (sortIfNeeded(kids, processOrder)) n.children = kids.map((c) => c.id);
    }
  }
  for (const n of order.unsortedThreads) {
    if (n.threads.length > 1) sortIfNeeded(n.threads, threadOrder);
  }
  return byId;
}

/** Problems by time, pid, tid, then text. */
export function sortProblems(problems: AnalysisProblem[]): void {
  problems.sort((a, b) =>
    a.t - b.t || a.pid - b.pid || a.tid - b.tid ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

/** Lost spans by start, end, reason, count. */
export function sortLostSpans(lost: LostSpan[]): void {
  lost.sort((a, b) =>
    a.from - b.from || a.to - b.to ||
    (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0) ||
    a.count - b.count
  );
}
