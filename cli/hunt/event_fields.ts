/**
 * The field values of one {@link HuntSubject}, read from the
 * {@link FIELD_TABLE} only when a rule asks and then kept (original and lower
 * case), so that many rules testing one field read it once.
 *
 * @module
 */
import { FIELD_NAMES, FIELD_TABLE, type FieldGetter } from "./field_table.ts";
import type { HuntSubject } from "./hunt_subject.ts";

/** Index of each field of the table. */
export const FIELD_INDEX: ReadonlyMap<string, number> = new Map(
  FIELD_NAMES.map((n, i) => [n, i]),
);

const GETTERS: Record<"linux" | "windows", (FieldGetter | undefined)[]> = {
  linux: FIELD_NAMES.map((n) => FIELD_TABLE[n].linux),
  windows: FIELD_NAMES.map((n) => FIELD_TABLE[n].windows),
};

const UNREAD = Symbol("unread");

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
  readonly #getters: (FieldGetter | undefined)[];
  readonly #values: (string | undefined | typeof UNREAD)[];
  readonly #lower: (string | undefined | typeof UNREAD)[];

  constructor(readonly subject: HuntSubject) {
    this.#getters = GETTERS[subject.os];
    this.#values = new Array(FIELD_NAMES.length).fill(UNREAD);
    this.#lower = new Array(FIELD_NAMES.length).fill(UNREAD);
  }

  /** The value of field `i`, or `undefined` when unknown. */
  value(i: number): string | undefined {
    const v = this.#values[i];
    if (v !== UNREAD) return v;
    const got = this.#getters[i]?.(this.subject);
    this.#values[i] = got;
    return got;
  }

  /** The value of field `i` in lower case. */
  lower(i: number): string | undefined {
    const v = this.#lower[i];
    if (v !== UNREAD) return v;
    const got = this.value(i)?.toLowerCase();
    this.#lower[i] = got;
    return got;
  }
}
