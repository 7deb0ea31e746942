/**
 * Sigma `process_creation` rules over procrec recordings (`procrec hunt`).
 *
 * A rule file is read ({@link parseRule}) and compiled once
 * ({@link compileRule}): its values and modifiers become lower-case strings
 * or RegExps, its condition a tree of tests, and its anchors (texts a match
 * must contain) feed a {@link RuleIndex} so that an event reaches only the
 * rules that can match it. {@link RuleHunter} feeds a recording's events
 * through them, with each process's parent and grandparent as they were at
 * the creation. Fields come from one table ({@link FIELD_TABLE}).
 *
 * Limitations: aggregations (`| count()`), `near`, `timeframe`,
 * correlations, rule collections, `cidr` and `expand` are reported as
 * unsupported; regular expressions are JavaScript's (PCRE-only syntax makes
 * the rule unsupported). A rule needing a field procrec does not have is
 * reported as not applicable, naming the field, never a silent "no match".
 *
 * @module
 */
export { FIELD_NAMES, FIELD_TABLE, type FieldSource } from "./field_table.ts";
export type { HuntSubject, ProcessView } from "./hunt_subject.ts";
export { EventFields, FIELD_INDEX } from "./event_fields.ts";
export { RuleError, UnsupportedRuleError } from "./rule_error.ts";
export * from "./sigma_rule.ts";
export { parseCondition } from "./parse_condition.ts";
export { parseRule } from "./parse_rule.ts";
export { type CompiledItem, compileItem } from "./compile_item.ts";
export { type CompiledRule, compileRule, type HuntOs } from "./compile_rule.ts";
export {
  loadRuleSet,
  type RuleProblem,
  type RuleSet,
} from "./load_rule_set.ts";
export { RuleIndex } from "./rule_index.ts";
export {
  keptFromText,
  keptToText,
  PARSED_RULES_FORMAT,
  type ParsedEntry,
  type ParsedRules,
  parseWithKept,
  ruleTextKey,
} from "./parsed_rules.ts";
export {
  type HuntHit,
  type NotApplicable,
  type RecordingHunt,
  RuleHunter,
} from "./rule_hunter.ts";
export {
  type HuntReport,
  renderHunt,
  renderHuntPieces,
} from "./render_hunt.ts";
export {
  huntReportJsonPieces,
  huntReportToJson,
} from "./hunt_report_to_json.ts";
export { detectionNotes, huntLine } from "./detection_notes.ts";
export { newInB } from "./new_in_b.ts";
