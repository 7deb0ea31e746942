/**
 * Crash safety of live recordings: a recorder killed with SIGKILL during a
 * storm leaves NAME.incomplete whose complete chunks read back; a small real
 * recording cut at every byte offset gives its complete chunks or a clean
 * truncation, never another error.
 */
import { RecordingFormatError, RecordingReader } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  PROCREC,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

async function waitForSize(
  path: string,
  bytes: number,
  child: Deno.ChildProcess,
) {
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 400; i++) {
    try {
      if ((await Deno.stat(path)).size >= bytes) return;
    } catch { /* not yet */ }
    if (exited) {
      throw new Error(
        `the recorder exited before ${path} reached ${bytes} bytes`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} never reached ${bytes} bytes`);
}

captureTest(
  "kill -9 of the recorder during a storm leaves a .incomplete file whose complete chunks read back",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "procrec-kill-" });
    let stormPid: number | undefined;
    try {
      const out = `${dir}/killed.cbor`;
      const child = new Deno.Command(PROCREC, {
        args: [
          "record",
          "-o",
          out,
          "--",
          "sh",
          "-c",
          "while :; do /bin/true; done",
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      // several chunks: one is flushed at least every 250 ms
      await waitForSize(`${out}.incomplete`, 64 * 1024, child);
      child.kill("SIGKILL");
      const st = await child.status;
      assertEquals(st.signal, "SIGKILL");
      const reader = await RecordingReader.open(`${out}.incomplete`);
      stormPid = reader.header.command?.pid;
      const events = await Array.fromAsync(reader.events());
      const r = reader.report;
      console.log(
        `killed recorder: ${r.chunks} chunks, ${r.events} events read back, truncated at ${r.truncatedAt} of ${r.bytes} bytes`,
      );
      assert(
        r.chunks > 0 && events.length === r.events && r.events > 0,
        JSON.stringify(r.problems),
      );
      assert(
        !r.complete && r.truncatedAt !== undefined,
        "a killed recording is truncated",
      );
      assertEquals(
        r.problems.map((p) => p.type),
        ["truncated"],
        JSON.stringify(r.problems),
      );
      assert(
        events.some((e) => e.kind === "exec"),
        "execs of the storm are in the chunks",
      );
      let renamed = true;
      try {
        await Deno.stat(out);
      } catch {
        renamed = false;
      }
      assert(
        !renamed,
        "a killed recording must not be renamed to its final name",
      );
    } finally {
      if (stormPid) {
        try {
          Deno.kill(stormPid, "SIGKILL");
        } catch { /* gone */ }
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
  why,
);

captureTest(
  "a real recording cut at every byte offset gives its complete chunks or a clean truncation",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/small.cbor`;
      const r = await procrec([
        "record",
        "--only-command",
        "-o",
        out,
        "--",
        "sh",
        "-c",
        "for i in 1 2 3 4; do /bin/true $i; sleep 0.3; done",
      ]);
      assertEquals(r.code, 0, r.stderr);
      const bytes = await Deno.readFile(out);
      const whole = await RecordingReader.fromStream(once(bytes), "small");
      const chunks = await Array.fromAsync(whole.chunks());
      assert(whole.report.complete, JSON.stringify(whole.report.problems));
      assert(chunks.length >= 2, `only ${chunks.length} chunks`);
      const headerEnd = chunks[0].offset;
      console.log(
        `cutting a ${bytes.length}-byte recording of ${chunks.length} chunks at every offset`,
      );
      for (let n = 0; n < bytes.length; n++) {
        let reader: RecordingReader;
        try {
          reader = await RecordingReader.fromStream(
            once(bytes.slice(0, n)),
            "cut",
          );
        } catch (e) {
          assert(e instanceof RecordingFormatError, `cut at ${n}: ${e}`);
          assert(
            n < headerEnd,
            `cut at ${n}, after the header (${headerEnd}): ${e}`,
          );
          continue;
        }
        assert(n >= headerEnd, `cut at ${n} inside the header was accepted`);
        const events = await Array.fromAsync(reader.events());
        const wantChunks = chunks.filter((c) => c.offset + c.length <= n);
        const want = wantChunks.reduce((k, c) => k + c.events.length, 0);
        const rep = reader.report;
        if (events.length !== want || rep.chunks !== wantChunks.length) {
          throw new Error(
            `cut at ${n}: ${events.length} events in ${rep.chunks} chunks, expected ${want} in ${wantChunks.length}`,
          );
        }
        if (rep.truncatedAt === undefined || rep.complete) {
          throw new Error(`cut at ${n}: not reported truncated`);
        }
        if (rep.problems.length !== 1 || rep.problems[0].type !== "truncated") {
          throw new Error(
            `cut at ${n}: problems ${JSON.stringify(rep.problems)}`,
          );
        }
      }
    }, "procrec-cut-");
  },
  why,
);

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
