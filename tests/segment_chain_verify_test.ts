/**
 * Verifying segment directories chain by chain (found by review):
 *
 * - Retention deletes the oldest segments of a directory first (after a
 *   restart into the directory too), so a segment missing between two
 *   segments that are there is missing, whatever a header says: a forged
 *   record of its deletion by retention made it verify intact.
 * - A directory may hold several chains: `collect` writes every recording
 *   of a host into `DIR/<host>/`, a service's segments, another segment
 *   directory's and one-off recordings alike. Each chain is verified on its
 *   own, with a line each; it read as tampered ("names no predecessor").
 *
 * Real segment directories, written by the segment writer on a test clock;
 * the collected directory is made as collect makes it (the same files,
 * named by id, in one folder).
 */
import type { ProcEvent } from "../cli/events/types.ts";
import {
  RecordingWriter,
  type SegmentInfo,
  SegmentSetReader,
} from "../cli/log/mod.ts";
import {
  listSegments,
  readSegmentEnd,
  segmentName,
} from "../cli/log/segment_directory.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { scanItem } from "../cli/log/_cbor_scan.ts";
import type { Retention } from "../cli/record/parse_rotation.ts";
import { testHeader, workload } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const MINUTE = 60_000_000_000n;
const T0 = testHeader().timeBase.utcNs;

/**
 * One recorder run into `dir` on a clock starting at `from`: `segments`
 * segments of 20 workload events each, a minute apart, closed; the clock
 * where it stopped.
 */
async function recorderRun(
  dir: string,
  from: bigint,
  segments: number,
  keep?: Retention,
  header = testHeader(),
): Promise<bigint> {
  let now = from;
  const w = await SegmentWriter.open(header, {
    dir,
    ...(keep ? { keep } : {}),
    writer: { flushIntervalMs: 0, chunkEvents: 8 },
    nowUtcNs: () => now,
  });
  const events = workload(20 * segments);
  for (let s = 0; s < segments; s++) {
    for (const e of events.slice(s * 60, (s + 1) * 60)) w.write(e);
    now += MINUTE;
    if (s < segments - 1) await w.rotateNow();
    else await w.close();
  }
  return now;
}

/** The segment names of `dir`, oldest first. */
async function names(dir: string): Promise<string[]> {
  return (await listSegments(dir)).segments.map((s) => s.name);
}

/**
 * What a compromised host would add to hide `victim`: removes it, and
 * writes a segment after the newest one there, correctly linked, whose
 * header says retention deleted `victim`.
 */
async function forgeRetention(dir: string, victim: string): Promise<void> {
  const { segments } = await listSegments(dir);
  const last = segments[segments.length - 1];
  const v = segments.find((s) => s.name === victim)!;
  const vEnd = await readSegmentEnd(v.path);
  const lastEnd = await readSegmentEnd(last.path);
  await Deno.remove(v.path);
  const start = last.startUtcNs + MINUTE;
  const segment: SegmentInfo = {
    id: "f".repeat(32),
    run: "e".repeat(32),
    index: 0,
    startUtcNs: start,
    previous: {
      name: last.name,
      id: last.header.segment!.id,
      finalHash: lastEnd.finalHash,
      closed: true,
    },
    deleted: [{
      name: v.name,
      id: v.header.segment!.id,
      startUtcNs: v.startUtcNs,
      endUtcNs: vEnd.endUtcNs ?? v.startUtcNs,
      finalHash: vEnd.finalHash,
      events: vEnd.events,
    }],
    alive: [],
  };
  const w = await RecordingWriter.create(
    `${dir}/${segmentName("testhost", start)}`,
    testHeader({ segment }),
    { flushIntervalMs: 0 },
  );
  await w.close();
}

/** A one-off recording (`record -o FILE`, no segment header) starting at `utcNs`. */
async function oneOff(path: string, utcNs: bigint): Promise<void> {
  const w = await RecordingWriter.create(
    path,
    testHeader({ timeBase: { monoNs: 5_000_000_000n, utcNs } }),
    { flushIntervalMs: 0 },
  );
  const e: ProcEvent = {
    kind: "exec",
    t: 10,
    pid: 4242,
    tid: 4242,
    info: { image: "/usr/bin/id", argv: ["id"], from: {} },
  };
  w.write(e);
  await w.close();
}

/** Copies the recordings of `from` into `hostDir` under random 32-hex names, as collect names them. */
async function collectInto(hostDir: string, ...from: string[]): Promise<void> {
  await Deno.mkdir(hostDir, { recursive: true });
  for (const src of from) {
    const files = (await Deno.stat(src)).isDirectory
      ? (await listSegments(src)).segments.map((s) => s.path)
      : [src];
    for (const f of files) {
      const id = crypto.randomUUID().replaceAll("-", "");
      await Deno.copyFile(f, `${hostDir}/${id}.cbor`);
    }
  }
}

/** The `lost` events of reading `dir` as replay, report and bundle read it: [reason, count]. */
async function losses(dir: string): Promise<unknown[]> {
  const set = await SegmentSetReader.open([dir]);
  const lost: unknown[] = [];
  for await (const e of set.events()) {
    if (e.kind === "lost") lost.push([e.reason, e.count]);
  }
  return lost;
}

Deno.test("a segment missing mid-chain that a forged header says retention deleted is missing (incomplete), not retention, for verify, replay and a bundle", async () => {
  await withTempDir(async (dir) => {
    const seg = `${dir}/seg`;
    await recorderRun(seg, T0, 4);
    const written = await names(seg);
    await forgeRetention(seg, written[1]);
    const v = await procrec(["verify", seg]);
    assertEquals(v.code, 1, v.stdout + v.stderr);
    assert(v.stdout.startsWith(`Recording "${seg}": INCOMPLETE`), v.stdout);
    assert(
      v.stdout.includes(
        `INCOMPLETE [${written[2]}]: its predecessor ${written[1]}`,
      ) &&
        v.stdout.includes(
          `says retention deleted it, but retention deletes the oldest segments first and ${
            written[0]
          } is still there`,
        ),
      v.stdout,
    );
    assert(!/deleted by retention/.test(v.stdout), v.stdout);
    // replay, report and bundle read the same: a missing segment
    assertEquals(await losses(seg), [["segment_missing", 0]]);
    const r = await procrec(["replay", seg, "--summary"]);
    assert(/gap: .*retention deletes the oldest/.test(r.stderr), r.stderr);
    assert(/incomplete\n$/.test(r.stderr), r.stderr);
    // bundled, the same
    const zip = `${dir}/case.zip`;
    const b = await procrec(["bundle", "create", "-o", zip, seg]);
    assertEquals(b.code, 0, b.stdout + b.stderr);
    const vb = await procrec(["verify", zip]);
    assertEquals(vb.code, 1, vb.stdout + vb.stderr);
    assert(vb.stdout.startsWith(`Bundle "${zip}": INCOMPLETE`), vb.stdout);
    assert(
      vb.stdout.includes("retention deletes the oldest segments first"),
      vb.stdout,
    );
  }, "procrec-forged-retention-");
});

Deno.test("a run's last segment removed before a restart, a forged header saying retention deleted it, is missing (incomplete)", async () => {
  await withTempDir(async (dir) => {
    // run 1: three segments; the recorder restarts into the directory
    // (Restart=always): run 2 links to run 1's last segment
    const clock = await recorderRun(dir, T0, 3);
    const run1 = await names(dir);
    await recorderRun(dir, clock, 2);
    await forgeRetention(dir, run1[2]);
    const v = await procrec(["verify", dir]);
    assertEquals(v.code, 1, v.stdout + v.stderr);
    assert(v.stdout.startsWith(`Recording "${dir}": INCOMPLETE`), v.stdout);
    assert(
      v.stdout.includes(`its predecessor ${run1[2]}`) &&
        v.stdout.includes("retention deletes the oldest segments first"),
      v.stdout,
    );
    assertEquals(await losses(dir), [["segment_missing", 0]]);
  }, "procrec-forged-restart-");
});

Deno.test("genuine retention, across a restart into the directory, still reads as retention (a note, exit 0), and so does its collected copy beside a one-off recording", async () => {
  await withTempDir(async (dir) => {
    const seg = `${dir}/seg`;
    // keep 3: run 1 writes 4 segments, run 2 (a restart) 3 more; the oldest
    // go, named in the next headers
    const clock = await recorderRun(seg, T0, 4, { count: 3 });
    await recorderRun(seg, clock, 3, { count: 3 });
    const kept = await names(seg);
    assertEquals(kept.length, 3);
    const v = await procrec(["verify", seg]);
    assertEquals(v.code, 0, v.stdout + v.stderr);
    assert(
      v.stdout.includes(
        `note [${kept[0]}]: the segments before it were deleted by retention`,
      ),
      v.stdout,
    );
    // (all four deleted segments' events: the headers' running total)
    assertEquals(await losses(seg), [["retention", 4 * 20 * 3]]);
    // collected into DIR/<host>/ with a one-off recording of the host made
    // meanwhile: two chains, the retention before the oldest segment a note
    const host = `${dir}/fleet/testhost`;
    await oneOff(`${dir}/run.cbor`, T0 + 5n * MINUTE + MINUTE / 2n);
    await collectInto(host, seg, `${dir}/run.cbor`);
    const c = await procrec(["verify", `${host}/`]);
    assertEquals(c.code, 0, c.stdout + c.stderr);
    assert(c.stdout.startsWith(`Recording "${host}/": INTACT`), c.stdout);
    assert(/deleted by retention/.test(c.stdout), c.stdout);
    assert(
      /note: chain 1 of 2: 3 segments \(.*\), runs? [0-9a-f, ]+: intact\n/
        .test(c.stdout),
      c.stdout,
    );
    assert(
      /note: chain 2 of 2: [0-9a-f]{32}\.cbor, a recording of its own \(no segment header\): intact\n/
        .test(c.stdout),
      c.stdout,
    );
    assertEquals(await losses(host), [["retention", 4 * 20 * 3]]);
  }, "procrec-genuine-retention-");
});

Deno.test("a collected host directory holding two segment chains and one-off recordings verifies each chain on its own (intact), and a real break in one chain is named in its line", async () => {
  await withTempDir(async (dir) => {
    // a service directory (two runs), another segment directory of the
    // same host recording at the same time (its own run and chain), and
    // two one-off recordings
    const service = `${dir}/service`;
    const other = `${dir}/seg2`;
    const clock = await recorderRun(service, T0, 3);
    await recorderRun(service, clock, 2);
    await recorderRun(other, T0 + MINUTE / 2n, 3);
    await oneOff(`${dir}/a.cbor`, T0 + 2n * MINUTE + 1000n);
    await oneOff(`${dir}/b.cbor`, T0 + 9n * MINUTE);
    const host = `${dir}/fleet/testhost`;
    await collectInto(host, service, other, `${dir}/a.cbor`, `${dir}/b.cbor`);
    const v = await procrec(["verify", `${host}/`]);
    assertEquals(v.code, 0, v.stdout + v.stderr);
    assert(v.stdout.startsWith(`Recording "${host}/": INTACT`), v.stdout);
    const lines = v.stdout.split("\n").filter((l) => l.includes(": chain "));
    assertEquals(lines.length, 4, v.stdout);
    assertEquals(
      lines.map((l) =>
        l.replace(/[0-9a-f]{32}\.cbor/g, "X").replace(/[0-9a-f]{8}/g, "R")
      ),
      [
        "  note: chain 1 of 4: 5 segments (X to X), runs R, R: intact",
        "  note: chain 2 of 4: 3 segments (X to X), run R: intact",
        "  note: chain 3 of 4: X, a recording of its own (no segment header): intact",
        "  note: chain 4 of 4: X, a recording of its own (no segment header): intact",
      ],
    );
    // replay, report and bundle: no gap, no broken link
    const set = await SegmentSetReader.open([host]);
    const lost = [];
    for await (const e of set.events()) if (e.kind === "lost") lost.push(e);
    assertEquals(lost, []);
    assertEquals(set.report.problems, []);
    assert(set.report.complete && set.report.chainIntact);
    const zip = `${dir}/case.zip`;
    const b = await procrec(["bundle", "create", "-o", zip, `${host}/`]);
    assertEquals(b.code, 0, b.stdout + b.stderr);
    const vb = await procrec(["verify", zip]);
    assertEquals(vb.code, 0, vb.stdout + vb.stderr);

    // a real break inside one chain is still named: seg2's middle segment
    // cut after its close (its trailer gone), the service's middle one of
    // run 1 removed
    const { segments } = await listSegments(host);
    const runOf = (start: bigint) =>
      segments.find((s) => s.startUtcNs === start)!.header.segment!.run;
    const ofRun = (run: string) =>
      segments.filter((s) => s.header.segment?.run === run);
    const seg2 = ofRun(runOf(T0 + MINUTE / 2n));
    const service1 = ofRun(runOf(T0));
    assertEquals([seg2.length, service1.length], [3, 3]);
    const bytes = await Deno.readFile(seg2[1].path);
    let last = 0;
    for (let p = 0; p < bytes.length; p = scanItem(bytes, p)) last = p;
    await Deno.truncate(seg2[1].path, last);
    await Deno.remove(service1[1].path);
    const t = await procrec(["verify", `${host}/`]);
    assertEquals(t.code, 1, t.stdout + t.stderr);
    assert(t.stdout.startsWith(`Recording "${host}/": TAMPERED`), t.stdout);
    assert(
      t.stdout.includes(`INCOMPLETE [${service1[2].name}]: its predecessor `) &&
        t.stdout.includes(`(id ${service1[1].header.segment!.id})`),
      t.stdout,
    );
    assert(
      t.stdout.includes(
        `TAMPERED [${seg2[2].name}]: it says `,
      ) && t.stdout.includes("ends without its trailer"),
      t.stdout,
    );
    const tl = t.stdout.split("\n").filter((l) => l.includes(": chain "));
    assert(/chain \d of \d: .*: INCOMPLETE$/.test(tl[0]), tl.join("\n"));
    assert(/chain \d of \d: .*: TAMPERED$/.test(tl[1]), tl.join("\n"));
    assert(tl.slice(2).every((l) => l.endsWith(": intact")), tl.join("\n"));
  }, "procrec-collected-chains-");
});
