/**
 * cbor-x's optional native addon (cbor-extract, a Node `.node` library) must
 * never be loaded under Deno: built for Node, it kills Deno with "undefined
 * symbol". These tests run Deno WITHOUT CBOR_NATIVE_ACCELERATION_DISABLED (the
 * launcher and the Makefile set it) and look at the process's own memory map.
 */
const ROOT = new URL("../", import.meta.url).pathname;
const DENO = `${ROOT}node_modules/.bin/deno`;

/** Runs `code` under Deno in the repository (its deno.json and node_modules). */
async function run(code: string): Promise<{ ok: boolean; native: string[] }> {
  const env = { ...Deno.env.toObject() };
  delete env.CBOR_NATIVE_ACCELERATION_DISABLED;
  const out = await new Deno.Command(DENO, {
    args: ["eval", "--ext=ts", code],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `deno eval failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(text.trim().split("\n").pop()!);
}

const MAPS = `
const maps = await Deno.readTextFile("/proc/self/maps");
const native = [...new Set(maps.split("\\n").filter((l) => /cbor-extract|\\.node$/.test(l))
  .map((l) => l.split(/\\s+/).pop()))];
`;

Deno.test("cli/log encodes and decodes a recording without loading cbor-extract", async () => {
  const r = await run(`
import { RecordingReader, RecordingWriter } from "${ROOT}cli/log/mod.ts";
const dir = await Deno.makeTempDir();
const w = await RecordingWriter.create(dir + "/a.cbor", {
  host: "h", os: "linux", kernel: "6", bootId: "b",
  timeBase: { monoNs: 0n, utcNs: 0n }, clock: { source: "t", monoToUtcNs: 0n },
  tool: { name: "procrec", version: "0" }, source: { name: "t", reason: "t" }, options: {},
});
for (let i = 0; i < 5000; i++) w.write({ kind: "comm", t: i, pid: i, tid: i, comm: "c" + i });
await w.close();
const r = await RecordingReader.open(dir + "/a.cbor");
let n = 0;
for await (const _ of r.events()) n++;
await Deno.remove(dir, { recursive: true });
${MAPS}
console.log(JSON.stringify({ ok: n === 5000 && r.report.complete, native }));
`);
  if (!r.ok) throw new Error("the round trip through cli/log failed");
  if (r.native.length) {
    throw new Error(`cbor-extract was loaded: ${r.native.join(", ")}`);
  }
});

Deno.test("the check would see cbor-extract: importing plain cbor-x maps the addon", async () => {
  // The control: cbor-x's Node entry point loads the addon when the variable
  // is unset, and the same /proc/self/maps check reports it. If cbor-x stops
  // shipping the addon this fails, and the test above should be revisited.
  const r = await run(`
const { Encoder, Decoder } = await import("cbor-x");
const b = new Decoder({ useRecords: false }).decode(new Encoder({ useRecords: false }).encode({ a: "x".repeat(64) }));
${MAPS}
console.log(JSON.stringify({ ok: b.a.length === 64, native }));
`);
  if (!r.ok) throw new Error("plain cbor-x round trip failed");
  if (!r.native.some((p) => /cbor-extract/.test(p))) {
    throw new Error(
      `expected plain "cbor-x" to map cbor-extract, got: ${
        JSON.stringify(r.native)
      }`,
    );
  }
});
