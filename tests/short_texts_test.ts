/**
 * Issue 16: the fast chunk decoder keeps the short texts (up to 12
 * characters) it decoded lately in a table keyed by their length and bytes,
 * and gives a repeated text back as the same string. This checks that a
 * text is never given for another one, whichever of its bytes or its length
 * differs, when many more texts than the table holds share its slots, and
 * that the fast decoder's events equal the generic decoder's throughout.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { newDecoder, newEncoder } from "../cli/log/_cbor.ts";
import { decodeEventBody } from "../cli/log/decode_event_body.ts";
import { decodeEvent, encodeEvent } from "../cli/log/schema.ts";
import { assert, assertEquals } from "./_record_helpers.ts";

/**
 * Texts that differ from one another in one place only: the first, middle
 * or last four bytes, or the length (leading and trailing NUL bytes).
 */
function nearTexts(): string[] {
  const out: string[] = [];
  const letters = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (let i = 0; i < 36 * 36 * 20; i++) {
    const x = letters[i % 36] + letters[Math.floor(i / 36) % 36] +
      letters[Math.floor(i / 1296)];
    out.push(`${x}-1234-abcd`); // the first four bytes
    out.push(`wxyz${x}-abcd`); // the middle four
    out.push(`wxyz-1234${x}`); // the last four
    out.push(x); // three bytes, as the start of the others
  }
  for (let n = 0; n <= 12; n++) {
    out.push("\u0000".repeat(n));
    out.push("a" + "\u0000".repeat(n));
    out.push("\u0000".repeat(n) + "a");
  }
  return out;
}

Deno.test("the fast chunk decoder never gives a short text for another of other bytes or another length", () => {
  const texts = nearTexts();
  assert(texts.length > 4 * 16_384, `${texts.length} texts`);
  // each text twice, in two orders: the second time from the table, if its
  // slot still holds it; three texts an exec, as its argv
  const order = [...texts, ...texts.toReversed(), ...texts];
  const execs: ProcEvent[] = [];
  for (let i = 0; i < order.length; i += 3) {
    execs.push({
      kind: "exec",
      t: i,
      pid: 9,
      tid: 9,
      info: { argv: order.slice(i, i + 3), from: {} },
    });
  }
  const body = newEncoder().encode(execs.map(encodeEvent));
  const fast = decodeEventBody(body);
  assert(fast !== undefined, "the plain body was not taken");
  const got = fast.flatMap((e) =>
    (e as { info: { argv: string[] } }).info.argv
  );
  assertEquals(got.length, order.length);
  for (let i = 0; i < order.length; i++) {
    if (got[i] !== order[i]) {
      throw new Error(
        `text ${i}: ${JSON.stringify(got[i])} for ${JSON.stringify(order[i])}`,
      );
    }
  }
  const generic = (newDecoder().decode(body) as unknown[]).map(decodeEvent);
  assertEquals(JSON.stringify(fast), JSON.stringify(generic));
});

Deno.test("the fast chunk decoder gives an exec's image, argv and their provenance as the generic decoder does, key for key", () => {
  const execs: ProcEvent[] = [
    { image: "/usr/bin/gcc", argv: ["gcc", "-c"], from: {} },
    {
      image: "/usr/bin/gcc",
      argv: ["gcc"],
      from: { image: "kernel", argv: "kernel" },
    },
    { image: "/bin/sh", argv: [], from: { image: "proc" } },
    { image: "/bin/sh", argv: ["sh"], from: { argv: "proc" } },
    { image: "/bin/sh", argv: ["sh"], cwd: "/", from: { image: "proc" } },
    { image: "/bin/sh", argv: ["sh"], uid: 0, from: { cwd: "proc" } },
    { image: "", argv: [""], from: { image: "kernel", argv: "proc" } },
    { argv: ["x"], from: { argv: "kernel" } },
    { image: "x", from: { image: "kernel" } },
  ].map((info, i) => ({
    kind: "exec",
    t: i,
    pid: 5,
    tid: 5,
    info,
  } as ProcEvent));
  const body = newEncoder().encode(execs.map(encodeEvent));
  const fast = decodeEventBody(body);
  assert(fast !== undefined, "the plain body was not taken");
  const generic = (newDecoder().decode(body) as unknown[]).map(decodeEvent);
  for (let i = 0; i < execs.length; i++) {
    assertEquals(
      JSON.stringify(fast[i]),
      JSON.stringify(generic[i]),
      `exec ${i}`,
    );
  }
});

Deno.test("the fast chunk decoder gives execs of the same image and argv provenance one shared, frozen provenance", () => {
  const info = (from: Record<string, string>) => ({
    image: "/usr/bin/gcc",
    argv: ["gcc"],
    from,
  });
  const execs = [
    info({ image: "kernel", argv: "kernel" }),
    info({ image: "kernel", argv: "kernel" }),
    info({ image: "proc", argv: "kernel" }),
    info({ image: "kernel", argv: "kernel" }),
  ].map((info, t) => ({ kind: "exec", t, pid: 5, tid: 5, info } as ProcEvent));
  const fast = decodeEventBody(newEncoder().encode(execs.map(encodeEvent)));
  assert(fast !== undefined, "the plain body was not taken");
  const from = fast.map((e) => (e as { info: { from: object } }).info.from);
  // (a forest keeps one per exec step: shared, they cost one object)
  assert(from[0] === from[1] && from[1] === from[3], "not shared");
  assert(from[0] !== from[2], "another provenance shared");
  assertEquals(from[2], { image: "proc", argv: "kernel" });
  // a reader that changed it would change every exec's: it throws instead
  assert(from.every((f) => Object.isFrozen(f)), "not frozen");
});
