/**
 * Compiles a parsed Sigma rule to one test over an event's fields, and works
 * out which fields it needs, so that a rule procrec cannot answer is
 * reported instead of silently never matching.
 *
 * @module
 */
import type { Condition, FieldItem, SigmaRule } from "./sigma_rule.ts";
import {
  type CompiledItem,
  compileItem,
  type FieldsTest,
  noValue,
  score,
} from "./compile_item.ts";
import { FIELD_TABLE } from "./field_table.ts";
import { ABSENT, FIELD_INDEX, UNNUMBERED } from "./event_fields.ts";
import { RuleError } from "./rule_error.ts";

/** The operating systems procrec records. */
export type HuntOs = "linux" | "windows";

/**
 * Alternatives one of which holds whenever a condition holds: the field's
 * lower-case value contains one of the texts.
 */
export type AnchorGroup = { field: number; texts: string[] }[];

/**
 * Groups that all hold whenever the rule matches (an AND of
 * {@link AnchorGroup}s); empty when none is known.
 */
export type Anchors = AnchorGroup[];

/** At most this many groups per rule (the most selective are kept). */
export const MAX_ANCHOR_GROUPS = 8;

/** A rule ready to run. */
export interface CompiledRule {
  rule: SigmaRule;
  /** The test: whether one event matches. */
  test: FieldsTest;
  /** What every match needs, for the rule index; empty when unknown. */
  anchors: Anchors;
  /** Every field the detection names. */
  fields: string[];
  /** Fields without which the rule can never match. */
  required: string[];
  /**
   * Per OS: why the rule cannot apply there (its logsource names another
   * product or category, or it needs a field procrec lacks there);
   * absent when it applies.
   */
  notApplicable: Partial<Record<HuntOs, string>>;
  /** Per OS: fields procrec lacks there that the rule names but does not need (a filter or one alternative of several). */
  unanswered: Partial<Record<HuntOs, string[]>>;
}

/**
 * Compiles a rule. Throws {@link RuleError} / {@link UnsupportedRuleError}
 * (from {@link compileItem}) naming the rule file and the item.
 *
 * @example
 * ```ts
 * import { compileRule } from "./compile_rule.ts";
 * import { parseRule } from "./parse_rule.ts";
 * const c = compileRule(parseRule(`
 * title: t
 * logsource: { category: process_creation, product: windows }
 * detection:
 *   sel: { OriginalFileName: 'whoami.exe' }
 *   filter: { Provider_Name: x }
 *   condition: sel and not filter
 * `, "r.yml"));
 * if (c.notApplicable.windows || c.notApplicable.linux !== "logsource product windows") throw new Error(JSON.stringify(c.notApplicable));
 * if (c.unanswered.windows?.[0] !== "Provider_Name") throw new Error();
 * ```
 */
export function compileRule(rule: SigmaRule): CompiledRule {
  const tests = new Map<string, FieldsTest>();
  const anchors = new Map<string, Anchors>();
  const fields = new Set<string>();
  for (const [name, sel] of rule.selections) {
    const altAnchors: Anchors[] = [];
    const alts = sel.alternatives.map((items) => {
      for (const it of items) {
        if (it.field !== undefined) fields.add(it.field);
        // (the fields a fieldref compares with are read too: one procrec
        // lacks, or a misspelt one, is named as any other field is)
        for (const f of fieldrefTargets(it)) fields.add(f);
      }
      const compiled = items.map((it) => compileItem(it, rule.file));
      altAnchors.push(allOf(compiled.map(itemAnchors)));
      const ts = compiled.map((c) => c.test);
      return ts.length === 1 ? ts[0] : (f: Parameters<FieldsTest>[0]) => {
        for (const t of ts) if (!t(f)) return false;
        return true;
      };
    });
    tests.set(
      name,
      alts.length === 1 ? alts[0] : (f) => {
        for (const t of alts) if (t(f)) return true;
        return false;
      },
    );
    anchors.set(name, oneOf(altAnchors));
  }
  const test = rememberRule(
    compileCondition(rule.condition, tests, rule.file),
    rule,
  );
  const ruleAnchors = conditionAnchors(rule.condition, anchors);
  const required = [...requiredFields(rule.condition, rule)].sort();
  const notApplicable: CompiledRule["notApplicable"] = {};
  const unanswered: CompiledRule["unanswered"] = {};
  const { product, category, service } = rule.logsource;
  for (const os of ["linux", "windows"] as const) {
    if (category !== undefined && category !== "process_creation") {
      notApplicable[os] =
        `logsource category ${category} (procrec hunts process_creation rules)`;
      continue;
    }
    // (a service's log, e.g. auth or auditd, without the category: not
    // process creations either; found by review)
    if (category === undefined && service !== undefined) {
      notApplicable[os] =
        `logsource service ${service} (procrec hunts process_creation rules)`;
      continue;
    }
    if (product !== undefined && product !== os) {
      notApplicable[os] = `logsource product ${product}`;
      continue;
    }
    const lacks = (f: string) => !FIELD_TABLE[f]?.[os];
    const needed = required.filter(lacks);
    if (needed.length) {
      notApplicable[os] = `needs field${needed.length > 1 ? "s" : ""} ${
        needed.join(", ")
      }, which procrec does not have on ${os}`;
      continue;
    }
    const other = [...fields].filter(lacks).sort();
    if (other.length) unanswered[os] = other;
  }
  return {
    rule,
    test,
    anchors: ruleAnchors,
    fields: [...fields].sort(),
    required,
    notApplicable,
    unanswered,
  };
}

function compileCondition(
  c: Condition,
  tests: Map<string, FieldsTest>,
  file: string,
): FieldsTest {
  switch (c.kind) {
    case "id": {
      const t = tests.get(c.name);
      if (!t) {
        throw new RuleError(file, "detection.condition", `names "${c.name}"`);
      }
      return t;
    }
    case "not": {
      const t = compileCondition(c.item, tests, file);
      return (f) => !t(f);
    }
    case "and": {
      const ts = c.items.map((i) => compileCondition(i, tests, file));
      return (f) => {
        for (const t of ts) if (!t(f)) return false;
        return true;
      };
    }
    case "or": {
      const ts = c.items.map((i) => compileCondition(i, tests, file));
      return (f) => {
        for (const t of ts) if (t(f)) return true;
        return false;
      };
    }
    case "of": {
      const ts = c.names.map((n) =>
        compileCondition({ kind: "id", name: n }, tests, file)
      );
      if (c.count === "all") {
        return (f) => {
          for (const t of ts) if (!t(f)) return false;
          return true;
        };
      }
      const need = c.count;
      return (f) => {
        let n = 0;
        for (const t of ts) if (t(f) && ++n >= need) return true;
        return false;
      };
    }
  }
}

/** Fields every match of the condition reads a value of. */
function requiredFields(c: Condition, rule: SigmaRule): Set<string> {
  const union = (sets: Set<string>[]) => new Set(sets.flatMap((s) => [...s]));
  const inter = (sets: Set<string>[]) =>
    sets.length === 0
      ? new Set<string>()
      : new Set([...sets[0]].filter((x) => sets.every((s) => s.has(x))));
  const ofSelection = (name: string) =>
    inter(
      rule.selections.get(name)!.alternatives.map((items) =>
        new Set(
          items.filter(needsValue).flatMap((i) => [
            i.field!,
            ...requiredTargets(i),
          ]),
        )
      ),
    );
  switch (c.kind) {
    case "id":
      return ofSelection(c.name);
    case "not":
      return new Set();
    case "and":
      return union(c.items.map((i) => requiredFields(i, rule)));
    case "or":
      return inter(c.items.map((i) => requiredFields(i, rule)));
    case "of":
      return c.count === "all"
        ? union(c.names.map(ofSelection))
        : inter(c.names.map(ofSelection));
  }
}

/** The field names a `fieldref` item compares its field with (none for other items). */
function fieldrefTargets(i: FieldItem): string[] {
  return i.modifiers.some((m) => m.toLowerCase() === "fieldref")
    ? i.values.filter((v) => v !== null).map(String)
    : [];
}

/**
 * The fieldref targets that must all have a value for the item to match:
 * every one with `all`, the one when there is one (of several, any may do).
 */
function requiredTargets(i: FieldItem): string[] {
  const targets = fieldrefTargets(i);
  return targets.length === 1 ||
      i.modifiers.some((m) => m.toLowerCase() === "all")
    ? targets
    : [];
}

/** Whether an item can only match when its field has a value. */
function needsValue(i: FieldItem): boolean {
  if (i.field === undefined) return false;
  // (null, '' and on Windows '-' match a field without a value)
  if (i.values.some((v) => noValue(v, i.modifiers) !== undefined)) {
    return false;
  }
  const mods = i.modifiers.map((m) => m.toLowerCase());
  if (mods.includes("exists")) {
    return i.values[0] === true || i.values[0] === "true";
  }
  return true;
}

function itemAnchors(c: CompiledItem): Anchors {
  return c.field >= 0 && c.anchor
    ? [[{ field: c.field, texts: c.anchor }]]
    : [];
}

function groupScore(g: AnchorGroup): number {
  return score(g.flatMap((x) => x.texts));
}

/** Conditions that all hold: all their groups (the best few). */
function allOf(as: Anchors[]): Anchors {
  const all = as.flat();
  if (all.length <= MAX_ANCHOR_GROUPS) return all;
  return all.sort((a, b) => groupScore(b) - groupScore(a)).slice(
    0,
    MAX_ANCHOR_GROUPS,
  );
}

/**
 * Conditions one of which holds: one group, the union of each one's best
 * group (none when one of them has none).
 */
function oneOf(as: Anchors[]): Anchors {
  if (as.length === 0 || as.some((a) => a.length === 0)) return [];
  if (as.length === 1) return as[0];
  return [
    as.flatMap((a) =>
      a.reduce((b, g) => groupScore(g) > groupScore(b) ? g : b)
    ),
  ];
}

function conditionAnchors(
  c: Condition,
  anchors: Map<string, Anchors>,
): Anchors {
  switch (c.kind) {
    case "id":
      return anchors.get(c.name) ?? [];
    case "not":
      return [];
    case "and":
      return allOf(c.items.map((i) => conditionAnchors(i, anchors)));
    case "or":
      return oneOf(c.items.map((i) => conditionAnchors(i, anchors)));
    case "of":
      return c.count === "all"
        ? allOf(c.names.map((n) => anchors.get(n) ?? []))
        : oneOf(c.names.map((n) => anchors.get(n) ?? []));
  }
}

/** Distinct value pairs a two-field rule remembers before it starts afresh. */
const MAX_PAIRS = 1 << 16;
/** Pairs a two-field rule looks up before it judges whether remembering pays. */
const PAIRS_TRIED = 1 << 13;

/**
 * A rule that reads one or two fields (no keyword, no fieldref) remembers
 * its verdict by the numbers of their values ({@link EventFields.id}; an
 * absent value counts as one); other rules, and values without a number,
 * are tested each time.
 */
function rememberRule(test: FieldsTest, rule: SigmaRule): FieldsTest {
  const read = new Set<number>();
  for (const sel of rule.selections.values()) {
    for (const items of sel.alternatives) {
      for (const it of items) {
        const i = it.field === undefined
          ? undefined
          : FIELD_INDEX.get(it.field);
        if (
          i === undefined ||
          it.modifiers.some((m) => m.toLowerCase() === "fieldref")
        ) return test;
        read.add(i);
      }
    }
  }
  const [a, b] = [...read];
  if (read.size === 1) {
    let gen = 0;
    let seen = new Uint8Array(0);
    return (f) => {
      const id = f.id(a);
      if (id === UNNUMBERED) return test(f);
      if (id !== ABSENT && f.gen(a) !== gen) {
        gen = f.gen(a);
        seen = new Uint8Array(16);
      }
      const k = id + 1; // an absent value is 0
      if (k >= seen.length) {
        const grown = new Uint8Array(Math.max(k + 1, seen.length * 2, 16));
        grown.set(seen);
        seen = grown;
      } else if (seen[k] !== 0) return seen[k] === 2;
      const yes = test(f);
      seen[k] = yes ? 2 : 1;
      return yes;
    };
  }
  if (read.size === 2) {
    let genA = 0, genB = 0;
    const seen = new PairVerdicts();
    // pairs asked and pairs found: when few recur (two command lines, say)
    // remembering costs more than it saves, and the rule stops remembering
    let asked = 0, found = 0;
    return (f) => {
      if (asked === PAIRS_TRIED && found * 2 < asked) return test(f);
      const x = f.id(a), y = f.id(b);
      if (x === UNNUMBERED || y === UNNUMBERED) return test(f);
      const counting = asked < PAIRS_TRIED;
      if (counting) asked++;
      // an absent value keeps whichever generation is current
      const ga = x === ABSENT ? genA : f.gen(a);
      const gb = y === ABSENT ? genB : f.gen(b);
      if (ga !== genA || gb !== genB || seen.size >= MAX_PAIRS) {
        genA = ga;
        genB = gb;
        seen.clear();
      }
      const k = (x + 1) + (y + 1) * (1 << 15);
      const known = seen.get(k);
      if (known !== 0) {
        if (counting) found++;
        return known === 2;
      }
      const yes = test(f);
      seen.set(k, yes ? 2 : 1);
      return yes;
    };
  }
  return test;
}

/**
 * Verdicts (1 no, 2 yes) by a non-negative 31-bit key, in an open-addressing
 * table of typed arrays: a Map of numbers costs several times more per
 * lookup, and the rules reading two fields ask on nearly every process.
 */
class PairVerdicts {
  #keys = new Int32Array(256);
  #verdicts = new Uint8Array(256);
  #shift = 24;
  size = 0;

  /** The verdict stored under `k`, 0 when none. */
  get(k: number): number {
    const keys = this.#keys;
    const mask = keys.length - 1;
    const stored = k + 1;
    for (
      let i = Math.imul(k, 0x9e3779b1) >>> this.#shift;;
      i = (i + 1) & mask
    ) {
      const x = keys[i];
      if (x === stored) return this.#verdicts[i];
      if (x === 0) return 0;
    }
  }

  /** Stores verdict `v` under `k` (not stored yet). */
  set(k: number, v: number): void {
    if ((this.size + 1) * 2 > this.#keys.length) this.#grow();
    this.#put(k + 1, v);
    this.size++;
  }

  clear(): void {
    this.#keys.fill(0);
    this.size = 0;
  }

  #put(stored: number, v: number): void {
    const keys = this.#keys;
    const mask = keys.length - 1;
    let i = Math.imul(stored - 1, 0x9e3779b1) >>> this.#shift;
    while (keys[i] !== 0) i = (i + 1) & mask;
    keys[i] = stored;
    this.#verdicts[i] = v;
  }

  #grow(): void {
    const keys = this.#keys, verdicts = this.#verdicts;
    this.#keys = new Int32Array(keys.length * 2);
    this.#verdicts = new Uint8Array(keys.length * 2);
    this.#shift--;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== 0) this.#put(keys[i], verdicts[i]);
    }
  }
}
