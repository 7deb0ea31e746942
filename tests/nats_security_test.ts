/**
 * The documented NATS permissions (docs/nats-authorization.conf) on a real
 * cluster: a host publishes only under its own subject, the collector only
 * reads; and procrec's own refusals (a password without TLS, credentials
 * files readable by others).
 */
import { headers } from "@nats-io/transport-node";
import { connectDeno } from "../cli/nats/deno_transport.ts";
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
  subjectCounts,
} from "./_nats_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";
import { testHeader, workload, writeRecording } from "./_recording_helpers.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import { ensureStream } from "../cli/nats/ensure_stream.ts";
import { recordingPieces } from "../cli/nats/recording_pieces.ts";
import { pieceSubject } from "../cli/nats/piece_subject.ts";

await requireNatsServer();

const PASSWORDS = {
  PROCREC_WEB_1_PASSWORD: "w1-secret",
  PROCREC_WEB_2_PASSWORD: "w2-secret",
  PROCREC_COLLECTOR_PASSWORD: "c-secret",
  PROCREC_ADMIN_PASSWORD: "a-secret",
};

/** A recording whose header names `host` (and a fresh boot id: a new recording id). */
async function hostRecording(path: string, host: string): Promise<string> {
  const bootId = crypto.randomUUID();
  const w = await RecordingWriter.create(path, testHeader({ host, bootId }), {
    chunkEvents: 16,
    flushIntervalMs: 0,
  });
  for (const e of workload(20)) w.write(e);
  return await w.close();
}

async function passwordFile(dir: string, name: string, pw: string) {
  const p = `${dir}/${name}.pw`;
  await Deno.writeTextFile(p, pw + "\n", { mode: 0o600 });
  await Deno.chmod(p, 0o600);
  return p;
}

Deno.test("with the documented permissions a host publishes only under its own subject and the collector only reads", async () => {
  await withCluster(async (c, dir) => {
    const admin = await adminConnection(c, {
      user: "procrec-admin",
      pass: PASSWORDS.PROCREC_ADMIN_PASSWORD,
    });
    await ensureStream(admin.jsm, "procrec", admin.nc.info);
    const pw1 = await passwordFile(dir, "web-1", "w1-secret");
    const pw2 = await passwordFile(dir, "web-2", "w2-secret");
    const pwc = await passwordFile(dir, "collector", "c-secret");
    const as = (user: string, pw: string) => [
      "--nats-user",
      user,
      "--nats-password-file",
      pw,
    ];

    // web-1 publishes its own recording
    const own = await hostRecording(`${dir}/own.cbor`, "web-1");
    const r1 = await procrec([
      "publish",
      own,
      "--to",
      c.url,
      ...as("web-1", pw1),
    ]);
    assertEquals(r1.code, 0, r1.stdout + r1.stderr);
    assert(/0 pending/.test(r1.stdout), r1.stdout);

    // web-2 cannot publish a recording under web-1's subject
    const other = await hostRecording(`${dir}/other.cbor`, "web-1");
    const r2 = await procrec([
      "publish",
      other,
      "--to",
      c.url,
      "--wait",
      "3s",
      ...as("web-2", pw2),
    ]);
    assertEquals(r2.code, 2, r2.stdout + r2.stderr);
    assert(/pending/.test(r2.stderr), r2.stderr);
    const { id } = await recordingPieces(other);
    const counts = await subjectCounts(admin.jsm);
    assertEquals(
      counts[pieceSubject("procrec", "web-1", id)],
      undefined,
      `nothing stored under web-1's subject by web-2: ${
        JSON.stringify(counts)
      }`,
    );

    // the collector collects, and cannot publish under procrec.>
    const col = await collect(c.url, `${dir}/out`, [
      "--host",
      "web-1",
      ...as("collector", pwc),
    ]);
    assertEquals(col.code, 0, col.stdout + col.stderr);
    const files = await collectedFiles(`${dir}/out`);
    assertEquals(files.length, 1);
    assertEquals(await fileSha(files[0]), await fileSha(own));
    const nc = await connectDeno({
      servers: c.url.replace("nats://", "").split(","),
      user: "collector",
      pass: "c-secret",
    });
    try {
      const h = headers();
      h.set("Procrec-Piece", "0");
      let refused = false;
      await jetstream(nc, { timeout: 2000 }).publish(
        pieceSubject("procrec", "web-1", "f".repeat(32)),
        new Uint8Array([1]),
        { headers: h },
      ).catch(() => refused = true);
      assert(refused, "the collector's publish is refused");
    } finally {
      await nc.close();
    }
    // doctor --publish: the operator may publish anywhere; web-1's user
    // may not publish under this host's name
    const okDoc = await procrec([
      "doctor",
      "--publish",
      c.url,
      ...as("procrec-admin", await passwordFile(dir, "admin", "a-secret")),
    ]);
    assertEquals(okDoc.code, 0, okDoc.stdout + okDoc.stderr);
    assert(/ok +stream: PROCREC/.test(okDoc.stdout), okDoc.stdout);
    assert(/ok +publish permission/.test(okDoc.stdout), okDoc.stdout);
    const deniedDoc = await procrec([
      "doctor",
      "--publish",
      c.url,
      ...as("web-1", pw1),
    ]);
    assertEquals(deniedDoc.code, 2, deniedDoc.stdout + deniedDoc.stderr);
    assert(
      /FAIL +publish permission/.test(deniedDoc.stdout),
      deniedDoc.stdout,
    );
    await admin.nc.close();
  }, {
    extraConfig: await Deno.readTextFile(
      `${ROOT}docs/nats-authorization.conf`,
    ),
    env: PASSWORDS,
  });
});

Deno.test("procrec refuses a password over a non-loopback URL without TLS, and world-readable credentials files", async () => {
  await withTempDir(async (dir) => {
    const rec = await hostRecording(`${dir}/r.cbor`, "web-1");
    const pw = await passwordFile(dir, "p", "x");
    const noTls = await procrec([
      "publish",
      rec,
      "--to",
      "nats://192.0.2.10:4222",
      "--nats-user",
      "u",
      "--nats-password-file",
      pw,
    ]);
    assertEquals(noTls.code, 2, noTls.stderr);
    assert(/without TLS/.test(noTls.stderr), noTls.stderr);
    const inUrl = await procrec([
      "publish",
      rec,
      "--to",
      "nats://u:pw@127.0.0.1:4222",
    ]);
    assertEquals(inUrl.code, 2, inUrl.stderr);
    assert(
      /credentials in the URL are refused/.test(inUrl.stderr),
      inUrl.stderr,
    );

    for (
      const [flag, name] of [["--nats-creds", "c.creds"], [
        "--nats-password-file",
        "w.pw",
      ]]
    ) {
      const f = `${dir}/${name}`;
      await Deno.writeTextFile(f, "secret\n");
      await Deno.chmod(f, 0o644);
      const args = flag === "--nats-creds"
        ? [flag, f]
        : ["--nats-user", "u", flag, f];
      for (
        const cmd of [
          ["publish", rec, "--to", "nats://127.0.0.1:1"],
          ["collect", "nats://127.0.0.1:1", "-o", `${dir}/o`],
          [
            "record",
            "--publish",
            "nats://127.0.0.1:1",
            "-o",
            `${dir}/x.cbor`,
            "--duration",
            "1s",
          ],
        ]
      ) {
        const r = await procrec([...cmd, ...args]);
        assertEquals(r.code, 2, `${cmd[0]} ${flag}: ${r.stderr}`);
        assert(/readable by every user/.test(r.stderr), r.stderr);
      }
    }
    assert(
      !await Deno.stat(`${dir}/x.cbor`).then(() => true, () => false),
      "record refused before recording",
    );
  });
});

/** The first non-loopback IPv4 address of this machine, if any. */
function outsideAddress(): string | undefined {
  return Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  )?.address;
}

const outside = outsideAddress();
Deno.test({
  name:
    "./procrec reaches a NATS server on a non-loopback address (the launcher allowed only 127.0.0.1)",
  ignore: outside === undefined,
  fn: async () => {
    await withTempDir(async (dir) => {
      const c = await NatsCluster.start({ nodes: 1, clientHost: outside });
      try {
        const rec = `${dir}/a.cbor`;
        await writeRecording(rec, workload(20), 8);
        const r = await procrec([
          "publish",
          rec,
          "--to",
          c.url,
          "--wait",
          "20s",
        ]);
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assert(/, 0 pending/.test(r.stdout), r.stdout);
        const col = await collect(c.url, `${dir}/out`);
        assertEquals(col.code, 0, col.stdout + col.stderr);
        const files = await collectedFiles(`${dir}/out`);
        assertEquals(files.length, 1, `${files}`);
        assertEquals(await fileSha(files[0]), await fileSha(rec));
      } finally {
        await c.stop();
      }
    }, "procrec-nats-test-");
  },
});
if (outside === undefined) {
  console.log(
    "nats_security_test: this machine has no non-loopback IPv4 address; the launcher's network permission test is ignored",
  );
}
