/**
 * Compiles one detection item (`Field|mod|mod: values`) to a test over an
 * event's fields: wildcards, escapes and modifiers are resolved once, to
 * lower-case strings for the common shapes (equals, starts, ends, contains)
 * and to one RegExp otherwise.
 *
 * @module
 */
import type { FieldItem } from "./sigma_rule.ts";
import { RuleError, UnsupportedRuleError } from "./rule_error.ts";
import { caseFolded, globTest } from "./_glob.ts";
import { caseFreeSource } from "./_case_free_regex.ts";
import { lowerText } from "./_fold_unit.ts";
import { ABSENT, type EventFields, FIELD_INDEX } from "./event_fields.ts";
import { FIELD_NAMES } from "./field_table.ts";
import {
  base64,
  base64Offsets,
  isLiteral,
  parseWildcards,
  type Part,
  STAR,
  utf16,
  utf8Bytes,
  windash,
} from "./_value_parts.ts";

/** A compiled test over one event's fields. */
export type FieldsTest = (f: EventFields) => boolean;

/** A compiled item: its test, and what any match needs. */
export interface CompiledItem {
  test: FieldsTest;
  /** Field index of the item (-1 keyword, -2 a field procrec lacks). */
  field: number;
  /**
   * Lower-case texts one of which the field's lower-case value contains
   * whenever the item matches; absent when no such texts are known.
   */
  anchor?: string[];
}

/** A test of one string value: the value and its lower case. */
type StringTest = (value: string, lower: string) => boolean;

const TRANSFORMS = new Set([
  "base64",
  "base64offset",
  "utf16le",
  "utf16be",
  "utf16",
  "wide",
  "windash",
]);
const KINDS = new Set([
  "contains",
  "startswith",
  "endswith",
  "re",
  "exists",
  "lt",
  "lte",
  "gt",
  "gte",
]);
const AFFIX = new Set(["contains", "startswith", "endswith"]);
/** Modifiers that leave a value compared whole with the field (`''` and `'-'` stay "no value"). */
const WHOLE = new Set(["cased", "all"]);

/**
 * What value `v` of an item with `modifiers` says of a field without a
 * value (unknown, empty, or on Windows `-`: {@link EventFields.id}):
 * `"always"`, it matches one (`null`, and `''` compared whole, which is
 * the same: procrec keeps no empty text apart, as the Sysmon import keeps
 * Sysmon's empty fields as none); `"windows"`, it matches one on Windows
 * (`'-'` compared whole, Sysmon's placeholder for an empty field, which
 * on Linux is the text `-`); `undefined`, it needs a value.
 *
 * @example
 * ```ts
 * import { noValue } from "./compile_item.ts";
 * if (noValue(null, []) !== "always" || noValue("", ["cased"]) !== "always") throw new Error();
 * if (noValue("-", []) !== "windows" || noValue("-", ["contains"]) !== undefined) throw new Error();
 * if (noValue("", ["startswith"]) !== undefined || noValue("x", []) !== undefined) throw new Error();
 * ```
 */
export function noValue(
  v: unknown,
  modifiers: readonly string[],
): "always" | "windows" | undefined {
  if (v === null) return "always";
  if (v !== "" && v !== "-") return undefined;
  if (!modifiers.every((m) => WHOLE.has(m.toLowerCase()))) return undefined;
  return v === "" ? "always" : "windows";
}
const RE_FLAGS: Record<string, string> = { i: "i", m: "m", s: "s" };

/**
 * Compiles an item of rule `file`. Throws {@link RuleError} for a value the
 * modifiers cannot take (a regex that is not text, `exists` without a
 * boolean), {@link UnsupportedRuleError} naming an unknown modifier or a
 * regular expression JavaScript cannot compile.
 *
 * @example
 * ```ts
 * import { compileItem } from "./compile_item.ts";
 * import { EventFields } from "./event_fields.ts";
 * const t = compileItem({ field: "CommandLine", modifiers: ["contains", "all"],
 *   values: ["-enc", "JAB"], path: "p" }, "r.yml");
 * const f = new EventFields({ os: "windows", host: "h",
 *   process: { pid: 1, ppid: 0, start: 0, info: { cmdline: "powershell -ENC jabc", from: {} } } });
 * if (!t.test(f)) throw new Error();
 * if (t.anchor?.join() !== "-enc") throw new Error(String(t.anchor));
 * ```
 */
export function compileItem(item: FieldItem, file: string): CompiledItem {
  const test = compileTest(item, file);
  return {
    test: test.test,
    field: test.field,
    ...(test.anchor ? { anchor: test.anchor } : {}),
  };
}

function compileTest(
  item: FieldItem,
  file: string,
): { test: FieldsTest; field: number; anchor?: string[] } {
  const bad = (detail: string): never => {
    throw new RuleError(file, item.path, detail);
  };
  const unsupported = (feature: string): never => {
    throw new UnsupportedRuleError(file, item.path, feature);
  };
  let kind: string | undefined;
  let all = false;
  let cased = false;
  let reFlags = "";
  let fieldrefMode = false;
  const transforms: string[] = [];
  for (const m of item.modifiers) {
    const low = m.toLowerCase();
    if (TRANSFORMS.has(low)) {
      // applied in their order; the match kind (contains...) applies last
      transforms.push(low);
    } else if (KINDS.has(low)) {
      if (kind) bad(`has two value modifiers, "${kind}" and "${m}"`);
      kind = low;
    } else if (low === "fieldref") fieldrefMode = true;
    else if (low === "all") all = true;
    else if (low === "cased") cased = true;
    else if (kind === "re" && Object.hasOwn(RE_FLAGS, low)) {
      reFlags += RE_FLAGS[low];
    } else unsupported(`modifier "${m}"`);
  }
  const index = item.field === undefined
    ? -1
    : FIELD_INDEX.get(item.field) ?? -2;
  if (index === -1 && (kind === "exists" || fieldrefMode)) {
    bad(`"${fieldrefMode ? "fieldref" : kind}" needs a field`);
  }
  if (fieldrefMode && (transforms.length || (kind && !AFFIX.has(kind)))) {
    unsupported(`"fieldref" with "${transforms[0] ?? kind}"`);
  }

  if (kind === "exists") {
    if (item.values.length !== 1) bad("exists takes one value, true or false");
    const v = item.values[0];
    const want = v === true || v === "true"
      ? true
      : v === false || v === "false"
      ? false
      : bad(`exists takes true or false, not "${v}"`);
    return {
      field: index,
      test: (f) => (index >= 0 && f.value(index) !== undefined) === want,
    };
  }

  const tests: (StringTest | Shape)[][] = []; // per value: its variants (OR)
  // per string value: the longest literal of each variant (absent: none)
  const literals: (string[] | undefined)[] = [];
  const nullValues: boolean[] = [];
  let dashValue = false;
  const fieldref: number[] = [];
  for (const v of item.values) {
    if (v === null) {
      if (transforms.length || kind) {
        bad("a null value takes no modifiers");
      }
      nullValues.push(true);
      continue;
    }
    const empty = fieldrefMode ? undefined : noValue(v, item.modifiers);
    if (empty === "always") {
      // '' is a field without a value, as null is
      nullValues.push(true);
      continue;
    }
    // '-' is also the text "-" (on Linux, where it is a value)
    if (empty === "windows") dashValue = true;
    const text = String(v);
    if (fieldrefMode) {
      // the other field's value, at match time
      fieldref.push(FIELD_INDEX.get(text) ?? -2);
      continue;
    }
    if (kind === "re") {
      const lit = regexLiteral(text);
      literals.push(lit && lit.length >= 3 ? [lowerText(lit)] : undefined);
    } else if (kind !== undefined && !AFFIX.has(kind)) {
      literals.push(undefined);
    }
    if (kind === "re") {
      if (transforms.length) bad(`"re" takes no ${transforms[0]}`);
      tests.push([regexTest(text, reFlags, unsupported)]);
      continue;
    }
    if (kind === "lt" || kind === "lte" || kind === "gt" || kind === "gte") {
      const n = Number(text);
      if (Number.isNaN(n)) bad(`"${kind}" needs a number, not "${text}"`);
      const k = kind;
      tests.push([(s) => {
        const x = Number(s);
        if (s === "" || Number.isNaN(x)) return false;
        return k === "lt"
          ? x < n
          : k === "lte"
          ? x <= n
          : k === "gt"
          ? x > n
          : x >= n;
      }]);
      continue;
    }
    // numbers and booleans are their text, with no wildcards
    let variants: Part[][] = [
      typeof v === "string" ? parseWildcards(v) : [text],
    ];
    let bytes = false; // the literal is a byte string (after utf16)
    for (const t of transforms) {
      if (t === "windash") {
        variants = variants.map(windash);
        continue;
      }
      variants = variants.flatMap((parts) => {
        if (!isLiteral(parts)) {
          return unsupported(`wildcards in a value with "${t}"`);
        }
        const lit = parts.join("");
        if (t === "utf16le" || t === "wide" || t === "utf16") {
          if (bytes) bad(`"${t}" after another encoding`);
          // `utf16` is little-endian with a byte order mark
          const enc = utf16(lit, false);
          return [[t === "utf16" ? "\xff\xfe" + enc : enc]];
        }
        if (t === "utf16be") {
          if (bytes) bad(`"${t}" after another encoding`);
          return [[utf16(lit, true)]];
        }
        const raw = bytes ? lit : utf8Bytes(lit);
        if (t === "base64") return [[base64(raw)]];
        return base64Offsets(raw).map((s) => [s]);
      });
      bytes = t.startsWith("utf16") || t === "wide";
      if (t === "base64" || t === "base64offset") bytes = false;
    }
    const longest = variants.map((parts) =>
      lowerText(
        parts.reduce<string>(
          (a, x) => typeof x === "string" && x.length > a.length ? x : a,
          "",
        ),
      )
    );
    // a text under three characters is no anchor (it would be checked on
    // every event) unless it starts with a non-ASCII character (indexed apart)
    literals.push(
      longest.every((l) => l.length >= 3 || l.charCodeAt(0) > 0x7f)
        ? longest
        : undefined,
    );
    tests.push(variants.map((parts) => {
      const shaped = kind === "contains"
        ? [STAR, ...parts, STAR]
        : kind === "startswith"
        ? [...parts, STAR]
        : kind === "endswith"
        ? [STAR, ...parts]
        : index === -1 && !transforms.length
        ? [STAR, ...parts, STAR] // a keyword is searched for in the text
        : parts;
      return shapeOf(shaped as Part[], cased);
    }));
  }

  const matchValue = all
    ? allOf(tests.map((g) => anyOf(g)))
    : anyOf(tests.flat());
  const hasNull = nullValues.length > 0;
  /** Whether a field without a value matches on this subject's OS. */
  const none: (f: EventFields) => boolean = hasNull
    ? () => true
    : dashValue
    ? (f) => f.subject.os === "windows"
    : () => false;
  if (fieldrefMode) {
    const cmp = (a: string, b: string) =>
      kind === "contains"
        ? a.includes(b)
        : kind === "startswith"
        ? a.startsWith(b)
        : kind === "endswith"
        ? a.endsWith(b)
        : a === b;
    return {
      field: index,
      test: (f) => {
        const low = index >= 0 ? f.lower(index) : undefined;
        if (low === undefined) return false;
        const check = (other: number) => {
          const o = other >= 0 ? f.lower(other) : undefined;
          return o !== undefined && cmp(low, o);
        };
        return all ? fieldref.every(check) : fieldref.some(check);
      },
    };
  }
  if (index === -1) {
    // a keyword: any field of the event, each remembering its verdicts
    const perField = FIELD_NAMES.map((_, i) =>
      remembered(i, () => false, matchValue)
    );
    return {
      field: index,
      test: (f) => {
        for (let i = 0; i < perField.length; i++) {
          if (perField[i](f)) return true;
        }
        return false;
      },
    };
  }
  if (index === -2) {
    // a field procrec does not have: never a value (the rule is reported)
    return { field: index, test: (f) => !all && none(f) };
  }
  // texts one of which any match contains: with `all`, the best value's;
  // else every value's (a null, a regex or a number test has none)
  let anchor: string[] | undefined;
  if (!hasNull && !dashValue && literals.length > 0) {
    if (all) {
      for (const l of literals) {
        if (l && (!anchor || score(l) > score(anchor))) anchor = l;
      }
    } else if (literals.every((l) => l !== undefined)) {
      anchor = [...new Set(literals.flat() as string[])];
    }
  }
  return { field: index, anchor, test: remembered(index, none, matchValue) };
}

/**
 * The test of a field item, remembering its verdict on each value by the
 * value's number ({@link EventFields.id}): 0 not known yet, 1 no, 2 yes.
 */
function remembered(
  index: number,
  none: (f: EventFields) => boolean,
  matchValue: StringTest,
): FieldsTest {
  let gen = 0;
  let seen = new Uint8Array(0);
  return (f) => {
    const id = f.id(index);
    if (id < 0) {
      if (id === ABSENT) return none(f);
      return matchValue(f.value(index)!, f.lower(index)!);
    }
    const g = f.gen(index);
    if (g !== gen) {
      gen = g;
      seen = new Uint8Array(Math.max(16, id + 1));
    } else if (id >= seen.length) {
      const grown = new Uint8Array(Math.max(id + 1, seen.length * 2));
      grown.set(seen);
      seen = grown;
    } else {
      const known = seen[id];
      if (known !== 0) return known === 2;
    }
    const yes = matchValue(f.value(index)!, f.lower(index)!);
    seen[id] = yes ? 2 : 1;
    return yes;
  };
}

/** How selective a set of alternative texts is: fewer and longer is better. */
export function score(texts: string[]): number {
  return Math.min(...texts.map((t) => Math.min(t.length, 12))) /
    texts.length;
}

/**
 * One pattern in the shape that tests it fastest: a lower-case string to
 * compare (equal, ends, starts, contains), any value, or a wildcard test
 * (`globTest`: no RegExp, whose backtracking a long command line makes
 * take minutes).
 */
interface Shape {
  op: "eq" | "ends" | "starts" | "has" | "any" | "glob";
  text: string;
  glob?: (text: string) => boolean;
  cased: boolean;
}

function shapeOf(parts: Part[], cased: boolean): Shape {
  // merge neighbouring literals, and runs of stars
  const p: Part[] = [];
  for (const x of parts) {
    const last = p[p.length - 1];
    if (typeof x === "string" && typeof last === "string") {
      p[p.length - 1] = last + x;
    } else if (!(x === STAR && last === STAR)) p.push(x);
  }
  const lit = (x: Part) => typeof x === "string";
  const text = (x: Part) => cased ? x as string : lowerText(x as string);
  if (p.length === 0) return { op: "eq", text: "", cased };
  if (p.length === 1 && p[0] === STAR) return { op: "any", text: "", cased };
  if (p.length === 1 && lit(p[0])) return { op: "eq", text: text(p[0]), cased };
  if (p.length === 2 && p[0] === STAR && lit(p[1])) {
    return { op: "ends", text: text(p[1]), cased };
  }
  if (p.length === 2 && lit(p[0]) && p[1] === STAR) {
    return { op: "starts", text: text(p[0]), cased };
  }
  if (p.length === 3 && p[0] === STAR && lit(p[1]) && p[2] === STAR) {
    return { op: "has", text: text(p[1]), cased };
  }
  return {
    op: "glob",
    text: "",
    // (without case: folded unit by unit as the RegExp's i flag did)
    glob: globTest(
      p.map((x) => lit(x) ? (cased ? x : caseFolded(x as string)) : x),
    ),
    cased,
  };
}

/**
 * One test of alternatives: the plain shapes gathered by kind (a set of
 * equal strings, lists of ends, starts and contains), then the rest.
 */
function anyOf(alts: (StringTest | Shape)[]): StringTest {
  const eq = new Set<string>(), eqCased = new Set<string>();
  const ends: string[] = [], starts: string[] = [], has: string[] = [];
  const other: StringTest[] = [];
  let always = false;
  for (const a of alts) {
    if (typeof a === "function") other.push(a);
    else if (a.op === "any") always = true;
    else if (a.op === "glob") {
      const glob = a.glob!;
      other.push(a.cased ? (s) => glob(s) : (s) => glob(caseFolded(s)));
    } else if (a.op === "eq") (a.cased ? eqCased : eq).add(a.text);
    else if (a.cased) {
      const t = a.text;
      other.push(
        a.op === "ends"
          ? (s) => s.endsWith(t)
          : a.op === "starts"
          ? (s) => s.startsWith(t)
          : (s) => s.includes(t),
      );
    } else {(a.op === "ends" ? ends : a.op === "starts" ? starts : has).push(
        a.text,
      );}
  }
  if (always) return () => true;
  return (s, low) => {
    if (eq.size && eq.has(low)) return true;
    if (eqCased.size && eqCased.has(s)) return true;
    for (let i = 0; i < ends.length; i++) {
      if (low.endsWith(ends[i])) return true;
    }
    for (let i = 0; i < has.length; i++) if (low.includes(has[i])) return true;
    for (let i = 0; i < starts.length; i++) {
      if (low.startsWith(starts[i])) return true;
    }
    for (let i = 0; i < other.length; i++) if (other[i](s, low)) return true;
    return false;
  };
}

/** All of the tests (none: false). */
function allOf(tests: StringTest[]): StringTest {
  if (tests.length === 0) return () => false;
  return (s, low) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](s, low)) return false;
    return true;
  };
}

/**
 * How many characters after the letter or digit of an escape (at `at`)
 * still belong to it: 2 for `\xHH`, 4 for `\uHHHH`, 1 for `\cX`, the
 * name of `\k<name>`, the further digits of `\1`..`\9` and `\0`.
 */
function escapeTail(src: string, at: number): number {
  const n = src[at];
  const rest = src.slice(at + 1, at + 5);
  if (n === "x" && /^[0-9A-Fa-f]{2}/.test(rest)) return 2;
  if (n === "u" && /^[0-9A-Fa-f]{4}/.test(rest)) return 4;
  if (n === "c" && /^[A-Za-z]/.test(rest)) return 1;
  if (n === "k" && rest[0] === "<") {
    const close = src.indexOf(">", at);
    return close < 0 ? 0 : close - at;
  }
  let k = 0;
  if (/[0-9]/.test(n)) { while (/[0-9]/.test(src[at + 1 + k] ?? "")) k++; }
  return k;
}

/**
 * The longest text every match of regular expression `src` contains, read
 * conservatively: only characters outside groups and classes count, a
 * quantified character is left out, and an alternation at the top level
 * means none. `undefined` when there is none.
 *
 * @example
 * ```ts
 * import { regexLiteral } from "./compile_item.ts";
 * if (regexLiteral("cmd.{0,5}/c\\s+set x") !== "set x") throw new Error();
 * if (regexLiteral("abc|def") !== undefined) throw new Error();
 * if (regexLiteral("ab?cd(x|y)") !== "cd") throw new Error();
 * if (regexLiteral("exe\\x20/c echo") !== "/c echo") throw new Error();
 * ```
 */
export function regexLiteral(src: string): string | undefined {
  let best = "";
  let run = "";
  let depth = 0;
  const end = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") {
      const n = src[i + 1];
      i++;
      if (n === undefined) return undefined;
      if (depth === 0 && /[^A-Za-z0-9]/.test(n)) {
        // an escaped punctuation character is itself (unless quantified)
        if (/[?*{]/.test(src[i + 1] ?? "")) end();
        else run += n;
      } else {
        if (depth === 0) end();
        // the rest of the escape (\x20, \u0020, \cJ, \012, \k<name>) is no
        // literal text (found by review: "20/c" was taken as the anchor of
        // exe\x20/c)
        i += escapeTail(src, i);
      }
      continue;
    }
    if (c === "[") {
      // a class: skip to its end
      end();
      let j = i + 1;
      if (src[j] === "^") j++;
      if (src[j] === "]") j++;
      while (j < src.length && src[j] !== "]") j += src[j] === "\\" ? 2 : 1;
      i = j;
      continue;
    }
    if (c === "(") {
      depth++;
      end();
      continue;
    }
    if (c === ")") {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (depth > 0) continue;
    if (c === "|") return undefined;
    if (c === "?" || c === "*" || c === "{") {
      // the character before is optional: take it back
      run = run.slice(0, -1);
      end();
      if (c === "{") { while (i < src.length && src[i] !== "}") i++; }
      continue;
    }
    if (c === "+") {
      end();
      continue;
    }
    if (".^$".includes(c)) {
      end();
      continue;
    }
    if (/[?*{]/.test(src[i + 1] ?? "")) {
      end();
      continue;
    }
    run += c;
  }
  end();
  return best || undefined;
}

/**
 * A Sigma `re` value as a JavaScript RegExp, searched anywhere in the value;
 * case-sensitive unless the `i` flag is given. PCRE spellings that
 * JavaScript lacks are translated (`(?P<n>`, a leading `(?i)`). With the
 * `i` flag, an ASCII pattern is written without it (`[aA]`) so that V8's
 * linear engine can take over when it backtracks without end.
 */
/** Escapes of a letter that mean the same in PCRE and in JavaScript. */
const SHARED_LETTER_ESCAPES = new Set("bBdDwWsSfnrtvxcu");

/**
 * What of `src` JavaScript reads otherwise than PCRE, whose syntax Sigma's
 * `re` follows (found by review), or what cannot be bounded in time:
 * - an escape of another letter: PCRE's `\A`, `\Z`, `\z`, `\h`, `\Q`...
 *   are anchors and classes; JavaScript takes them as the letter itself;
 * - a POSIX class (`[[:alpha:]]`), which JavaScript reads as characters;
 * - a back-reference (`\1`, `\k<name>`): V8's linear-time engine takes
 *   none, so one could run for minutes on a command line anyone can write
 *   (no SigmaHQ rule has one).
 * `undefined` when there is none.
 */
function pcreOnly(src: string): string | undefined {
  for (let i = 0; i < src.length; i++) {
    if (src[i] === "[" && /^\[:[a-z]+:\]/.test(src.slice(i, i + 12))) {
      return `the POSIX class "${/^\[:[a-z]+:\]/.exec(src.slice(i))![0]}"`;
    }
    if (src[i] !== "\\") continue;
    const n = src[++i] ?? "";
    if (n === "x" && src[i + 1] === "{") {
      return `the escape "\\x{...}" (PCRE's code point; JavaScript reads x repeated)`;
    }
    if (/[1-9]/.test(n) || (n === "k" && src[i + 1] === "<")) {
      return `the back-reference "\\${n}"`;
    }
    if (/[A-Za-z]/.test(n) && !SHARED_LETTER_ESCAPES.has(n)) {
      return `the escape "\\${n}" (PCRE's meaning, not JavaScript's)`;
    }
  }
  return undefined;
}

function regexTest(
  text: string,
  flags: string,
  unsupported: (feature: string) => never,
): StringTest {
  let src = text.replace(/\(\?P</g, "(?<");
  const lead = /^\(\?([imsx]+)\)/.exec(src);
  if (lead) {
    if (lead[1].includes("x")) unsupported(`regex flag "x" in "${text}"`);
    for (const c of lead[1]) if (!flags.includes(c)) flags += c;
    src = src.slice(lead[0].length);
  }
  const lacking = pcreOnly(src);
  if (lacking !== undefined) {
    return unsupported(`${lacking} in regular expression "${text}"`);
  }
  let re: RegExp;
  try {
    re = new RegExp(src, flags);
  } catch (e) {
    return unsupported(
      `regular expression "${text}" (${(e as Error).message})`,
    );
  }
  if (flags.includes("i")) {
    // the same matches without the i flag, which V8's linear engine cannot
    // take (see caseFreeSource)
    const free = caseFreeSource(src);
    if (free !== undefined) {
      try {
        re = new RegExp(free, flags.replace("i", ""));
      } catch {
        // (kept with the i flag)
      }
    }
  }
  return (s) => re.test(s);
}
