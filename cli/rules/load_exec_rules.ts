/**
 * Reads, checks and resolves a rule file (`record --rules FILE`): nothing is
 * loaded into the kernel unless the whole file is right. Needs
 * `--allow-read`.
 *
 * @module
 */
import type { ResolvedExecRule } from "./exec_rule.ts";
import { parseExecRules } from "./parse_exec_rules.ts";
import { resolveExecRules } from "./resolve_exec_rules.ts";

/**
 * The resolved rules of `path`; throws an `Error` naming the file when it
 * cannot be read, a `SyntaxError` listing `FILE:LINE: field F: ...` for each
 * problem.
 *
 * ```ts ignore
 * const rules = await loadExecRules("rules.yaml");
 * ```
 */
export async function loadExecRules(path: string): Promise<ResolvedExecRule[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(
      `Cannot load the rule file "${path}": ${(e as Error).message}`,
      { cause: e },
    );
  }
  return resolveExecRules(parseExecRules(text, path), path);
}
