/**
 * The claim on a segment directory: of recorders that open it at the same
 * instant, exactly one writes there (writer.pid alone was checked, then
 * written: two could both find it free), and a killed holder's claim holds
 * nobody off.
 */
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { testHeader } from "./_recording_helpers.ts";
import { assert, assertEquals, ROOT, withTempDir } from "./_record_helpers.ts";

/** A process that opens a SegmentWriter on DIR once GO exists, says so, and holds it until STOP exists. */
const CLAIMER = `
import { SegmentWriter } from "${ROOT}cli/record/segment_writer.ts";
import { testHeader } from "${ROOT}tests/_recording_helpers.ts";
const [dir, go, stop] = Deno.args;
while (!(await Deno.lstat(go).then(() => true, () => false))) {
  await new Promise((r) => setTimeout(r, 1));
}
let w;
try {
  w = await SegmentWriter.open(testHeader(), { dir, writer: { flushIntervalMs: 0 } });
} catch (e) {
  console.log("refused: " + e.message);
  Deno.exit(0);
}
console.log("writing");
while (!(await Deno.lstat(stop).then(() => true, () => false))) {
  await new Promise((r) => setTimeout(r, 20));
}
await w.close();
`;

/** Starts {@link CLAIMER} (written to DIR/claimer.ts) on `segs`. */
function claimer(
  dir: string,
  segs: string,
  stderr: "piped" | "null",
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--config",
      `${ROOT}deno.json`,
      `${dir}/claimer.ts`,
      segs,
      `${dir}/go`,
      `${dir}/stop`,
    ],
    env: { CBOR_NATIVE_ACCELERATION_DISABLED: "true" },
    stdout: "piped",
    stderr,
  }).spawn();
}

Deno.test("segment claim: of four recorders let go at the same instant, exactly one writes the directory; the others are refused naming it", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/claimer.ts`, CLAIMER);
    const segs = `${dir}/segs`;
    const children = [0, 1, 2, 3].map(() => claimer(dir, segs, "piped"));
    // (each child polls for "go" every millisecond once it has started)
    await new Promise((r) => setTimeout(r, 3000));
    await Deno.writeTextFile(`${dir}/go`, "");
    const outs = children.map((c) =>
      c.output().then((o) => new TextDecoder().decode(o.stdout).trim())
    );
    const ended: string[] = [];
    outs.forEach((o) => o.then((t) => ended.push(t)));
    try {
      // the refused end by themselves; the writer waits for "stop"
      for (let i = 0; i < 300 && ended.length < 3; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(ended.length, 3, `ended: ${JSON.stringify(ended)}`);
    } finally {
      await Deno.writeTextFile(`${dir}/stop`, "");
    }
    const said = await Promise.all(outs);
    const writer = said.indexOf("writing");
    assert(writer >= 0, `no recorder writes: ${JSON.stringify(said)}`);
    assertEquals(ended.length === 4 && ended[3], "writing", "the last to end");
    const refused = said.filter((s) => s.startsWith("refused: "));
    assertEquals(refused.length, 3, JSON.stringify(said));
    for (const r of refused) {
      assert(
        r.includes(`another recorder (pid ${children[writer].pid})`),
        r,
      );
    }
    // one run's segments in the directory, its claim gone with its close
    const names = [...Deno.readDirSync(segs)].map((e) => e.name);
    assertEquals(
      names.filter((n) => n.endsWith(".cbor")).length,
      1,
      `${names}`,
    );
    assertEquals(names.filter((n) => n.startsWith("writer.")), []);
  }, "procrec-claim-");
});

Deno.test("segment claim: a holder killed with SIGKILL leaves its lock file, which holds the next recorder off no more", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/claimer.ts`, CLAIMER);
    await Deno.writeTextFile(`${dir}/go`, "");
    const segs = `${dir}/segs`;
    const c = claimer(dir, segs, "null");
    const reader = c.stdout.getReader();
    const first = await reader.read();
    assertEquals(new TextDecoder().decode(first.value).trim(), "writing");
    reader.releaseLock();
    c.kill("SIGKILL");
    await c.status;
    await c.stdout.cancel();
    const left = [...Deno.readDirSync(segs)].map((e) => e.name);
    assert(left.includes("writer.lock"), `${left}`);
    const w = await SegmentWriter.open(testHeader(), {
      dir: segs,
      writer: { flushIntervalMs: 0 },
    });
    await w.close();
  }, "procrec-claim-");
});
