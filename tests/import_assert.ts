/** The two assertions the import and export tests use (no @std here). */
import { isDeepStrictEqual } from "node:util";

/** Throws unless `cond`. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Throws unless `a` and `b` are deeply equal. */
export function assertEquals(a: unknown, b: unknown, msg?: string): void {
  if (!isDeepStrictEqual(a, b)) {
    const show = (v: unknown) =>
      JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}n` : x)?.slice(
        0,
        2000,
      );
    throw new Error(
      `${msg ? msg + ": " : ""}expected ${show(b)}, got ${show(a)}`,
    );
  }
}
