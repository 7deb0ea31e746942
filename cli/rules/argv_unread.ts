/**
 * The exec rule decisions taken with the arguments unread. The enforcer
 * (`driver/linux/exec_rules.c`) fails closed when a rule has an `argv`
 * matcher and the caller's arguments cannot be read (its memory is gone,
 * the pointer is not mapped, it did not go to sleep in time, the enforcer ran
 * out of memory, or the exec call is one it does not read): the matcher
 * counts as matching, and the decision it records has no `argv` and
 * `argvTruncated`. The recorder counts those decisions, so that a deny or an
 * audit that rested on arguments nobody read is said at the end of the
 * recording and in `--stats-out`, not only found by reading each decision.
 * Pure.
 *
 * @module
 */

import type { ProcEvent } from "../events/types.ts";

/**
 * Whether `ev` is an exec rule decision (`exec_denied`, `exec_audited`)
 * taken with the arguments unread: no `argv` and `argvTruncated`, the pair
 * the enforcer writes only then (an exec with no arguments at all has no
 * `argv` and no `argvTruncated`; arguments longer than a decision keeps have
 * both).
 *
 * @example
 * ```ts
 * import { decidedWithArgvUnread } from "./argv_unread.ts";
 * const base = {
 *   t: 0, pid: 2, tid: 2, rule: "r", image: "/tmp/x", ppid: 1, uid: 0, euid: 0,
 * };
 * const unread = { ...base, kind: "exec_denied" as const, argvTruncated: true };
 * const none = { ...base, kind: "exec_audited" as const };
 * const cut = { ...unread, argv: ["/tmp/x", "AAAA"] };
 * if (!decidedWithArgvUnread(unread)) throw new Error("unread");
 * if (decidedWithArgvUnread(none) || decidedWithArgvUnread(cut)) throw new Error("read");
 * ```
 */
export function decidedWithArgvUnread(ev: ProcEvent): boolean {
  return (ev.kind === "exec_denied" || ev.kind === "exec_audited") &&
    ev.argv === undefined && ev.argvTruncated === true;
}
