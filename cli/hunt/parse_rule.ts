/**
 * Reads one Sigma rule from its YAML text and checks its shape: `title`,
 * `logsource`, `detection` with its search identifiers and `condition`. Pure:
 * the caller reads the file.
 *
 * @module
 */
import { parseAllDocuments, visit } from "yaml";
import { RuleError, UnsupportedRuleError } from "./rule_error.ts";
import { parseCondition } from "./parse_condition.ts";
import {
  type Condition,
  type FieldItem,
  type Selection,
  SIGMA_LEVELS,
  type SigmaLevel,
  type SigmaRule,
  type SigmaValue,
} from "./sigma_rule.ts";

/**
 * Parses a rule. Throws {@link RuleError} naming `file` and the field for
 * malformed YAML or a rule that is not Sigma, {@link UnsupportedRuleError}
 * for rule collections, `timeframe`, aggregations and `near`.
 *
 * @example
 * ```ts
 * import { parseRule } from "./parse_rule.ts";
 * const r = parseRule(`
 * title: Whoami
 * id: 1
 * level: medium
 * logsource: { category: process_creation, product: windows }
 * detection:
 *   selection:
 *     Image|endswith: '\\whoami.exe'
 *   condition: selection
 * `, "whoami.yml");
 * if (r.selections.get("selection")!.alternatives[0][0].modifiers[0] !== "endswith") throw new Error();
 * ```
 */
export function parseRule(text: string, file: string): SigmaRule {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  if (!Array.isArray(docs)) {
    throw new RuleError(file, "YAML", "is empty");
  }
  if (docs.length === 0) throw new RuleError(file, "YAML", "is empty");
  if (docs.length > 1) {
    throw new UnsupportedRuleError(
      file,
      "YAML",
      `a rule collection (${docs.length} documents in one file)`,
    );
  }
  const doc = docs[0];
  if (doc.errors.length) {
    const e = doc.errors[0];
    const off = e.pos[0];
    const before = text.slice(0, off);
    const pos = {
      line: before.split("\n").length,
      col: off - before.lastIndexOf("\n"),
    };
    throw new RuleError(
      file,
      "YAML",
      `is not valid at line ${pos.line}, column ${pos.col}: ${
        e.message.split("\n")[0]
      }`,
    );
  }
  // numbers stay as written: `LogonId: 0x3e7` is the text "0x3e7", not 999
  visit(doc, {
    Scalar(_key, node) {
      const src = (node as { source?: unknown }).source;
      if (typeof node.value === "number" && typeof src === "string") {
        node.value = src;
      }
    },
  });
  const y = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!isMap(y)) throw new RuleError(file, "the document", "is not a map");
  const str = (name: string, required: boolean): string | undefined => {
    const v = y[name];
    if (v === undefined || v === null) {
      if (required) throw new RuleError(file, name, "is missing");
      return undefined;
    }
    if (typeof v === "number") return String(v);
    if (typeof v !== "string") {
      throw new RuleError(file, name, `is a ${typeName(v)}, expected text`);
    }
    return v;
  };
  const title = str("title", true)!;
  const level = str("level", false)?.toLowerCase();
  if (level !== undefined && !SIGMA_LEVELS.includes(level as SigmaLevel)) {
    throw new RuleError(
      file,
      "level",
      `is "${level}", expected one of ${SIGMA_LEVELS.join(", ")}`,
    );
  }
  const ls = y.logsource;
  if (!isMap(ls)) {
    throw new RuleError(
      file,
      "logsource",
      ls === undefined ? "is missing" : "is not a map",
    );
  }
  const lsText = (k: string) =>
    typeof ls[k] === "string" ? (ls[k] as string).toLowerCase() : undefined;
  const det = y.detection;
  if (!isMap(det)) {
    throw new RuleError(
      file,
      "detection",
      det === undefined ? "is missing" : "is not a map",
    );
  }
  if (det.timeframe !== undefined) {
    throw new UnsupportedRuleError(file, "detection.timeframe", "timeframe");
  }
  const selections = new Map<string, Selection>();
  for (const [name, v] of Object.entries(det)) {
    if (name === "condition" || name === "timeframe") continue;
    selections.set(name, parseSelection(name, v, file));
  }
  if (selections.size === 0) {
    throw new RuleError(file, "detection", "has no search identifier");
  }
  const cond = det.condition;
  const names = [...selections.keys()];
  let condition: Condition;
  if (typeof cond === "string") {
    condition = parseCondition(cond, names, file);
  } else if (
    Array.isArray(cond) && cond.length > 0 &&
    cond.every((c) => typeof c === "string")
  ) {
    // a list of conditions (old style): any of them
    const items = cond.map((c, i) =>
      parseCondition(c as string, names, file, `detection.condition[${i}]`)
    );
    condition = items.length === 1 ? items[0] : { kind: "or", items };
  } else {
    throw new RuleError(
      file,
      "detection.condition",
      cond === undefined ? "is missing" : "is not text",
    );
  }
  const tags = Array.isArray(y.tags)
    ? y.tags.filter((t): t is string => typeof t === "string")
    : [];
  return {
    file,
    id: str("id", false),
    title,
    level: level as SigmaLevel | undefined,
    status: str("status", false),
    description: typeof y.description === "string" ? y.description : undefined,
    author: typeof y.author === "string" ? y.author : undefined,
    tags,
    logsource: {
      product: lsText("product"),
      category: lsText("category"),
      service: lsText("service"),
    },
    selections,
    condition,
  };
}

function parseSelection(name: string, v: unknown, file: string): Selection {
  const path = `detection.${name}`;
  if (isMap(v)) return { name, alternatives: [mapItems(v, path, file)] };
  if (Array.isArray(v)) {
    if (v.length === 0) throw new RuleError(file, path, "is an empty list");
    if (v.every(isMap)) {
      return {
        name,
        alternatives: v.map((m, i) =>
          mapItems(m as Record<string, unknown>, `${path}[${i}]`, file)
        ),
      };
    }
    if (v.every(isScalar)) {
      return {
        name,
        alternatives: v.map((k) => [{
          modifiers: [],
          values: [k as SigmaValue],
          path,
        }]),
      };
    }
    throw new RuleError(
      file,
      path,
      "mixes maps and plain values (expected a list of maps or a list of keywords)",
    );
  }
  if (isScalar(v) && v !== null) {
    return {
      name,
      alternatives: [[{ modifiers: [], values: [v as SigmaValue], path }]],
    };
  }
  throw new RuleError(
    file,
    path,
    `is a ${typeName(v)}, expected a map, a list of maps or a list of keywords`,
  );
}

function mapItems(
  m: Record<string, unknown>,
  path: string,
  file: string,
): FieldItem[] {
  const items: FieldItem[] = [];
  for (const [key, v] of Object.entries(m)) {
    const at = `${path}.${key}`;
    const [field, ...modifiers] = key.split("|");
    let values: SigmaValue[];
    if (Array.isArray(v)) {
      if (v.length === 0) throw new RuleError(file, at, "is an empty list");
      if (!v.every(isScalar)) {
        throw new RuleError(file, at, "holds a map or list, expected values");
      }
      values = v as SigmaValue[];
    } else if (isScalar(v)) {
      values = [v as SigmaValue];
    } else {
      throw new RuleError(file, at, `is a ${typeName(v)}, expected a value`);
    }
    items.push({
      field: field === "" ? undefined : field,
      modifiers: modifiers.map((s) => s.trim()),
      values,
      path: at,
    });
  }
  if (items.length === 0) throw new RuleError(file, path, "is an empty map");
  return items;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    !(v instanceof Date);
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === "string" || typeof v === "number" ||
    typeof v === "boolean";
}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "list" : typeof v;
}
