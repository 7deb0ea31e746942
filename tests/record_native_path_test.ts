/**
 * The record path through the library's chunk encoder against the
 * TypeScript path (an object per event), on the same storm from the kernel:
 * two eBPF recorders at once, one of them forced onto the TypeScript path
 * (PROCREC_TEST_JS_RECORD_PATH), the other running the storm as its command.
 * The storm's events must be the same in both recordings (but for their
 * times, which each recorder's BPF programs read themselves), and each recorder's summary must be its replay summary.
 */
import { buildEbpfStorm } from "./_ebpf_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  PROCREC,
  procrec,
  waitForPath,
} from "./_record_helpers.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";

const why = await captureUnavailable();

/** The events of `root`'s subtree, without times; starts on the kernel's clock. */
async function subtree(path: string, root: number) {
  const reader = await RecordingReader.open(path);
  const base = BigInt(reader.header.timeBase.monoNs);
  const all: ProcEvent[] = await Array.fromAsync(reader.events());
  // (the pids of the subtree whatever the order of the creations: two BPF
  // rings interleave the CPUs' events differently, and on a host that took
  // pids again fast a child's creation read before its parent's left it
  // out of one recording's subtree only)
  const pids = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const e of all) {
      if (
        e.kind === "process_create" && pids.has(e.ppid) && !pids.has(e.pid)
      ) {
        pids.add(e.pid);
        grew = true;
      }
    }
  }
  const out: string[] = [];
  for (const e of all) {
    // image hashes depend on each recorder's own hash worker (its cache)
    if (!pids.has(e.pid) || e.kind === "image_hash") continue;
    const abs = (t: number) => String(BigInt(t) + base);
    // each recorder's BPF programs read the clock themselves: the times of
    // one event differ by the microseconds between the two programs' runs
    const x: Record<string, unknown> = { ...e, t: undefined };
    if ("start" in e) x.start = abs(e.start);
    out.push(JSON.stringify(x));
  }
  const lost = all.filter((e) => e.kind === "lost").length;
  return { events: out, lost };
}

captureTest(
  "the library's chunk encoder and the TypeScript path record the same storm events, and each summary is the replay summary",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "procrec-native-path-" });
    let js: Deno.ChildProcess | undefined;
    try {
      const storm = await buildEbpfStorm(dir);
      const jsOut = `${dir}/js.cbor`;
      js = new Deno.Command(PROCREC, {
        args: [
          "record",
          "--source",
          "ebpf",
          "-o",
          jsOut,
          "--stats-out",
          `${dir}/js.json`,
        ],
        env: { PROCREC_TEST_JS_RECORD_PATH: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitForPath(`${jsOut}.incomplete`, { tries: 300, intervalMs: 50 });
      const nativeOut = `${dir}/native.cbor`;
      const n = await procrec([
        "record",
        "--source",
        "ebpf",
        "-o",
        nativeOut,
        "--stats-out",
        `${dir}/native.json`,
        "--",
        storm,
        "5000",
        "300",
        `${dir}/truth`,
      ]);
      assertEquals(n.code, 0, `native recorder (stderr: ${n.stderr})`);
      await new Promise((r) => setTimeout(r, 300)); // the other drains
      js.kill("SIGTERM");
      const j = await js.output();
      js = undefined;
      const jsErr = new TextDecoder().decode(j.stderr);
      assertEquals(j.code, 0, `TypeScript-path recorder (stderr: ${jsErr})`);

      const nStats = JSON.parse(await Deno.readTextFile(`${dir}/native.json`));
      const jStats = JSON.parse(await Deno.readTextFile(`${dir}/js.json`));
      assertEquals(nStats.nativeEncoded, true, "the first recorder's path");
      assertEquals(jStats.nativeEncoded, false, "the second recorder's path");

      const root = (await RecordingReader.open(nativeOut)).header.command?.pid;
      assert(root !== undefined, "the storm's pid");
      const x = await subtree(nativeOut, root);
      const y = await subtree(jsOut, root);
      assertEquals([x.lost, y.lost], [0, 0], "lost events");
      assert(x.events.length > 5000, `only ${x.events.length} storm events`);
      assertEquals(x.events.length, y.events.length, "storm events");
      // two BPF rings may interleave the CPUs' events differently
      x.events.sort();
      y.events.sort();
      for (let i = 0; i < x.events.length; i++) {
        assertEquals(x.events[i], y.events[i], `storm event ${i} (sorted)`);
      }

      // each summary is its recording's replay summary
      for (const [out, stderr] of [[nativeOut, n.stderr], [jsOut, jsErr]]) {
        const replay = await procrec(["replay", out, "--summary"]);
        assert(replay.stdout.length > 0, "replay printed no summary");
        assert(
          stderr.endsWith(replay.stdout),
          `${out}: summary (stderr) vs replay summary:\n${stderr}\n---\n${replay.stdout}`,
        );
      }
      console.log(
        `native and TypeScript paths: ${x.events.length} storm events alike`,
      );
    } finally {
      if (js) {
        js.kill("SIGKILL");
        await js.output();
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
  why,
);
