/**
 * Picks, for one event, the rules that can match it. Each rule's anchors
 * (groups of texts, one of each group its fields must contain: see
 * {@link Anchors}) are indexed by a three-character key of each text; an
 * event's field values are scanned once, and a rule is a candidate only when
 * every one of its groups was met. Rules without anchors are tried on every
 * event.
 *
 * @module
 */
import { type CompiledRule, MAX_ANCHOR_GROUPS } from "./compile_rule.ts";
import { ABSENT, type EventFields, UNNUMBERED } from "./event_fields.ts";

interface Literal {
  text: string;
  /** `rule * 32 + group` of every group the text belongs to. */
  slots: number[];
  /** The value the literal was last checked against. */
  seen: number;
}

interface FieldIndex {
  field: number;
  /** Trigram key → literals holding it. */
  byTrigram: Map<number, Literal[]>;
  /** A bit per hash of the keys of {@link byTrigram}: most of a value's trigrams are no key, and a bit says so faster than the Map. */
  someTrigram: Uint8Array;
  /** Literals shorter than three characters starting with a non-ASCII character, by that character. */
  byChar: Map<number, Literal[]>;
  /** Other literals shorter than three characters, checked on every event. */
  short: Literal[];
  /** Per value number of the field (of generation `gen`): its class. */
  memo: number[];
  gen: number;
  /** A class: the slots a value's literals meet, in order; class 0 meets none. */
  classes: number[][];
  /** Class of each list of slots (joined by commas). */
  classOf: Map<string, number>;
}

/** Candidates of one combination of classes, one per indexed field. */
interface Combination {
  classes: Int32Array;
  rules: CompiledRule[];
  next?: Combination;
}

/** Combinations kept before the index starts afresh. */
const MAX_COMBINATIONS = 1 << 16;
/** Classes a field keeps before it starts afresh. */
const MAX_CLASSES = 1 << 16;

/** A small-integer key of the three characters at `i` (collisions are checked by `includes`). */
const tri = (s: string, i: number) =>
  ((s.charCodeAt(i) & 0x3ff) << 20) | ((s.charCodeAt(i + 1) & 0x3ff) << 10) |
  (s.charCodeAt(i + 2) & 0x3ff);

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
 *   "title: t\nlogsource: {}\ndetection: {s: {Image|endswith: '/curl', CommandLine|contains: '--insecure'}, condition: s}\n", "r.yml"));
 * const index = new RuleIndex([rule]);
 * const f = (image: string, cmdline: string) => new EventFields({ os: "linux", host: "h",
 *   process: { pid: 1, ppid: 0, start: 0, info: { image, cmdline, from: {} } } });
 * if (index.candidates(f("/bin/ls", "ls --insecure")).length !== 0) throw new Error();
 * if (index.candidates(f("/usr/bin/curl", "curl x")).length !== 0) throw new Error();
 * if (index.candidates(f("/usr/bin/curl", "curl --insecure x")).length !== 1) throw new Error();
 * ```
 */
export class RuleIndex {
  readonly #rules: CompiledRule[];
  readonly #always: number[] = [];
  readonly #fields: FieldIndex[] = [];
  /** Per rule: the bits of all its groups. */
  readonly #full: Int32Array;
  /** Per rule: the groups met by the current event, and which event. */
  readonly #met: Int32Array;
  readonly #epochOf: Float64Array;
  /** Room for the candidates of one event (each rule at most once). */
  readonly #found: Int32Array;
  #epoch = 0;
  #scans = 0;
  /** The class of each indexed field's value, for the event at hand. */
  #current = new Int32Array(0);
  /** Candidates by a hash of the classes of the fields' values. */
  #combinations = new Map<number, Combination>();

  /** Classes a field keeps before it starts afresh. */
  readonly #maxClasses: number;

  constructor(rules: CompiledRule[], options: { maxClasses?: number } = {}) {
    this.#rules = rules;
    this.#maxClasses = options.maxClasses ?? MAX_CLASSES;
    this.#full = new Int32Array(rules.length);
    this.#met = new Int32Array(rules.length);
    this.#found = new Int32Array(rules.length);
    this.#epochOf = new Float64Array(rules.length).fill(-1);
    const byField = new Map<number, Map<string, number[]>>();
    rules.forEach((r, k) => {
      const groups = r.anchors.slice(0, MAX_ANCHOR_GROUPS);
      if (groups.length === 0) {
        this.#always.push(k);
        return;
      }
      groups.forEach((group, g) => {
        this.#full[k] |= 1 << g;
        for (const { field, texts } of group) {
          let m = byField.get(field);
          if (!m) byField.set(field, m = new Map());
          for (const t of texts) {
            const list = m.get(t);
            const slot = k * 32 + g;
            if (!list) m.set(t, [slot]);
            else if (!list.includes(slot)) list.push(slot);
          }
        }
      });
    });
    for (const [field, lits] of byField) {
      // each literal under its rarest trigram
      const freq = new Map<number, number>();
      for (const t of lits.keys()) {
        for (let i = 0; i + 3 <= t.length; i++) {
          freq.set(tri(t, i), (freq.get(tri(t, i)) ?? 0) + 1);
        }
      }
      const fi: FieldIndex = {
        field,
        byTrigram: new Map(),
        someTrigram: new Uint8Array(1 << 13),
        byChar: new Map(),
        short: [],
        memo: [],
        gen: 0,
        classes: [[]],
        classOf: new Map([["", 0]]),
      };
      for (const [text, slots] of lits) {
        const lit: Literal = { text, slots, seen: -1 };
        if (text.length < 3) {
          const c = text.charCodeAt(0);
          if (c > 0x7f) {
            const list = fi.byChar.get(c);
            if (list) list.push(lit);
            else fi.byChar.set(c, [lit]);
          } else fi.short.push(lit);
          continue;
        }
        let bestKey = tri(text, 0);
        for (let i = 1; i + 3 <= text.length; i++) {
          const c = tri(text, i);
          if (freq.get(c)! < freq.get(bestKey)!) bestKey = c;
        }
        const list = fi.byTrigram.get(bestKey);
        if (list) list.push(lit);
        else fi.byTrigram.set(bestKey, [lit]);
        const bit = (bestKey ^ (bestKey >>> 16)) & 0xffff;
        fi.someTrigram[bit >>> 3] |= 1 << (bit & 7);
      }
      this.#fields.push(fi);
    }
    this.#current = new Int32Array(this.#fields.length);
  }

  /**
   * The rules that can match `f`, in their order (an array the index keeps:
   * not to be changed). A field's value is classed once by the literals it
   * contains (values that contain the same literals share a class: most
   * command lines differ, their classes do not), and the candidates are
   * worked out once per combination of classes.
   */
  candidates(f: EventFields): readonly CompiledRule[] {
    const fields = this.#fields;
    const current = this.#current;
    let h = 0;
    for (let j = 0; j < fields.length; j++) {
      const fi = fields[j];
      const id = f.id(fi.field);
      let c: number;
      if (id === ABSENT) c = 0;
      else if (id === UNNUMBERED) {
        c = this.#classOf(fi, this.#scan(fi, f.lower(fi.field)!));
      } else {
        const g = f.gen(fi.field);
        if (fi.gen !== g) {
          fi.gen = g;
          fi.memo = [];
        }
        c = fi.memo[id];
        if (c === undefined) {
          c = fi.memo[id] = this.#classOf(
            fi,
            this.#scan(fi, f.lower(fi.field)!),
          );
        }
      }
      current[j] = c;
      h = (Math.imul(h ^ (h >>> 16), 0x45d9f3b) + c) | 0;
    }
    const first = this.#combinations.get(h);
    for (let e = first; e !== undefined; e = e.next) {
      const k = e.classes;
      let j = 0;
      while (j < k.length && k[j] === current[j]) j++;
      if (j === k.length) return e.rules;
    }
    if (this.#combinations.size >= MAX_COMBINATIONS) {
      this.#combinations.clear();
    }
    const rules = this.#merge(current);
    this.#combinations.set(h, {
      classes: current.slice(),
      rules,
      next: this.#combinations.get(h),
    });
    return rules;
  }

  /** The class of a list of slots (a new class when it is new). */
  #classOf(fi: FieldIndex, slots: number[]): number {
    if (slots.length === 0) return 0;
    slots.sort((a, b) => a - b);
    const key = slots.join();
    let c = fi.classOf.get(key);
    if (c === undefined && fi.classes.length >= this.#maxClasses) {
      // the field starts afresh: its classes, the values' classes and every
      // combination (they name classes of it)
      fi.classes = [[]];
      fi.classOf = new Map([["", 0]]);
      fi.memo = [];
      this.#combinations.clear();
    }
    if (c === undefined) {
      fi.classOf.set(key, c = fi.classes.length);
      fi.classes.push(slots);
    }
    return c;
  }

  /** The rules every group of which the classes of the fields' values meet. */
  #merge(current: Int32Array): CompiledRule[] {
    const epoch = ++this.#epoch;
    const met = this.#met;
    const epochOf = this.#epochOf;
    const full = this.#full;
    const found = this.#found;
    let n = 0;
    for (let j = 0; j < this.#fields.length; j++) {
      const slots = this.#fields[j].classes[current[j]];
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i];
        const k = slot >>> 5;
        if (epochOf[k] !== epoch) {
          epochOf[k] = epoch;
          met[k] = 0;
        }
        if (met[k] === full[k]) continue;
        met[k] |= 1 << (slot & 31);
        if (met[k] === full[k]) found[n++] = k;
      }
    }
    const always = this.#always;
    for (let i = 0; i < always.length; i++) found[n++] = always[i];
    const ks = [...found.subarray(0, n)].sort((a, b) => a - b);
    return ks.map((k) => this.#rules[k]);
  }

  /** The slots of every literal of `fi` that lower-case value `low` contains. */
  #scan(fi: FieldIndex, low: string): number[] {
    const epoch = ++this.#scans;
    const out: number[] = [];
    for (const lit of fi.short) this.#take(lit, low, epoch, out);
    if (fi.byChar.size) {
      for (let i = 0; i < low.length; i++) {
        const c = low.charCodeAt(i);
        if (c > 0x7f) {
          const lits = fi.byChar.get(c);
          if (lits !== undefined) {
            for (const lit of lits) this.#take(lit, low, epoch, out);
          }
        }
      }
    }
    const by = fi.byTrigram;
    const some = fi.someTrigram;
    for (let i = 0; i + 3 <= low.length; i++) {
      const key = tri(low, i);
      const bit = (key ^ (key >>> 16)) & 0xffff;
      if ((some[bit >>> 3] & (1 << (bit & 7))) === 0) continue;
      const lits = by.get(key);
      if (lits !== undefined) {
        for (const lit of lits) this.#take(lit, low, epoch, out);
      }
    }
    return out;
  }

  /** Adds the slots of `lit` to `out` when `low` contains it (once per scan). */
  #take(lit: Literal, low: string, epoch: number, out: number[]): void {
    if (lit.seen === epoch) return;
    lit.seen = epoch;
    if (low.includes(lit.text)) { for (const s of lit.slots) out.push(s); }
  }

  /** How many rules have no anchor and are tried on every event. */
  get unindexed(): number {
    return this.#always.length;
  }
}
