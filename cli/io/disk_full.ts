/**
 * Whether an error is a full disk. Pure.
 *
 * @module
 */

/**
 * Whether `e` (or its cause) is a full disk or an exceeded quota.
 *
 * @example
 * ```ts
 * import { isDiskFull } from "./disk_full.ts";
 * if (!isDiskFull(new Error("x", { cause: new Error("No space left on device (os error 28)") }))) throw new Error();
 * if (isDiskFull(new Error("Permission denied (os error 13)"))) throw new Error();
 * ```
 */
export function isDiskFull(e: unknown): boolean {
  for (let x = e as Error | undefined; x; x = x.cause as Error | undefined) {
    const code = (x as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "EDQUOT") return true;
    const m = String(x.message ?? "");
    if (/os error (28|122)\b|No space left|quota exceeded/i.test(m)) {
      return true;
    }
  }
  return false;
}
