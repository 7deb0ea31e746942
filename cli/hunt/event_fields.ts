/**
 * The field values of one {@link HuntSubject}, read from the
 * {@link FIELD_TABLE} only when a rule asks and then kept, so that many rules
 * testing one field read it once. Each value also gets a small number from a
 * {@link FieldValues} table shared by the subjects of one hunt: a value seen
 * before has the number it had then, its lower case is not computed again,
 * and the rules remember their verdict on it by that number (recordings
 * repeat images and command lines massively).
 *
 * @module
 */
import { FIELD_NAMES, FIELD_TABLE, type FieldGetter } from "./field_table.ts";
import type { HuntSubject } from "./hunt_subject.ts";
import { lowerText } from "./_fold_unit.ts";

/** Index of each field of the table. */
export const FIELD_INDEX: ReadonlyMap<string, number> = new Map(
  FIELD_NAMES.map((n, i) => [n, i]),
);

const GETTERS: Record<"linux" | "windows", (FieldGetter | undefined)[]> = {
  linux: FIELD_NAMES.map((n) => FIELD_TABLE[n].linux),
  windows: FIELD_NAMES.map((n) => FIELD_TABLE[n].windows),
};

/**
 * Fields whose value differs for nearly every process: numbering them would
 * only fill the table, so they are never numbered ({@link UNNUMBERED}).
 */
const PER_PROCESS = new Set([
  "ProcessId",
  "ParentProcessId",
  "ProcessGuid",
  "ParentProcessGuid",
]);
const NUMBERED = FIELD_NAMES.map((n) => !PER_PROCESS.has(n));
const NONE = FIELD_NAMES.map(() => false);

/**
 * {@link EventFields.id} of a field without a value: unknown, empty, or on
 * Windows Sysmon's placeholder `-` (see {@link EventFields.id}).
 */
export const ABSENT = -1;
/** {@link EventFields.id} of a value that has no number (a per-process field): test it afresh. */
export const UNNUMBERED = -3;

/**
 * Distinct values a field keeps numbers for before it starts afresh (a
 * pair of numbers + 1 then fits a small integer: see `rememberRule`).
 */
export const MAX_VALUES_PER_FIELD = (1 << 15) - 1;

/** Generations handed out so far, over all tables (a number is never reused). */
let generations = 0;

/**
 * Numbers for the distinct values of each field. When a field holds
 * {@link MAX_VALUES_PER_FIELD} values it starts afresh under a new
 * generation: whatever was remembered by number for the old generation is
 * then stale, and whoever remembered it sees so by the generation.
 *
 * @example
 * ```ts
 * import { FieldValues } from "./event_fields.ts";
 * const t = new FieldValues();
 * const a = t.id(0, "C:\\X.EXE"), b = t.id(0, "c:\\y.exe");
 * if (a === b || t.id(0, "C:\\X.EXE") !== a || t.lower(0, a) !== "c:\\x.exe") throw new Error();
 * ```
 */
export class FieldValues {
  readonly #ids: Map<string, number>[] = [];
  readonly #lows: string[][] = [];
  /** Per field: the value last asked for, and its number. */
  readonly #last: (string | undefined)[] = [];
  readonly #lastId: Int32Array = new Int32Array(FIELD_NAMES.length);
  /** Per field: its current generation. */
  readonly gen: Int32Array = new Int32Array(FIELD_NAMES.length);

  /**
   * `limit`: distinct values per field before it starts afresh; 0 numbers
   * nothing (every value is {@link UNNUMBERED}: tested afresh each time).
   */
  constructor(readonly limit: number = MAX_VALUES_PER_FIELD) {
    for (let i = 0; i < FIELD_NAMES.length; i++) this.#reset(i);
  }

  #reset(i: number): void {
    this.#ids[i] = new Map();
    this.#lows[i] = [];
    this.#last[i] = undefined;
    this.gen[i] = ++generations;
  }

  /** The number of `value` in field `i`. */
  id(i: number, value: string): number {
    // many fields keep one value from process to process (the user, the
    // directory): the last one is checked before the Map
    if (value === this.#last[i]) return this.#lastId[i];
    const ids = this.#ids[i];
    let n = ids.get(value);
    if (n === undefined) {
      if (ids.size >= this.limit) this.#reset(i);
      n = this.#ids[i].size;
      this.#ids[i].set(value, n);
      this.#lows[i][n] = lowerText(value);
    }
    this.#last[i] = value;
    this.#lastId[i] = n;
    return n;
  }

  /** The lower case of value number `id` of field `i`. */
  lower(i: number, id: number): string {
    return this.#lows[i][id];
  }
}

const UNREAD = -2;

/**
 * Field values of one subject, by field index ({@link FIELD_INDEX}).
 *
 * @example
 * ```ts
 * import { EventFields, FIELD_INDEX } from "./event_fields.ts";
 * const f = new EventFields({ os: "windows", host: "h",
 *   process: { pid: 5, ppid: 1, start: 0, info: { image: "C:\\X.EXE", from: {} } } });
 * if (f.lower(FIELD_INDEX.get("Image")!) !== "c:\\x.exe") throw new Error();
 * ```
 */
export class EventFields {
  #getters: (FieldGetter | undefined)[];
  readonly #values: (string | undefined)[];
  readonly #lows: (string | undefined)[];
  readonly #ids: Int32Array;
  readonly #gens: Int32Array;
  readonly #numbered: readonly boolean[];
  /** The value numbers of this hunt. */
  readonly table: FieldValues;

  constructor(public subject: HuntSubject, table?: FieldValues) {
    this.#getters = GETTERS[subject.os];
    this.#values = new Array(FIELD_NAMES.length);
    this.#lows = new Array(FIELD_NAMES.length);
    this.#ids = new Int32Array(FIELD_NAMES.length).fill(UNREAD);
    this.#gens = new Int32Array(FIELD_NAMES.length);
    this.table = table ?? new FieldValues();
    this.#numbered = this.table.limit > 0 ? NUMBERED : NONE;
  }

  /** Makes this the fields of another subject (one object serves a whole hunt). */
  reset(subject: HuntSubject): this {
    this.subject = subject;
    this.#getters = GETTERS[subject.os];
    this.#ids.fill(UNREAD);
    return this;
  }

  /**
   * The number of field `i`'s value in {@link table}: {@link ABSENT} when
   * it has none (unknown, an empty text, or on Windows `-`, which Sysmon
   * writes for an empty field and the Sysmon import records as none),
   * {@link UNNUMBERED} for a per-process field.
   */
  id(i: number): number {
    const n = this.#ids[i];
    if (n !== UNREAD) return n;
    let got = this.#getters[i]?.(this.subject);
    // an empty text, and on Windows Sysmon's "-", are no value: the Sysmon
    // import records them so, and a rule must answer alike for a process
    // whatever source described it (see `noValue` of compile_item.ts)
    if (got === "" || (got === "-" && this.subject.os === "windows")) {
      got = undefined;
    }
    this.#values[i] = got;
    if (got === undefined) return this.#ids[i] = ABSENT;
    if (!this.#numbered[i]) {
      this.#lows[i] = lowerText(got);
      return this.#ids[i] = UNNUMBERED;
    }
    const t = this.table;
    const m = t.id(i, got);
    this.#lows[i] = t.lower(i, m);
    this.#gens[i] = t.gen[i];
    return this.#ids[i] = m;
  }

  /**
   * The generation of {@link table} that field `i`'s number belongs to
   * (read after {@link id}).
   */
  gen(i: number): number {
    return this.#gens[i];
  }

  /** The value of field `i`, or `undefined` when it has none (see {@link id}). */
  value(i: number): string | undefined {
    if (this.#ids[i] === UNREAD) this.id(i);
    return this.#values[i];
  }

  /** The value of field `i` in lower case. */
  lower(i: number): string | undefined {
    if (this.#ids[i] === UNREAD) this.id(i);
    return this.#lows[i];
  }
}
