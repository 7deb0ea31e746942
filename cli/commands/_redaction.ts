/**
 * Reads what redaction needs from files, through the bounded input reader
 * (`cli/io/read_input.ts`): the rules (`--redact FILE`, `--rules FILE`) and
 * the key (`--redact-key FILE`). Needs `--allow-read`.
 * The key must be a regular file that only its owner can read (as ssh
 * wants of a private key): a key others can read protects nothing.
 *
 * @module
 */
// the redaction code loads only when it is asked for (it would cost every
// recorder's start-up)
import type { Redactor } from "../redact/mod.ts";
import { CliError, UsageError } from "../errors.ts";
import { INPUT_LIMITS, readInputBytes, refuseOpenToOthers } from "../io/mod.ts";
import { printErr } from "./_run.ts";

const MAX_RULES_BYTES = 1 << 20;
const MAX_KEY_BYTES = INPUT_LIMITS.key;

/** What a command was given: `rules` and `key` paths, either may be absent. */
export interface RedactionFlags {
  rules?: string;
  key?: string;
}

/**
 * The redactor for `--redact`/`--rules` and `--redact-key`, or undefined
 * when neither was given. `option` names the rules option in messages.
 */
export async function loadRedactor(
  flags: RedactionFlags,
  option: string,
): Promise<Redactor | undefined> {
  if (flags.rules === undefined && flags.key === undefined) return undefined;
  if (flags.rules === undefined) {
    throw new UsageError(`--redact-key needs ${option} FILE (the rules)`);
  }
  if (flags.key === undefined) {
    throw new UsageError(
      `${option} needs --redact-key FILE (make one with: procrec keygen --redact -o FILE)`,
    );
  }
  const rulesText = await readSmall(
    flags.rules,
    "redaction rules file",
    MAX_RULES_BYTES,
  );
  const key = await readRedactionKey(flags.key);
  const { Redactor, parseRedactionRules } = await import("../redact/mod.ts");
  let redactor: Redactor;
  try {
    const rules = parseRedactionRules(rulesText, flags.rules);
    redactor = new Redactor(rules, key);
    for (const r of rules) {
      if ("match" in r && isLiteral(r.match)) {
        printErr(
          `procrec: warning: redaction rule "${r.name}" matches the literal text of its pattern; the rules are kept in the header of what is written, so that text is too: find a secret by its context (a group after a name), not by the secret itself\n`,
        );
      }
    }
  } catch (e) {
    throw new CliError((e as Error).message, 2, { cause: e });
  }
  return redactor;
}

/**
 * Whether a `match` pattern is a plain text of 6 or more characters (no
 * class, group, quantifier or escape): most likely the secret itself.
 */
function isLiteral(pattern: string): boolean {
  return pattern.length >= 6 && !/[\\[\](){}.*+?|^$]/.test(pattern);
}

/** Reads and checks a redaction key file (regular, mode 0600 or stricter). */
export async function readRedactionKey(path: string): Promise<Uint8Array> {
  const st = await statFile(path, "redaction key");
  refuseOpenToOthers(
    path,
    "redaction key",
    st.mode,
    (m) => new CliError(m),
  );
  const text = await readSmall(path, "redaction key", MAX_KEY_BYTES);
  const { parseRedactionKey } = await import("../redact/mod.ts");
  try {
    return parseRedactionKey(text, path);
  } catch (e) {
    throw new CliError((e as Error).message, 2, { cause: e });
  }
}

async function statFile(path: string, what: string): Promise<Deno.FileInfo> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    throw new CliError(
      `Cannot read ${what} "${path}": ${(e as Error).message}`,
    );
  }
  if (!st.isFile) {
    throw new CliError(`Cannot read ${what} "${path}": not a regular file`);
  }
  return st;
}

async function readSmall(
  path: string,
  what: string,
  limit: number,
): Promise<string> {
  try {
    const bytes = await readInputBytes(path, { what, maxBytes: limit });
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const why = e instanceof TypeError
      ? `Cannot read ${what} "${path}": it is not UTF-8 text`
      : (e as Error).message;
    throw new CliError(why, 2, { cause: e });
  }
}
