/**
 * A Sigma string value split into literal text and wildcards, and the
 * encodings the value modifiers apply to it. Internal to the engine.
 *
 * @module
 */

/** `*`: any run of characters. */
export const STAR = 0;
/** `?`: any one character. */
export const ONE = 1;
/** A `windash` position: `-`, `/`, en dash, em dash or horizontal bar. */
export const DASH = 2;

/** Literal text, or one of {@link STAR}, {@link ONE}, {@link DASH}. */
export type Part = string | typeof STAR | typeof ONE | typeof DASH;

/**
 * Splits a value at its wildcards. `\*`, `\?` and `\\` are the literal
 * characters; a backslash before anything else is itself.
 */
export function parseWildcards(s: string): Part[] {
  const out: Part[] = [];
  let lit = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && i + 1 < s.length && "*?\\".includes(s[i + 1])) {
      lit += s[++i];
    } else if (c === "*" || c === "?") {
      if (lit) out.push(lit);
      lit = "";
      out.push(c === "*" ? STAR : ONE);
    } else {
      lit += c;
    }
  }
  if (lit) out.push(lit);
  return out;
}

/** Whether all parts are literal text. */
export function isLiteral(parts: Part[]): parts is string[] {
  return parts.every((p) => typeof p === "string");
}

/**
 * `windash`: each `-` or `/` that starts an option (at the start, or after
 * a character that is not a letter, digit or `_`, and before one that is)
 * may be any of the dashes Windows programs accept.
 */
export function windash(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    if (typeof p !== "string") {
      out.push(p);
      continue;
    }
    let lit = "";
    for (let i = 0; i < p.length; i++) {
      const c = p[i];
      const prev = i > 0 ? p[i - 1] : undefined;
      const next = i + 1 < p.length ? p[i + 1] : undefined;
      if (
        (c === "-" || c === "/") && (prev === undefined || !/\w/.test(prev)) &&
        next !== undefined && /\w/.test(next)
      ) {
        if (lit) out.push(lit);
        lit = "";
        out.push(DASH);
      } else {
        lit += c;
      }
    }
    if (lit) out.push(lit);
  }
  return out;
}

/** UTF-16 code units as a byte string (one char per byte). */
export function utf16(text: string, bigEndian: boolean): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += bigEndian
      ? String.fromCharCode(c >> 8, c & 0xff)
      : String.fromCharCode(c & 0xff, c >> 8);
  }
  return out;
}

/** UTF-8 bytes of text as a byte string. */
export function utf8Bytes(text: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(text)) out += String.fromCharCode(b);
  return out;
}

/** Base64 of a byte string. */
export function base64(bytes: string): string {
  return btoa(bytes);
}

/**
 * `base64offset`: the three base64 forms the bytes take at offsets 0, 1 and 2
 * of a longer encoded text, without the characters that depend on the
 * neighbouring bytes.
 */
export function base64Offsets(bytes: string): string[] {
  const out: string[] = [];
  const cutStart = [0, 2, 3];
  const cutEnd = [0, 3, 2];
  for (let i = 0; i < 3; i++) {
    const enc = btoa(" ".repeat(i) + bytes);
    const end = enc.length - cutEnd[(bytes.length + i) % 3];
    out.push(enc.slice(cutStart[i], end));
  }
  return out;
}
