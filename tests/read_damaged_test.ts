/**
 * The reader's framing on damaged and hostile recordings, in bounded time
 * and memory (each command runs under `/usr/bin/time -v` with generous
 * limits): zero runs are one problem and a zero tail is a truncation (what a
 * crash leaves, INCOMPLETE rather than TAMPERED); repeated and reordered
 * chunks are named as such and never delivered twice; a truncated file is
 * not "chain BROKEN"; problems are capped and summarised.
 */
import { newEncoder } from "../cli/log/_cbor.ts";
import { scanItem } from "../cli/log/_cbor_scan.ts";
import { sha256 } from "../cli/log/_hash.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  PROCREC,
  withTempDir,
} from "./_record_helpers.ts";
import {
  readRecording,
  testHeader,
  workload,
  writeRecording,
} from "./_recording_helpers.ts";

/** A run of `./procrec ARGS` with its peak memory and wall time. */
interface Measured {
  code: number;
  stdout: string;
  stderr: string;
  maxRssMiB: number;
  /** CPU time, user and system (wall time varies with the load of the machine). */
  seconds: number;
}

/**
 * Runs `./procrec ARGS` under `/usr/bin/time -v`, killed after
 * `limitSeconds` of wall time.
 */
async function measured(
  args: string[],
  limitSeconds = 120,
): Promise<Measured> {
  const stats = await Deno.makeTempFile({ prefix: "procrec-time-" });
  try {
    // timeout(1) ends a hang: the test fails instead of stalling
    const out = await new Deno.Command("/usr/bin/time", {
      args: [
        "-v",
        "-o",
        stats,
        "timeout",
        "-s",
        "KILL",
        String(limitSeconds),
        PROCREC,
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = await Deno.readTextFile(stats);
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    const user = /User time \(seconds\): ([\d.]+)/.exec(text);
    const sys = /System time \(seconds\): ([\d.]+)/.exec(text);
    assert(
      out.code !== 137 && rss && user && sys,
      `procrec ${args.join(" ")} did not finish in ${limitSeconds} s:\n${text}`,
    );
    const d = new TextDecoder();
    return {
      code: out.code,
      stdout: d.decode(out.stdout),
      stderr: d.decode(out.stderr),
      maxRssMiB: Number(rss[1]) / 1024,
      seconds: Number(user[1]) + Number(sys[1]),
    };
  } finally {
    await Deno.remove(stats);
  }
}

/** Fails unless the run stayed within `seconds` and `mib`. */
function assertBounded(m: Measured, seconds: number, mib: number): void {
  assert(
    m.seconds <= seconds && m.maxRssMiB <= mib,
    `took ${m.seconds} s of CPU and ${
      m.maxRssMiB.toFixed(0)
    } MiB (limits ${seconds} s, ${mib} MiB)`,
  );
}

/** The byte ranges of a recording: header, each chunk, the trailer. */
function items(bytes: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let pos = 0; pos < bytes.length;) {
    const end = scanItem(bytes, pos);
    out.push([pos, end]);
    pos = end;
  }
  return out;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("a crash-left recording with a 1 MiB zero tail verifies INCOMPLETE, not TAMPERED, in bounded time and memory", async () => {
  await withTempDir(async (dir) => {
    const w = await RecordingWriter.create(`${dir}/a.cbor`, testHeader(), {
      chunkEvents: 16,
      flushIntervalMs: 0,
    });
    for (const e of workload(100)) w.write(e);
    w.abandon(); // a crash: no trailer
    const path = `${dir}/a.cbor.incomplete`;
    const size = (await Deno.stat(path)).size;
    const f = await Deno.open(path, { append: true });
    await f.write(new Uint8Array(1 << 20));
    f.close();

    const v = await measured(["verify", path]);
    assertEquals(v.code, 1, v.stdout + v.stderr);
    assert(v.stdout.includes("INCOMPLETE"), v.stdout);
    assert(!v.stdout.includes("TAMPERED"), v.stdout);
    assert(!v.stdout.includes("chain BROKEN"), v.stdout);
    assert(v.stdout.includes(`${1 << 20} zero bytes`), v.stdout);
    assertBounded(v, 10, 400);

    const r = await measured(["replay", "--summary", path]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.split("\n").length < 10, r.stderr);
    assertBounded(r, 10, 400);
    const { events, report } = await readRecording(path);
    assertEquals(events.length, 300);
    assertEquals(report.truncatedAt, size);
    assertEquals(report.problems.map((p) => p.type), ["truncated"]);
  });
});

Deno.test("a 256 KiB zero run inside a recording is one problem, and the chunks after it are read", async () => {
  await withTempDir(async (dir) => {
    const bytes = await writeRecording(`${dir}/a.cbor`, workload(100), 16);
    const at = items(bytes)[3][0]; // before chunk 2
    await Deno.writeFile(
      `${dir}/z.cbor`,
      cat(bytes.subarray(0, at), new Uint8Array(256 << 10), bytes.subarray(at)),
    );
    const m = await measured(["replay", "--summary", `${dir}/z.cbor`]);
    assertEquals(m.code, 0, m.stderr);
    assert(m.stderr.split("\n").length < 10, m.stderr);
    assertBounded(m, 10, 400);
    const { events, report } = await readRecording(`${dir}/z.cbor`);
    assertEquals(events.length, 300);
    assertEquals(report.problems.map((p) => p.type), ["damaged"]);
    assert(
      report.problems[0].reason.startsWith(`${256 << 10} zero bytes`),
      report.problems[0].reason,
    );
    assert(!report.complete && !report.chainIntact);
  });
});

Deno.test("a repeated chunk is named and read once; reordered chunks are named, never with a negative count", async () => {
  await withTempDir(async (dir) => {
    const bytes = await writeRecording(`${dir}/a.cbor`, workload(20), 10);
    const { events } = await readRecording(`${dir}/a.cbor`); // 60, chunks of 10
    const it = items(bytes);
    const chunk = (i: number) => bytes.subarray(it[1 + i][0], it[1 + i][1]);
    const head = bytes.subarray(0, it[1][0]);
    const tail = bytes.subarray(it[4][0]); // chunk 3 to the end

    await Deno.writeFile(
      `${dir}/dup.cbor`,
      cat(head, chunk(0), chunk(1), chunk(2), chunk(2), tail),
    );
    const dup = await readRecording(`${dir}/dup.cbor`);
    assertEquals(dup.events, events);
    assertEquals(dup.report.problems.map((p) => p.type), ["order"]);
    assert(
      /chunk 2 at offset \d+ repeats chunk 2 \(offset \d+\)/.test(
        dup.report.problems[0].reason,
      ),
      dup.report.problems[0].reason,
    );

    await Deno.writeFile(
      `${dir}/swap.cbor`,
      cat(head, chunk(0), chunk(2), chunk(1), tail),
    );
    const swap = await readRecording(`${dir}/swap.cbor`);
    const text = JSON.stringify(swap.report.problems);
    assert(!/-\d/.test(text), text);
    assert(text.includes("chunk 1 at offset") && text.includes("out of order"));
    // chunk 1's events are counted missing where it belonged, not replayed late
    assertEquals(swap.report.eventsMissing, 10);
    const seen = new Set<string>();
    for (const e of swap.events) {
      const k = JSON.stringify(e);
      assert(!seen.has(k), `delivered twice: ${k}`);
      seen.add(k);
    }
    const v = await measured(["verify", `${dir}/swap.cbor`]);
    assertEquals(v.code, 1);
    assert(v.stdout.includes("TAMPERED"), v.stdout);
  });
});

Deno.test("verify calls a merely truncated recording INCOMPLETE with its chain intact", async () => {
  await withTempDir(async (dir) => {
    const bytes = await writeRecording(`${dir}/a.cbor`, workload(20), 10);
    const it = items(bytes);
    await Deno.writeFile(`${dir}/t.cbor`, bytes.subarray(0, it[3][1] + 5));
    const v = await measured(["verify", `${dir}/t.cbor`]);
    assertEquals(v.code, 1, v.stdout);
    assert(v.stdout.includes("INCOMPLETE"), v.stdout);
    assert(!v.stdout.includes("chain BROKEN"), v.stdout);
    assert(!v.stdout.includes("TAMPERED"), v.stdout);
  });
});

Deno.test("a recording of a million invalid events gives a capped, summarised list of problems in bounded memory", async () => {
  await withTempDir(async (dir) => {
    const bytes = await writeRecording(`${dir}/a.cbor`, [], 10);
    const header = bytes.subarray(0, items(bytes)[0][1]);
    // one chunk whose body is an array of a million events that are not events
    const body = cat(
      new Uint8Array([0x9a, 0x00, 0x0f, 0x42, 0x40]), // array(1,000,000)
      new Uint8Array(1_000_000), // each 0: not an event
    );
    const chunk = newEncoder().encode([
      "chunk",
      0,
      0,
      sha256(header),
      sha256(body).subarray(0, 16),
      body,
    ]);
    await Deno.writeFile(`${dir}/bad.cbor`, cat(header, chunk));
    const m = await measured(["replay", "--summary", `${dir}/bad.cbor`]);
    assertEquals(m.code, 0, m.stderr.slice(0, 2000));
    const lines = m.stderr.split("\n");
    assert(lines.length < 60, `${lines.length} lines on stderr`);
    assert(
      m.stderr.includes(
        "more problems (1000001 in all: event 1000000, truncated 1)",
      ),
      m.stderr.slice(-500),
    );
    assertBounded(m, 30, 600);
    const v = await measured(["verify", `${dir}/bad.cbor`]);
    assertEquals(v.code, 1);
    assert(v.stdout.split("\n").length < 120, "verify lists every problem");
    assert(v.stdout.includes("999901 more problems"), v.stdout.slice(-500));
    assertBounded(v, 30, 600);
  });
});
