/**
 * Output written a block at a time (cli/commands/_stream_output.ts): the
 * pieces of a JSON value are exactly `JSON.stringify(value, replacer, 2)`
 * whatever is opened, on random values; and `replay --json` of a recording
 * whose JSON is longer than a JavaScript string can be (2^29 - 24
 * characters) is written whole, where printing it as one string failed
 * with "Invalid string length".
 */
import {
  jsonPieces,
  jsonReplacer,
  prettyJsonPieces,
  utf8Blocks,
} from "../cli/commands/_stream_output.ts";
import { processCreate, writeRecording } from "./_recording_helpers.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { workload, write } from "../bench/replay_bench.ts";
import { assert, assertEquals, PROCREC, procrec } from "./_record_helpers.ts";
import { xorshift } from "./_xorshift.ts";

/** A random value of what a forest's JSON holds, and of what it does not. */
function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 9 : 12));
  switch (pick) {
    case 0:
      return Math.floor(r() * 1e6) - 5e5;
    case 1:
      return [0.5, -0, NaN, Infinity, 1e21, 2 ** 53][Math.floor(r() * 6)];
    case 2:
      return randomText(r);
    case 3:
      return r() < 0.5;
    case 4:
      return null;
    case 5:
      return undefined;
    case 6:
      return BigInt(Math.floor(r() * 1e9)) * 1_000_000_007n;
    case 7:
      return new Uint8Array(Math.floor(r() * 5)).map(() => r() * 256);
    case 8:
      return r() < 0.5 ? new Map([[1, 2]]) : () => 1;
    case 9:
    case 10: {
      const a: unknown[] = [];
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) a.push(randomValue(r, depth + 1));
      return a;
    }
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) {
        o[KEYS[Math.floor(r() * KEYS.length)]] = randomValue(r, depth + 1);
      }
      return o;
    }
  }
}

const KEYS = ["a", "b", "processes", "boots", "x\ny", "é", "0", "list", ""];

function randomText(r: () => number): string {
  const parts = [
    "plain",
    "é",
    "\u0000",
    "\n",
    '"',
    "\\",
    "\ud800",
    "😀",
    "\x7f",
  ];
  let s = "";
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) s += parts[Math.floor(r() * parts.length)];
  return s;
}

/** Every path of objects and arrays in `v`, as jsonPieces names them. */
function pathsOf(v: unknown, path: string, into: string[]): string[] {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) {
    return into;
  }
  if (v instanceof Map) return into;
  into.push(path);
  const sub = (k: string) => path === "" ? k : `${path}/${k}`;
  if (Array.isArray(v)) { for (const x of v) pathsOf(x, sub("*"), into); }
  else {
    for (const [k, x] of Object.entries(v)) pathsOf(x, sub(k), into);
  }
  return into;
}

Deno.test("the JSON written in pieces is JSON.stringify's, whatever is opened, on 3,000 random values", () => {
  const r = xorshift(16);
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(r, 0);
    const whole = JSON.stringify(v, jsonReplacer, 2) + "\n";
    const paths = pathsOf(v, "", []);
    // nothing opened, everything opened, and a random part of it
    for (
      const open of [
        new Set<string>(),
        new Set(paths),
        new Set(paths.filter(() => r() < 0.5)),
      ]
    ) {
      if (whole === "undefined\n") continue; // (no JSON at all: not printed)
      const text = [...jsonPieces(v, open)].join("");
      assertEquals(text, whole, `case ${i}, open ${[...open].join(",")}`);
    }
  }
});

Deno.test("the JSON written with a stack of its own is JSON.stringify's, indented, on 3,000 random values", () => {
  const r = xorshift(17);
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(r, 0);
    const whole = JSON.stringify(v, jsonReplacer, 2);
    if (whole === undefined) continue;
    for (const depth of [0, 3]) {
      assertEquals(
        [...prettyJsonPieces(v, depth)].join(""),
        whole.replaceAll("\n", "\n" + "  ".repeat(depth)),
        `case ${i}, depth ${depth}`,
      );
    }
  }
});

Deno.test("the JSON written with a stack of its own follows JSON.stringify on toJSON, boxed values and members JSON leaves out", () => {
  const values: unknown[] = [
    { k: { toJSON: (key: string) => `key=${key}` } },
    { a: { toJSON: () => undefined }, b: 1 },
    [{ toJSON: () => undefined }, new Date(0)],
    { s: new String("ab"), n: new Number(3), t: new Boolean(false) },
    { m: new Map([[1, 2]]), u: new Uint8Array([1, 255]), big: 2n ** 70n },
    { f: () => 1, sym: Symbol("x"), nan: NaN, inf: -Infinity, nested: [[]] },
    { toJSON: () => ({ replaced: [1, { deep: true }] }) },
    [undefined, () => 1, null, "\ud800", "é😀"],
  ];
  for (const [i, v] of values.entries()) {
    for (const depth of [0, 2]) {
      assertEquals(
        [...prettyJsonPieces(v, depth)].join(""),
        JSON.stringify(v, jsonReplacer, 2).replaceAll(
          "\n",
          "\n" + "  ".repeat(depth),
        ),
        `value ${i}, depth ${depth}`,
      );
    }
  }
  // a value JSON leaves out whole: nothing written
  assertEquals([...prettyJsonPieces(undefined, 0)].join(""), "");
  assertEquals([...prettyJsonPieces(new Map(), 0)].join(""), "");
});

Deno.test("text in pieces encoded in blocks is the whole text's UTF-8, pairs split between pieces included", () => {
  const r = xorshift(18);
  const chars = ["a", "é", "€", "😀", "\n", "\ud800"];
  for (let round = 0; round < 4; round++) {
    // about 3 MB of text: several blocks, some pieces longer than a block
    let whole = "";
    const pieces: string[] = [];
    while (whole.length < 1_000_000) {
      const n = r() < 0.01 ? 400_000 : Math.floor(r() * 50);
      let t = "";
      for (let i = 0; i < n; i++) t += chars[Math.floor(r() * chars.length)];
      whole += t;
      // (cut anywhere, inside surrogate pairs too)
      const at = Math.floor(r() * (t.length + 1));
      pieces.push(t.slice(0, at), t.slice(at));
    }
    const kept: Uint8Array[] = [];
    for (const b of utf8Blocks(pieces)) kept.push(b.slice());
    assert(kept.length > 1, `${kept.length} blocks`);
    const bytes = new Uint8Array(kept.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of kept) {
      bytes.set(b, at);
      at += b.length;
    }
    assertEquals(bytes, new TextEncoder().encode(whole), `round ${round}`);
  }
});

Deno.test("a value nested deeper than the replacer's calls go is written whole (it overflowed the call stack)", () => {
  // a diff's removed subtree of a chain of 5,000 processes
  const root: Record<string, unknown> = { command: "sh", children: [] };
  let at = root;
  for (let i = 1; i < 5000; i++) {
    const c = { command: `sh ${i}`, exit: "exit 0", children: [] };
    (at.children as unknown[]).push(c);
    at = c;
  }
  const v = { same: false, removed: [{ path: [], process: root }] };
  let threw = false;
  try {
    JSON.stringify(v, jsonReplacer, 2);
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert(threw, "the replacer's calls go this deep: the test shows nothing");
  const text = [...jsonPieces(v, new Set(["", "removed"]))].join("");
  // (JSON.parse goes this deep; JSON.stringify's text, indented, is shown
  // equal by the random values and the diff below)
  let n = JSON.parse(text).removed[0].process;
  let depth = 0;
  for (; n.children.length > 0; n = n.children[0]) depth++;
  assertEquals(depth, 4999);
  assertEquals(n.command, "sh 4999");
  assert(text.endsWith("\n  ]\n}\n"), text.slice(-40));
  // the deepest process, indented two spaces a level
  assert(
    text.includes(
      `\n${"  ".repeat(4 + 2 * 4999)}"command": "sh 4999",`,
    ),
  );
});

Deno.test("diff --json of a chain of 2,000 processes against another recording: written whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "procrec-deep-diff-" });
  try {
    const events: ProcEvent[] = [];
    for (let i = 0; i < 2000; i++) {
      events.push(
        processCreate(i * 1000, 5000 + i, i === 0 ? 1 : 4999 + i, {
          info: { image: "/bin/sh", argv: ["sh", `-c`, `step ${i}`], from: {} },
        }),
      );
    }
    const chain = `${dir}/chain.cbor`;
    await writeRecording(chain, events, 4096);
    const other = new URL("../fixtures/make.cbor", import.meta.url).pathname;
    const r = await procrec(["diff", "--json", chain, other]);
    assertEquals(r.code, 1, r.stderr);
    const d = JSON.parse(r.stdout);
    assertEquals(r.stdout, JSON.stringify(d, null, 2) + "\n");
    // the chain, removed whole: 1,999 below its root, one child each
    const removed = d.removed.find((x: { process: { command: string } }) =>
      x.process.command.includes("step 0")
    );
    assertEquals(removed.descendants, 1999);
    let depth = 0;
    for (let n = removed.process; n.children.length > 0; n = n.children[0]) {
      depth++;
    }
    assertEquals(depth, 1999);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replay --json of a recording whose JSON is longer than a string can be: written whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "procrec-stream-" });
  try {
    // 1.8M events: about 560 million characters of JSON (2^29 - 24 is
    // 536,870,888)
    const path = `${dir}/big.cbor`;
    await write(path, workload(1_800_000, 1000, 0, 97, 3 * 86_400e9));
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        // (the JSON is counted and its end kept, not held by the test)
        `set -o pipefail; "$0" replay --json "$1" | tee >(wc -c > "$2/count") | tail -c 64 > "$2/tail"`,
        PROCREC,
        path,
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, err);
    assert(!err.includes("Invalid string length"), err);
    // (the count is written by a process substitution: wait for it)
    let count = 0;
    for (let i = 0; i < 100 && count === 0; i++) {
      count = Number((await Deno.readTextFile(`${dir}/count`)).trim());
      if (count === 0) await new Promise((ok) => setTimeout(ok, 50));
    }
    assert(count > 536_870_888, `${count} bytes of JSON`);
    const tail = await Deno.readTextFile(`${dir}/tail`);
    // the last member, the problems, then the end of the object
    assert(/"problems": \[[^]*\]\n}\n$/.test(tail), JSON.stringify(tail));
    // a reader that stops early (| head) ends it quietly, exit status 0
    const head = await new Deno.Command("bash", {
      args: [
        "-c",
        `set -o pipefail; "$0" replay --json "$1" | head -c 100`,
        PROCREC,
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(head.code, 0, new TextDecoder().decode(head.stderr));
    assertEquals(new TextDecoder().decode(head.stderr), "");
    const begin = new TextDecoder().decode(head.stdout);
    assertEquals(begin.length, 100);
    assert(
      begin.startsWith('{\n  "recording": ' + JSON.stringify(path) + ",\n"),
      begin,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a timeline with no rows prints nothing, as before it was written in blocks", async () => {
  for (const json of [[], ["--json"]]) {
    const r = await procrec([
      "replay",
      new URL("../fixtures/make.cbor", import.meta.url).pathname,
      "--events",
      "--pid",
      "999999",
      ...json,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "", `${json}`);
  }
});
