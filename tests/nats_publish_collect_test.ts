/**
 * `record --publish` and `collect` against a real 3-node JetStream cluster of
 * Debian nats-server processes: byte-identical collection, a node killed, a
 * full outage, a collector killed, and a forged piece.
 */
import { headers } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import {
  NatsCluster,
  requireNatsServer,
  withCluster,
} from "./_nats_cluster.ts";
import {
  adminConnection,
  collect,
  collectedFiles,
  fileSha,
  gatedWorkload,
  openGate,
  sleep,
  slowWorkload,
  startProcrec,
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
  withTempDir,
} from "./_record_helpers.ts";
import { buildStorm } from "./_storm.ts";
import { workload, writeRecording } from "./_recording_helpers.ts";
import { recordingPieces } from "../cli/nats/recording_pieces.ts";
import { ensureStream } from "../cli/nats/ensure_stream.ts";
import { pieceSubject } from "../cli/nats/piece_subject.ts";

const why = await captureUnavailable();
await requireNatsServer();

/** The one collected recording, complete, and equal to `local`. */
async function assertCollectedIdentical(
  local: string,
  outDir: string,
): Promise<string> {
  const files = await collectedFiles(outDir);
  assertEquals(files.length, 1, `one collected recording: ${files}`);
  assertEquals(
    await fileSha(files[0]),
    await fileSha(local),
    "the collected file's SHA-256 equals the local file's",
  );
  const mode = (p: string) => Deno.statSync(p).mode! & 0o777;
  assertEquals(mode(files[0]).toString(8), "600", "collected file mode");
  assertEquals(
    mode(files[0].replace(/\/[^/]*$/, "")).toString(8),
    "700",
    "host directory mode",
  );
  const v = await procrec(["verify", files[0]]);
  assertEquals(
    v.code,
    0,
    `the collected recording verifies: ${v.stdout}${v.stderr}`,
  );
  return files[0];
}

function lostOf(stderr: string): number {
  const m = /; lost (\d+)/.exec(stderr);
  assert(m, `no "lost N" in: ${stderr}`);
  return Number(m[1]);
}

captureTest(
  "record --publish of a storm, collected: the collected file is byte-identical (SHA-256)",
  () =>
    withCluster(async (c, dir) => {
      const storm = await buildStorm(dir);
      const local = `${dir}/storm.cbor`;
      const rec = await startRecordPublishing(c.url, local, [
        storm,
        `${dir}/truth`,
        "400",
        "400",
      ]).done;
      assertEquals(
        rec.code,
        3,
        `the storm's status passes through: ${rec.stderr}`,
      );
      assert(
        /: (\d+) acknowledged, 0 pending/.test(rec.stderr),
        `every piece acknowledged: ${rec.stderr}`,
      );
      const col = await collect(c.url, `${dir}/out`);
      assertEquals(col.code, 0, col.stderr);
      await assertCollectedIdentical(local, `${dir}/out`);
      // the trailer carries the publishing figures (the trailer not counted)
      const { pieces } = await recordingPieces(local);
      const trailer = pieces[pieces.length - 1];
      assertEquals(trailer.kind, "trailer");
      const { newDecoder } = await import("../cli/log/_cbor.ts");
      const item = newDecoder().decode(trailer.bytes) as unknown[];
      const pub = item[7] as {
        published: number;
        acked: number;
        pending: number;
      };
      assertEquals(
        pub.acked + pub.pending,
        pieces.length - 1,
        `the trailer counts every piece before it: ${JSON.stringify(pub)}`,
      );
      assert(pub.acked <= pub.published && pub.published <= pieces.length - 1);
    }),
  why,
);

captureTest(
  "record --publish with the stream leader killed mid-stream: still byte-identical, nothing lost",
  () =>
    withCluster(async (c, dir) => {
      const local = `${dir}/a.cbor`;
      // the election of a new leader can outlast the default 10 s wait on a
      // loaded machine (a CI run saw JetStream unavailable for all of it)
      const rec = startRecordPublishing(c.url, local, slowWorkload(40), [
        "--publish-wait",
        "60s",
      ]);
      const { nc, jsm } = await adminConnection(c);
      try {
        const { leader, replicas } = await waitFor(
          "the stream's leader",
          async () => {
            const info = await jsm.streams.info("PROCREC");
            return info.state.messages >= 3 && info.cluster?.leader
              ? {
                leader: info.cluster.leader,
                replicas: info.config.num_replicas,
              }
              : undefined;
          },
        );
        // (a stream of 1 replica dies with its leader: the test's premise)
        assertEquals(replicas, 3, "the recorder created a stream of 3");
        const node = c.nodes.find((n) => n.name === leader)!;
        await c.killNode(node);
        const r = await rec.done;
        assertEquals(r.code, 0, r.stderr);
        assertEquals(lostOf(r.stderr), 0, r.stderr);
        assert(/, 0 pending/.test(r.stderr), r.stderr);
      } finally {
        await nc.close();
      }
      const col = await collect(c.url, `${dir}/out`);
      assertEquals(col.code, 0, col.stderr);
      await assertCollectedIdentical(local, `${dir}/out`);
    }),
  why,
);

captureTest(
  "record --publish through a 5 s outage of every node: 0 lost, pieces re-sent, identical, no duplicate",
  () =>
    withCluster(async (c, dir) => {
      const local = `${dir}/a.cbor`;
      const gate = `${dir}/gate`;
      const rec = startRecordPublishing(c.url, local, gatedWorkload(gate), [
        "--publish-wait",
        "40s",
      ]);
      {
        const { nc, jsm } = await adminConnection(c);
        await waitFor("the first pieces", async () => {
          const info = await jsm.streams.info("PROCREC");
          return info.state.messages >= 3 ? true : undefined;
        });
        await nc.close();
      }
      for (const n of c.nodes) await c.killNode(n);
      await sleep(5000);
      for (const n of c.nodes) c.startNode(n);
      for (const n of c.nodes) await c.waitReady(n);
      // the recording went on through the outage and after it
      await sleep(1000);
      {
        // (a loaded host can take its time to elect the stream's leader
        // again, and the recorder's --publish-wait runs from the gate on: the
        // gate opens once the stream can take pieces)
        const { nc, jsm } = await adminConnection(c);
        try {
          await waitFor("the stream's leader after the outage", async () => {
            const info = await jsm.streams.info("PROCREC");
            return info.cluster?.leader ? true : undefined;
          }, 90_000);
        } finally {
          await nc.close();
        }
      }
      await openGate(gate);
      const r = await rec.done;
      assertEquals(r.code, 0, r.stderr);
      assertEquals(lostOf(r.stderr), 0, "capture unaffected: " + r.stderr);
      assert(/, 0 pending/.test(r.stderr), r.stderr);
      assert(/lost the connection|cannot publish yet/.test(r.stderr), r.stderr);
      const { id, header, pieces } = await recordingPieces(local);
      const { nc, jsm } = await adminConnection(c);
      try {
        const counts = await subjectCounts(jsm);
        assertEquals(
          counts[pieceSubject("procrec", header.host, id)],
          pieces.length,
          "each piece stored once: " + JSON.stringify(counts),
        );
      } finally {
        await nc.close();
      }
      const col = await collect(c.url, `${dir}/out`);
      assertEquals(col.code, 0, col.stderr);
      await assertCollectedIdentical(local, `${dir}/out`);
    }),
  why,
);

captureTest(
  "collect --follow killed and restarted mid-stream: no duplicate, no hole",
  () =>
    withCluster(async (c, dir) => {
      const local = `${dir}/a.cbor`;
      const out = `${dir}/out`;
      const gate = `${dir}/gate`;
      const rec = startRecordPublishing(c.url, local, gatedWorkload(gate));
      const { nc, jsm } = await adminConnection(c);
      try {
        await waitFor("the stream", () => jsm.streams.info("PROCREC"));
        const first = startProcrec(["collect", c.url, "-o", out, "--follow"]);
        await waitFor("a collected piece", async () => {
          const f = await collectedFiles(out, ".incomplete").catch(() => []);
          return f.length > 0 && (await Deno.stat(f[0])).size > 0
            ? true
            : undefined;
        });
        await sleep(700);
        first.child.kill("SIGKILL");
        await first.done;
        assertEquals(
          (await collectedFiles(out)).length,
          0,
          "the first collector was killed before the recording was complete",
        );
        const second = startProcrec(["collect", c.url, "-o", out, "--follow"]);
        // pieces published while no collector ran, then with the second
        await sleep(1500);
        await openGate(gate);
        const r = await rec.done;
        assertEquals(r.code, 0, r.stderr);
        await waitFor("the collected recording", async () => {
          const f = await collectedFiles(out);
          return f.length === 1 ? f : undefined;
        }, 40_000);
        // the second collector wrote the complete file: it is running (its
        // SIGTERM handler is in place)
        second.child.kill("SIGTERM");
        const col = await second.done;
        assertEquals(col.code, 0, col.stderr);
        assert(!/problem|missing|differs/.test(col.stderr), col.stderr);
        await assertCollectedIdentical(local, out);
      } finally {
        await nc.close();
      }
    }),
  why,
);

Deno.test("collect names a forged piece published under a host's subject, and the result fails verify", async () => {
  await withCluster(async (c, dir) => {
    const local = `${dir}/a.cbor`;
    await writeRecording(local, workload(40), 16);
    const { id, header, pieces } = await recordingPieces(local);
    assert(pieces.length >= 6, `pieces: ${pieces.length}`);
    const { nc, jsm } = await adminConnection(c);
    try {
      await ensureStream(jsm, "procrec", nc.info);
      const js = jetstream(nc);
      const subject = pieceSubject("procrec", header.host, id);
      const send = (index: number, bytes: Uint8Array, msgID: string) => {
        const h = headers();
        h.set("Procrec-Piece", String(index));
        return js.publish(subject, bytes, { msgID, headers: h });
      };
      // a forger's piece 2 (one byte of the event body changed) arrives first
      const forged = pieces[2].bytes.slice();
      forged[forged.length - 3] ^= 0x01;
      for (const p of pieces) {
        if (p.index === 2) await send(2, forged, `forged:2`);
        await send(p.index, p.bytes, `${id}:${p.index}`);
      }
    } finally {
      await nc.close();
    }
    const col = await collect(c.url, `${dir}/out`);
    assertEquals(col.code, 1, `collect exits 1: ${col.stdout}${col.stderr}`);
    assert(/piece 2 .*altered/.test(col.stderr), col.stderr);
    assert(
      /piece 2 .*differs from the piece 2 already collected/.test(col.stderr),
      col.stderr,
    );
    const files = await collectedFiles(`${dir}/out`);
    assertEquals(files.length, 1);
    const v = await procrec(["verify", files[0]]);
    assertEquals(v.code, 1, `verify fails: ${v.stdout}${v.stderr}`);
  });
});

Deno.test("publish to a single server: the stream gets 1 replica, and a piece above max_payload is named and left pending", async () => {
  await withTempDir(async (dir) => {
    const c = await NatsCluster.start({ nodes: 1 });
    try {
      const rec = `${dir}/big.cbor`;
      const big = "x".repeat(100_000);
      await writeRecording(
        rec,
        workload(16).map((e) =>
          e.kind === "exec"
            ? { ...e, info: { ...e.info, argv: ["env", big] } }
            : e
        ),
        48,
      );
      const r = await procrec(["publish", rec, "--to", c.url, "--wait", "3s"]);
      assertEquals(r.code, 2, r.stdout + r.stderr);
      assert(
        /piece 1 of .* above the server's max_payload/.test(r.stderr),
        r.stderr,
      );
      assert(/1 pending/.test(r.stdout), r.stdout);
      const { nc, jsm } = await adminConnection(c);
      try {
        const info = await jsm.streams.info("PROCREC");
        assertEquals(info.config.num_replicas, 1);
        assertEquals(info.state.messages, 2, "the header and the trailer only");
      } finally {
        await nc.close();
      }
    } finally {
      await c.stop();
    }
  });
});
