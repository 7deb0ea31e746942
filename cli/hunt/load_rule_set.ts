/**
 * Parses and compiles many rule files at once. A file that cannot be used is
 * kept as a problem (invalid or unsupported, with its reason), never dropped
 * silently, and the others still load. Pure: takes the texts.
 *
 * @module
 */
import { parseRule } from "./parse_rule.ts";
import { type ParsedRules, parseWithKept } from "./parsed_rules.ts";
import { type CompiledRule, compileRule } from "./compile_rule.ts";
import { RuleError, UnsupportedRuleError } from "./rule_error.ts";

/** A rule file that did not load. */
export interface RuleProblem {
  file: string;
  /** `invalid`: not a valid Sigma rule; `unsupported`: uses a feature the engine lacks. */
  kind: "invalid" | "unsupported";
  /** The field of the rule (`detection.condition`, `YAML`). */
  field: string;
  /** The reason: what is wrong, or the unsupported feature. */
  reason: string;
  message: string;
}

/** Loaded rules and the files that did not load. */
export interface RuleSet {
  rules: CompiledRule[];
  problems: RuleProblem[];
}

/**
 * Loads rule texts (`path` names each in messages).
 *
 * @example
 * ```ts
 * import { loadRuleSet } from "./load_rule_set.ts";
 * const set = loadRuleSet([
 *   { path: "a.yml", text: "title: a\nlogsource: {product: linux}\ndetection: {s: {Image: /bin/sh}, condition: s}\n" },
 *   { path: "b.yml", text: "title: b\nlogsource: {}\ndetection: {s: {Image: x}, condition: s | count() > 5}\n" },
 *   { path: "c.yml", text: "title: [\n" },
 * ]);
 * if (set.rules.length !== 1 || set.problems.map((p) => p.kind).join() !== "unsupported,invalid") throw new Error();
 * ```
 */
export function loadRuleSet(
  files: Iterable<{ path: string; text: string; unreadable?: string }>,
  options: {
    /** Parsed rules kept from earlier runs (see {@link parseWithKept}); new ones are added. */
    kept?: ParsedRules;
  } = {},
): RuleSet {
  const kept = options.kept;
  const rules: CompiledRule[] = [];
  const problems: RuleProblem[] = [];
  for (const { path, text, unreadable } of files) {
    if (unreadable !== undefined) {
      problems.push({
        file: path,
        kind: "invalid",
        field: "file",
        reason: unreadable,
        message: `Cannot read rule file "${path}": ${unreadable}`,
      });
      continue;
    }
    try {
      const parsed = kept
        ? parseWithKept(text, path, kept)
        : parseRule(text, path);
      rules.push(compileRule(parsed));
    } catch (e) {
      if (e instanceof UnsupportedRuleError) {
        problems.push({
          file: path,
          kind: "unsupported",
          field: e.field,
          reason: e.feature,
          message: e.message,
        });
      } else if (e instanceof RuleError) {
        problems.push({
          file: path,
          kind: "invalid",
          field: e.field,
          reason: e.detail,
          message: e.message,
        });
      } else {
        // the YAML reader's own errors (alias bombs, deep nesting)
        const detail = `cannot be read: ${(e as Error).message}`;
        problems.push({
          file: path,
          kind: "invalid",
          field: "YAML",
          reason: detail,
          message: new RuleError(path, "YAML", detail).message,
        });
      }
    }
  }
  return { rules, problems };
}
