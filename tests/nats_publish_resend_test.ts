/**
 * What the publisher leaves behind, against a real (single) Debian
 * nats-server: a new run into a segment directory sends what earlier runs
 * left unpublished; a piece that can never be sent (above `max_payload`) is
 * named and passed over, never holding back the pieces after it; and
 * `publish` of a closed recording with damaged bytes after its last whole
 * piece is an error (exit 2) naming the file and the offset.
 */
import { requireNatsServer, withCluster } from "./_nats_cluster.ts";
import {
  adminConnection,
  collect,
  collectedFiles,
  gatedWorkload,
  openGate,
  sleep,
  startRecordPublishing,
  subjectCounts,
  waitFor,
} from "./_nats_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
} from "./_record_helpers.ts";
import { workload, writeRecording } from "./_recording_helpers.ts";
import { recordingPieces } from "../cli/nats/recording_pieces.ts";
import { pieceSubject } from "../cli/nats/piece_subject.ts";

const why = await captureUnavailable();
await requireNatsServer();

/** The closed and unclosed segments of a directory, oldest first. */
function segmentFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => /\.cbor(\.incomplete)?$/.test(n)).sort()
    .map((n) => `${dir}/${n}`);
}

captureTest(
  "record -o DIR/ --publish: a new run sends the pieces an earlier run left unpublished (it asks the stream which it has), says how many, and the collected chain verifies",
  () =>
    withCluster(async (c, dir) => {
      const segDir = `${dir}/segs`;
      const gate = `${dir}/gate`;
      const first = startRecordPublishing(
        c.url,
        `${segDir}/`,
        gatedWorkload(gate),
        ["--rotate", "1s", "--publish-wait", "1s"],
      );
      {
        const { nc, jsm } = await adminConnection(c);
        try {
          await waitFor("the first pieces", async () => {
            const info = await jsm.streams.info("PROCREC");
            return info.state.messages >= 2 ? true : undefined;
          });
        } catch (e) {
          first.child.kill("SIGKILL");
          throw new Error(
            `${(e as Error).message}: ${(await first.done).stderr}`,
          );
        } finally {
          await nc.close();
        }
      }
      // the server goes away: segments closed meanwhile stay unpublished
      await c.killNode(c.nodes[0]);
      await sleep(2500);
      await openGate(gate);
      const r1 = await first.done;
      assertEquals(r1.code, 0, r1.stderr);
      const m1 = /, (\d+) pending/.exec(r1.stderr);
      assert(m1 && Number(m1[1]) > 0, `run 1 left pieces: ${r1.stderr}`);
      const before = segmentFiles(segDir);

      c.startNode(c.nodes[0]);
      await c.waitReady(c.nodes[0]);
      const r2 = await startRecordPublishing(
        c.url,
        `${segDir}/`,
        ["sh", "-c", "for i in 1 2 3; do /bin/true; sleep 0.2; done"],
        ["--rotate", "1s", "--publish-wait", "30s"],
      ).done;
      assertEquals(r2.code, 0, r2.stderr);
      const said = new RegExp(
        `the ${before.length} segments earlier runs left in ${segDir}: (\\d+) pieces are not in the stream yet: sending them`,
      ).exec(r2.stderr);
      assert(said, `the pending pieces found are said: ${r2.stderr}`);
      assert(Number(said[1]) > 0, r2.stderr);
      const m2 = /published (\d+) pieces to .*: (\d+) acknowledged, 0 pending/
        .exec(r2.stderr);
      assert(m2, `nothing pending after run 2: ${r2.stderr}`);
      assert(
        Number(m2[1]) >= Number(said[1]),
        `the closing line counts them: ${r2.stderr}`,
      );

      // every piece of every segment, of both runs, is in the stream once
      const { nc, jsm } = await adminConnection(c);
      try {
        const counts = await subjectCounts(jsm);
        for (const f of segmentFiles(segDir)) {
          const { id, header, pieces } = await recordingPieces(f);
          assertEquals(
            counts[pieceSubject("procrec", header.host, id)],
            pieces.length,
            `${f}: every piece in the stream, once`,
          );
        }
      } finally {
        await nc.close();
      }
      const col = await collect(c.url, `${dir}/out`);
      assertEquals(col.code, 0, col.stdout + col.stderr);
      const files = await collectedFiles(`${dir}/out`);
      assertEquals(files.length, segmentFiles(segDir).length, `${files}`);
      const v = await procrec(["verify", files[0].replace(/\/[^/]*$/, "")]);
      assertEquals(v.code, 0, v.stdout + v.stderr);
      assert(v.stdout.includes("INTACT"), v.stdout);
    }, { nodes: 1 }),
  why,
);

Deno.test("publish: a piece above max_payload is named, counted and passed over; the 200 pieces after it are sent", async () => {
  await withCluster(async (c, dir) => {
    const rec = `${dir}/big.cbor`;
    // one process per chunk; the first one's command line is 1.1 MB
    await writeRecording(
      rec,
      workload(200).map((e) =>
        e.kind === "exec" && e.pid === 2000
          ? { ...e, info: { ...e.info, argv: ["env", "x".repeat(1_100_000)] } }
          : e
      ),
      3,
    );
    const { id, header, pieces } = await recordingPieces(rec);
    assertEquals(pieces.length, 202, "header, 200 chunks, trailer");
    const r = await procrec(["publish", rec, "--to", c.url, "--wait", "20s"]);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assert(
      /piece 1 of procrec\.\S+ \(the chunk\) is \d+ bytes, above the server's max_payload of 1048576 .*passed over/
        .test(r.stderr),
      `the piece is named: ${r.stderr}`,
    );
    assertEquals(
      r.stderr.match(/piece 1 of procrec\.\S+ \(the chunk\)/g)?.length,
      1,
      `named once: ${r.stderr}`,
    );
    assert(
      r.stderr.includes(
        "1 piece can never be sent as it is",
      ),
      r.stderr,
    );
    assert(/: 201 acknowledged, 1 pending/.test(r.stdout), r.stdout);
    const { nc, jsm } = await adminConnection(c);
    try {
      const counts = await subjectCounts(jsm);
      assertEquals(
        counts[pieceSubject("procrec", header.host, id)],
        201,
        "every other piece is in the stream",
      );
    } finally {
      await nc.close();
    }
    // it stays in the local recording: a later publish names it again
    const again = await procrec(["publish", rec, "--to", c.url]);
    assertEquals(again.code, 2, again.stdout + again.stderr);
    assert(/: 0 acknowledged, 1 pending/.test(again.stdout), again.stdout);
  }, { nodes: 1 });
});

captureTest(
  "record -o DIR/ --publish to a server whose max_payload is below a segment header: the header is named with max_payload, the pieces that fit are all sent",
  () =>
    withCluster(async (c, dir) => {
      const segDir = `${dir}/segs`;
      const r = await startRecordPublishing(
        c.url,
        `${segDir}/`,
        ["sh", "-c", "for i in $(seq 20); do /bin/true; sleep 0.1; done"],
        ["--rotate", "1s", "--publish-wait", "20s"],
      ).done;
      assertEquals(r.code, 0, r.stderr);
      const max = 2500;
      let big = 0;
      let headers = 0;
      const { nc, jsm } = await adminConnection(c);
      try {
        const counts = await subjectCounts(jsm);
        for (const f of segmentFiles(segDir)) {
          const { id, header, pieces } = await recordingPieces(f);
          const fits = pieces.filter((p) => p.bytes.length + 1024 <= max);
          big += pieces.length - fits.length;
          if (pieces[0].bytes.length + 1024 > max) headers++;
          assertEquals(
            counts[pieceSubject("procrec", header.host, id)] ?? 0,
            fits.length,
            `${f}: every piece that fits is in the stream`,
          );
        }
      } finally {
        await nc.close();
      }
      assert(headers > 0, `a segment header above ${max} bytes: ${r.stderr}`);
      assert(
        /piece 0 of procrec\.\S+ \(the header\) is \d+ bytes, above the server's max_payload of 2500/
          .test(r.stderr),
        r.stderr,
      );
      assert(
        r.stderr.includes(
          `${big} ${big === 1 ? "piece" : "pieces"} can never be sent`,
        ),
        r.stderr,
      );
      assert(
        new RegExp(`: \\d+ acknowledged, ${big} pending`).test(r.stderr),
        r.stderr,
      );
      // the closing line does not send the user to publish for those
      assert(
        r.stderr.includes(
          `${big} of them the stream can never take as they are`,
        ),
        r.stderr,
      );
    }, { nodes: 1, extraConfig: "max_payload: 2500" }),
  why,
);

Deno.test("publish of a closed recording with an altered chunk tag: exit 2 naming the file, the offset and what was expected; the pieces before it are sent; a recording still being written keeps its partial tail", async () => {
  await withCluster(async (c, dir) => {
    const good = `${dir}/good.cbor`;
    await writeRecording(good, workload(30), 9);
    const { pieces } = await recordingPieces(good);
    assertEquals(pieces.length, 12, "header, 10 chunks, trailer");
    const bytes = await Deno.readFile(good);
    // chunk 3 (piece 4) says "chunq": neither a chunk nor the trailer
    const at = pieces[4].offset;
    const text = new TextDecoder("latin1").decode(
      bytes.subarray(at, at + 16),
    );
    const k = text.indexOf("chunk");
    assert(k >= 0, `a chunk tag in ${JSON.stringify(text)}`);
    const bad = `${dir}/bad.cbor`;
    const altered = bytes.slice();
    altered[at + k + 4] = "q".charCodeAt(0);
    await Deno.writeFile(bad, altered);
    const r = await procrec(["publish", bad, "--to", c.url, "--wait", "10s"]);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assert(
      r.stderr.includes(
        `"${bad}" is a closed recording, but its ${
          bytes.length - at
        } bytes from offset ${at} (after piece 3, the chunk) are an item tagged "chunq"; expected a chunk or the trailer`,
      ),
      r.stderr,
    );
    assert(/sent 4 of 4 pieces .*: 4 acknowledged/.test(r.stdout), r.stdout);

    // bytes after the trailer of a closed recording: the same
    const after = `${dir}/after.cbor`;
    await Deno.writeFile(after, new Uint8Array([...bytes, 0, 0, 0]));
    const a = await procrec(["publish", after, "--to", c.url]);
    assertEquals(a.code, 2, a.stdout + a.stderr);
    assert(
      a.stderr.includes(
        `its 3 bytes from offset ${bytes.length} (after piece 11, the trailer) are bytes after the trailer; expected the end of the file after the trailer`,
      ),
      a.stderr,
    );

    // a recording still being written: sent up to its last whole piece
    const open = `${dir}/open.cbor.incomplete`;
    await Deno.writeFile(open, bytes.subarray(0, pieces[11].offset - 5));
    const o = await procrec(["publish", open, "--to", c.url]);
    assertEquals(o.code, 0, o.stdout + o.stderr);
    assert(
      /all 10 pieces are already in the stream .*bytes after the last whole piece left out: one still being written/
        .test(o.stdout),
      o.stdout,
    );
  }, { nodes: 1 });
});
