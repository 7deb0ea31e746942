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

Deno.test("collect --follow keeps at most maxResident unfinished recordings and no complete one; one let go is read again and collected whole", async () => {
  await withCluster(async (c, dir) => {
    const out = `${dir}/out`;
    const done = await Promise.all(
      [1, 2, 3, 4].map((n) => hostRecording(`${dir}/w${n}.cbor`, "web-1", n)),
    );
    const late = await hostRecording(`${dir}/late.cbor`, "web-2", 9);
    assert(late.pieces.length >= 4, `pieces: ${late.pieces.length}`);
    const evilIds = [1, 2, 3].map((n) => n.toString(16).padStart(32, "0"));
    // the first half of web-2's recording, then the whole of web-1's four,
    // then three made-up ids (a piece 1 each: a hole that never fills)
    const half = Math.floor(late.pieces.length / 2);
    await publishRaw(c, [
      ...messages("web-2", late, 0, half),
      ...done.flatMap((r) => messages("web-1", r)),
      ...evilIds.map((id) => ({
        subject: `procrec.evil.${id}`,
        index: "1",
        bytes: late.pieces[1].bytes,
      })),
    ]);
    const abort = new AbortController();
    const residents: number[] = [];
    const problems: CollectProblem[] = [];
    const completed: string[] = [];
    let rest: Promise<void> | undefined;
    let restPublished = false;
    const result = await collectRecordings({
      url: c.url,
      prefix: "procrec",
      outDir: out,
      follow: true,
      maxResident: 2,
      signal: abort.signal,
      onProblem: (p) => problems.push(p),
      onComplete: (r) => completed.push(r.path),
      onCaughtUp: (n) => {
        residents.push(n);
        if (rest === undefined) {
          // web-2's recording was let go unfinished (the least recently
          // written): its second half comes now
          rest = publishRaw(c, messages("web-2", late, half)).then(() => {
            restPublished = true;
          });
        } else if (restPublished) abort.abort();
      },
    });
    await rest;
    assert(residents.length >= 2, `caught up ${residents.length} times`);
    for (const n of residents) assert(n <= 2, `resident: ${residents}`);
    // every genuine recording whole, byte for byte
    for (
      const [host, r, n] of [
        ...done.map((r, i) => ["web-1", r, `w${i + 1}`] as const),
        ["web-2", late, "late"] as const,
      ]
    ) {
      assertEquals(
        await fileSha(`${out}/${host}/${r.id}.cbor`),
        await fileSha(`${dir}/${n}.cbor`),
        `${host}/${r.id}`,
      );
    }
    assertEquals(completed.length, 5, completed.join("\n"));
    // the three holes, each named once; nothing else
    assertEquals(
      problems.map((p) => `${p.host}/${p.id} ${p.index} ${p.gap}`).sort(),
      evilIds.map((id) => `evil/${id} 0 true`),
    );
    assertEquals(result.problemCount, 3);
    assertEquals(result.alteredCount, 0);
    // let go: the five complete, and the hole pushed out by web-2's first
    // half; still held: the two other holes
    assertEquals(result.released.complete, 5);
    assertEquals(result.released.withHole, 1);
    assertEquals(
      result.recordings.map((r) => `${r.host}/${r.id}`).sort(),
      evilIds.slice(1).map((id) => `evil/${id}`),
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
