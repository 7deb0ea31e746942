import type { DiffLine, DiffProcess, ForestDiff } from "./diff_forests.ts";
import { type CellBudget, DIFF_CELLS, markTokenChanges } from "./token_diff.ts";
import { style } from "../text/style.ts";
import { escapeEvidence } from "../text/escape_text.ts";
import { imageHidden } from "../analysis/render_tree.ts";
import { windowsProgramName } from "../interop/split_windows_command_line.ts";

/** A command line longer than this shows its changed tokens, not both lines. */
export const LONG_COMMAND = 60;

/** Options of {@link renderDiff}. */
export interface RenderDiffOptions {
  /** Removed lines red, added green, changed yellow, with `style()`. */
  color?: boolean;
}

/**
 * Renders a diff as text in the style of a unified diff of trees: `---`/`+++`
 * headers, a `@@` line with the counts, then the reported processes under
 * their ancestors (two spaces per level): `-` removed, `+` added, `~` changed
 * (with each changed field), and unprefixed context lines. Empty when the
 * forests are the same. A changed command line longer than
 * {@link LONG_COMMAND} characters shows its changed tokens
 * (`[-old-]{+new+}`, see {@link markTokenChanges}) instead of both lines.
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
  options: RenderDiffOptions = {},
): string {
  if (diff.same) return "";
  return renderDiffLines(diff, nameA, nameB, options).join("\n") + "\n";
}

/**
 * The lines of {@link renderDiff} (without their newlines; none when the
 * two are the same), for a diff too big for one string: two recordings of
 * millions of processes that differ throughout.
 */
export function renderDiffLines(
  diff: ForestDiff,
  nameA: string,
  nameB: string,
  options: RenderDiffOptions = {},
): string[] {
  if (diff.same) return [];
  const color = options.color === true;
  const out = [
    `--- ${nameA}`,
    `+++ ${nameB}`,
    `@@ ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed @@`,
  ];
  const budget = { cells: DIFF_CELLS };
  for (const l of diff.lines) out.push(renderLine(l, color, budget));
  return out;
}

function renderLine(l: DiffLine, color: boolean, budget: CellBudget): string {
  const indent = "  ".repeat(Math.min(l.depth, 64));
  if (l.op === "~") {
    const changes = l.changes.map((c) =>
      c.field === "argv" &&
        (String(c.a).length > LONG_COMMAND || String(c.b).length > LONG_COMMAND)
        ? `argv: ${
          markTokenChanges(safe(String(c.a)), safe(String(c.b)), {
            color,
            budget,
          })
        }`
        : `${c.field}: ${safe(String(c.a))} -> ${safe(String(c.b))}`
    );
    return `${style("yellow", "~", color)} ${indent}${show(l.b)}  {${
      changes.join("; ")
    }}`;
  }
  if (l.op === " ") return `  ${indent}${show(l.process)}`;
  return style(
    l.op === "-" ? "red" : "green",
    `${l.op} ${indent}${show(l.process)}`,
    color,
  );
}

function show(p: DiffProcess): string {
  const image = hiddenImage(p);
  return `${safe(p.command)}${
    image !== undefined ? `  image ${safe(image)}` : ""
  }  (${p.exit}, threads ${p.threads})`;
}

/**
 * The image, when the command's first word does not show it, as the tree
 * notes it (`imageHidden`): two `sshd -D`, one of /usr/sbin/sshd and one of
 * /dev/shm/.x/sshd, read the same on a `-` and a `+` line (found by
 * review). A Windows image is one with a drive or a UNC path.
 */
function hiddenImage(p: DiffProcess): string | undefined {
  if (p.image === undefined || p.command === p.image) return undefined;
  const windows = /^([A-Za-z]:[\\/]|\\\\)/.test(p.image);
  const first = windows ? windowsProgramName(p.command) : shellWord(p.command);
  return first !== undefined &&
      imageHidden(p.image, first, windows ? "windows" : "linux")
    ? p.image
    : undefined;
}

/**
 * The first word of a command as `quoteArg` wrote it (`'a b'` is `a b`,
 * `'it'\''s'` is `it's`); undefined for a quote left open.
 */
function shellWord(command: string): string | undefined {
  let out = "";
  let i = 0;
  while (i < command.length && command[i] !== " ") {
    if (command[i] === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return undefined;
      out += command.slice(i + 1, end);
      i = end + 1;
    } else if (command[i] === "\\" && i + 1 < command.length) {
      out += command[i + 1];
      i += 2;
    } else out += command[i++];
  }
  return out;
}

/**
 * Evidence text as the tree shows it (escapeEvidence: every control,
 * bidirectional, invisible or colour-mark character written `\uXXXX`): a
 * `?` for each made `a\nb` and `a?b` one text, and a change between them an
 * invisible one (found by review).
 */
function safe(text: string): string {
  return escapeEvidence(text);
}
