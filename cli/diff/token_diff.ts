/**
 * A word diff of two command lines: which tokens (split at spaces) were
 * removed, added or kept, for `diff` to mark the changes of a long command
 * line instead of printing both in full. Pure.
 *
 * @module
 */
import { style } from "../text/style.ts";

/** A run of tokens: kept (`=`), removed (`-`) or added (`+`). */
export interface TokenPart {
  op: "=" | "-" | "+";
  tokens: string[];
}

/** Above this many cells the middle is not aligned token by token. */
const MAX_CELLS = 1_000_000;

/**
 * What a whole diff may spend on aligning tokens (cells of the LCS table,
 * all its changed command lines together): past it, a changed middle is
 * shown as removed then added. Each line's own bound alone let a diff of
 * 500 processes with 1,000-token commands take 7 s (found by review).
 */
export const DIFF_CELLS = 20_000_000;

/** Cells left to spend on alignment, shared by the lines of one diff. */
export interface CellBudget {
  cells: number;
}

/**
 * The token diff of `a` and `b`: common prefix and suffix, and the longest
 * common subsequence of the tokens between (or, for very long lines, the
 * whole middle as removed then added).
 *
 * @example
 * ```ts
 * import { tokenDiff } from "./token_diff.ts";
 * const d = tokenDiff("ld -o app a.o b.o", "ld -o app a.o c.o --as-needed");
 * const text = d.map((p) => p.op + p.tokens.join(" ")).join("|");
 * if (text !== "=ld -o app a.o|-b.o|+c.o --as-needed") throw new Error(text);
 * ```
 */
export function tokenDiff(
  a: string,
  b: string,
  budget?: CellBudget,
): TokenPart[] {
  const x = a.split(" ").filter((t) => t !== "");
  const y = b.split(" ").filter((t) => t !== "");
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (
    suf < x.length - pre && suf < y.length - pre &&
    x[x.length - 1 - suf] === y[y.length - 1 - suf]
  ) suf++;
  const xm = x.slice(pre, x.length - suf);
  const ym = y.slice(pre, y.length - suf);
  const ops: { op: TokenPart["op"]; t: string }[] = [];
  for (const t of x.slice(0, pre)) ops.push({ op: "=", t });
  const cells = xm.length * ym.length;
  if (cells > Math.min(MAX_CELLS, budget?.cells ?? Infinity)) {
    for (const t of xm) ops.push({ op: "-", t });
    for (const t of ym) ops.push({ op: "+", t });
  } else {
    if (budget) budget.cells -= cells;
    // (one by one: a spread of 125,000 tokens overflows the call stack)
    for (const o of lcsOps(xm, ym)) ops.push(o);
  }
  for (const t of x.slice(x.length - suf)) ops.push({ op: "=", t });
  const parts: TokenPart[] = [];
  for (const { op, t } of ops) {
    const last = parts[parts.length - 1];
    if (last?.op === op) last.tokens.push(t);
    else parts.push({ op, tokens: [t] });
  }
  return parts;
}

function lcsOps(
  x: string[],
  y: string[],
): { op: TokenPart["op"]; t: string }[] {
  const n = x.length, m = y.length;
  // lengths of the LCS of x[i..] and y[j..]
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      L[i][j] = x[i] === y[j]
        ? L[i + 1][j + 1] + 1
        : Math.max(L[i + 1][j], L[i][j + 1]);
    }
  }
  const out: { op: TokenPart["op"]; t: string }[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push({ op: "=", t: x[i] });
      i++;
      j++;
    } else if (j < m && (i === n || L[i][j + 1] >= L[i + 1][j])) {
      // removals before additions within a change
      if (i < n && L[i + 1][j] === L[i][j + 1]) {
        out.push({ op: "-", t: x[i++] });
      } else out.push({ op: "+", t: y[j++] });
    } else out.push({ op: "-", t: x[i++] });
  }
  return out;
}

/**
 * The changes from `a` to `b` as one line: kept tokens as they are (long
 * kept runs cut to `context` tokens each side of a change, `...` between;
 * the first token, the program, stays), removed ones
 * as `[-old-]`, added ones as `{+new+}`; with `color`, also red and green.
 *
 * @example
 * ```ts
 * import { markTokenChanges } from "./token_diff.ts";
 * const a = "java -Xmx1g -cp a.jar:b.jar:c.jar -Dx=1 -Dy=2 -Dz=3 Main --port 80";
 * const b = "java -Xmx2g -cp a.jar:b.jar:c.jar -Dx=1 -Dy=2 -Dz=3 Main --port 8080";
 * const m = markTokenChanges(a, b);
 * if (m !== "java [--Xmx1g-]{+-Xmx2g+} -cp a.jar:b.jar:c.jar ... Main --port [-80-]{+8080+}") throw new Error(m);
 * ```
 */
export function markTokenChanges(
  a: string,
  b: string,
  options: { context?: number; color?: boolean; budget?: CellBudget } = {},
): string {
  const ctx = options.context ?? 2;
  const color = options.color === true;
  const parts = tokenDiff(a, b, options.budget);
  const out: string[] = [];
  parts.forEach((p, k) => {
    if (p.op === "-") {
      out.push(style("red", `[-${p.tokens.join(" ")}-]`, color));
    } else if (p.op === "+") {
      out.push(style("green", `{+${p.tokens.join(" ")}+}`, color));
    } else {
      const first = k === 0, last = k === parts.length - 1;
      // the program's name stays
      const keepHead = first ? 1 : ctx, keepTail = last ? 0 : ctx;
      const t = p.tokens;
      if (t.length > keepHead + keepTail + 1) {
        const head = t.slice(0, keepHead), tail = t.slice(t.length - keepTail);
        out.push([...head, "...", ...tail].join(" "));
      } else out.push(t.join(" "));
    }
  });
  // the [-old-]{+new+} of one change stay together
  return out.join(" ").replace(/-\](\uE000?) (\uE002?)\{\+/g, "-]$1$2{+");
}
