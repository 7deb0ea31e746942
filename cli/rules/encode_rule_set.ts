/**
 * Encodes resolved rules as the argument of `PR_CTL_EXEC_RULES`: `struct
 * pr_rule_set`, then each `struct pr_rule`, then each `struct pr_rule_file`
 * (`driver/include/procrec_abi.h`), by `ABI_LAYOUT`. Pure.
 *
 * @module
 */
import { ABI_LAYOUT } from "../native/abi_layout.ts";
import type { ResolvedExecRule } from "./exec_rule.ts";

/** `PR_RULE_DENY`, `PR_RULE_AUDIT`. */
export const RuleAction = { deny: 1, audit: 2 } as const;
/** `PR_RM_*`. */
export const RuleMatch = {
  PATH: 0x01,
  FILE: 0x02,
  UID: 0x04,
  PARENT: 0x08,
  CGROUP: 0x10,
  ARGV: 0x20,
  ARGV_REGEX: 0x40,
} as const;

/** `PR_RF_CONTENT`: a rule file's size and SHA-256 are given (copies match). */
export const RULE_FILE_CONTENT = 0x1;

const S = ABI_LAYOUT.structs;
const utf8 = new TextEncoder();

/**
 * The bytes of a rule set; `exemptPid` is never denied (the recorder).
 *
 * @example
 * ```ts
 * import { encodeRuleSet } from "./encode_rule_set.ts";
 * const b = encodeRuleSet([{ id: "a", action: "deny", path: "/x", line: 1 }], 7);
 * const v = new DataView(b.buffer);
 * if (v.getUint32(4, true) !== 1 || v.getUint32(12, true) !== 7) throw new Error();
 * ```
 */
export function encodeRuleSet(
  rules: ResolvedExecRule[],
  exemptPid: number,
): Uint8Array<ArrayBuffer> {
  const files = rules.flatMap((r, i) =>
    (r.fileIds ?? []).map(([dev, ino, size, sha]) =>
      [dev, ino, i, size, sha] as const
    )
  );
  const R = S.pr_rule, F = S.pr_rule_file, SET = S.pr_rule_set;
  const buf = new Uint8Array(
    SET.size + rules.length * R.size + files.length * F.size,
  );
  const v = new DataView(buf.buffer);
  v.setUint32(SET.fields.size, SET.size, true);
  v.setUint32(SET.fields.rules, rules.length, true);
  v.setUint32(SET.fields.files, files.length, true);
  v.setUint32(SET.fields.exempt_pid, exemptPid, true);
  rules.forEach((r, i) => {
    const at = SET.size + i * R.size;
    let match = 0;
    const put = (
      field: "path" | "parent" | "cgroup" | "argv",
      lenField: "path_len" | "parent_len" | "cgroup_len" | "argv_len",
      s: string,
    ) => {
      const b = utf8.encode(s);
      buf.set(b, at + R.fields[field]);
      v.setUint16(at + R.fields[lenField], b.length, true);
    };
    if (r.path !== undefined) {
      match |= RuleMatch.PATH;
      put("path", "path_len", r.path);
    }
    if (r.fileIds !== undefined) match |= RuleMatch.FILE;
    if (r.uid !== undefined) {
      match |= RuleMatch.UID;
      v.setUint32(at + R.fields.uid, r.uid, true);
    }
    if (r.parent !== undefined) {
      match |= RuleMatch.PARENT;
      put("parent", "parent_len", r.parent);
    }
    if (r.cgroup !== undefined) {
      match |= RuleMatch.CGROUP;
      put("cgroup", "cgroup_len", r.cgroup);
    }
    if (r.argv !== undefined) {
      match |= RuleMatch.ARGV;
      if ("regex" in r.argv) {
        match |= RuleMatch.ARGV_REGEX;
        put("argv", "argv_len", r.argv.regex);
      } else put("argv", "argv_len", r.argv.contains);
    }
    v.setUint32(at + R.fields.action, RuleAction[r.action], true);
    v.setUint32(at + R.fields.match, match, true);
  });
  const fat = SET.size + rules.length * R.size;
  files.forEach(([dev, ino, rule, size, sha], i) => {
    const at = fat + i * F.size;
    v.setBigUint64(at + F.fields.dev, BigInt(dev), true);
    v.setBigUint64(at + F.fields.ino, BigInt(ino), true);
    v.setUint32(at + F.fields.rule, rule, true);
    if (size !== undefined && sha !== undefined && /^[0-9a-f]{64}$/.test(sha)) {
      v.setUint32(at + F.fields.flags, RULE_FILE_CONTENT, true);
      v.setBigUint64(at + F.fields.size, BigInt(size), true);
      for (let k = 0; k < 32; k++) {
        buf[at + F.fields.sha256 + k] = parseInt(
          sha.slice(2 * k, 2 * k + 2),
          16,
        );
      }
    }
  });
  return buf;
}
