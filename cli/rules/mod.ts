/**
 * Exec rules (`record --rules FILE`): the rule file's language (YAML or
 * JSON: `deny` or `audit`, matched on the resolved path, the file itself,
 * argv, the parent's image, the user, the container), its checks, its
 * encoding for the library's enforcer, and the dry run.
 *
 * Limitations: a `file:` rule names the file by device and inode when the
 * rules load: a hard link is the same file, a copy is not; `container:`
 * matches the id in the cgroup v2 path. See docs/exec-rules.md.
 *
 * @module
 */
export * from "./exec_rule.ts";
export { parseExecRules } from "./parse_exec_rules.ts";
export { readPasswd, resolveExecRules } from "./resolve_exec_rules.ts";
export {
  encodeRuleSet,
  RULE_FILE_CONTENT,
  RuleAction,
  RuleMatch,
} from "./encode_rule_set.ts";
export { type ExecSubject, globMatch, ruleMatches } from "./match_exec_rule.ts";
export { loadExecRules } from "./load_exec_rules.ts";
export { checkArgvRegex } from "./check_argv_regex.ts";
export { byteString, matchArgvRegex } from "./match_argv_regex.ts";
export { type LiveSubject, liveSubjects } from "./live_subjects.ts";
export { renderDryRun } from "./render_dry_run.ts";
export { decidedWithArgvUnread } from "./argv_unread.ts";
