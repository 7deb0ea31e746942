import { assert, assertEquals } from "./import_assert.ts";
import {
  Utf16Replacements,
  Utf8Replacements,
} from "../cli/interop/_replaced_text.ts";
import { procrec, withTempDir } from "./import_helpers.ts";
import { readRecording } from "./_recording_helpers.ts";
import { xorshift as random } from "./_xorshift.ts";

/** `bytes` cut at random places. */
function cut(bytes: Uint8Array, next: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const n = 1 + Math.floor(next() * 7);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** The U+FFFD in `text`. */
const replacements = (text: string) => text.split("\ufffd").length - 1;

/**
 * The offset of the first sequence a decoder of `encoding` replaces: the
 * longest prefix that decodes whole without an error.
 */
function firstError(bytes: Uint8Array, encoding: string): number {
  const valid = (n: number) => {
    try {
      new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(
        bytes.subarray(0, n),
      );
      return true;
    } catch {
      return false;
    }
  };
  let best = 0;
  for (let n = 0; n <= bytes.length; n++) if (valid(n)) best = n;
  return best;
}

const lineAt = (bytes: Uint8Array, at: number, unit: number) => {
  let line = 1;
  for (let i = 0; i + unit <= at; i += unit) if (bytes[i] === 0x0a) line++;
  return line;
};

Deno.test("the UTF-8 count is TextDecoder's U+FFFD, whatever the chunks; the first's offset and line", () => {
  // (no 0xef: no literal U+FFFD in the input)
  const alphabet = [
    0x41,
    0x0a,
    0x80,
    0x8f,
    0x90,
    0x9f,
    0xa0,
    0xbf,
    0xc0,
    0xc2,
    0xdf,
    0xe0,
    0xe1,
    0xed,
    0xf0,
    0xf4,
    0xf5,
    0xff,
  ];
  const next = random(7);
  let withErrors = 0;
  for (let round = 0; round < 3000; round++) {
    const bytes = new Uint8Array(1 + Math.floor(next() * 40));
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = alphabet[Math.floor(next() * alphabet.length)];
    }
    const want = replacements(new TextDecoder().decode(bytes));
    const count = new Utf8Replacements();
    for (const c of cut(bytes, next)) count.scan(c);
    const got = count.end();
    assertEquals(got.count, want, `${bytes}`);
    if (want > 0) {
      withErrors++;
      const at = firstError(bytes, "utf-8");
      assertEquals(got.offset, at, `${bytes}`);
      assertEquals(got.line, lineAt(bytes, at, 1), `${bytes}`);
    } else assertEquals([got.offset, got.line], [-1, 0]);
  }
  assert(withErrors > 2000, `${withErrors}`);
  // valid text, U+FFFD itself included, is not counted
  const count = new Utf8Replacements();
  count.scan(new TextEncoder().encode("é中😀\ufffd\n"));
  assertEquals(count.end().count, 0);
});

Deno.test("the UTF-16 count is TextDecoder's U+FFFD, either byte order; an odd byte at the end is one", () => {
  const units = [0x41, 0x0a, 0xe9, 0x4e2d, 0xd800, 0xdbff, 0xdc00, 0xdfff];
  const next = random(11);
  for (const le of [true, false]) {
    const encoding = le ? "utf-16le" : "utf-16be";
    for (let round = 0; round < 2000; round++) {
      const n = 1 + Math.floor(next() * 20);
      const odd = next() < 0.2 ? 1 : 0;
      const bytes = new Uint8Array(2 * n + odd);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < n; i++) {
        view.setUint16(2 * i, units[Math.floor(next() * units.length)], le);
      }
      if (odd) bytes[2 * n] = 0x41;
      const want = replacements(
        new TextDecoder(encoding, { ignoreBOM: true }).decode(bytes),
      );
      const count = new Utf16Replacements(le);
      for (const c of cut(bytes, next)) count.scan(c);
      const got = count.end();
      assertEquals(got.count, want, `${encoding} ${bytes}`);
      if (want > 0) {
        const at = firstError(bytes, encoding);
        assertEquals(got.offset, at, `${encoding} ${bytes}`);
        const line = lineAt(le ? bytes : bytes.subarray(1), at, 2);
        assertEquals(got.line, line, `${encoding} ${bytes}`);
      }
    }
  }
});

/** `procrec import sysmon FILE -o OUT`, which must succeed: its output. */
async function imported(file: string, out: string): Promise<string> {
  const run = await procrec(["import", "sysmon", file, "-o", out]);
  assertEquals(run.code, 0, run.stderr);
  return run.stdout;
}

const RECORD = {
  EventID: 1,
  Hostname: "h",
  UtcTime: "2020-01-01 00:00:00.000",
  ProcessGuid: "{a}",
  ProcessId: "4",
  Image: "C:\\a.exe",
  CommandLine: "a.exe MARK",
};

Deno.test("import sysmon says how many sequences were not UTF-8 and where the first was; the texts keep U+FFFD", async () => {
  await withTempDir(async (dir) => {
    const first = new TextEncoder().encode(JSON.stringify(RECORD) + "\n");
    const second = new TextEncoder().encode(
      JSON.stringify({
        ...RECORD,
        ProcessGuid: "{b}",
        ProcessId: "5",
        UtcTime: "2020-01-01 00:00:01.000",
      }) + "\n",
    );
    // a Windows-1252 "é" and a cut-off three-byte sequence in the second
    // record's command line
    const mark = second.indexOf(0x4d); // "M" of MARK
    const bad = new Uint8Array([
      ...second.subarray(0, mark),
      0xe9,
      0x20,
      0xe2,
      0x82,
      ...second.subarray(mark + 4),
    ]);
    const file = `${dir}/x.jsonl`;
    await Deno.writeFile(file, new Uint8Array([...first, ...bad]));
    const said = await imported(file, `${dir}/x.cbor`);
    assert(
      said.includes(
        `x.jsonl: 2 sequences that are not UTF-8, read as U+FFFD; the first at line 2, byte offset ${
          first.length + mark
        }\n`,
      ),
      said,
    );
    const { events } = await readRecording(`${dir}/x.cbor`);
    const argvs = events.flatMap((e) =>
      "info" in e && e.info?.cmdline !== undefined ? [e.info.cmdline] : []
    );
    assert(argvs.includes("a.exe \ufffd \ufffd"), JSON.stringify(argvs));

    // clean input: no such line
    await Deno.writeFile(file, first);
    const clean = await imported(file, `${dir}/y.cbor`);
    assert(!clean.includes("U+FFFD"), clean);
  });
});

Deno.test("import sysmon of UTF-16 XML with a lone surrogate says so, with the line and the offset", async () => {
  await withTempDir(async (dir) => {
    const xml =
      `<Events>\n<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>` +
      `<System><EventID>1</EventID><Computer>h</Computer></System><EventData>` +
      `<Data Name='UtcTime'>2020-01-01 00:00:00.000</Data><Data Name='ProcessGuid'>{a}</Data>` +
      `<Data Name='ProcessId'>4</Data><Data Name='Image'>C:\\a.exe</Data>` +
      `<Data Name='CommandLine'>a.exe X</Data></EventData></Event>\n</Events>\n`;
    const units = [0xfeff, ...[...xml].map((c) => c.charCodeAt(0))];
    const x = units.indexOf(0x58); // "X"
    units[x] = 0xdc00; // a low surrogate alone
    const bytes = new Uint8Array(2 * units.length);
    const view = new DataView(bytes.buffer);
    units.forEach((u, i) => view.setUint16(2 * i, u, true));
    const file = `${dir}/x.xml`;
    await Deno.writeFile(file, bytes);
    const said = await imported(file, `${dir}/x.cbor`);
    assert(
      said.includes(
        `x.xml: 1 sequence that is not UTF-16, read as U+FFFD; the first at line 2, byte offset ${
          2 * x
        }\n`,
      ),
      said,
    );
  });
});

Deno.test("import sysmon names the first character of an input that is neither JSON lines nor XML as UTF-8 reads it", async () => {
  await withTempDir(async (dir) => {
    for (
      const [bytes, said] of [
        [[0xc3, 0xa9, 0x7b], '"\u00e9"'],
        [[0xef, 0xbf, 0xbd], '"\ufffd"'],
        [[0x20, 0xe9, 0x7b], "the byte 0xe9, which is not UTF-8"],
        [[0x78], '"x"'],
      ] as const
    ) {
      const file = `${dir}/x.jsonl`;
      await Deno.writeFile(file, new Uint8Array(bytes));
      const run = await procrec([
        "import",
        "sysmon",
        file,
        "-o",
        `${dir}/x.cbor`,
      ]);
      assertEquals(run.code, 2, run.stdout);
      assert(
        run.stderr.includes(`line 1: starts with ${said}, expected`),
        run.stderr,
      );
    }
  });
});
