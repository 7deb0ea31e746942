/**
 * Parsed rules kept by the SHA-256 of their text, so that a run over rule
 * files it has seen before skips their YAML (the slow part of loading:
 * about a second of CPU for SigmaHQ's 1,629 rules). A kept entry is the
 * parse's whole outcome — the rule, or the error it raised — as JSON; the
 * file's path is not part of it and is put back when the entry is used.
 * Pure: the caller keeps the entries where it likes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { parseRule } from "./parse_rule.ts";
import { RuleError, UnsupportedRuleError } from "./rule_error.ts";
import type { Selection, SigmaRule } from "./sigma_rule.ts";

/**
 * The shape of kept entries: entries kept under another value are not
 * used. It names the parser's sources (parse_rule.ts, parse_condition.ts,
 * sigma_rule.ts, rule_error.ts) by the start of their SHA-256, and a test
 * fails until it is set anew when they change.
 */
export const PARSED_RULES_FORMAT = "procrec-sigma-parsed:4c5ca365a49d6921";

/** A parse's outcome, without the file's path. */
export type ParsedEntry =
  | { rule: Omit<SigmaRule, "file" | "selections">; selections: Selection[] }
  | { error: "invalid" | "unsupported"; field: string; detail: string };

/** Where kept entries are looked up and added, by {@link ruleTextKey}. */
export interface ParsedRules {
  get(key: string): ParsedEntry | undefined;
  set(key: string, entry: ParsedEntry): void;
}

/** The key of a rule text: its SHA-256, hex. */
export function ruleTextKey(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * {@link parseRule} through `kept`: a text seen before gives back what its
 * parse gave then (the same rule, or the same error naming `file`); a new
 * one is parsed and its outcome added. Errors other than the rule errors
 * (the YAML reader's own) are thrown and not kept.
 *
 * @example
 * ```ts
 * import { parseWithKept, type ParsedEntry } from "./parsed_rules.ts";
 * const kept = new Map<string, ParsedEntry>();
 * const text = "title: t\nlogsource: {}\ndetection: {s: {Image: x}, condition: s}\n";
 * const a = parseWithKept(text, "a.yml", kept);
 * const b = parseWithKept(text, "b.yml", kept);
 * if (kept.size !== 1 || b.file !== "b.yml" || b.selections.get("s")?.alternatives[0][0].values[0] !== "x") throw new Error();
 * if (a.title !== b.title) throw new Error();
 * ```
 */
export function parseWithKept(
  text: string,
  file: string,
  kept: ParsedRules,
): SigmaRule {
  const key = ruleTextKey(text);
  const entry = kept.get(key);
  if (entry !== undefined) return fromEntry(entry, file);
  let rule: SigmaRule;
  try {
    rule = parseRule(text, file);
  } catch (e) {
    if (e instanceof UnsupportedRuleError) {
      kept.set(key, {
        error: "unsupported",
        field: e.field,
        detail: e.feature,
      });
    } else if (e instanceof RuleError) {
      kept.set(key, { error: "invalid", field: e.field, detail: e.detail });
    }
    throw e;
  }
  const { file: _file, selections, ...rest } = rule;
  kept.set(key, { rule: rest, selections: [...selections.values()] });
  return rule;
}

function fromEntry(entry: ParsedEntry, file: string): SigmaRule {
  if ("error" in entry) {
    throw entry.error === "unsupported"
      ? new UnsupportedRuleError(file, entry.field, entry.detail)
      : new RuleError(file, entry.field, entry.detail);
  }
  // the entry's objects become the rule's (rules are never changed)
  return {
    ...entry.rule,
    file,
    selections: new Map(entry.selections.map((s) => [s.name, s])),
  };
}

/**
 * Checks that `x` (read back from where entries were kept) has the shape of
 * a {@link ParsedEntry}, so that a damaged store is noticed and not used.
 */
export function isParsedEntry(x: unknown): x is ParsedEntry {
  if (typeof x !== "object" || x === null) return false;
  const e = x as Record<string, unknown>;
  if ("error" in e) {
    return (e.error === "invalid" || e.error === "unsupported") &&
      typeof e.field === "string" && typeof e.detail === "string";
  }
  const r = e.rule as Record<string, unknown> | undefined;
  return typeof r === "object" && r !== null && typeof r.title === "string" &&
    Array.isArray(r.tags) && typeof r.logsource === "object" &&
    typeof r.condition === "object" && r.condition !== null &&
    Array.isArray(e.selections) &&
    e.selections.every((s) =>
      typeof s === "object" && s !== null && typeof s.name === "string" &&
      Array.isArray(s.alternatives)
    );
}

/**
 * Kept entries as one text: a first line naming {@link PARSED_RULES_FORMAT}
 * and the SHA-256 of the rest, then the entries as JSON.
 */
export function keptToText(kept: ReadonlyMap<string, ParsedEntry>): string {
  const body = JSON.stringify(Object.fromEntries(kept));
  const sha256 = createHash("sha256").update(body).digest("hex");
  return `${JSON.stringify({ format: PARSED_RULES_FORMAT, sha256 })}\n${body}`;
}

/**
 * The entries of a text {@link keptToText} wrote; `undefined` when it is of
 * another format, damaged (its SHA-256 differs) or not entries at all.
 *
 * @example
 * ```ts
 * import { keptFromText, keptToText, parseWithKept, type ParsedEntry } from "./parsed_rules.ts";
 * const kept = new Map<string, ParsedEntry>();
 * // an invalid rule is kept too, as its error
 * try { parseWithKept("title: [\n", "bad.yml", kept); } catch (e) { if (!(e instanceof Error)) throw e; }
 * parseWithKept("title: t\nlogsource: {}\ndetection: {s: {Image: x}, condition: s}\n", "a.yml", kept);
 * const text = keptToText(kept);
 * if (keptFromText(text)?.size !== 2) throw new Error();
 * if (keptFromText(text.replace('"t"', '"T"')) !== undefined) throw new Error("damage unseen");
 * ```
 */
export function keptFromText(
  text: string,
): Map<string, ParsedEntry> | undefined {
  const nl = text.indexOf("\n");
  if (nl < 0) return undefined;
  try {
    const head = JSON.parse(text.slice(0, nl));
    if (head?.format !== PARSED_RULES_FORMAT) return undefined;
    const body = text.slice(nl + 1);
    if (createHash("sha256").update(body).digest("hex") !== head.sha256) {
      return undefined;
    }
    const entries = JSON.parse(body);
    if (typeof entries !== "object" || entries === null) return undefined;
    const out = new Map<string, ParsedEntry>();
    for (const [k, v] of Object.entries(entries)) {
      if (!/^[0-9a-f]{64}$/.test(k) || !isParsedEntry(v)) return undefined;
      out.set(k, v);
    }
    return out;
  } catch {
    return undefined;
  }
}
