/**
 * The stream procrec creates on a 3-node cluster whose third server joins
 * late: 3 replicas, not a stream of 1 that the loss of one server loses (a
 * CI run on a loaded host saw every piece refused after the stream's only
 * server was killed).
 */
import { requireNatsServer, withCluster } from "./_nats_cluster.ts";
import { adminConnection, sleep } from "./_nats_helpers.ts";
import { assert, assertEquals } from "./_record_helpers.ts";
import { clusterServers, ensureStream } from "../cli/nats/ensure_stream.ts";

await requireNatsServer();

Deno.test(
  "ensureStream on a 3-node cluster whose third server starts late: 3 replicas, once it has joined",
  () =>
    withCluster(async (c) => {
      const [, , late] = c.nodes;
      await c.killNode(late);
      const { nc, jsm } = await adminConnection(c);
      try {
        // the two servers up have JetStream, and refuse 3 replicas
        const refused = await jsm.streams.add({
          name: "PROBE",
          subjects: ["probe.>"],
          num_replicas: 3,
        }).then(() => "", (e) => String(e));
        assert(
          /insufficient resources|no suitable peers/i.test(refused),
          refused,
        );
        // what a server of the whole cluster says of it, once routed
        const info = {
          cluster: nc.info?.cluster,
          connect_urls: c.nodes.map((n) => `127.0.0.1:${n.port}`),
        };
        assertEquals(info.cluster, "procrec-test");
        const started = (async () => {
          await sleep(2000);
          c.startNode(late);
          await c.waitReady(late);
        })();
        const s = await ensureStream(jsm, "procrec", info);
        await started;
        assertEquals(s.replicas, 3, JSON.stringify(s));
        assertEquals(s.note, undefined);
        const si = await jsm.streams.info(s.name);
        assertEquals(si.config.num_replicas, 3);
      } finally {
        await nc.close();
      }
    }),
);

Deno.test(
  "ensureStream on a cluster that stays short of 3 servers: 1 replica, and says why",
  () =>
    withCluster(async (c) => {
      await c.killNode(c.nodes[2]);
      const { nc, jsm } = await adminConnection(c);
      try {
        const info = {
          cluster: nc.info?.cluster,
          connect_urls: c.nodes.slice(0, 2).map((n) => `127.0.0.1:${n.port}`),
        };
        // (a cluster that names 2 servers is not waited for: the wait is
        // for one that names 3 or more)
        assertEquals(clusterServers(info), 2);
        const s = await ensureStream(jsm, "procrec", info);
        assertEquals(s.replicas, 1);
        assert(
          /with 1 replica: the cluster "procrec-test" refused 3 \((no suitable peers|insufficient resources).*\); .*one server only/
            .test(s.note ?? ""),
          s.note,
        );
      } finally {
        await nc.close();
      }
    }),
);
