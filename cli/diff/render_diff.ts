import type { DiffLine, DiffProcess, ForestDiff } from "./diff_forests.ts";

/**
 * Renders a diff as text in the style of a unified diff of trees: `---`/`+++`
 * headers, a `@@` line with the counts, then the reported processes under
 * their ancestors (two spaces per level): `-` removed, `+` added, `~` changed
 * (with each changed field), and unprefixed context lines. Empty when the
 * forests are the same.
 *
 * @example
 * ```ts
 * import { renderDiff } from "./render_diff.ts";
 * const same = { same: true, added: [], removed: [], changed: [], lines: [] };
 * if (renderDiff(same, "a", "b") !== "") throw new Error();
 * ```
 */
export function renderDiff(
  diff: ForestDiff,
  nameA: string,
  nameB: string,
): string {
  if (diff.same) return "";
  const out = [
    `--- ${nameA}`,
    `+++ ${nameB}`,
    `@@ ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed @@`,
  ];
  for (const l of diff.lines) out.push(renderLine(l));
  return out.join("\n") + "\n";
}

function renderLine(l: DiffLine): string {
  const indent = "  ".repeat(Math.min(l.depth, 64));
  if (l.op === "~") {
    const changes = l.changes.map((c) =>
      c.field === "argv"
        ? `argv: ${c.a} -> ${c.b}`
        : `${c.field}: ${c.a} -> ${c.b}`
    );
    return `~ ${indent}${show(l.b)}  {${changes.join("; ")}}`;
  }
  if (l.op === " ") return `  ${indent}${show(l.process)}`;
  return `${l.op} ${indent}${show(l.process)}`;
}

function show(p: DiffProcess): string {
  // deno-lint-ignore no-control-regex
  const cmd = p.command.replace(/[\x00-\x1f\x7f]/g, "?");
  return `${cmd}  (${p.exit}, threads ${p.threads})`;
}
