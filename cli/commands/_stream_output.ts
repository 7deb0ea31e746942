/**
 * Output too big for one string: the JSON of a whole forest and the lines of
 * a tree or timeline are written a block at a time (a JavaScript string
 * holds at most 2^29 - 24 characters, which the JSON of a recording of about
 * two million events passes), byte-identical to printing them whole.
 *
 * @module
 */
import { toHex } from "../log/_hash.ts";
import { safeText, stdoutClosed, writeStdout } from "./_run.ts";

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
  plain: ReadonlySet<string> = NONE,
): Generator<string> {
  const top = jsonReplacer("", value);
  const text = yield* member(top, "", 0, { open, plain });
  if (text === undefined) return;
  yield "\n";
}

const NONE: ReadonlySet<string> = new Set();

/** The paths {@link jsonPieces} writes a member at a time, and those it may write without the replacer. */
interface Paths {
  open: ReadonlySet<string>;
  plain: ReadonlySet<string>;
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
  paths: Paths,
): Generator<string, boolean | undefined> {
  if (!opened(v, path, paths)) {
    const s = closedOrPieces(v, path, depth, paths);
    if (s === undefined) return undefined;
    if (typeof s === "string") yield s;
    else yield* s;
    return true;
  }
  const isArray = Array.isArray(v);
  const inner = "\n" + "  ".repeat(depth + 1);
  let first = true;
  if (isArray) {
    const a = v as unknown[];
    const sub = path === "" ? "*" : `${path}/*`;
    yield "[";
    for (let i = 0; i < a.length; i++) {
      const sep = first ? inner : "," + inner;
      first = false;
      const x = jsonReplacer(String(i), a[i]);
      // (most elements are written whole: no generator each)
      if (!opened(x, sub, paths)) {
        const s = closedOrPieces(x, sub, depth + 1, paths);
        if (typeof s === "string" || s === undefined) yield sep + (s ?? "null");
        else {
          yield sep;
          yield* s;
        }
        continue;
      }
      yield sep;
      yield* member(x, sub, depth + 1, paths);
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
      yield* member(x, path === "" ? key : `${path}/${key}`, depth + 1, paths);
    }
  }
  if (first) yield isArray ? "]" : "}";
  else yield "\n" + "  ".repeat(depth) + (isArray ? "]" : "}");
  return true;
}

/** Whether the value at `path` is written a member at a time. */
function opened(v: unknown, path: string, paths: Paths): boolean {
  return paths.open.has(path) && v !== null && typeof v === "object" &&
    typeof (v as { toJSON?: unknown }).toJSON !== "function";
}

/**
 * {@link closedText}, or, for a value `JSON.stringify` cannot write (nested
 * deeper than its stack goes: a diff's chain of thousands of processes; or
 * longer than a string), the same text in pieces ({@link prettyJsonPieces}).
 */
function closedOrPieces(
  v: unknown,
  path: string,
  depth: number,
  paths: Paths,
): string | Iterable<string> | undefined {
  try {
    return closedText(v, path, depth, paths);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return prettyJsonPieces(v, depth);
  }
}

/**
 * `JSON.stringify(v, jsonReplacer, 2)`, indented for `depth` (each newline
 * followed by `depth` more indents), in pieces of about 32 Ki characters,
 * walking the value with a stack of its own instead of the call stack: for
 * a value nested deeper than the replacer's calls can go, or whose text is
 * longer than a string.
 *
 * @example
 * ```ts
 * import { jsonReplacer, prettyJsonPieces } from "./_stream_output.ts";
 * const v = { a: [1, { b: 2n }], c: undefined, d: [] };
 * const text = [...prettyJsonPieces(v, 1)].join("");
 * if (text !== JSON.stringify(v, jsonReplacer, 2).replaceAll("\n", "\n  ")) {
 *   throw new Error(text);
 * }
 * ```
 */
export function* prettyJsonPieces(
  v: unknown,
  depth: number,
): Generator<string> {
  let out = "";
  /** An object's or array's members still to write, and where it is. */
  type Frame = {
    keys: string[] | undefined;
    items: Record<string, unknown> | unknown[];
    i: number;
    level: number;
    wrote: boolean;
  };
  const stack: Frame[] = [];
  /** Writes a value made ready ({@link jsonReady}); opens a frame for an object or array. */
  const value = (x: unknown, level: number): void => {
    if (x !== null && typeof x === "object") {
      const isArray = Array.isArray(x);
      out += isArray ? "[" : "{";
      stack.push({
        keys: isArray ? undefined : Object.keys(x),
        items: x as Record<string, unknown>,
        i: 0,
        level,
        wrote: false,
      });
      return;
    }
    out += JSON.stringify(x);
  };
  const top = jsonReady({ "": v }, "", v);
  if (top === undefined) return;
  value(top, depth);
  while (stack.length > 0) {
    if (out.length >= BLOCK) {
      yield out;
      out = "";
    }
    const f = stack[stack.length - 1];
    const inner = "\n" + "  ".repeat(f.level + 1);
    if (f.keys === undefined) {
      const a = f.items as unknown[];
      if (f.i < a.length) {
        const i = f.i++;
        out += (f.wrote ? "," : "") + inner;
        f.wrote = true;
        const x = jsonReady(a, String(i), a[i]);
        if (x === undefined) out += "null";
        else value(x, f.level + 1);
        continue;
      }
    } else {
      const o = f.items as Record<string, unknown>;
      if (f.i < f.keys.length) {
        const k = f.keys[f.i++];
        const x = jsonReady(o, k, o[k]);
        if (x === undefined) continue;
        out += (f.wrote ? "," : "") + inner + JSON.stringify(k) + ": ";
        f.wrote = true;
        value(x, f.level + 1);
        continue;
      }
    }
    stack.pop();
    const close = f.keys === undefined ? "]" : "}";
    out += f.wrote ? "\n" + "  ".repeat(f.level) + close : close;
  }
  yield out;
}

/**
 * A member as `JSON.stringify(…, jsonReplacer, 2)` would write it: its
 * `toJSON(key)` result, then the replacer's, boxed primitives unboxed;
 * a primitive JSON writes, an object or array to walk, or undefined when
 * JSON leaves it out (in an array: `null`).
 */
function jsonReady(holder: unknown, key: string, v: unknown): unknown {
  if (
    (typeof v === "object" && v !== null) || typeof v === "bigint"
  ) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") v = toJSON.call(v, key);
  }
  v = jsonReplacer.call(holder, key, v);
  if (typeof v === "object" && v !== null) {
    if (v instanceof Number) v = Number(v);
    else if (v instanceof String) v = String(v);
    else if (v instanceof Boolean || v instanceof BigInt) v = v.valueOf();
  }
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "bigint") return JSON.stringify(v); // (throws, as JSON does)
  if (
    v === undefined || typeof v === "function" || typeof v === "symbol"
  ) return undefined;
  return v;
}

/** A value written whole, indented for `depth`; undefined when JSON leaves it out. */
function closedText(
  v: unknown,
  path: string,
  depth: number,
  paths: Paths,
): string | undefined {
  const s = paths.plain.has(path)
    ? stringifyPlain(v)
    : JSON.stringify(v, jsonReplacer, 2);
  if (s === undefined || depth === 0) return s;
  return s.replaceAll("\n", "\n" + "  ".repeat(depth));
}

/**
 * `JSON.stringify(v, jsonReplacer, 2)` of a value that holds no bytes and no
 * map (a forest's process: the schema lets no event field be one), without
 * calling the replacer for each of its members: half the time. A bigint
 * makes `JSON.stringify` throw; the replacer then writes it as text.
 */
function stringifyPlain(v: unknown): string | undefined {
  try {
    return JSON.stringify(v, null, 2);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return JSON.stringify(v, jsonReplacer, 2);
  }
}

/**
 * Characters gathered before they are written: a block stays a young object
 * (V8 puts a string of over about 128 KB in its large-object space, where it
 * stays until a full collection: blocks of a MiB piled up to 4 GB of garbage
 * before one came while 933 MB of JSON were written).
 */
const BLOCK = 1 << 15;

/** Bytes gathered before they are written (one buffer, used again). */
const WRITE_AT = 1 << 20;

/**
 * Prints pieces of text in blocks of about 32 Ki characters, each made safe
 * as {@link print} makes a whole text (escaped, and with `color` styled;
 * pieces end where a style does), gathered into writes of about a MiB.
 */
export async function printPieces(
  pieces: Iterable<string>,
  color = false,
): Promise<void> {
  for (const bytes of utf8Blocks(safeBlocks(pieces, color))) {
    await writeStdout(bytes);
    // (`| head` has what it wanted: the rest is not made)
    if (stdoutClosed()) return;
  }
}

/** `pieces` gathered into blocks of about {@link BLOCK} characters, each made safe as {@link print} makes a text. */
function* safeBlocks(
  pieces: Iterable<string>,
  color: boolean,
): Generator<string> {
  let block: string[] = [];
  let size = 0;
  for (const p of pieces) {
    block.push(p);
    size += p.length;
    if (size >= BLOCK) {
      yield safeText(block.join(""), color);
      block = [];
      size = 0;
    }
  }
  if (block.length > 0) yield safeText(block.join(""), color);
}

/** `JSON.stringify(value, jsonReplacer, 2) + "\n"` printed in blocks ({@link jsonPieces}). */
export async function printJson(
  value: unknown,
  open: ReadonlySet<string>,
  plain?: ReadonlySet<string>,
): Promise<void> {
  await printPieces(jsonPieces(value, open, plain));
}

/** Each line and a newline, printed in blocks (no lines: nothing). */
export async function printLines(
  lines: readonly string[],
  color = false,
): Promise<void> {
  await printPieces(eachLine(lines), color);
}

function* eachLine(lines: readonly string[]): Generator<string> {
  for (const l of lines) yield l + "\n";
}

/**
 * The UTF-8 bytes of text given in pieces, in blocks of about a MiB: each a
 * view of one buffer used again for the next (copy one to keep it). A
 * surrogate pair split between two pieces is encoded whole (apart, its
 * halves would be two U+FFFD).
 *
 * @example
 * ```ts
 * import { utf8Blocks } from "./_stream_output.ts";
 * const kept: Uint8Array[] = [];
 * for (const b of utf8Blocks(["a\ud83d", "\ude00"])) kept.push(b.slice());
 * if (new TextDecoder().decode(kept[0]) !== "a😀") throw new Error();
 * ```
 */
export function* utf8Blocks(pieces: Iterable<string>): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  // (a UTF-16 unit is at most 3 bytes of UTF-8)
  const buf = new Uint8Array(WRITE_AT);
  let used = 0;
  let held = "";
  for (const p of pieces) {
    let text = held + p;
    held = "";
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      held = text.slice(-1);
      text = text.slice(0, -1);
    }
    if (used + 3 * text.length > buf.length) {
      if (used > 0) yield buf.subarray(0, used);
      used = 0;
      if (3 * text.length > buf.length) {
        // (a piece longer than a block: encoded on its own)
        yield encoder.encode(text);
        continue;
      }
    }
    used += encoder.encodeInto(text, buf.subarray(used)).written;
  }
  if (held !== "") {
    if (used + 3 > buf.length) {
      yield buf.subarray(0, used);
      used = 0;
    }
    used += encoder.encodeInto(held, buf.subarray(used)).written;
  }
  if (used > 0) yield buf.subarray(0, used);
}
