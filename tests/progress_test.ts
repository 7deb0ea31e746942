/**
 * The progress line of a long read (`replay`, `diff`, `replay --diff`): when
 * it shows and what it says, on a terminal (rewritten in place after a
 * second, then cleared) and elsewhere (only with --progress: whole lines,
 * one a second and a last one); and that it goes to stderr only, leaving
 * the output byte-identical.
 */
import { Progress, type ProgressMode } from "../cli/commands/_progress.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import { assert, assertEquals, procrec } from "./_record_helpers.ts";

const FIX = new URL("../fixtures/", import.meta.url).pathname;

/** A sink that keeps what is written, terminal or not, and a clock to set. */
function setup(terminal: boolean, mode: ProgressMode, total?: number) {
  const written: string[] = [];
  const sink = {
    isTerminal: () => terminal,
    writeSync: (b: Uint8Array) => {
      written.push(new TextDecoder().decode(b));
      return b.length;
    },
  };
  const clock = { now: 10_000 };
  const progress = new Progress(
    "reading x.cbor",
    total,
    mode,
    sink,
    () => clock.now,
  );
  return { written, clock, progress };
}

Deno.test("on a terminal the line shows after a second, is rewritten at most every 250 ms, and is cleared at the end", () => {
  const { written, clock, progress } = setup(true, "auto", 4_000_000);
  let asked = 0;
  const bytes = (n: number) => () => (asked++, n);
  clock.now += 999;
  progress.tick(bytes(1_000_000), 10);
  assertEquals(written, []);
  assertEquals(asked, 0); // (not asked for the bytes when no line is due)
  clock.now += 1;
  progress.tick(bytes(1_000_000), 25_000);
  assertEquals(written, [
    "\r\x1b[Kprocrec: reading x.cbor: 25% of 4.0 MB, 25,000 events, 1.0 s",
  ]);
  clock.now += 249;
  progress.tick(bytes(2_000_000), 50_000);
  assertEquals(written.length, 1);
  clock.now += 1;
  progress.tick(bytes(3_999_999), 99_999);
  assertEquals(
    written[1],
    "\r\x1b[Kprocrec: reading x.cbor: 99% of 4.0 MB, 99,999 events, 1.3 s",
  );
  progress.end(bytes(4_000_000), 100_000);
  assertEquals(written[2], "\r\x1b[K");
  assertEquals(written.length, 3);
});

Deno.test("on a terminal a read shorter than a second leaves nothing, not even a clearing", () => {
  const { written, clock, progress } = setup(true, "auto", 100);
  clock.now += 500;
  progress.tick(() => 50, 5);
  progress.end(() => 100, 10);
  assertEquals(written, []);
});

Deno.test("elsewhere the line is off unless asked for; --no-progress silences a terminal too", () => {
  for (
    const [terminal, mode] of [[false, "auto"], [true, "off"], [
      false,
      "off",
    ]] as const
  ) {
    const { written, clock, progress } = setup(terminal, mode, 100);
    for (let i = 0; i < 10; i++) {
      clock.now += 700;
      progress.tick(() => 10 * i, i);
    }
    progress.end(() => 100, 10);
    assertEquals(written, [], `${terminal} ${mode}`);
  }
});

Deno.test("asked for off a terminal: whole lines, at most one a second, then a last one saying done", () => {
  const { written, clock, progress } = setup(false, "on");
  for (let i = 1; i <= 8; i++) {
    clock.now += 300;
    progress.tick(() => i * 1_500_000, i * 1000);
  }
  progress.end(() => 12_345_678, 8000);
  // ticks at 300 ms steps: lines at 1.2 s and 2.4 s; no total: bytes read
  assertEquals(written, [
    "procrec: reading x.cbor: 6.0 MB, 4,000 events, 1.2 s\n",
    "procrec: reading x.cbor: 12.0 MB, 8,000 events, 2.4 s\n",
    "procrec: reading x.cbor: done, 12.3 MB, 8,000 events, 2.4 s\n",
  ]);
});

Deno.test("a stderr that cannot be written does not stop the read", () => {
  const p = new Progress("reading x.cbor", 10, "on", {
    isTerminal: () => false,
    writeSync: () => {
      throw new Deno.errors.BrokenPipe("closed");
    },
  }, () => 0);
  p.tick(() => 5, 1);
  p.end(() => 10, 2);
});

/** Events and bytes of a fixture as the reader counts them. */
async function readAll(path: string) {
  const r = await RecordingReader.open(path);
  let events = 0;
  for await (const c of r.chunks()) events += c.events.length;
  return { events, bytes: (await Deno.stat(path)).size };
}

Deno.test("replay --progress: a last line on stderr with the fixture's events; stdout as without it", async () => {
  const path = `${FIX}make.cbor`;
  const { events, bytes } = await readAll(path);
  assert(events > 10 && bytes < 1e6, `${events} events, ${bytes} bytes`);
  for (const view of [[], ["--summary"], ["--json"]]) {
    const plain = await procrec(["replay", ...view, path]);
    const shown = await procrec(["replay", ...view, "--progress", path]);
    assertEquals(plain.code, 0, plain.stderr);
    assertEquals(shown.code, 0, shown.stderr);
    assertEquals(shown.stdout, plain.stdout, `${view}`);
    assert(!plain.stderr.includes("procrec: reading"), plain.stderr);
    const last = `procrec: reading ${path}: done, 100% of ${
      (bytes / 1e3).toFixed(1)
    } kB, ${events.toLocaleString("en")} events, `;
    assert(shown.stderr.includes(last), `${last}\nnot in\n${shown.stderr}`);
    // what else it wrote is what it writes without the line
    assertEquals(
      shown.stderr.split("\n").filter((l) => !l.startsWith("procrec: reading"))
        .join("\n"),
      plain.stderr,
    );
  }
});

Deno.test("diff --progress and replay --diff --progress: one last line per recording, in order; the diff as without it", async () => {
  const a = `${FIX}make.cbor`, b = `${FIX}failing.cbor`;
  const ea = (await readAll(a)).events, eb = (await readAll(b)).events;
  for (const cmd of [["diff"], ["replay", "--diff"]]) {
    const plain = await procrec([...cmd, a, b]);
    // (before --diff, whose list would take it)
    const shown = await procrec([cmd[0], "--progress", ...cmd.slice(1), a, b]);
    assertEquals(plain.code, 1, plain.stderr);
    assertEquals(shown.code, 1, shown.stderr);
    assertEquals(shown.stdout, plain.stdout);
    const lines = shown.stderr.split("\n").filter((l) =>
      l.startsWith("procrec: diff: reading")
    );
    assertEquals(lines.length, 2, shown.stderr);
    assert(
      lines[0].startsWith(
        `procrec: diff: reading ${a} (1 of 2): done, 100% of `,
      ) && lines[0].includes(` ${ea.toLocaleString("en")} events`),
      lines[0],
    );
    assert(
      lines[1].startsWith(
        `procrec: diff: reading ${b} (2 of 2): done, 100% of `,
      ) && lines[1].includes(` ${eb.toLocaleString("en")} events`),
      lines[1],
    );
  }
});

Deno.test("--progress and --no-progress are in the help of replay and diff", async () => {
  for (const cmd of ["replay", "diff"]) {
    const h = await procrec([cmd, "--help"]);
    assert(
      h.stdout.includes("--progress") && h.stdout.includes("--no-progress"),
      h.stdout,
    );
  }
});
