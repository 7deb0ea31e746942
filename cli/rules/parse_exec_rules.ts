/**
 * Parses and checks a rule file (YAML, so JSON too) into {@link ExecRule}s.
 * Pure: the caller reads the file. Every problem is reported at once, each
 * naming the file, the line and the field.
 *
 * @module
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Node, Pair, YAMLMap } from "yaml";
import {
  type ExecRule,
  type ExecRuleAction,
  RULE_TEXT_MAX,
  RULES_MAX,
} from "./exec_rule.ts";
import { checkArgvRegex } from "./check_argv_regex.ts";
import { byteString } from "./match_argv_regex.ts";

const KEYS = new Set([
  "id",
  "action",
  "path",
  "file",
  "argv",
  "parent",
  "user",
  "container",
]);
const MATCHERS = ["path", "file", "argv", "parent", "user", "container"];
const ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEX_ID = /^[0-9a-f]{12,64}$/;
const utf8 = new TextEncoder();

/**
 * Parses `text` (the contents of `name`). Throws a `SyntaxError` listing
 * every problem as `NAME:LINE: field F: what was expected`.
 *
 * @example
 * ```ts
 * import { parseExecRules } from "./parse_exec_rules.ts";
 * const rules = parseExecRules(
 *   "rules:\n  - id: no-nc\n    action: deny\n    path: /usr/bin/nc*\n",
 *   "rules.yaml",
 * );
 * if (rules[0].id !== "no-nc" || rules[0].line !== 2) throw new Error();
 * try {
 *   parseExecRules("rules:\n  - id: x\n    action: block\n    path: /a\n", "r.yaml");
 *   throw new Error("accepted");
 * } catch (e) {
 *   if (!String(e).includes("r.yaml:3: field action")) throw e;
 * }
 * ```
 */
export function parseExecRules(text: string, name: string): ExecRule[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const problems: string[] = [];
  const lineOf = (n: Node | null | undefined): number =>
    n?.range ? lines.linePos(n.range[0]).line : 1;
  const say = (n: Node | null | undefined, msg: string) =>
    problems.push(`${name}:${lineOf(n)}: ${msg}`);
  for (const e of doc.errors) {
    problems.push(
      `${name}:${lines.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`,
    );
  }
  const rules: ExecRule[] = [];
  if (problems.length === 0) {
    const top = doc.contents;
    const list = isMap(top) ? top.get("rules", true) : undefined;
    if (!isMap(top) || !isSeq(list)) {
      say(top, 'field rules: expected a top-level "rules:" list of rules');
    } else if (list.items.length === 0 || list.items.length > RULES_MAX) {
      say(
        list,
        `field rules: ${list.items.length} rules, expected 1 to ${RULES_MAX}`,
      );
    } else {
      for (const k of top.items) {
        const key = isScalar(k.key) ? String(k.key.value) : "";
        if (key !== "rules") {
          say(k.key as Node, `field ${key}: unknown (only "rules")`);
        }
      }
      const ids = new Map<string, number>();
      for (const item of list.items) {
        const r = parseRule(item as Node, say, lineOf);
        if (!r) continue;
        const dup = ids.get(r.id);
        if (dup !== undefined) {
          say(
            item as Node,
            `field id: "${r.id}" is also the id of the rule at line ${dup}`,
          );
        } else ids.set(r.id, r.line);
        rules.push(r);
      }
    }
  }
  if (problems.length) {
    throw new SyntaxError(
      `Cannot load the rule file "${name}":\n  ${problems.join("\n  ")}`,
    );
  }
  return rules;
}

type Say = (n: Node | null | undefined, msg: string) => void;

function parseRule(
  node: Node,
  say: Say,
  lineOf: (n: Node | null | undefined) => number,
): ExecRule | undefined {
  if (!isMap(node)) {
    say(node, "field rules: each rule is a mapping (id, action, matchers)");
    return undefined;
  }
  const before = { n: 0 };
  const bad: Say = (n, m) => {
    before.n++;
    say(n, m);
  };
  const field = (k: string): Pair<Node, Node> | undefined =>
    (node as YAMLMap<Node, Node>).items.find((p) =>
      isScalar(p.key) && p.key.value === k
    );
  for (const p of (node as YAMLMap<Node, Node>).items) {
    const key = isScalar(p.key) ? String(p.key.value) : "?";
    if (!KEYS.has(key)) {
      bad(
        p.key,
        `field ${key}: unknown (expected one of ${[...KEYS].join(", ")})`,
      );
    }
  }
  const str = (k: string): string | undefined => {
    const p = field(k);
    if (!p) return undefined;
    const v = isScalar(p.value) ? p.value.value : undefined;
    if (typeof v !== "string" || v === "") {
      bad(p.value ?? p.key, `field ${k}: expected a non-empty string`);
      return undefined;
    }
    return v;
  };
  const text = (
    k: string,
    v: string | undefined,
    at: Node | null | undefined,
  ) => {
    if (v !== undefined && utf8.encode(v).length > RULE_TEXT_MAX) {
      bad(
        at,
        `field ${k}: ${utf8.encode(v).length} bytes, at most ${RULE_TEXT_MAX}`,
      );
    }
    if (v !== undefined && v.includes("\0")) {
      bad(at, `field ${k}: contains a NUL`);
    }
  };
  const id = str("id");
  if (!field("id")) bad(node, "field id: missing (every rule has an id)");
  else if (id !== undefined && !ID.test(id)) {
    bad(
      field("id")!.value,
      `field id: "${id}" is not 1 to 64 of A-Z a-z 0-9 . _ -`,
    );
  }
  const action = str("action");
  if (!field("action")) bad(node, "field action: missing (deny or audit)");
  else if (action !== undefined && action !== "deny" && action !== "audit") {
    bad(
      field("action")!.value,
      `field action: "${action}", expected deny or audit`,
    );
  }
  const rule: ExecRule = {
    id: id ?? "",
    action: (action ?? "audit") as ExecRuleAction,
    line: lineOf(node),
  };
  for (const k of ["path", "parent"] as const) {
    const v = str(k);
    if (v === undefined) continue;
    if (!v.startsWith("/") && !v.startsWith("*")) {
      bad(
        field(k)!.value,
        `field ${k}: "${v}" is not absolute (start with / or *)`,
      );
    }
    text(k, v, field(k)!.value);
    rule[k] = v;
  }
  const fileP = field("file");
  if (fileP) {
    const v = fileP.value;
    const items = isSeq(v) ? v.items as Node[] : [v];
    const files: string[] = [];
    for (const it of items) {
      const s = isScalar(it) ? it.value : undefined;
      if (typeof s !== "string" || !s.startsWith("/")) {
        bad(
          it ?? fileP.key,
          "field file: expected an absolute path or a list of them",
        );
      } else files.push(s);
    }
    if (items.length === 0) {
      bad(v ?? fileP.key, "field file: the list is empty");
    }
    rule.file = files;
  }
  const argvP = field("argv");
  if (argvP) {
    const v = argvP.value;
    const c = isMap(v) ? v.get("contains") : undefined;
    const r = isMap(v) ? v.get("regex") : undefined;
    const keys = isMap(v)
      ? v.items.map((p) => isScalar(p.key) ? p.key.value : "?")
      : [];
    if (
      !isMap(v) || keys.length !== 1 ||
      (typeof c !== "string" && typeof r !== "string") || c === "" || r === ""
    ) {
      bad(
        v ?? argvP.key,
        "field argv: expected {contains: TEXT} or {regex: POSIX-ERE} (the subset JavaScript reads the same way)",
      );
    } else if (typeof c === "string") {
      text("argv", c, v);
      rule.argv = { contains: c };
    } else {
      text("argv", r as string, v);
      // it compiles, and it is in the subset JavaScript (--dry-run) and
      // POSIX ERE (the enforcer) read the same way
      let compiles = true;
      try {
        new RegExp(byteString(r as string), "s");
      } catch (e) {
        compiles = false;
        bad(
          v,
          `field argv: regex does not compile (rule ${
            JSON.stringify(id ?? "")
          }): ${(e as Error).message}`,
        );
      }
      const wrong = compiles ? checkArgvRegex(r as string) : undefined;
      if (wrong !== undefined) {
        bad(
          v,
          `field argv: regex ${JSON.stringify(r)} of rule ${
            JSON.stringify(id ?? "")
          }: ${wrong}`,
        );
      }
      rule.argv = { regex: r as string };
    }
  }
  const userP = field("user");
  if (userP) {
    const v = isScalar(userP.value) ? userP.value.value : undefined;
    if (
      typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 0xffffffff
    ) {
      rule.user = v;
    } else if (
      typeof v === "string" && /^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(v)
    ) {
      rule.user = /^\d+$/.test(v) ? Number(v) : v;
    } else {
      bad(
        userP.value ?? userP.key,
        "field user: expected a user name or a uid",
      );
    }
  }
  const ctr = str("container");
  if (ctr !== undefined) {
    if (!HEX_ID.test(ctr)) {
      bad(
        field("container")!.value,
        `field container: "${ctr}" is not 12 to 64 lowercase hex digits`,
      );
    } else rule.container = ctr;
  }
  if (!MATCHERS.some((m) => field(m))) {
    bad(node, `field ${MATCHERS.join("|")}: a rule needs at least one matcher`);
  }
  return before.n ? undefined : rule;
}
