/**
 * A plain reference for what the forest builder settles through its quick
 * paths (the index by id, the children's order, the re-parenting from the
 * parent's end): recomputed here the obvious way, with a `Map` of every id
 * and full sorts, and compared with the forest.
 */
import type { Forest, ProcessNode } from "../cli/analysis/forest.ts";
import { assertEquals } from "./_record_helpers.ts";

const order = (a: ProcessNode, b: ProcessNode) =>
  a.start - b.start || a.pid - b.pid ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Throws where `forest` differs from the plain reference (`what` names it). */
export function assertForestLikeReference(forest: Forest, what: string): void {
  const map = new Map<string, ProcessNode>();
  for (const n of forest.processes) map.set(n.id, n);
  assertEquals(map.size, forest.processes.length, `${what}: ids are unique`);
  assertEquals(forest.byId.size, map.size, `${what}: byId.size`);
  assertEquals(
    forest.processes.map((n) => n.id),
    [...forest.processes].sort(order).map((n) => n.id),
    `${what}: processes in (start, pid, id) order`,
  );
  const kids = new Map<string, ProcessNode[]>();
  for (const n of forest.processes) {
    if (forest.byId.get(n.id) !== n) {
      throw new Error(`${what}: byId.get(${n.id}) is not its process`);
    }
    // ids one step away: other starts, pids, boots and suffixes are absent
    // unless a process has them
    for (
      const other of [
        n.id.replace(/.\}/, (m) => (m[0] === "0" ? "1" : "0") + "}"),
        n.id.replace(/^\{./, (m) => "{" + (m[1] === "0" ? "1" : "0")),
        n.id + "#9",
        n.id.slice(0, 20) + (n.id[20] === "f" ? "e" : "f") + n.id.slice(21),
      ]
    ) {
      assertEquals(
        forest.byId.get(other),
        map.get(other),
        `${what}: byId.get(${other})`,
      );
    }
    if (n.parentId !== undefined) {
      const p = map.get(n.parentId);
      if (p === undefined) throw new Error(`${what}: no parent ${n.parentId}`);
      let list = kids.get(p.id);
      if (list === undefined) kids.set(p.id, list = []);
      list.push(n);
      const reparented = p.end !== undefined &&
        (n.end === undefined || n.end > p.end);
      assertEquals(
        n.flags.includes("reparented"),
        reparented,
        `${what}: ${n.id} reparented`,
      );
      if (reparented) assertEquals(n.reparentedAt, p.end);
    }
  }
  for (const n of forest.processes) {
    const want = (kids.get(n.id) ?? []).sort(order).map((c) => c.id);
    assertEquals(n.children, want, `${what}: children of ${n.id}`);
  }
  assertEquals(
    forest.roots,
    forest.processes.filter((n) => n.parentId === undefined).map((n) => n.id),
    `${what}: roots`,
  );
}
