/**
 * Applies redaction rules to events and headers before anything is written:
 * each secret value becomes a {@link formatMarker marker} that names the rule
 * and carries the value's HMAC-SHA-256 under the redaction key, so equal
 * secrets stay equal (a diff still matches them) and a key holder can test a
 * guess, but the recording never holds the secret. Pure.
 *
 * Where: every text of an event (argv elements, the Windows command line,
 * image, comm, cwd, user, cgroup, and any text field a later version adds)
 * except identifiers and hashes (`guid`, `parentGuid`, `sha256`, `hashes`,
 * `logonId`, `logonGuid`) and codes (`kind`, `reason`), and every
 * text of a header except its structural fields (format, version, os, boot
 * id, clocks, tool, source), which covers `command.argv`.
 *
 * How: an argv is read as arguments (`--token X`: X is the next element;
 * `NAME=VALUE` and `-pVALUE` at the start of an element: the rest of the
 * element). Any other text, and an argv element that does not start with a
 * matching form (a `sh -c` script), is read as a command line: tokens split
 * at unquoted white space and shell operators, quotes taken off the value
 * before hashing.
 *
 * @module
 */
import { withoutQuotedValues } from "./quiet_message.ts";
import type { ProcEvent } from "../events/types.ts";
import {
  type ImportInfo,
  type RedactionInfo,
  SOURCE_HASH_PREFIX,
} from "../log/schema.ts";
import type { RedactionRule } from "./redaction_rules.ts";
import { redactionKeyId } from "./redaction_key.ts";
import { HmacSha256 } from "./_hmac_sha256.ts";
import { formatMarker, isMarker, MARKER_FORMAT } from "./redaction_marker.ts";

/** What every compiled rule has: its name and its command, if scoped. */
interface Scope {
  name: string;
  /** The command's file name pattern (`"command"`), if any. */
  command?: RegExp;
}

type Compiled =
  & Scope
  & (
    | {
      kind: "match";
      name: string;
      re: RegExp;
      /** The pattern without indices, to see quickly whether it matches at all. */
      test: RegExp;
      groups: boolean;
    }
    | { kind: "flag"; name: string; names: string[]; separate: boolean }
    | { kind: "env"; name: string; re: RegExp }
  );

interface Span {
  start: number;
  end: number;
}

/** Event fields that are never redacted: identifiers, hashes and codes. */
const EVENT_KEEP = new Set([
  "kind",
  "guid",
  "parentGuid",
  "reason",
  "from",
  "sha256",
  "hashes",
  "logonId",
  "logonGuid",
  // field names, not text from the host
  "notUtf8",
]);
/** Header fields that are never redacted: the structure a reader needs. */
const HEADER_KEEP = new Set([
  "format",
  "version",
  "os",
  "bootId",
  "timeBase",
  "clock",
  "tool",
  "source",
  "redaction",
]);
const ENV_NAME = /^(["']?)([A-Za-z_][A-Za-z0-9_]*)=/;

/**
 * Redacts events and headers with a set of rules and a key.
 *
 * @example
 * ```ts
 * import { Redactor } from "./redactor.ts";
 * const r = new Redactor(
 *   [{ name: "mysql", flag: ["-p"], separate: false }],
 *   new Uint8Array(32),
 * );
 * const argv = r.argv(["mysql", "-pS3cret", "db"]);
 * if (argv[1].includes("S3cret") || !argv[1].startsWith("-p[redacted:mysql:")) {
 *   throw new Error(argv[1]);
 * }
 * if (r.argv(["mysql", "-pS3cret"])[1] !== argv[1]) throw new Error("not equal");
 * ```
 */
export class Redactor {
  readonly #rules: Compiled[];
  readonly #key: Uint8Array;
  readonly #mac: HmacSha256;
  readonly #spec: RedactionRule[];
  /** Values redacted so far, per rule name. */
  readonly counts: Record<string, number> = {};

  constructor(rules: RedactionRule[], key: Uint8Array) {
    this.#spec = rules;
    this.#key = key;
    this.#mac = new HmacSha256(key);
    this.#rules = rules.map((r): Compiled => ({
      ...compile(r),
      ...(r.command ? { command: new RegExp(r.command, "i") } : {}),
    }));
    for (const r of rules) this.counts[r.name] = 0;
  }

  /** The header's `redaction` field: the rules and which key, never the key. */
  describe(): RedactionInfo {
    return {
      hmac: "HMAC-SHA-256",
      keyId: redactionKeyId(this.#key),
      marker: MARKER_FORMAT,
      rules: this.#spec,
    };
  }

  /** The HMAC-SHA-256 (hex) a marker would carry for `value`. */
  hmac(value: string): string {
    return this.#mac.hex(value);
  }

  /**
   * The keyed hash that names a source file by its SHA-256 (hex) in a
   * redacted header (`RedactionSource.sha256Hmac`): only a key holder can
   * test a file (or a guess at the secrets) against it.
   */
  sourceHash(sha256Hex: string): string {
    return this.#mac.hex(SOURCE_HASH_PREFIX + sha256Hex);
  }

  /**
   * A header's `import` as a redacted header keeps it: each file's name
   * redacted and its SHA-256 keyed ({@link sourceHash}); `sha256` is left
   * empty, for the readers before the keyed hashes, which require it.
   */
  importInfo(imp: ImportInfo): ImportInfo {
    return {
      format: imp.format,
      files: imp.files.map((f) => ({
        name: this.text(f.name),
        sha256: "",
        ...(f.sha256Hmac !== undefined
          ? { sha256Hmac: f.sha256Hmac }
          : f.sha256
          ? { sha256Hmac: this.sourceHash(f.sha256) }
          : {}),
      })),
      // (what the export said of its recording is kept: without it an
      // import of a damaged recording read as whole again; its messages
      // without the values they quote; found by review)
      ...(imp.integrity
        ? {
          integrity: {
            ...imp.integrity,
            problems: imp.integrity.problems.map((p) =>
              this.text(withoutQuotedValues(p))
            ),
          },
        }
        : {}),
    };
  }

  /** A text read as a command line. */
  text(s: string): string {
    for (const rule of this.#rules) s = this.#line(rule, s);
    return s;
  }

  /**
   * An argv, read as arguments; `image`, the file it runs, when known.
   *
   * A rule scoped to a command reads as arguments the argv of that command:
   * all of it when its first element or `image` names the command, else the
   * elements after the first one that names it (`env mysql -pX`, `timeout 5
   * mysql -pX`, `ssh host mysql -pX`, `procrec record -- mysql -pX`). The
   * elements before, and any other argv, are read as command lines (a
   * `sh -c` script may run the command). An env rule's `NAME=VALUE`
   * before the command (`env MYSQL_PWD=x mysql`) is the command's too.
   */
  argv(argv: readonly string[], image?: string): string[] {
    const out = [...argv];
    for (const rule of this.#rules) {
      const from = ourFrom(rule, out, image);
      for (let i = 0; i < out.length; i++) {
        const el = out[i];
        // (an assignment before the command, as `env A=B mysql` or `sudo
        // A=B mysql` give it, is that command's environment)
        const ours = i >= from ||
          (rule.kind === "env" && from > 0 && from !== Infinity && i > 0 &&
            ENV_NAME.test(el));
        if (rule.kind === "match" || !ours) {
          out[i] = this.#line(rule, el, ours);
          continue;
        }
        if (rule.kind === "env") {
          const m = ENV_NAME.exec(el);
          if (m && m[1] === "" && rule.re.test(m[2])) {
            out[i] = m[0] + this.#mark(rule, el.slice(m[0].length));
          } else out[i] = this.#line(rule, el, true);
          continue;
        }
        let done = false;
        for (const name of rule.names) {
          if (el === name) {
            if (rule.separate && i + 1 < out.length) {
              out[i + 1] = this.#mark(rule, out[i + 1]);
              i++;
              done = true;
              break;
            }
          } else if (el.startsWith(`${name}=`)) {
            out[i] = el.slice(0, name.length + 1) +
              this.#mark(rule, el.slice(name.length + 1));
            done = true;
            break;
          } else if (isShort(name) && el.startsWith(name)) {
            out[i] = name + this.#mark(rule, el.slice(name.length));
            done = true;
            break;
          }
        }
        if (!done) out[i] = this.#line(rule, el, true);
      }
    }
    return out;
  }

  /** An event with its texts redacted (the same event when it has none). */
  event(ev: ProcEvent): ProcEvent {
    // most events (thread storms) hold only numbers: pass them as they are;
    // any other field, of any kind (a field a later version adds), is walked
    const rec = ev as unknown as Record<string, unknown>;
    for (const k in rec) {
      if (EVENT_KEEP.has(k)) continue;
      const v = rec[k];
      if (typeof v === "string" || (typeof v === "object" && v !== null)) {
        return this.#walk(ev, EVENT_KEEP) as ProcEvent;
      }
    }
    return ev;
  }

  /** A header (or any map) with its texts redacted, structure kept. */
  header<T extends object>(header: T): T {
    return this.#walk(header, HEADER_KEEP) as T;
  }

  #walk(obj: object, keep: Set<string>): object {
    const out: Record<string, unknown> = {};
    // (an exec's argv is read with the file it runs: `exec -a name mysql`)
    const image = (obj as { image?: unknown }).image;
    for (const [k, v] of Object.entries(obj)) {
      out[k] = keep.has(k)
        ? v
        : k === "argv" && typeof image === "string" && isTexts(v)
        ? this.argv(v, image)
        : this.#value(v);
    }
    return out;
  }

  #value(v: unknown): unknown {
    if (typeof v === "string") return this.text(v);
    if (Array.isArray(v)) {
      return isTexts(v) ? this.argv(v) : v.map((x) => this.#value(x));
    }
    if (
      typeof v === "object" && v !== null && !(v instanceof Uint8Array) &&
      Object.getPrototypeOf(v) === Object.prototype
    ) {
      return this.#walk(v, EVENT_KEEP);
    }
    return v;
  }

  /**
   * One rule over a text read as a command line; a rule scoped to a command
   * redacts only after a word naming it, unless `inCommand` (the text is an
   * argument of that command).
   */
  #line(rule: Compiled, s: string, inCommand = false): string {
    if (s === "") return s;
    let spans = rule.kind === "match"
      ? this.#matches(rule, s)
      : this.#tokenValues(rule, s);
    if (spans.length === 0) return s;
    if (rule.command && !inCommand) {
      const from = commandEnd(rule.command, s);
      // an env rule's assignment before its command in the text
      // (`MYSQL_PWD=x mysql`, `export MYSQL_PWD=x; mysql`) is that
      // command's environment, as it is in an argv
      if (rule.kind !== "env" || from === Infinity) {
        spans = spans.filter((sp) => sp.start >= from);
      }
      if (spans.length === 0) return s;
    }
    let out = "";
    let last = 0;
    for (const { start, end } of spans) {
      if (start < last) continue;
      out += s.slice(last, start) +
        this.#mark(rule, s.slice(start, end), rule.kind !== "match");
      last = end;
    }
    return out + s.slice(last);
  }

  #matches(rule: Compiled & { kind: "match" }, s: string): Span[] {
    if (!rule.test.test(s)) return [];
    const markers = markerSpans(s);
    const spans: Span[] = [];
    // exec in a loop: matchAll would copy (and compile) the pattern each time
    const re = rule.re;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      if (m[0] === "") re.lastIndex++;
      const at = rule.groups ? groupSpan(m.indices!) : m.indices![0];
      if (at[1] <= at[0]) continue;
      const [start, end] = at;
      if (markers.some((k) => start >= k.start && end <= k.end)) continue;
      spans.push({ start, end });
    }
    return spans;
  }

  #tokenValues(rule: Compiled & { kind: "flag" | "env" }, s: string): Span[] {
    // most texts hold none of the names: no need to cut them into tokens
    if (
      rule.kind === "env"
        ? !s.includes("=")
        : !rule.names.some((n) => s.includes(n))
    ) return [];
    const toks = tokensDeep(s);
    const spans: Span[] = [];
    for (let k = 0; k < toks.length; k++) {
      const tok = toks[k];
      const t = s.slice(tok.start, tok.end);
      if (rule.kind === "env") {
        const m = ENV_NAME.exec(t);
        if (m && rule.re.test(m[2])) {
          spans.push({ start: tok.start + m[0].length, end: tok.end });
        }
        continue;
      }
      const lead = t[0] === '"' || t[0] === "'" ? 1 : 0;
      let bare = t.slice(lead);
      if (lead && bare.endsWith(t[0])) bare = bare.slice(0, -1);
      for (const name of rule.names) {
        if (bare === name) {
          if (rule.separate && k + 1 < toks.length) {
            spans.push(toks[k + 1]);
            k++;
            break;
          }
        } else if (bare.startsWith(`${name}=`)) {
          spans.push({
            start: tok.start + lead + name.length + 1,
            end: tok.end,
          });
          break;
        } else if (isShort(name) && bare.startsWith(name)) {
          spans.push({ start: tok.start + lead + name.length, end: tok.end });
          break;
        }
      }
    }
    return spans;
  }

  /**
   * The marker for `value`, whose quotes are taken off first when it is an
   * option's value read from a command line (`--token "a b"` hashes `a b`).
   */
  #mark(rule: Compiled, value: string, quoted = false): string {
    const secret = quoted ? unquote(value) : value;
    if (secret === "" || isMarker(secret)) return value;
    this.counts[rule.name] = (this.counts[rule.name] ?? 0) + 1;
    return formatMarker(rule.name, this.hmac(secret));
  }
}

/** A rule, compiled (its `command` apart). */
function compile(r: RedactionRule): Compiled {
  if ("match" in r) {
    const re = new RegExp(r.match, (r.flags ?? "") + "gd");
    // a pattern with a group redacts the group
    const groups = new RegExp(`${r.match}|`, r.flags).exec("")!.length > 1;
    const test = new RegExp(r.match, r.flags);
    return { kind: "match", name: r.name, re, test, groups };
  }
  if ("flag" in r) {
    return {
      kind: "flag",
      name: r.name,
      names: r.flag,
      separate: r.separate ?? true,
    };
  }
  return {
    kind: "env",
    name: r.name,
    re: new RegExp(`^(?:${r.env})$`, r.flags),
  };
}

/**
 * Where the elements of `argv` that `rule` reads as arguments begin: 0 for
 * a rule scoped to no command or to the one `argv[0]` or `image` names,
 * after the first element that names its command, or `Infinity` (none).
 */
function ourFrom(
  rule: Compiled,
  argv: readonly string[],
  image: string | undefined,
): number {
  const command = rule.command;
  if (!command || command.test(fileName(argv[0] ?? ""))) return 0;
  if (image !== undefined && command.test(fileName(image))) return 0;
  for (let i = 1; i < argv.length; i++) {
    if (command.test(fileName(argv[i]))) return i + 1;
  }
  return Infinity;
}

function isTexts(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** The file name of a command word: `mysql` of `"/usr/bin/mysql"`. */
function fileName(word: string): string {
  const bare = word.replace(/^["']|["']$/g, "");
  return bare.slice(
    Math.max(bare.lastIndexOf("/"), bare.lastIndexOf("\\")) + 1,
  );
}

/** Where the first word naming `command` ends in `s`; past the end if none. */
function commandEnd(command: RegExp, s: string): number {
  for (const tok of tokensDeep(s)) {
    if (command.test(fileName(s.slice(tok.start, tok.end)))) return tok.end;
  }
  return Infinity;
}

/** `-p`: a one-letter option, whose value may be attached. */
function isShort(name: string): boolean {
  return name.length === 2 && name[0] === "-" && name[1] !== "-";
}

/** A value without its quotes: `"a b"` and `'a b'` are `a b`. */
function unquote(v: string): string {
  if (!v.includes('"') && !v.includes("'")) return v;
  return v.replace(/["']/g, "");
}

/**
 * The tokens of a command line ({@link tokenize}), each followed by those
 * of the command lines quoted in it (`sh -c "bash -c 'curl --password=X'"`,
 * `cmd /c "curl --password=X"`), down to {@link MAX_QUOTED_DEPTH} quotes
 * deep: in order of where they start.
 */
function tokensDeep(s: string, from = 0, to = s.length, depth = 0): Span[] {
  const out: Span[] = [];
  for (const tok of tokenize(s, from, to)) {
    out.push(tok);
    if (depth >= MAX_QUOTED_DEPTH) continue;
    for (const q of quotedLines(s, tok)) {
      for (const inner of tokensDeep(s, q.start, q.end, depth + 1)) {
        out.push(inner);
      }
    }
  }
  return out;
}

/** Quotes inside quotes read as command lines at most. */
const MAX_QUOTED_DEPTH = 4;

/**
 * The insides of the quoted parts of token `tok` that hold more than one
 * word (a command line of their own).
 */
function quotedLines(s: string, tok: Span): Span[] {
  const out: Span[] = [];
  for (let i = tok.start; i < tok.end; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      i++;
      continue;
    }
    if (c !== DQUOTE && c !== SQUOTE) continue;
    let j = i + 1;
    let words = false;
    for (; j < tok.end && s.charCodeAt(j) !== c; j++) {
      if (isSeparator(s.charCodeAt(j))) words = true;
      if (c === DQUOTE && s.charCodeAt(j) === BACKSLASH) j++;
    }
    if (words) out.push({ start: i + 1, end: Math.min(j, tok.end) });
    i = j;
  }
  return out;
}

/**
 * Tokens of a command line (of `s` from `from` to `to`): split outside
 * quotes at white space and at the shell's operators (`;`, `&`, `|`, `<`,
 * `>`, parentheses, backquote), which end a word as the shell reads it
 * (`-pX;` gives the program `-pX`).
 */
function tokenize(s: string, from = 0, to = s.length): Span[] {
  const out: Span[] = [];
  let start = -1;
  let quote = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
      else if (c === BACKSLASH && quote === DQUOTE) i++;
      continue;
    }
    if (isSeparator(c)) {
      if (start >= 0) out.push({ start, end: i });
      start = -1;
      continue;
    }
    if (start < 0) start = i;
    if (c === DQUOTE || c === SQUOTE) quote = c;
    else if (c === BACKSLASH) i++;
  }
  if (start >= 0) out.push({ start, end: Math.min(to, s.length) });
  return out;
}

const BACKSLASH = 0x5c;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
/** `;&|<>()` and backquote. */
const OPERATORS = new Set([0x3b, 0x26, 0x7c, 0x3c, 0x3e, 0x28, 0x29, 0x60]);

/** White space (as `\s`) or a shell operator. */
function isSeparator(c: number): boolean {
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
  if (OPERATORS.has(c)) return true;
  return c > 0x7f && /\s/.test(String.fromCharCode(c));
}

function markerSpans(s: string): Span[] {
  if (!s.includes("[redacted:")) return [];
  return [...s.matchAll(/\[redacted:[A-Za-z0-9_.-]{1,64}:[0-9a-f]{64}\]/g)]
    .map((m) => ({ start: m.index!, end: m.index! + m[0].length }));
}

/**
 * What a `match` rule with capture groups redacts of one match: from the
 * first to the last group that took part in it, or the whole match when
 * none did. Found by review: only group 1 was taken, so in
 * `(?:Bearer|token)\s+(\S+)|Basic\s+(\S+)` a Basic credential (group 2)
 * stayed in plain text, and `(--pw|--pass)=(\S+)` redacted the option's
 * name and kept its value.
 */
function groupSpan(indices: RegExpIndicesArray): [number, number] {
  let start = Infinity, end = -1;
  for (let g = 1; g < indices.length; g++) {
    const at = indices[g];
    if (at === undefined) continue;
    if (at[0] < start) start = at[0];
    if (at[1] > end) end = at[1];
  }
  return end < 0 ? indices[0] : [start, end];
}
