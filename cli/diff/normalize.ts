import { splitAtMarkers } from "../redact/redaction_marker.ts";

/** How volatile values are normalized before two processes are compared. */
export interface NormalizeOptions {
  /** Parts of arguments to ignore: every match becomes `<ignored>` (applied to each argument, and to a Windows command line); an argument matched whole is left out. */
  ignoreArgv?: RegExp[];
  /** Replace temp paths, UUIDs, long hex strings and numbers of 4+ digits (default true). */
  volatile?: boolean;
}

const RULES: [RegExp, string][] = [
  // the first component under a temp directory: /tmp/tmp.X1y2Z3/a.c -> /tmp/<tmp>/a.c
  [/(\/(?:var\/)?tmp\/)[^/\s'"]+/g, "$1<tmp>"],
  [/([\\/]temp[\\/])[^\\/\s'"]+/gi, "$1<tmp>"],
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<uuid>"],
  [/\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{16,}\b/gi, "<hex>"],
  [/\d{4,}/g, "<n>"],
];

/**
 * Normalizes one string (an argument, a command line or an image path) so
 * that values that change from run to run compare equal.
 *
 * @example
 * ```ts
 * import { normalizeValue } from "./normalize.ts";
 * const a = normalizeValue("/tmp/tmp.Ab12Cd/x.c", {});
 * const b = normalizeValue("/tmp/tmp.Zz99Yy/x.c", {});
 * if (a !== b || a !== "/tmp/<tmp>/x.c") throw new Error(a);
 * if (normalizeValue("--seed=12345", {}) !== "--seed=<n>") throw new Error();
 * if (normalizeValue("exit 3", {}) !== "exit 3") throw new Error();
 * // a redaction marker is kept whole: its HMAC is what two secrets compare by
 * const m = `[redacted:pw:${"ab12".repeat(16)}]`;
 * if (normalizeValue(`-p${m}`, {}) !== `-p${m}`) throw new Error();
 * ```
 */
export function normalizeValue(s: string, options: NormalizeOptions): string {
  if (s.includes("[redacted:")) {
    const parts = splitAtMarkers(s);
    if (parts.length > 1) {
      return parts.map((p, i) => i % 2 ? p : normalizeValue(p, options))
        .join("");
    }
  }
  let out = s;
  for (const re of options.ignoreArgv ?? []) {
    out = out.replace(globalize(re), "<ignored>");
  }
  if (options.volatile !== false) {
    // fast paths: most arguments have neither digits nor temp paths
    const digits = /[0-9]/.test(out);
    const temp = /te?mp/i.test(out);
    if (digits || temp || out.includes("-")) {
      for (let i = 0; i < RULES.length; i++) {
        // rules 0-1 need a temp path; 2 (UUID) a dash; 3-4 a digit
        const may = i < 2 ? temp : i === 2 ? out.includes("-") : digits;
        if (may) out = out.replace(RULES[i][0], RULES[i][1]);
      }
    }
  }
  return out;
}

const globals = new WeakMap<RegExp, RegExp>();

function globalize(re: RegExp): RegExp {
  if (re.global) return re;
  let g = globals.get(re);
  if (!g) {
    g = new RegExp(re.source, re.flags + "g");
    globals.set(re, g);
  }
  return g;
}
