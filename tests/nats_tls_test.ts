/**
 * NATS over TLS (`tls://`, `--nats-tls-ca`) against a real 3-node JetStream
 * cluster whose client ports require TLS, with certificates made by openssl
 * for the test: a recording published and collected byte-identical with a
 * password sent over TLS; a wrong CA, no CA, and TLS asked of a plaintext
 * server are refused with clear errors.
 */
import { NatsCluster, requireNatsServer } from "./_nats_cluster.ts";
import {
  collect,
  collectedFiles,
  fileSha,
  slowWorkload,
  startRecordPublishing,
} from "./_nats_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();
await requireNatsServer();

/** Runs openssl; fails with its output. */
async function openssl(args: string[]): Promise<void> {
  const o = await new Deno.Command("openssl", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (o.code !== 0) {
    throw new Error(
      `openssl ${args.join(" ")} failed: ${new TextDecoder().decode(o.stderr)}`,
    );
  }
}

/** A CA (`NAME-ca.pem`) and, with `server`, a server certificate it signs for 127.0.0.1. */
async function makeCa(
  dir: string,
  name: string,
): Promise<{ ca: string; cert: string; key: string }> {
  const p = `${dir}/${name}`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-keyout",
    `${p}-ca.key`,
    "-out",
    `${p}-ca.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=procrec test CA ${name}`,
  ]);
  await openssl([
    "req",
    ...ec,
    "-nodes",
    "-keyout",
    `${p}-srv.key`,
    "-out",
    `${p}-srv.csr`,
    "-subj",
    "/CN=localhost",
  ]);
  await Deno.writeTextFile(
    `${p}-ext.cnf`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    `${p}-srv.csr`,
    "-CA",
    `${p}-ca.pem`,
    "-CAkey",
    `${p}-ca.key`,
    "-CAcreateserial",
    "-out",
    `${p}-srv.pem`,
    "-days",
    "2",
    "-extfile",
    `${p}-ext.cnf`,
  ]);
  return { ca: `${p}-ca.pem`, cert: `${p}-srv.pem`, key: `${p}-srv.key` };
}

captureTest(
  "NATS over TLS: record --publish and collect with --nats-tls-ca on a TLS-only 3-node cluster (password over TLS), byte-identical; a wrong CA, no CA, and TLS to a plaintext server are refused clearly",
  () =>
    withTempDir(async (dir) => {
      const good = await makeCa(dir, "good");
      const other = await makeCa(dir, "other");
      const pwFile = `${dir}/pw`;
      await Deno.writeTextFile(pwFile, "s3cret-over-tls\n", { mode: 0o600 });
      await Deno.chmod(pwFile, 0o600);
      const c = await NatsCluster.start({
        tls: { certFile: good.cert, keyFile: good.key },
        extraConfig:
          `authorization { users: [ { user: host1, password: "s3cret-over-tls" } ] }`,
      });
      try {
        const auth = ["--nats-user", "host1", "--nats-password-file", pwFile];
        const local = `${dir}/a.cbor`;
        const rec = await startRecordPublishing(
          c.tlsUrl,
          local,
          slowWorkload(10),
          ["--nats-tls-ca", good.ca, ...auth, "--publish-wait", "30s"],
        ).done;
        assertEquals(rec.code, 0, rec.stderr);
        assert(
          /: (\d+) acknowledged, 0 pending/.test(rec.stderr),
          `every piece acknowledged over TLS: ${rec.stderr}`,
        );
        const col = await collect(c.tlsUrl, `${dir}/out`, [
          "--nats-tls-ca",
          good.ca,
          ...auth,
        ]);
        assertEquals(col.code, 0, col.stdout + col.stderr);
        const files = await collectedFiles(`${dir}/out`);
        assertEquals(files.length, 1, `${files}`);
        assertEquals(
          await fileSha(files[0]),
          await fileSha(local),
          "collected over TLS byte-identical",
        );
        const v = await procrec(["verify", files[0]]);
        assertEquals(v.code, 0, v.stdout + v.stderr);

        // a CA that did not sign the servers' certificates
        const bad = await collect(c.tlsUrl, `${dir}/out2`, [
          "--nats-tls-ca",
          other.ca,
          ...auth,
        ]);
        assertEquals(bad.code, 2, bad.stdout + bad.stderr);
        assert(
          bad.stderr.includes("invalid peer certificate") &&
            bad.stderr.includes(
              `not signed by the CA in "${other.ca}" (--nats-tls-ca)`,
            ),
          `the wrong CA is named: ${bad.stderr}`,
        );
        const doc = await procrec([
          "doctor",
          "--publish",
          c.tlsUrl,
          "--nats-tls-ca",
          other.ca,
          ...auth,
        ]);
        assert(
          /FAIL +NATS connection: .*not signed by the CA in/.test(doc.stdout),
          `doctor names the wrong CA: ${doc.stdout}${doc.stderr}`,
        );
        const recBad = await startRecordPublishing(
          c.tlsUrl,
          `${dir}/b.cbor`,
          ["/bin/true"],
          ["--nats-tls-ca", other.ca, ...auth, "--publish-wait", "1s"],
        ).done;
        assertEquals(recBad.code, 0, "the recording itself is whole");
        assert(
          /procrec: publish: .*not signed by the CA in/.test(recBad.stderr) &&
            /not all of .* left this host/.test(recBad.stderr),
          `record says why nothing was published: ${recBad.stderr}`,
        );

        // no CA: the system's CAs do not know the test CA
        const noCa = await collect(c.tlsUrl, `${dir}/out3`, auth);
        assertEquals(noCa.code, 2, noCa.stdout + noCa.stderr);
        assert(
          /invalid peer certificate.*give the CA .* with --nats-tls-ca/.test(
            noCa.stderr,
          ),
          noCa.stderr,
        );
      } finally {
        await c.stop();
      }

      // TLS asked of a server without it: refused, nothing sent in plaintext
      const plain = await NatsCluster.start({ nodes: 1 });
      try {
        const r = await collect(plain.url, `${dir}/out4`, [
          "--nats-tls-ca",
          good.ca,
        ]);
        assertEquals(r.code, 2, r.stdout + r.stderr);
        assert(
          /server does not support 'tls'.*the server has no TLS/.test(r.stderr),
          r.stderr,
        );
      } finally {
        await plain.stop();
      }
    }),
  why,
);
