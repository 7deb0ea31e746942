/**
 * The index of a finished forest's processes by id (private to
 * cli/analysis). Pure.
 *
 * @module
 */
import type { ProcessNode } from "./forest.ts";

/**
 * {@link Forest.byId}: the processes of a forest by id, without a hash map
 * of their id strings. The builder gives every process the id
 * `processId(bootId, pid, start)` (with `#2`, `#3`... on a collision) and
 * orders the processes by (start, pid, id), so an id is found by reading
 * the start and pid back out of it and searching the ordered list. When a
 * process does not fit that scheme (a start that is not a safe integer, a
 * pid that is not a 32-bit unsigned integer) a `Map` by id is made once, on
 * the first lookup the search cannot settle. Iteration goes in the
 * processes' order.
 *
 * @example
 * ```ts
 * import { ProcessIndex } from "./_process_index.ts";
 * import { processId } from "./process_id.ts";
 * const node = (pid: number, start: number) =>
 *   ({ id: processId("b", pid, start), pid, start }) as never;
 * const a = node(7, -5), b = node(3, 10), c = node(9, 10);
 * const index = new ProcessIndex([a, b, c]);
 * if (index.get(processId("b", 3, 10)) !== b || index.size !== 3) throw new Error();
 * if (index.get(processId("b", 7, -5)) !== a) throw new Error();
 * if (index.has(processId("b", 3, 11)) || index.get("x") !== undefined) throw new Error();
 * ```
 */
export class ProcessIndex implements ReadonlyMap<string, ProcessNode> {
  /** The processes, ordered by (start, pid, id). */
  readonly #nodes: readonly ProcessNode[];
  /** Every process's start and pid can be read back from its id. */
  readonly #searchable: boolean;
  #map: Map<string, ProcessNode> | undefined;

  /**
   * `nodes` must be ordered by start, then pid, then id (the forest's
   * order). `searchable`: whether every start is a safe integer and every
   * pid a 32-bit unsigned integer, when the caller knows (else it is
   * checked here).
   */
  constructor(nodes: readonly ProcessNode[], searchable?: boolean) {
    this.#nodes = nodes.slice();
    if (searchable === undefined) {
      searchable = true;
      for (let i = 0; i < nodes.length && searchable; i++) {
        const n = nodes[i];
        if (!Number.isSafeInteger(n.start) || n.pid >>> 0 !== n.pid) {
          searchable = false;
        }
      }
    }
    this.#searchable = searchable;
  }

  get size(): number {
    return this.#nodes.length;
  }

  get(id: string): ProcessNode | undefined {
    if (this.#map !== undefined) return this.#map.get(id);
    const at = this.#search(id);
    if (at >= 0) return this.#nodes[at];
    if (this.#searchable) return undefined;
    this.#map = new Map();
    for (const n of this.#nodes) this.#map.set(n.id, n);
    return this.#map.get(id);
  }

  /**
   * The place of the process with this id in the forest's order (the order
   * of the list given), or -1 when the search cannot find it (an id not
   * among them, or one that does not fit the id scheme). `near`: a place
   * the process is likely close to (the one found before, when looking up
   * the children of a process in order): the search starts there.
   */
  positionOf(id: string, near = -1): number {
    return this.#search(id, near);
  }

  /** The process at a place in the forest's order. */
  at(position: number): ProcessNode | undefined {
    return this.#nodes[position];
  }

  #search(id: string, near = -1): number {
    const nodes = this.#nodes;
    // (the children of a process are looked up in order, and most often
    // each is the process after the one found before: its id compared, no
    // parse, and most often by reference, as the child's list holds the
    // node's own id. Only where every id reads back to its process's start
    // and pid: ids are unique, so the search below would end there too)
    if (
      this.#searchable && near >= 0 && near + 1 < nodes.length &&
      nodes[near + 1].id === id
    ) return near + 1;
    if (id.length >= 38 && id.charCodeAt(0) === 0x7b) {
      const s3 = hex(id, 10), s2 = hex(id, 15), s1 = hex(id, 20);
      const s0 = hex(id, 25), p1 = hex(id, 29), p0 = hex(id, 33);
      if ((s3 | s2 | s1 | s0 | p1 | p0) >= 0) {
        const start = ((s3 * 0x10000 + s2) | 0) * 0x100000000 +
          s1 * 0x10000 + s0;
        const pid = p1 * 0x10000 + p0;
        const before = (n: ProcessNode) =>
          n.start < start || (n.start === start && n.pid < pid);
        // the first place whose (start, pid) is not before the id's, in
        // [a, b): from `near` by steps that double, then by halves
        let a = 0, b = nodes.length;
        if (near >= 0 && near < b) {
          if (before(nodes[near])) {
            let step = 1;
            a = near + 1;
            while (a + step < b && before(nodes[a + step - 1])) {
              a += step;
              step *= 2;
            }
            b = Math.min(b, a + step);
          } else {
            let step = 1;
            b = near;
            while (b - step > a && !before(nodes[b - step])) {
              b -= step;
              step *= 2;
            }
            a = Math.max(a, b - step);
          }
        }
        while (a < b) {
          const m = (a + b) >>> 1;
          const n = nodes[m];
          if (n.start < start || (n.start === start && n.pid < pid)) a = m + 1;
          else b = m;
        }
        for (; a < nodes.length; a++) {
          const n = nodes[a];
          if (n.start !== start || n.pid !== pid) break;
          if (n.id === id) return a;
        }
      }
    }
    return -1;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  forEach(
    f: (
      value: ProcessNode,
      key: string,
      map: ReadonlyMap<string, ProcessNode>,
    ) => void,
    thisArg?: unknown,
  ): void {
    for (const n of this.#nodes) f.call(thisArg, n, n.id, this);
  }

  *entries(): MapIterator<[string, ProcessNode]> {
    for (const n of this.#nodes) yield [n.id, n];
  }

  *keys(): MapIterator<string> {
    for (const n of this.#nodes) yield n.id;
  }

  *values(): MapIterator<ProcessNode> {
    yield* this.#nodes;
  }

  [Symbol.iterator](): MapIterator<[string, ProcessNode]> {
    return this.entries();
  }
}

/** Four lowercase hex digits of `s` at `at`, or -1. */
function hex(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 4; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 0x30 && c <= 0x39
      ? c - 0x30
      : c >= 0x61 && c <= 0x66
      ? c - 0x57
      : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}
