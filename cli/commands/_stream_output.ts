/**
 * Output too big for one string: the JSON of a whole forest and the lines of
 * a tree or timeline are written a block at a time (a JavaScript string
 * holds at most 2^29 - 24 characters, which the JSON of a recording of about
 * two million events passes), byte-identical to printing them whole.
 *
 * @module
 */
import { toHex } from "../log/_hash.ts";
import { print } from "./_run.ts";

/** JSON's replacer for a header or report: bigints as text, bytes as hex, no maps. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return toHex(v);
  if (v instanceof Map) return undefined;
  return v;
}

/**
 * `JSON.stringify(value, jsonReplacer, 2) + "\n"` in pieces: the objects and
 * arrays at the paths of `open` (keys joined by `/`, `*` for an array's
 * elements, `""` for the value itself) are written a member at a time, the
 * rest of each as `JSON.stringify` writes it.
 *
 * @example
 * ```ts
 * import { jsonPieces, jsonReplacer } from "./_stream_output.ts";
 * const v = { a: 1n, list: [{ x: [1, 2] }, undefined], m: new Map(), e: [] };
 * const text = [...jsonPieces(v, new Set(["", "list"]))].join("");
 * if (text !== JSON.stringify(v, jsonReplacer, 2) + "\n") throw new Error(text);
 * ```
 */
export function* jsonPieces(
  value: unknown,
  open: ReadonlySet<string>,
): Generator<string> {
  const top = jsonReplacer("", value);
  const text = yield* member(top, "", 0, open);
  if (text === undefined) return;
  yield "\n";
}

/**
 * The pieces of one value at `depth` (its path `path`); returns false when
 * JSON leaves it out (undefined, a function, a symbol), having yielded
 * nothing.
 */
function* member(
  v: unknown,
  path: string,
  depth: number,
  open: ReadonlySet<string>,
): Generator<string, boolean | undefined> {
  const isArray = Array.isArray(v);
  const opened = open.has(path) && v !== null && typeof v === "object" &&
    typeof (v as { toJSON?: unknown }).toJSON !== "function";
  if (!opened) {
    const s = JSON.stringify(v, jsonReplacer, 2);
    if (s === undefined) return undefined;
    yield depth === 0 ? s : s.replaceAll("\n", "\n" + "  ".repeat(depth));
    return true;
  }
  const inner = "\n" + "  ".repeat(depth + 1);
  let first = true;
  if (isArray) {
    const a = v as unknown[];
    const sub = path === "" ? "*" : `${path}/*`;
    yield "[";
    for (let i = 0; i < a.length; i++) {
      yield first ? inner : "," + inner;
      first = false;
      const x = jsonReplacer(String(i), a[i]);
      if ((yield* member(x, sub, depth + 1, open)) === undefined) {
        yield "null";
      }
    }
  } else {
    const o = v as Record<string, unknown>;
    yield "{";
    for (const key of Object.keys(o)) {
      const x = jsonReplacer(key, o[key]);
      if (x === undefined || typeof x === "function" || typeof x === "symbol") {
        continue;
      }
      yield (first ? inner : "," + inner) + JSON.stringify(key) + ": ";
      first = false;
      yield* member(x, path === "" ? key : `${path}/${key}`, depth + 1, open);
    }
  }
  if (first) yield isArray ? "]" : "}";
  else yield "\n" + "  ".repeat(depth) + (isArray ? "]" : "}");
  return true;
}

/**
 * Characters gathered before they are written: a block stays a young object
 * (V8 puts a string of over about 128 KB in its large-object space, where it
 * stays until a full collection: blocks of a MiB piled up to 4 GB of garbage
 * before one came while 933 MB of JSON were written).
 */
const BLOCK = 1 << 15;

/**
 * Prints pieces of text in blocks of about 32 Ki characters, each through
 * {@link print} (so escaped, and with `color` styled, as a whole text is;
 * pieces end where a style does).
 */
export async function printPieces(
  pieces: Iterable<string>,
  color = false,
): Promise<void> {
  let block: string[] = [];
  let size = 0;
  for (const p of pieces) {
    block.push(p);
    size += p.length;
    if (size >= BLOCK) {
      await print(block.join(""), color);
      block = [];
      size = 0;
    }
  }
  if (block.length > 0) await print(block.join(""), color);
}

/** `JSON.stringify(value, jsonReplacer, 2) + "\n"` printed in blocks ({@link jsonPieces}). */
export async function printJson(
  value: unknown,
  open: ReadonlySet<string>,
): Promise<void> {
  await printPieces(jsonPieces(value, open));
}

/** Each line and a newline: `lines.join("\n") + "\n"`, printed in blocks. */
export async function printLines(
  lines: readonly string[],
  color = false,
): Promise<void> {
  if (lines.length === 0) return await print("\n", color);
  await printPieces(eachLine(lines), color);
}

function* eachLine(lines: readonly string[]): Generator<string> {
  for (const l of lines) yield l + "\n";
}
