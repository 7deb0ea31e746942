/**
 * What each rule would match among running processes (`record --rules FILE
 * --dry-run`), as text. Pure.
 *
 * @module
 */
import { oneLine } from "../analysis/_format.ts";
import type { ResolvedExecRule } from "./exec_rule.ts";
import { type ExecSubject, fileMatch, ruleMatches } from "./match_exec_rule.ts";

/**
 * One block per rule: its id, action and line, how many processes it
 * matches, then each (pid, image, arguments), up to `limit` per rule. A
 * running process stands for an exec of the same file with the same
 * arguments by the same user under the same parent. A process that a `file`
 * rule matches as a copy (same size and SHA-256, another file) is marked
 * `(by content)`. `shown` gives what is printed of a process (its image and
 * arguments redacted, with `--redact`); the rules match what it ran.
 *
 * @example
 * ```ts
 * import { renderDryRun } from "./render_dry_run.ts";
 * const text = renderDryRun(
 *   [{ id: "no-sh", action: "deny", path: "*\/sh", line: 3 }],
 *   [{ pid: 7, image: "/usr/bin/sh", argv: ["sh"] }, { pid: 8, image: "/usr/bin/ls" }],
 * );
 * if (!text.includes("rule no-sh (deny, line 3): 1 running process")) throw new Error(text);
 * if (!text.includes("  7  /usr/bin/sh  sh")) throw new Error(text);
 * ```
 */
export function renderDryRun(
  rules: ResolvedExecRule[],
  processes: (ExecSubject & { pid: number })[],
  limit = 50,
  shown: (p: ExecSubject) => { image?: string; argv?: readonly string[] } = (
    p,
  ) => p,
): string {
  const out: string[] = [];
  for (const r of rules) {
    const hits = processes.filter((p) => ruleMatches(r, p));
    out.push(
      `rule ${r.id} (${r.action}, line ${r.line}): ${hits.length} running process${
        hits.length === 1 ? "" : "es"
      }${hits.length ? "" : " would match"}`,
    );
    for (const p of hits.slice(0, limit)) {
      const s = shown(p);
      out.push(
        `  ${p.pid}  ${oneLine(s.image ?? "?")}  ${
          oneLine((s.argv ?? []).join(" "))
        }`.trimEnd() +
          (fileMatch(r, p) === "content" ? "  (by content)" : ""),
      );
    }
    if (hits.length > limit) out.push(`  ... and ${hits.length - limit} more`);
  }
  out.push(
    `dry run: ${rules.length} rule${
      rules.length === 1 ? "" : "s"
    } checked against ${processes.length} running processes; nothing was enforced or recorded`,
  );
  return out.join("\n") + "\n";
}
