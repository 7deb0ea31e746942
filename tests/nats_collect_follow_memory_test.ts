/**
 * `collect --follow` runs for months: on a real nats-server, its engine lets
 * complete recordings go at once and keeps at most `maxResident` unfinished
 * ones once caught up. A recording let go while unfinished is read again from
 * its files when its next pieces come, and is collected whole; every hole is
 * named once; a follower keeps the first problems only, and counts them all.
 */
import { withCluster } from "./_nats_cluster.ts";
import { fileSha, hostRecording, publishRaw } from "./_nats_helpers.ts";
import { assert, assertEquals } from "./_record_helpers.ts";
import {
  collectRecordings,
  KEPT_PROBLEMS,
} from "../cli/nats/collect_recordings.ts";
import type { CollectProblem } from "../cli/nats/collected_recording.ts";
import type { RecordingPieces } from "../cli/nats/recording_pieces.ts";

/** The messages that publish `pieces` (all, or those from `from` to before `to`) under `host`. */
function messages(host: string, r: RecordingPieces, from = 0, to = Infinity) {
  return r.pieces.filter((p) => p.index >= from && p.index < to).map((p) => ({
    subject: `procrec.${host}.${r.id}`,
    index: String(p.index),
    bytes: p.bytes,
  }));
}

Deno.test("collect --follow keeps at most maxResident unfinished recordings, pushing out the busiest host's first; one let go is read again and collected whole; each hole named once", async () => {
  await withCluster(async (c, dir) => {
    const out = `${dir}/out`;
    const done = await Promise.all(
      [1, 2, 3, 4].map((n) => hostRecording(`${dir}/w${n}.cbor`, "web-1", n)),
    );
    const late = await Promise.all(
      [8, 9].map((n) => hostRecording(`${dir}/late${n}.cbor`, "web-2", n)),
    );
    const half = Math.floor(late[0].pieces.length / 2);
    assert(half >= 2, `pieces: ${late[0].pieces.length}`);
    const evilIds = [1, 2, 3].map((n) => n.toString(16).padStart(32, "0"));
    // the first halves of web-2's two recordings, the whole of web-1's
    // four, then three made-up ids (a piece 1 each: a hole that never fills)
    await publishRaw(c, [
      ...late.flatMap((r) => messages("web-2", r, 0, half)),
      ...done.flatMap((r) => messages("web-1", r)),
      ...evilIds.map((id) => ({
        subject: `procrec.evil.${id}`,
        index: "1",
        bytes: late[0].pieces[1].bytes,
      })),
    ]);
    const abort = new AbortController();
    const residents: string[][] = [];
    const problems: CollectProblem[] = [];
    const completed: string[] = [];
    let rest: Promise<void> | undefined;
    let restPublished = false;
    let caughtUpAfterRest = 0;
    const result = await collectRecordings({
      url: c.url,
      prefix: "procrec",
      outDir: out,
      follow: true,
      maxResident: 2,
      signal: abort.signal,
      onProblem: (p) => problems.push(p),
      onComplete: (r) => completed.push(r.path),
      onCaughtUp: (held) => {
        residents.push(held.map((r) => `${r.host}/${r.id}`).sort());
        if (rest === undefined) {
          // the second halves come now: web-2's first recording was let go
          // unfinished, and is read again from its files
          rest = publishRaw(
            c,
            late.flatMap((r) => messages("web-2", r, half)),
          ).then(() => {
            restPublished = true;
          });
        } else if (restPublished && ++caughtUpAfterRest >= 1) abort.abort();
      },
    });
    await rest;
    // at the first catch-up: evil's first id went (it had the most), then,
    // three against two... two against two, web-2's least recent, then
    // evil's second: web-2's second recording and evil's third stay
    assertEquals(residents[0], [
      `evil/${evilIds[2]}`,
      `web-2/${late[1].id}`,
    ]);
    for (const r of residents) assert(r.length <= 2, `resident: ${residents}`);
    // every genuine recording whole, byte for byte
    for (
      const [host, r, n] of [
        ...done.map((r, i) => ["web-1", r, `w${i + 1}`] as const),
        ["web-2", late[0], "late8"] as const,
        ["web-2", late[1], "late9"] as const,
      ]
    ) {
      assertEquals(
        await fileSha(`${out}/${host}/${r.id}.cbor`),
        await fileSha(`${dir}/${n}.cbor`),
        `${host}/${r.id}`,
      );
    }
    assertEquals(completed.length, 6, completed.join("\n"));
    // the three holes, each named once; nothing else
    assertEquals(
      problems.map((p) => `${p.host}/${p.id} ${p.index} ${p.gap}`).sort(),
      evilIds.map((id) => `evil/${id} 0 true`),
    );
    assertEquals(result.problemCount, 3);
    assertEquals(result.alteredCount, 0);
    // let go: the six complete, and two of the holes; still held: the third
    assertEquals(result.released, { complete: 6, unfinished: 2, withHole: 2 });
    assertEquals(
      result.recordings.map((r) => `${r.host}/${r.id}`),
      [`evil/${evilIds[2]}`],
    );
  }, { nodes: 1 });
});

Deno.test("collect --follow tells a late copy of a piece of a complete recording it let go without its file: a duplicate, or one that differs", async () => {
  await withCluster(async (c, dir) => {
    const out = `${dir}/out`;
    const r = await hostRecording(`${dir}/a.cbor`, "web-1", 1);
    await publishRaw(c, messages("web-1", r));
    const abort = new AbortController();
    const problems: CollectProblem[] = [];
    let phase = 0;
    const result = await collectRecordings({
      url: c.url,
      prefix: "procrec",
      outDir: out,
      follow: true,
      maxResident: 1,
      signal: abort.signal,
      onProblem: (p) => problems.push(p),
      onCaughtUp: () => {
        if (phase++ === 0) {
          // complete and let go: the file is archived elsewhere, then a copy
          // of piece 1 comes again, and a piece 2 that is not the one
          // collected
          Deno.renameSync(`${out}/web-1/${r.id}.cbor`, `${dir}/archived.cbor`);
          publishRaw(c, [
            ...messages("web-1", r, 1, 2),
            {
              subject: `procrec.web-1.${r.id}`,
              index: "2",
              bytes: r.pieces[3].bytes,
            },
          ]).then(() => phase = 10);
        } else if (phase > 10) abort.abort();
      },
    });
    assertEquals(
      problems.map((p) => `${p.index} ${p.reason}`),
      [
        "2 it differs from the piece 2 already collected (altered or forged)",
      ],
    );
    // nothing was read again nor written anew
    assertEquals(
      [...Deno.readDirSync(`${out}/web-1`)].map((e) => e.name),
      [],
    );
    assertEquals(result.released.complete, 1);
    assertEquals(
      await fileSha(`${dir}/archived.cbor`),
      await fileSha(`${dir}/a.cbor`),
    );
  }, { nodes: 1 });
});

Deno.test("collect --follow keeps the first problems only, and counts them all", async () => {
  await withCluster(async (c, dir) => {
    const n = KEPT_PROBLEMS + 7;
    const id = "e".repeat(32);
    await publishRaw(
      c,
      Array.from({ length: n }, () => ({
        subject: `procrec.evil.${id}`,
        index: "0",
        bytes: new Uint8Array([0xff]),
      })),
    );
    const abort = new AbortController();
    let named = 0;
    const result = await collectRecordings({
      url: c.url,
      prefix: "procrec",
      outDir: `${dir}/out`,
      follow: true,
      signal: abort.signal,
      onProblem: () => named++,
      onCaughtUp: () => abort.abort(),
    });
    assertEquals(named, n);
    assertEquals(result.problemCount, n);
    assertEquals(result.alteredCount, n);
    assertEquals(result.problems.length, KEPT_PROBLEMS);
    assert(
      result.problems[0].reason.includes("not one CBOR item"),
      result.problems[0].reason,
    );
    assertEquals(result.messages, n);
  }, { nodes: 1 });
});

Deno.test("collect --follow on a stream that never goes quiet: caught up as each batch takes the last piece, holes named, memory bounded", async () => {
  await withCluster(async (c, dir) => {
    const r = await hostRecording(`${dir}/a.cbor`, "web-1", 1);
    const ids = Array.from(
      { length: 10 },
      (_, i) => (i + 1).toString(16).padStart(32, "0"),
    );
    const abort = new AbortController();
    const held: number[] = [];
    const holes: string[] = [];
    let trickling = true;
    const collecting = collectRecordings({
      url: c.url,
      prefix: "procrec",
      outDir: `${dir}/out`,
      follow: true,
      maxResident: 2,
      signal: abort.signal,
      onProblem: (p) => {
        if (p.gap) holes.push(p.id);
      },
      onCaughtUp: (resident) => {
        if (trickling) held.push(resident.length);
      },
    });
    // a made-up id every 300 ms (a fetch waits up to a second for more: the
    // stream is never seen empty)
    for (const id of ids) {
      await publishRaw(c, [{
        subject: `procrec.evil.${id}`,
        index: "1",
        bytes: r.pieces[1].bytes,
      }]);
      await new Promise((ok) => setTimeout(ok, 300));
    }
    trickling = false;
    await new Promise((ok) => setTimeout(ok, 1500));
    abort.abort();
    const result = await collecting;
    assert(held.length >= 5, `caught up ${held.length} times in the trickle`);
    for (const n of held) assert(n <= 2, `held: ${held}`);
    assertEquals(holes.sort(), ids);
    assertEquals(result.released.withHole + result.recordings.length, 10);
  }, { nodes: 1 });
});
