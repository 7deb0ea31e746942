/**
 * Picks, for one event, the rules that can match it: each rule with an
 * anchor (texts one of which its field must contain) is reached through a
 * three-character index of those texts, so most events reach few rules.
 * Rules without an anchor are tried on every event.
 *
 * @module
 */
import type { CompiledRule } from "./compile_rule.ts";
import type { EventFields } from "./event_fields.ts";

interface Literal {
  text: string;
  rules: number[];
  /** The event the literal was last checked for. */
  seen: number;
}

interface FieldIndex {
  field: number;
  /** Trigram code → literals holding it. */
  byTrigram: Map<number, Literal[]>;
  /** Literals shorter than three characters, checked on every event. */
  short: Literal[];
}

const tri = (s: string, i: number) =>
  (s.charCodeAt(i) * 65536 + s.charCodeAt(i + 1)) * 65536 + s.charCodeAt(i + 2);

/**
 * An index of compiled rules.
 *
 * @example
 * ```ts
 * import { RuleIndex } from "./rule_index.ts";
 * import { compileRule } from "./compile_rule.ts";
 * import { parseRule } from "./parse_rule.ts";
 * import { EventFields } from "./event_fields.ts";
 * const rule = compileRule(parseRule(
 *   "title: t\nlogsource: {}\ndetection: {s: {Image|endswith: '/curl'}, condition: s}\n", "r.yml"));
 * const index = new RuleIndex([rule]);
 * const f = (image: string) => new EventFields({ os: "linux", host: "h",
 *   process: { pid: 1, ppid: 0, start: 0, info: { image, from: {} } } });
 * if (index.candidates(f("/bin/ls")).length !== 0) throw new Error();
 * if (index.candidates(f("/usr/bin/curl")).length !== 1) throw new Error();
 * ```
 */
export class RuleIndex {
  readonly #rules: CompiledRule[];
  readonly #always: number[] = [];
  readonly #fields: FieldIndex[] = [];
  readonly #mark: Int32Array;
  #epoch = 0;

  constructor(rules: CompiledRule[]) {
    this.#rules = rules;
    this.#mark = new Int32Array(rules.length);
    const byField = new Map<number, Map<string, number[]>>();
    rules.forEach((r, k) => {
      if (!r.anchor) {
        this.#always.push(k);
        return;
      }
      for (const { field, texts } of r.anchor) {
        let m = byField.get(field);
        if (!m) byField.set(field, m = new Map());
        for (const t of texts) {
          const list = m.get(t);
          if (!list) m.set(t, [k]);
          else if (list[list.length - 1] !== k) list.push(k);
        }
      }
    });
    for (const [field, lits] of byField) {
      // each literal under its rarest trigram
      const freq = new Map<number, number>();
      for (const t of lits.keys()) {
        for (let i = 0; i + 3 <= t.length; i++) {
          freq.set(tri(t, i), (freq.get(tri(t, i)) ?? 0) + 1);
        }
      }
      const fi: FieldIndex = { field, byTrigram: new Map(), short: [] };
      for (const [text, ks] of lits) {
        const lit: Literal = { text, rules: ks, seen: -1 };
        if (text.length < 3) {
          fi.short.push(lit);
          continue;
        }
        let bestCode = tri(text, 0);
        for (let i = 1; i + 3 <= text.length; i++) {
          const c = tri(text, i);
          if (freq.get(c)! < freq.get(bestCode)!) bestCode = c;
        }
        const list = fi.byTrigram.get(bestCode);
        if (list) list.push(lit);
        else fi.byTrigram.set(bestCode, [lit]);
      }
      this.#fields.push(fi);
    }
  }

  /** The rules that can match `f`, in their order. */
  candidates(f: EventFields): CompiledRule[] {
    const epoch = ++this.#epoch;
    const mark = this.#mark;
    const found: number[] = [];
    const take = (lit: Literal, low: string) => {
      if (lit.seen === epoch) return;
      lit.seen = epoch;
      if (!low.includes(lit.text)) return;
      for (const k of lit.rules) {
        if (mark[k] !== epoch) {
          mark[k] = epoch;
          found.push(k);
        }
      }
    };
    for (const fi of this.#fields) {
      const low = f.lower(fi.field);
      if (low === undefined) continue;
      for (const lit of fi.short) take(lit, low);
      const by = fi.byTrigram;
      for (let i = 0; i + 3 <= low.length; i++) {
        const lits = by.get(tri(low, i));
        if (lits) { for (const lit of lits) take(lit, low); }
      }
    }
    for (const k of this.#always) found.push(k);
    found.sort((a, b) => a - b);
    return found.map((k) => this.#rules[k]);
  }

  /** How many rules have no anchor and are tried on every event. */
  get unindexed(): number {
    return this.#always.length;
  }
}
