/**
 * The detections of one hunt that another does not have, for
 * `replay --diff A B --rules`: a detection is its rule and what the process
 * ran (image and command line), not its pid or time, so the same activity in
 * both recordings is no news. Pure.
 *
 * @module
 */
import type { HuntHit } from "./rule_hunter.ts";

const key = (h: HuntHit) =>
  JSON.stringify([
    h.rule.id ?? h.rule.file,
    h.image?.toLowerCase() ?? "",
    h.cmdline ?? "",
  ]);

/**
 * Hits of `b` whose rule, image and command line no hit of `a` has.
 *
 * @example
 * ```ts
 * import { newInB } from "./new_in_b.ts";
 * const hit = (id: string, image: string, pid: number) =>
 *   ({ rule: { id, title: id, file: id }, image, cmdline: image, pid }) as unknown as Parameters<typeof newInB>[0][0];
 * const fresh = newInB([hit("r1", "/bin/a", 5)], [hit("r1", "/bin/a", 9), hit("r1", "/bin/b", 10)]);
 * if (fresh.length !== 1 || fresh[0].pid !== 10) throw new Error();
 * ```
 */
export function newInB(
  a: readonly HuntHit[],
  b: readonly HuntHit[],
): HuntHit[] {
  const seen = new Set(a.map(key));
  return b.filter((h) => !seen.has(key(h)));
}
