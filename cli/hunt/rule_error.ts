/**
 * Why a Sigma rule cannot be used: it is malformed, or it uses a feature the
 * engine does not have. Both name the rule file and the field.
 *
 * @module
 */

/**
 * A rule file that is not a valid Sigma rule (bad YAML, a missing or
 * malformed field). The message names the file and the field.
 *
 * @example
 * ```ts
 * import { RuleError } from "./rule_error.ts";
 * const e = new RuleError("r.yml", "detection.condition", "is missing");
 * if (e.message !== 'Cannot load Sigma rule "r.yml": detection.condition is missing') throw new Error(e.message);
 * ```
 */
export class RuleError extends SyntaxError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`Cannot load Sigma rule "${file}": ${field} ${detail}`);
    this.name = "RuleError";
  }
}

/**
 * A valid rule that uses a Sigma feature this engine does not implement
 * (an aggregation, `near`, a correlation, an unknown modifier). `feature`
 * names it.
 *
 * @example
 * ```ts
 * import { UnsupportedRuleError } from "./rule_error.ts";
 * const e = new UnsupportedRuleError("r.yml", "detection.condition", "aggregation `| count()`");
 * if (!e.message.includes("unsupported: aggregation")) throw new Error(e.message);
 * ```
 */
export class UnsupportedRuleError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly feature: string,
  ) {
    super(
      `Cannot compile Sigma rule "${file}": ${field} unsupported: ${feature}`,
    );
    this.name = "UnsupportedRuleError";
  }
}
