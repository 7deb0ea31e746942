/**
 * Values by process id, for the hunt's table of every process seen. Internal
 * to the engine.
 *
 * @module
 */

/**
 * A Map from process ids to values (never `undefined`), with no deletion:
 * ids that are 32-bit unsigned integers (every real pid) live in an
 * open-addressing table of typed arrays, which costs a fraction of a Map's
 * insertion and lookup once it holds hundreds of thousands of processes;
 * any other number goes to a Map.
 *
 * @example
 * ```ts
 * import { PidMap } from "./_pid_map.ts";
 * const m = new PidMap<string>();
 * for (let pid = 0; pid < 5000; pid += 4) m.set(pid, `p${pid}`);
 * m.set(8, "again");
 * m.set(-1, "odd");
 * if (m.get(8) !== "again" || m.get(4996) !== "p4996" || m.get(5) !== undefined) throw new Error();
 * if (m.get(-1) !== "odd" || m.size !== 1251) throw new Error(String(m.size));
 * ```
 */
export class PidMap<V> {
  #keys = new Uint32Array(1024);
  #values: (V | undefined)[] = new Array(1024).fill(undefined);
  #shift = 22;
  #used = 0;
  #other?: Map<number, V>;

  /** Entries held. */
  get size(): number {
    return this.#used + (this.#other?.size ?? 0);
  }

  /** The value of `pid`, `undefined` when none. */
  get(pid: number): V | undefined {
    if (pid >>> 0 !== pid) return this.#other?.get(pid);
    const keys = this.#keys, values = this.#values;
    const mask = keys.length - 1;
    for (
      let i = Math.imul(pid, 0x9e3779b1) >>> this.#shift;;
      i = (i + 1) & mask
    ) {
      const v = values[i];
      if (v === undefined || keys[i] === pid) return v;
    }
  }

  /** Sets (or replaces) the value of `pid`. */
  set(pid: number, value: V): void {
    if (pid >>> 0 !== pid) {
      (this.#other ??= new Map()).set(pid, value);
      return;
    }
    if ((this.#used + 1) * 2 > this.#keys.length) this.#grow();
    const keys = this.#keys, values = this.#values;
    const mask = keys.length - 1;
    let i = Math.imul(pid, 0x9e3779b1) >>> this.#shift;
    while (values[i] !== undefined && keys[i] !== pid) i = (i + 1) & mask;
    if (values[i] === undefined) this.#used++;
    keys[i] = pid;
    values[i] = value;
  }

  #grow(): void {
    const keys = this.#keys, values = this.#values;
    const n = keys.length * 2;
    this.#keys = new Uint32Array(n);
    this.#values = new Array(n).fill(undefined);
    this.#shift--;
    this.#used = 0;
    for (let i = 0; i < keys.length; i++) {
      const v = values[i];
      if (v !== undefined) this.set(keys[i], v);
    }
  }
}
