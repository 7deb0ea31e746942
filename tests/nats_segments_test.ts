/**
 * `record -o DIR/ --rotate ... --publish` against a real 3-node JetStream
 * cluster: every segment is published as its own recording and collected
 * back byte-identical; and `record --publish` ending with pieces pending
 * (the whole cluster stopped) says so and leaves them to `procrec publish`.
 */
import { requireNatsServer, withCluster } from "./_nats_cluster.ts";
import {
  adminConnection,
  collect,
  collectedFiles,
  fileSha,
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
import { buildStorm } from "./_storm.ts";
import { recordingPieces } from "../cli/nats/recording_pieces.ts";
import { pieceSubject } from "../cli/nats/piece_subject.ts";
import { newDecoder } from "../cli/log/_cbor.ts";
import { PUBLISH_HELD_ENV } from "../cli/commands/record.ts";
import { WRITER_PID_FILE } from "../cli/record/segment_writer.ts";

const why = await captureUnavailable();
await requireNatsServer();

/** The publishing figures in a recording's trailer. */
async function trailerCounts(
  path: string,
): Promise<
  { published: number; acked: number; pending: number; pieces: number }
> {
  const { pieces } = await recordingPieces(path);
  const trailer = pieces[pieces.length - 1];
  assertEquals(trailer.kind, "trailer", `${path}: last piece`);
  const item = newDecoder().decode(trailer.bytes) as unknown[];
  const c = item[7] as { published: number; acked: number; pending: number };
  assert(c, `${path}: no publishing figures in the trailer`);
  return { ...c, pieces: pieces.length };
}

captureTest(
  "record -o DIR/ --rotate --publish: every segment's pieces arrive, collect rebuilds each segment byte-identical, verify of the collected directory passes",
  () =>
    withCluster(async (c, dir) => {
      const storm = await buildStorm(dir);
      const segDir = `${dir}/segs/`;
      const rec = await startRecordPublishing(
        c.url,
        segDir,
        [storm, `${dir}/truth`, "400", "400"],
        ["--rotate", "8KiB", "--publish-wait", "30s"],
      ).done;
      assertEquals(
        rec.code,
        3,
        `the storm's status passes through: ${rec.stderr}`,
      );
      assert(
        /: (\d+) acknowledged, 0 pending/.test(rec.stderr),
        `every piece acknowledged: ${rec.stderr}`,
      );
      const names = [...Deno.readDirSync(segDir)].map((e) => e.name)
        .filter((n) => n.endsWith(".cbor")).sort();
      assert(names.length >= 3, `only ${names.length} segments: ${names}`);
      console.log(`storm into ${names.length} segments`);

      // each segment is its own recording on its own subject, every piece once
      const { nc, jsm } = await adminConnection(c);
      try {
        const counts = await subjectCounts(jsm);
        let total = 0;
        for (const n of names) {
          const { id, header, pieces } = await recordingPieces(segDir + n);
          const subject = pieceSubject("procrec", header.host, id);
          assertEquals(
            counts[subject],
            pieces.length,
            `${n}: each piece stored once on ${subject}`,
          );
          total += pieces.length;
          // the trailer's figures are this segment's, not the whole run's
          const t = await trailerCounts(segDir + n);
          assertEquals(
            t.acked + t.pending,
            t.pieces - 1,
            `${n}: the trailer counts this segment's pieces before it: ${
              JSON.stringify(t)
            }`,
          );
          assert(t.published <= t.pieces - 1, `${n}: ${JSON.stringify(t)}`);
        }
        assertEquals(
          Object.values(counts).reduce((a, b) => a + b, 0),
          total,
          "nothing else in the stream",
        );
      } finally {
        await nc.close();
      }

      // procrec publish DIR/ stands for every segment: all already there
      const again = await procrec(["publish", segDir, "--to", c.url]);
      assertEquals(again.code, 0, again.stdout + again.stderr);
      assertEquals(
        again.stdout.match(/pieces are already in the stream/g)?.length,
        names.length,
        again.stdout + again.stderr,
      );

      const out = `${dir}/out`;
      const col = await collect(c.url, out);
      assertEquals(col.code, 0, col.stdout + col.stderr);
      const files = await collectedFiles(out);
      assertEquals(files.length, names.length, `collected: ${files}`);
      const collected = new Map<string, string>();
      for (const f of files) collected.set(await fileSha(f), f);
      for (const n of names) {
        assert(
          collected.has(await fileSha(segDir + n)),
          `segment ${n} collected byte-identical (SHA-256)`,
        );
      }
      const hostDir = files[0].replace(/\/[^/]*$/, "");
      const v = await procrec(["verify", hostDir]);
      assertEquals(v.code, 0, v.stdout + v.stderr);
      assert(v.stdout.includes("INTACT"), v.stdout);
      // the local directory and the collected one replay alike
      const a = await procrec(["replay", segDir, "--summary"]);
      const b = await procrec(["replay", hostDir, "--summary"]);
      assertEquals(a.code, 0, a.stderr);
      assertEquals(
        b.stdout,
        a.stdout,
        "the collected directory replays alike",
      );
    }),
  why,
);

captureTest(
  "record --publish closing with pieces pending (every node stopped): exit status of the recording, a clear statement, the trailer's counts, and procrec publish sends the rest",
  () =>
    withCluster(async (c, dir) => {
      const local = `${dir}/a.cbor`;
      const gate = `${dir}/gate`;
      const rec = startRecordPublishing(c.url, local, gatedWorkload(gate), [
        "--publish-wait",
        "2s",
      ]);
      {
        const { nc, jsm } = await adminConnection(c);
        await waitFor("the first pieces", async () => {
          const info = await jsm.streams.info("PROCREC");
          return info.state.messages >= 2 ? true : undefined;
        });
        await nc.close();
      }
      for (const n of c.nodes) await c.killNode(n);
      // processes recorded after every node stopped: pieces left pending
      await sleep(1500);
      await openGate(gate);
      const r = await rec.done;
      // the recording itself is whole: the recorded command's status (0)
      assertEquals(r.code, 0, r.stderr);
      assert(/; lost 0\b/.test(r.stderr), r.stderr);
      const m =
        /published (\d+) pieces to .*: (\d+) acknowledged, (\d+) pending/
          .exec(r.stderr);
      assert(m, `the counts are said: ${r.stderr}`);
      const pending = Number(m[3]);
      assert(pending > 0, `pieces pending: ${r.stderr}`);
      assert(
        r.stderr.includes(`not all of ${local} left this host`),
        `a clear statement: ${r.stderr}`,
      );
      assert(
        r.stderr.includes(`procrec publish ${local} --to ${c.url}`),
        `the command that sends the rest: ${r.stderr}`,
      );
      const t = await trailerCounts(local);
      assert(
        t.pending > 0,
        `the trailer says pieces were pending: ${JSON.stringify(t)}`,
      );
      assertEquals(t.acked + t.pending, t.pieces - 1, JSON.stringify(t));
      // the trailer was sealed before the final wait: what was acknowledged
      // then is at most what the end counted
      assert(t.acked <= Number(m[2]), `${JSON.stringify(t)} vs ${m[0]}`);

      for (const n of c.nodes) c.startNode(n);
      for (const n of c.nodes) await c.waitReady(n);
      const p = await procrec([
        "publish",
        local,
        "--to",
        c.url,
        "--wait",
        "30s",
      ]);
      assertEquals(p.code, 0, p.stdout + p.stderr);
      assert(/, 0 pending/.test(p.stdout), p.stdout);
      const col = await collect(c.url, `${dir}/out`);
      assertEquals(col.code, 0, col.stdout + col.stderr);
      const files = await collectedFiles(`${dir}/out`);
      assertEquals(files.length, 1, `${files}`);
      assertEquals(await fileSha(files[0]), await fileSha(local));
    }),
  why,
);

captureTest(
  "record -o DIR/ --keep --publish with the cluster down: segments deleted before they were published are named, and do not hold back the later segments",
  () =>
    withCluster(async (c, dir) => {
      for (const n of c.nodes) await c.killNode(n);
      const storm = await buildStorm(dir);
      const segDir = `${dir}/segs/`;
      // nothing held in memory: every piece is read back from its segment
      const rec = startRecordPublishing(
        c.url,
        segDir,
        [storm, `${dir}/truth`, "1000", "1000"],
        ["--rotate", "8KiB", "--keep", "2", "--publish-wait", "60s"],
        { [PUBLISH_HELD_ENV]: "0" },
      );
      // the recording is closed (its writer gone) and waits for the stream
      await waitFor("the recording's close", async () => {
        const names = await Array.fromAsync(Deno.readDir(segDir)).catch(
          () => [],
        );
        return names.length > 0 &&
            !names.some((e) => e.name === WRITER_PID_FILE)
          ? true
          : undefined;
      }, 120_000);
      await sleep(500);
      for (const n of c.nodes) c.startNode(n);
      for (const n of c.nodes) await c.waitReady(n);
      const r = await rec.done;
      assertEquals(
        r.code,
        3,
        `the storm's status passes through: ${r.stderr}`,
      );
      const kept = [...Deno.readDirSync(segDir)].map((e) => e.name)
        .filter((n) => n.endsWith(".cbor")).sort();
      assert(kept.length === 2, `--keep 2 closed segments: ${kept}`);
      const m = /(\d+) acknowledged, (\d+) pending/.exec(r.stderr);
      assert(m, r.stderr);
      const gone = /(\d+) of them cannot be sent: their segments were deleted/
        .exec(r.stderr);
      assert(gone, `the deleted segments' pieces are named: ${r.stderr}`);
      assertEquals(gone[1], m[2], `only those are pending: ${r.stderr}`);
      assert(
        /piece \d+ of procrec\.\S+ cannot be published: .* was deleted/.test(
          r.stderr,
        ),
        r.stderr,
      );
      // every piece of the segments still on disk reached the stream
      const { nc, jsm } = await adminConnection(c);
      try {
        const counts = await subjectCounts(jsm);
        for (const n of kept) {
          const { id, header, pieces } = await recordingPieces(segDir + n);
          assertEquals(
            counts[pieceSubject("procrec", header.host, id)],
            pieces.length,
            `${n}: every piece in the stream despite the deleted ones before it`,
          );
        }
      } finally {
        await nc.close();
      }
    }),
  why,
);
