/**
 * Parses a Sigma `condition`: identifiers, `and`, `or`, `not`, parentheses,
 * `1 of PATTERN`, `all of PATTERN`, `any of`, with `them` and `*` wildcards
 * in patterns (the quantifiers the specification and pySigma know: `2 of`
 * is refused). Identifiers starting with `_` are left out of `them` and of
 * every pattern, by the specification's convention, unless the pattern
 * starts with `_` itself. Precedence, loosest first: `or`, `and`, `not`.
 * Aggregations (`| count()`) and `near` are reported as unsupported.
 *
 * @module
 */
import type { Condition } from "./sigma_rule.ts";
import { RuleError, UnsupportedRuleError } from "./rule_error.ts";

/**
 * Parses `text` against the rule's search identifiers. Throws
 * {@link RuleError} (naming `field`) for bad syntax or an unknown identifier,
 * {@link UnsupportedRuleError} for aggregations and `near`.
 *
 * @example
 * ```ts
 * import { parseCondition } from "./parse_condition.ts";
 * const c = parseCondition("sel and not 1 of filter_*", ["sel", "filter_a", "filter_b"], "r.yml");
 * if (JSON.stringify(c) !== JSON.stringify({ kind: "and", items: [{ kind: "id", name: "sel" },
 *   { kind: "not", item: { kind: "of", count: 1, names: ["filter_a", "filter_b"] } }] })) throw new Error(JSON.stringify(c));
 * ```
 */
export function parseCondition(
  text: string,
  identifiers: string[],
  file: string,
  field = "detection.condition",
): Condition {
  // (a hostile condition can be megabytes: its start stands for it)
  const shown = text.length > 200 ? `${text.slice(0, 200)}...` : text;
  const bad = (detail: string): never => {
    throw new RuleError(file, field, `"${shown}": ${detail}`);
  };
  const pipe = text.indexOf("|");
  if (pipe >= 0) {
    throw new UnsupportedRuleError(
      file,
      field,
      `aggregation "${text.slice(pipe).trim()}"`,
    );
  }
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  if (tokens.some((t) => t.toLowerCase() === "near")) {
    throw new UnsupportedRuleError(file, field, '"near"');
  }
  let at = 0;
  // (parentheses and `not`s nest: bounded, so that a hostile rule gets an
  // error that says so, not the stack's)
  let depth = 0;
  const deeper = () => {
    if (++depth > MAX_CONDITION_DEPTH) {
      bad(
        `nested deeper than ${MAX_CONDITION_DEPTH} levels of parentheses and "not"`,
      );
    }
  };
  const peek = () => tokens[at]?.toLowerCase();
  const known = new Set(identifiers);

  const expr = (): Condition => {
    const items = [and()];
    while (peek() === "or") {
      at++;
      items.push(and());
    }
    return items.length === 1 ? items[0] : { kind: "or", items };
  };
  const and = (): Condition => {
    const items = [not()];
    while (peek() === "and") {
      at++;
      items.push(not());
    }
    return items.length === 1 ? items[0] : { kind: "and", items };
  };
  const not = (): Condition => {
    if (peek() === "not") {
      at++;
      deeper();
      const item = not();
      depth--;
      return { kind: "not", item };
    }
    return primary();
  };
  const primary = (): Condition => {
    const t = tokens[at];
    if (t === undefined) return bad("ends where an identifier was expected");
    const low = t.toLowerCase();
    if (t === "(") {
      at++;
      deeper();
      const e = expr();
      depth--;
      if (tokens[at] !== ")") bad(`expected ")" at token ${at + 1}`);
      at++;
      return e;
    }
    if (["and", "or", ")", "of", "them"].includes(low)) {
      return bad(`unexpected "${t}" at token ${at + 1}`);
    }
    if (tokens[at + 1]?.toLowerCase() === "of") {
      const count = low === "all"
        ? "all"
        : low === "any" || t === "1"
        ? 1
        : bad(
          /^[0-9]+$/.test(t)
            ? `"${t} of": Sigma's conditions take "1 of", "any of" or "all of" (a count of matching identifiers is no part of the specification)`
            : `"${t} of": expected 1, any or all before "of"`,
        );
      const pattern = tokens[at + 2];
      if (pattern === undefined || pattern === "(" || pattern === ")") {
        return bad(`"${t} of" needs a pattern or "them"`);
      }
      at += 3;
      let names: string[];
      if (pattern.toLowerCase() === "them") {
        // `them` leaves out identifiers starting with an underscore
        names = identifiers.filter((n) => !n.startsWith("_"));
      } else {
        const re = new RegExp(
          "^" +
            pattern.split("*").map((s) =>
              s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
            ).join(".*") + "$",
        );
        // (as `them` does, unless the pattern names them: `1 of _filter*`)
        const hidden = !pattern.startsWith("_");
        names = identifiers.filter((n) =>
          re.test(n) && !(hidden && n.startsWith("_"))
        );
      }
      if (names.length === 0) {
        bad(`"${t} of ${pattern}" matches no search identifier`);
      }
      return { kind: "of", count, names };
    }
    if (!known.has(t)) {
      return bad(`"${t}" is not a search identifier of the detection`);
    }
    at++;
    return { kind: "id", name: t };
  };

  if (tokens.length === 0) bad("is empty");
  const c = expr();
  if (at < tokens.length) bad(`unexpected "${tokens[at]}" at token ${at + 1}`);
  return c;
}

/**
 * Levels of parentheses and `not` a condition may nest (SigmaHQ's deepest
 * is a handful; the compiler and matcher recurse once a level).
 */
export const MAX_CONDITION_DEPTH = 256;
