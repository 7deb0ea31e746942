/**
 * A Sigma rule as read from its YAML: metadata, the named search identifiers
 * of its `detection`, and its parsed `condition`. Plain data; compiling it to
 * matchers is {@link compileRule}'s job.
 *
 * @module
 */

/** Sigma levels, lowest first. */
export const SIGMA_LEVELS = [
  "informational",
  "low",
  "medium",
  "high",
  "critical",
] as const;

/** A Sigma rule level. */
export type SigmaLevel = typeof SIGMA_LEVELS[number];

/** A scalar value of a detection item, as YAML gave it. */
export type SigmaValue = string | number | boolean | null;

/**
 * One `field|mod|mod: values` item of a detection map, or one keyword (no
 * field). Its values are alternatives (OR) unless `all` is among the modifiers.
 */
export interface FieldItem {
  /** The Sigma field name; absent for a keyword. */
  field?: string;
  modifiers: string[];
  values: SigmaValue[];
  /** Where it is in the rule (`detection.selection.CommandLine|contains`), for errors. */
  path: string;
}

/**
 * A search identifier: alternatives (OR), each a list of items that must all
 * match (AND). A map is one alternative; a list of maps is several; a list
 * of keywords is one alternative per keyword.
 */
export interface Selection {
  name: string;
  alternatives: FieldItem[][];
}

/** A parsed condition. */
export type Condition =
  | { kind: "and" | "or"; items: Condition[] }
  | { kind: "not"; item: Condition }
  | { kind: "id"; name: string }
  | {
    kind: "of";
    /** At least this many, or all. */
    count: number | "all";
    /** The identifiers the pattern (or `them`) stands for. */
    names: string[];
  };

/** A Sigma rule, read and checked. */
export interface SigmaRule {
  /** The file it came from, as given. */
  file: string;
  id?: string;
  title: string;
  level?: SigmaLevel;
  status?: string;
  description?: string;
  author?: string;
  tags: string[];
  logsource: { product?: string; category?: string; service?: string };
  selections: Map<string, Selection>;
  condition: Condition;
}
