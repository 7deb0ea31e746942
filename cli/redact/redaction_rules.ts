/**
 * The redaction rules file: JSON, `{"rules": [RULE, ...]}`, each rule named
 * and of one of three kinds. Pure: the caller reads the file.
 *
 * - `{"name": N, "match": REGEX, "flags"?: "i"}`: every match of REGEX in
 *   every text of a command line (each argv element, a Windows command line,
 *   the image, comm, cwd); when the pattern has capture groups, what lies
 *   from the first to the last group that took part in the match is
 *   redacted (the whole match when none did), else the whole match.
 * - `{"name": N, "flag": NAME | [NAME...], "separate"?: bool}`: the value of
 *   an option: `--token=X`, `--token X` (the next argument; not when
 *   `"separate": false`) and, for a one-letter option such as `-p`, the
 *   attached form `-pX` (MySQL's password).
 * - `{"name": N, "env": REGEX, "flags"?: "i"}`: the VALUE of an argument
 *   `NAME=VALUE` (an environment assignment, as `env` or a shell takes it)
 *   whose whole NAME matches REGEX.
 *
 * Any rule may name its `"command"`: a regular expression (any case) on the
 * command's file name (`mysql` of `/usr/bin/mysql`, `mysql.exe` of a Windows
 * path). The rule then applies only to argvs of that command, and in a
 * command line (a `sh -c` script) only after a word naming it: `-p` of
 * `mysql -pX` is redacted, `-pthread` of `gcc` is not. An env rule's
 * assignments are the command's before it too: `env MYSQL_PWD=X mysql` as
 * an argv, `MYSQL_PWD=X mysql` or `export MYSQL_PWD=X; mysql` in a command
 * line that names the command.
 *
 * @module
 */

/** A rule that redacts every match (or its first group) of a pattern. */
export interface MatchRule {
  name: string;
  match: string;
  flags?: string;
  command?: string;
}

/** A rule that redacts the values of named options. */
export interface FlagRule {
  name: string;
  flag: string[];
  /** Whether `NAME VALUE` (the value as the next argument) counts; default true. */
  separate?: boolean;
  command?: string;
}

/** A rule that redacts the value of `NAME=VALUE` arguments by name. */
export interface EnvRule {
  name: string;
  env: string;
  flags?: string;
  command?: string;
}

/** One redaction rule, as the rules file and the recording's header hold it. */
export type RedactionRule = MatchRule | FlagRule | EnvRule;

/** Rule names: short and safe inside a marker. */
export const RULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const REGEX_FLAGS = /^[imsu]*$/;
const FLAG_NAME = /^--?[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Parses and checks a rules file's text; `name` (the file) is used in
 * messages. Throws a `SyntaxError` naming the rule and the field at fault.
 *
 * @example
 * ```ts
 * import { parseRedactionRules } from "./redaction_rules.ts";
 * const rules = parseRedactionRules(
 *   '{"rules":[{"name":"mysql","flag":"-p","separate":false}]}',
 *   "rules.json",
 * );
 * if (rules.length !== 1 || !("flag" in rules[0])) throw new Error();
 * if (rules[0].flag[0] !== "-p") throw new Error();
 * ```
 */
export function parseRedactionRules(
  text: string,
  name: string,
): RedactionRule[] {
  const fail = (why: string) =>
    new SyntaxError(`Cannot read redaction rules "${name}": ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw fail(`not JSON (${(e as Error).message})`);
  }
  if (!isMap(doc) || !Array.isArray(doc.rules)) {
    throw fail(`expected an object {"rules": [...]}`);
  }
  for (const k of Object.keys(doc)) {
    if (k !== "rules" && k !== "comment") {
      throw fail(`unknown top-level field "${k}" (expected "rules")`);
    }
  }
  if (doc.rules.length === 0) throw fail(`"rules" is empty`);
  const seen = new Set<string>();
  return doc.rules.map((raw, i) => {
    const where = `rule ${i + 1}`;
    if (!isMap(raw)) throw fail(`${where} is not an object`);
    const ruleName = raw.name;
    if (typeof ruleName !== "string" || !RULE_NAME.test(ruleName)) {
      throw fail(
        `${where}: "name" must be 1 to 64 letters, digits, "_", "." or "-"`,
      );
    }
    const at = `${where} ("${ruleName}")`;
    if (seen.has(ruleName)) throw fail(`${at}: the name is used twice`);
    seen.add(ruleName);
    const kinds = ["match", "flag", "env"].filter((k) => k in raw);
    if (kinds.length !== 1) {
      throw fail(`${at}: expected exactly one of "match", "flag" or "env"`);
    }
    const allowed = kinds[0] === "flag"
      ? ["name", "flag", "separate", "command", "comment"]
      : ["name", kinds[0], "flags", "command", "comment"];
    for (const k of Object.keys(raw)) {
      if (!allowed.includes(k)) {
        throw fail(
          `${at}: unknown field "${k}" (expected ${allowed.join(", ")})`,
        );
      }
    }
    const command = raw.command;
    if (command !== undefined) {
      let ok = typeof command === "string" && command !== "";
      try {
        if (ok) new RegExp(command as string, "i");
      } catch {
        ok = false;
      }
      if (!ok) {
        throw fail(
          `${at}: "command" must be a regular expression on a command's file name, e.g. "^mysql(dump)?$"`,
        );
      }
    }
    const scoped = <T extends RedactionRule>(rule: T): T =>
      command === undefined ? rule : { ...rule, command: command as string };
    if (kinds[0] === "flag") {
      const flags = typeof raw.flag === "string" ? [raw.flag] : raw.flag;
      if (
        !Array.isArray(flags) || flags.length === 0 ||
        !flags.every((f) => typeof f === "string" && FLAG_NAME.test(f))
      ) {
        throw fail(
          `${at}: "flag" must be an option name such as "--token" or "-p", or a list of them`,
        );
      }
      if (raw.separate !== undefined && typeof raw.separate !== "boolean") {
        throw fail(`${at}: "separate" must be true or false`);
      }
      const rule: FlagRule = { name: ruleName, flag: flags as string[] };
      if (raw.separate !== undefined) rule.separate = raw.separate;
      return scoped(rule);
    }
    const kind = kinds[0] as "match" | "env";
    const pattern = raw[kind];
    const flags = raw.flags;
    if (
      flags !== undefined &&
      (typeof flags !== "string" || !REGEX_FLAGS.test(flags))
    ) {
      throw fail(`${at}: "flags" may hold only i, m, s and u`);
    }
    if (typeof pattern !== "string" || pattern === "") {
      throw fail(`${at}: "${kind}" must be a regular expression (a string)`);
    }
    try {
      new RegExp(pattern, flags as string | undefined);
    } catch (e) {
      throw fail(
        `${at}: "${kind}" is not a valid regular expression: ${
          (e as Error).message
        }`,
      );
    }
    if (kind === "match" && new RegExp(pattern, flags as string).test("")) {
      throw fail(`${at}: "match" matches the empty string`);
    }
    return scoped(
      kind === "match"
        ? withFlags<MatchRule>({ name: ruleName, match: pattern }, flags)
        : withFlags<EnvRule>({ name: ruleName, env: pattern }, flags),
    );
  });
}

function withFlags<T extends { flags?: string }>(
  rule: T,
  flags: unknown,
): T {
  if (typeof flags === "string" && flags !== "") rule.flags = flags;
  return rule;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
