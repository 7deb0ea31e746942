/**
 * The line reader of the JSON lines importers: bytes that are not UTF-8 are
 * refused with their line and offset when asked (procrec's own exports),
 * wherever the input's chunks cut it; valid text cut anywhere reads whole.
 */
import { readLines } from "../cli/interop/read_lines.ts";
import {
  assert,
  assertEquals,
  procrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

const FIXTURE = `${ROOT}fixtures/make.cbor`;

/** `bytes` cut into chunks at `cuts`. */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

async function failure(chunks: Uint8Array[]): Promise<string> {
  try {
    await Array.fromAsync(
      readLines(chunks, { file: "x.jsonl", strictUtf8: true }),
    );
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

Deno.test("readLines with strictUtf8: a byte that is not UTF-8 is named by line and offset, wherever the chunks are cut", async () => {
  const enc = new TextEncoder();
  const good = enc.encode('{"a":"é€😀"}\nsecond ü\n');
  // a third line whose 6th byte is an overlong form of "/" (C0 AF)
  const third = new Uint8Array([...enc.encode("bad: "), 0xc0, 0xaf, 0x0a]);
  const bytes = new Uint8Array([...good, ...third, ...enc.encode("after\n")]);
  const at = good.length + 5;
  for (let c = 0; c <= bytes.length; c++) {
    const m = await failure(cut(bytes, [c]));
    assert(
      m.includes('"x.jsonl": line 3: is not valid UTF-8') &&
        m.includes(`at byte offset ${at} of`),
      `cut at ${c}: ${m}`,
    );
  }
  // a lead byte of three whose second byte is not a continuation: found
  // whether or not the chunks cut between them
  const lead = new Uint8Array([...good, 0xe2, 0x41, 0x0a]);
  for (let c = good.length - 3; c <= lead.length; c++) {
    const m = await failure(cut(lead, [c]));
    assert(
      m.includes("line 3: is not valid UTF-8") &&
        m.includes(`at byte offset ${good.length} of`),
      `cut at ${c}: ${m}`,
    );
  }
  // forms refused by the second byte's range or a later continuation, cut
  // anywhere (the reviewer's cases): the lead byte, on line 3, is named
  const enc2 = new TextEncoder();
  for (
    const seq of [
      [0xed, 0xa0, 0x80],
      [0xe0, 0x80, 0xaf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf0, 0x80, 0x80, 0xaf],
      [0xe2, 0x82, 0x41],
      [0xf0, 0x9f, 0x98, 0x41],
    ]
  ) {
    const head = enc2.encode("one\ntwo\nab");
    const all = new Uint8Array([
      ...head,
      ...seq,
      ...enc2.encode("cd\nline4\nline5\n"),
    ]);
    for (let c = 0; c <= all.length; c++) {
      for (const cuts of [[c], [c, Math.min(all.length, c + 1)]]) {
        const m = await failure(cut(all, cuts));
        assert(
          m.includes("line 3: is not valid UTF-8") &&
            m.includes(`at byte offset ${head.length} of`),
          `${seq} cut at ${cuts}: ${m}`,
        );
      }
    }
  }
  // valid text cut anywhere reads whole, in strict mode too
  for (let c = 0; c <= good.length; c++) {
    const lines = await Array.fromAsync(
      readLines(cut(good, [c]), { strictUtf8: true }),
    );
    assertEquals(lines.map((l) => l.text), ['{"a":"é€😀"}', "second ü"]);
  }
  // a sequence cut off by the end of the input
  const cutOff = new Uint8Array([...good, 0xe2, 0x82]);
  const m = await failure([cutOff]);
  assert(m.includes("line 3: is not valid UTF-8"), m);
  // without it, such bytes read as U+FFFD (the Sysmon importers' way)
  const lax = await Array.fromAsync(readLines([third]));
  assertEquals(lax[0].text, "bad: \ufffd\ufffd");
});

Deno.test("import jsonl of a line nested 200,000 deep says so, naming the line, and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const input = `${dir}/deep.jsonl`;
    // a header line, then an event line that opens 200,000 arrays
    const header = (await procrec(["export", FIXTURE])).stdout.split("\n")[0];
    await Deno.writeTextFile(
      input,
      `${header}\n${"[".repeat(200_000)}${"]".repeat(200_000)}\n`,
    );
    const r = await procrec([
      "import",
      "jsonl",
      input,
      "-o",
      `${dir}/out.cbor`,
    ]);
    assertEquals(r.code, 2, r.stderr);
    assert(
      r.stderr.includes("line 2: is nested too deeply to read as JSON"),
      r.stderr,
    );
    assert(!r.stderr.includes("call stack"), r.stderr);
    assert(!(await Deno.stat(`${dir}/out.cbor`).then(() => true, () => false)));
  });
});
