/**
 * The mode a secret file (a private or redaction key) may have. Pure.
 *
 * @module
 */

/**
 * Throws `make(message)` when `mode` lets the file's group or others read or
 * write it: a key others can read protects nothing.
 *
 * @example
 * ```ts
 * import { refuseOpenToOthers } from "./secret_file_mode.ts";
 * refuseOpenToOthers("k", "private key", 0o100600, (m) => new Error(m));
 * let said = "";
 * try {
 *   refuseOpenToOthers("k", "private key", 0o100644, (m) => new Error(m));
 * } catch (e) {
 *   said = (e as Error).message;
 * }
 * if (!said.includes("(mode 0644)")) throw new Error(said);
 * ```
 */
export function refuseOpenToOthers(
  path: string,
  what: string,
  mode: number | null,
  make: (message: string) => Error,
): void {
  if (mode !== null && (mode & 0o077) !== 0) {
    throw make(
      `Cannot use ${what} "${path}": others can read it (mode ${
        (mode & 0o777).toString(8).padStart(4, "0")
      }); make it 0600 (chmod 600 ${path})`,
    );
  }
}
