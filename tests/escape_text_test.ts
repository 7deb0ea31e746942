/**
 * escapeText against its definition, character by character: every C0 and
 * C1 control, DEL, line and paragraph separator, bidirectional formatting
 * character, invisible character (zero-width, joiners, word joiner, byte
 * order mark) and colour mark becomes `\uXXXX`, unless `keep` holds it; every
 * other character stays. On random texts and the keeps the commands use
 * (the kept characters are cut out of the scan's class once per keep).
 */
import { escapeText, STYLE_MARKERS } from "../cli/text/mod.ts";
import { assertEquals } from "./_record_helpers.ts";
import { xorshift } from "./_xorshift.ts";

function unsafe(c: number): boolean {
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f) || c === 0x2028 ||
    c === 0x2029 || (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) ||
    (c >= 0xe000 && c <= 0xe006) ||
    // the Arabic letter mark (bidi) and the byte order mark (invisible)
    c === 0x061c || c === 0xfeff;
}

function byDefinition(text: string, keep: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += unsafe(c) && !keep.includes(text[i])
      ? `\\u${c.toString(16).padStart(4, "0")}`
      : text[i];
  }
  return out;
}

Deno.test("escapeText escapes exactly the unsafe characters not kept, on 100,000 random texts and every keep in use", () => {
  const r = xorshift(2028);
  // near the class's edges, and elsewhere (surrogates included)
  const pools = [
    [0, 0x200],
    [0x600, 0x620],
    [0x2000, 0x2080],
    [0xdf00, 0xe100],
    [0xfef0, 0xff00],
    [0, 0x10000],
  ];
  const keeps = ["", "\n", "\n\t", "\n\t" + STYLE_MARKERS, "\x1b\u2028"];
  for (let i = 0; i < 100_000; i++) {
    let s = "";
    const n = Math.floor(r() * 10);
    for (let j = 0; j < n; j++) {
      const [lo, hi] = pools[Math.floor(r() * pools.length)];
      s += String.fromCharCode(lo + Math.floor(r() * (hi - lo)));
    }
    for (const keep of keeps) {
      assertEquals(escapeText(s, keep), byDefinition(s, keep), `${i}`);
    }
  }
});
