/**
 * A segment directory read over a span of time and bundled as one
 * recording: `verify`, `export` and `report` take `--from/--to` (absolute
 * UTC times, offsets, clock times) and read only the covering segments;
 * `bundle create DIR/` packs the segments under `recordings/NAME/`, verify
 * checks their links, and replay of the bundled recording equals replay of
 * the directory. Also: a full segment is sealed once, not one chunk per
 * event until the rotation.
 */
import { RecordingReader, SegmentSetReader } from "../cli/log/mod.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { processCreate, testHeader } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const BASE = testHeader().timeBase.utcNs; // the run's time base (UTC ns)
const SECOND = 1_000_000_000;

function iso(utcNs: bigint): string {
  return new Date(Number(utcNs / 1_000_000n)).toISOString();
}

/** Events of segment `k`: processes born at k*10s + i*100ms, each exec'd and ended. */
function segmentEvents(k: number, n: number): ProcEvent[] {
  const out: ProcEvent[] = [];
  for (let i = 0; i < n; i++) {
    const pid = 3000 + k * 100 + i;
    const t = k * 10 * SECOND + i * 100_000_000;
    out.push(processCreate(t, pid, 1));
    out.push({
      kind: "exec",
      t: t + 10,
      pid,
      tid: pid,
      info: {
        image: "/usr/bin/job",
        argv: ["job", `seg=${k}`, `n=${i}`],
        from: { image: "proc", argv: "proc" },
      },
    });
    out.push({
      kind: "process_exit",
      t: t + 50_000_000,
      pid,
      tid: pid,
      status: 0,
    });
  }
  return out;
}

/**
 * Writes 4 segments beginning at BASE + 0s, 10s, 20s, 30s (a clock the
 * test sets), 5 processes each; returns the events written.
 */
async function writeDirectory(dir: string): Promise<ProcEvent[]> {
  let now = BASE;
  const w = await SegmentWriter.open(testHeader(), {
    dir,
    writer: { flushIntervalMs: 0 },
    nowUtcNs: () => now,
  });
  const all: ProcEvent[] = [];
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      now = BASE + BigInt(k * 10 * SECOND);
      await w.rotateNow();
    }
    for (const e of segmentEvents(k, 5)) {
      w.write(e);
      all.push(e);
    }
  }
  now = BASE + 40n * BigInt(SECOND);
  await w.close();
  return all;
}

Deno.test("a full segment is sealed once: the events until the rotation go into one more chunk, not one chunk each", async () => {
  await withTempDir(async (dir) => {
    const w = await SegmentWriter.open(testHeader(), {
      dir,
      rotate: { bytes: 4096 },
      writer: { flushIntervalMs: 0 },
    });
    // no tick between these writes (one big read): the segment fills early
    const events = segmentEvents(0, 600);
    for (const e of events) w.write(e);
    await w.close();
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n.endsWith(".cbor")
    );
    assertEquals(files.length, 1);
    const r = await RecordingReader.open(`${dir}/${files[0]}`);
    const got = await Array.fromAsync(r.events());
    assertEquals(got.length, events.length);
    assert(r.report.complete, JSON.stringify(r.report.problems));
    assert(
      r.report.chunks <= 3,
      `${r.report.chunks} chunks for ${events.length} events`,
    );
  }, "procrec-seal-once-");
});

Deno.test("verify DIR --from/--to checks only the covering segments and their links; a recording refuses them", async () => {
  await withTempDir(async (dir) => {
    const segs = `${dir}/segs`;
    await writeDirectory(segs);
    const from = iso(BASE + 12n * BigInt(SECOND));
    const to = iso(BASE + 25n * BigInt(SECOND));
    const v = await procrec([
      "verify",
      segs,
      "--from",
      from,
      "--to",
      to,
      "--json",
    ]);
    assertEquals(v.code, 0, v.stderr + v.stdout);
    const result = JSON.parse(v.stdout);
    assertEquals(result.recordings.length, 2, "segments 2 and 3 of 4");
    assert(
      result.findings.some((f: { message: string }) =>
        /only the 2 segments covering --from\/--to.*1 before.*1 after/.test(
          f.message,
        )
      ),
      v.stdout,
    );
    // offsets count from the start of the oldest segment
    const rel = await procrec([
      "verify",
      segs,
      "--from",
      "12s",
      "--to",
      "25s",
      "--json",
    ]);
    assertEquals(rel.code, 0, rel.stderr);
    assertEquals(JSON.parse(rel.stdout).recordings.length, 2);
    // whole: every segment
    const whole = await procrec(["verify", segs, "--json"]);
    assertEquals(JSON.parse(whole.stdout).recordings.length, 4);
    // a broken link inside the span is still found
    const names = [...Deno.readDirSync(segs)].map((e) => e.name).sort();
    await Deno.copyFile(`${segs}/${names[0]}`, `${segs}/${names[1]}`);
    const bad = await procrec(["verify", segs, "--from", "12s", "--to", "25s"]);
    assertEquals(bad.code, 1, bad.stdout);
    const file = await procrec([
      "verify",
      `${segs}/${names[3]}`,
      "--from",
      "1s",
    ]);
    assertEquals(file.code, 2);
    assert(/verified whole/.test(file.stderr), file.stderr);
    const inverted = await procrec([
      "verify",
      segs,
      "--from",
      "25s",
      "--to",
      "12s",
    ]);
    assertEquals(inverted.code, 2);
    assert(/inverted/.test(inverted.stderr), inverted.stderr);
  }, "procrec-verify-span-");
});

Deno.test("export DIR --from/--to writes the events of the span, on the time base of the segments read", async () => {
  await withTempDir(async (dir) => {
    const segs = `${dir}/segs`;
    const all = await writeDirectory(segs);
    const from = BASE + 12n * BigInt(SECOND);
    const to = BASE + 25n * BigInt(SECOND);
    const r = await procrec([
      "export",
      segs,
      "--from",
      iso(from),
      "--to",
      iso(to),
    ]);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const header = lines[0];
    // (the last line is the export's end line)
    assertEquals(lines.at(-1).procrec, "end");
    const events = lines.slice(1, -1);
    // the segments read begin with the second: its time base is the run's
    const base = BigInt(header.header.timeBase.utcNs.$bigint);
    assertEquals(base, BASE);
    const want = all.filter((e) =>
      BigInt(e.t) + BASE >= from && BigInt(e.t) + BASE <= to
    );
    const got = events.filter((e) => e.kind !== "process_snapshot");
    assertEquals(got.length, want.length, r.stderr);
    assertEquals(
      got.map((e) => `${e.kind}@${e.t}`),
      want.map((e) => `${e.kind}@${e.t}`),
    );
    assert(/outside --from\/--to/.test(r.stderr), r.stderr);
    // the same with offsets
    const rel = await procrec(["export", segs, "--from", "12s", "--to", "25s"]);
    assertEquals(rel.code, 0, rel.stderr);
    assertEquals(
      rel.stdout.trim().split("\n").slice(1),
      r.stdout.trim().split("\n").slice(1),
    );
    // a span after the last event: nothing; before the first segment: none
    // covers it, an error
    const late = await procrec([
      "export",
      segs,
      "--from",
      iso(BASE + 100n * BigInt(SECOND)),
    ]);
    assertEquals(late.code, 0, late.stderr);
    assertEquals(
      late.stdout.trim().split("\n").length,
      2,
      "the header and end lines only",
    );
    const none = await procrec([
      "export",
      segs,
      "--to",
      iso(BASE - 100n * BigInt(SECOND)),
    ]);
    assertEquals(none.code, 2);
    assert(/no segment covers/.test(none.stderr), none.stderr);
  }, "procrec-export-span-");
});

Deno.test("report DIR --from/--to shows the processes alive in the span", async () => {
  await withTempDir(async (dir) => {
    const segs = `${dir}/segs`;
    await writeDirectory(segs);
    const whole = await procrec(["report", segs, "-o", `${dir}/all.html`]);
    assertEquals(whole.code, 0, whole.stderr);
    assert(/, 20 processes,/.test(whole.stdout), whole.stdout);
    const part = await procrec([
      "report",
      segs,
      "--from",
      iso(BASE + 12n * BigInt(SECOND)),
      "--to",
      "25s",
      "-o",
      `${dir}/part.html`,
    ]);
    assertEquals(part.code, 0, part.stderr);
    // segment 1's processes ended by 10.45s, segment 3's begin at 30s: only
    // segment 2's five (20s to 20.45s) were alive in the span
    assert(/, 5 processes,/.test(part.stdout), part.stdout);
    const html = await Deno.readTextFile(`${dir}/part.html`);
    assert(
      html.includes("seg=2") && !html.includes("seg=1") &&
        !html.includes("seg=3"),
      "only segment 2's processes",
    );
  }, "procrec-report-span-");
});

Deno.test("bundle create DIR/ packs the segments as one recording: verify passes, replay of it equals replay of the directory", async () => {
  await withTempDir(async (dir) => {
    const segs = `${dir}/segs`;
    await writeDirectory(segs);
    const zip = `${dir}/case.zip`;
    const made = await procrec(["bundle", "create", "-o", zip, `${segs}/`]);
    assertEquals(made.code, 0, made.stderr);
    assert(
      /1 recording\(s\) \(1 segment directory as 4 segment files\)/.test(
        made.stdout,
      ),
      made.stdout,
    );
    assert(/recordings\/segs\//.test(made.stdout), made.stdout);
    const v = await procrec(["verify", zip]);
    assertEquals(v.code, 0, v.stdout + v.stderr);
    // replay: the bundle's one recording, and named
    const a = await procrec(["replay", segs]);
    const b = await procrec(["replay", zip]);
    const c = await procrec(["replay", `${zip}#segs`]);
    assertEquals(a.code, 0, a.stderr);
    assertEquals(b.code, 0, b.stderr);
    assertEquals(b.stdout, a.stdout);
    assertEquals(c.stdout, a.stdout);
    const sa = await procrec(["replay", segs, "--summary"]);
    const sb = await procrec(["replay", zip, "--summary"]);
    assertEquals(sb.stdout, sa.stdout);
    // the same events, in order, lost spans included
    const set = await SegmentSetReader.open([segs]);
    const want = await Array.fromAsync(set.events());
    const ea = await procrec(["export", zip]);
    assertEquals(ea.code, 0, ea.stderr);
    // (a header line, the events, an end line)
    assertEquals(ea.stdout.trim().split("\n").length - 2, want.length);
    // one segment, named, is still read alone
    const names = [...Deno.readDirSync(segs)].map((e) => e.name).sort();
    const one = await procrec([
      "replay",
      `${zip}#segs/${names[1]}`,
      "--summary",
    ]);
    assertEquals(one.code, 0, one.stderr);
    assert(
      /processes: 5 /.test(one.stdout) || /processes: 5\b/.test(one.stdout),
      one.stdout,
    );
  }, "procrec-bundle-dir-");
});

Deno.test("bundle create --from/--to DIR/ packs the covering segments; verify finds a link broken inside the bundle", async () => {
  await withTempDir(async (dir) => {
    const segs = `${dir}/segs`;
    await writeDirectory(segs);
    const zip = `${dir}/part.zip`;
    const made = await procrec([
      "bundle",
      "create",
      "-o",
      zip,
      "--from",
      iso(BASE + 12n * BigInt(SECOND)),
      "--to",
      "25s",
      segs,
    ]);
    assertEquals(made.code, 0, made.stderr);
    assert(/as 2 segment files/.test(made.stdout), made.stdout);
    const v = await procrec(["verify", zip]);
    assertEquals(v.code, 0, v.stdout);
    const part = await procrec([
      "replay",
      segs,
      "--from",
      iso(BASE + 12n * BigInt(SECOND)),
      "--to",
      iso(BASE + 25n * BigInt(SECOND)),
    ]);
    const fromZip = await procrec([
      "replay",
      zip,
      "--from",
      iso(BASE + 12n * BigInt(SECOND)),
      "--to",
      iso(BASE + 25n * BigInt(SECOND)),
    ]);
    assertEquals(fromZip.stdout, part.stdout);

    // a bundle whose second segment is another run's: the link is broken
    const other = `${dir}/other`;
    await writeDirectory(other);
    const mixed = `${dir}/mixed`;
    await Deno.mkdir(mixed);
    const a = [...Deno.readDirSync(segs)].map((e) => e.name).sort();
    const b = [...Deno.readDirSync(other)].map((e) => e.name).sort();
    await Deno.copyFile(`${segs}/${a[0]}`, `${mixed}/${a[0]}`);
    await Deno.copyFile(`${other}/${b[1]}`, `${mixed}/${b[1]}`);
    const bad = `${dir}/bad.zip`;
    const m2 = await procrec(["bundle", "create", "-o", bad, mixed]);
    assertEquals(m2.code, 0, m2.stderr);
    const v2 = await procrec(["verify", bad]);
    assertEquals(v2.code, 1, v2.stdout);
    assert(/altered or replaced|not in the bundle/.test(v2.stdout), v2.stdout);
  }, "procrec-bundle-span-");
});

Deno.test("a bundled directory with a killed run verifies as the directory does: the unclean end is a recorded loss, not an incomplete bundle", async () => {
  await withTempDir(async (dir) => {
    const segs = `${dir}/segs`;
    let now = BASE;
    const killed = await SegmentWriter.open(testHeader(), {
      dir: segs,
      writer: { flushIntervalMs: 0 },
      nowUtcNs: () => now,
    });
    for (const e of segmentEvents(0, 5)) killed.write(e);
    killed.abandon(); // as a kill -9 leaves it: NAME.incomplete, no trailer
    now = BASE + 10n * BigInt(SECOND);
    const next = await SegmentWriter.open(
      testHeader({ timeBase: { monoNs: 11_000_000_000n, utcNs: now } }),
      { dir: segs, writer: { flushIntervalMs: 0 }, nowUtcNs: () => now },
    );
    for (const e of segmentEvents(1, 5)) {
      next.write({ ...e, t: e.t - 10 * SECOND });
    }
    now = BASE + 20n * BigInt(SECOND);
    await next.close();
    const names = [...Deno.readDirSync(segs)].map((e) => e.name).sort();
    assert(names.some((n) => n.endsWith(".incomplete")), `${names}`);
    const vd = await procrec(["verify", segs]);
    assertEquals(vd.code, 0, vd.stdout);
    const zip = `${dir}/case.zip`;
    const made = await procrec(["bundle", "create", "-o", zip, segs]);
    assertEquals(made.code, 0, made.stderr);
    const vz = await procrec(["verify", zip]);
    assertEquals(vz.code, 0, vz.stdout);
    assert(/records the loss/.test(vz.stdout), vz.stdout);
    const a = await procrec(["replay", segs]);
    const b = await procrec(["replay", zip]);
    assertEquals(b.stdout, a.stdout);
    // the unclean end is a lost span in both
    const ea = await procrec(["export", zip]);
    assert(/"reason":"unclean_end"/.test(ea.stdout), ea.stdout.slice(0, 2000));
  }, "procrec-bundle-killed-");
});
