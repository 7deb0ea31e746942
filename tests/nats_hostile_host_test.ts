/**
 * `collect` against a compromised host of the fleet, on a real nats-server:
 * such a host may publish anything under the subject prefix, with any
 * headers. Its messages are named; the other hosts' recordings are collected
 * whole, in that run and in the next ones.
 */
import { withCluster } from "./_nats_cluster.ts";
import {
  collect,
  collectedFiles,
  fileSha,
  hostRecording,
  publishRaw,
} from "./_nats_helpers.ts";
import { assert, assertEquals, procrec, withTmpfs } from "./_record_helpers.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import { recordingPieces } from "../cli/nats/recording_pieces.ts";
import { testHeader, workload } from "./_recording_helpers.ts";

Deno.test("collect of a hostile host: bad pieces named and never written, a host passed off, ids claimed first; the genuine host's recordings whole, then and on later runs", async () => {
  await withCluster(async (c, dir) => {
    const out = `${dir}/out`;
    const a = `${dir}/a.cbor`;
    const genuine = await hostRecording(a, "web-2", 1);
    const forged = await hostRecording(`${dir}/f.cbor`, "db-7", 2);
    const evil = (id: string) => `procrec.evil.${id}`;
    const junkId = "e".repeat(32);
    const chunk = forged.pieces[2].bytes;
    await publishRaw(c, [
      // a piece 0 that is no CBOR at all (it stopped every later run)
      {
        subject: evil(junkId),
        index: "0",
        bytes: new Uint8Array([0xff, 0xff, 0xff]),
      },
      // db-7's recording published by evil: its header names db-7
      ...forged.pieces.slice(0, 2).map((p) => ({
        subject: evil(forged.id),
        index: String(p.index),
        bytes: p.bytes,
      })),
      // a piece 2 whose last item is cut (a resumed file was cut there,
      // acknowledged pieces with it), then one holding two items
      {
        subject: evil(forged.id),
        index: "2",
        bytes: chunk.subarray(0, chunk.length - 5),
      },
      {
        subject: evil(forged.id),
        index: "2",
        bytes: new Uint8Array([...chunk, 0]),
      },
      // no index: "0x1" and "" are not numbers of a piece
      { subject: evil(forged.id), index: "0x1", bytes: chunk },
      { subject: evil(forged.id), index: "", bytes: chunk },
      // web-2's next message ids claimed first, under evil's own subject
      ...genuine.pieces.map((p) => ({
        subject: evil("c".repeat(32)),
        index: "0",
        bytes: new Uint8Array([0]),
        msgID: `${genuine.id}:${p.index}`,
      })),
    ]);
    const pub = await procrec(["publish", a, "--to", c.url]);
    assertEquals(pub.code, 0, pub.stdout + pub.stderr);

    const first = await collect(c.url, out);
    assertEquals(first.code, 1, first.stdout + first.stderr);
    for (
      const said of [
        `evil/${junkId} piece 0 (stream seq 1): it is not one CBOR item`,
        `evil/${forged.id} piece 0 (stream seq 2): its header names the host "db-7", but it was published under host evil`,
        `piece 2 (stream seq 4): its ${
          chunk.length - 5
        } bytes end inside a CBOR item (altered or forged); not written`,
        `piece 2 (stream seq 5): its ${
          chunk.length + 1
        } bytes hold more than one CBOR item`,
        `on "${evil(forged.id)}" is not a recording piece`,
      ]
    ) assert(first.stderr.includes(said), `${said}\n${first.stderr}`);
    assertEquals(
      (first.stderr.match(/is not a recording piece/g) ?? []).length,
      2,
      first.stderr,
    );
    const mine = `${out}/web-2/${genuine.id}.cbor`;
    assertEquals(await fileSha(mine), await fileSha(a));

    // the next run resumes both of evil's files (it stopped at the junk:
    // exit 2; it cut the forged file back to its header), and a new
    // recording of web-2 is collected whole
    const sizeBefore =
      (await Deno.stat(`${out}/evil/${forged.id}.cbor.incomplete`)).size;
    await publishRaw(c, [
      { subject: evil(junkId), index: "1", bytes: new Uint8Array([0]) },
      { subject: evil(forged.id), index: "3", bytes: forged.pieces[3].bytes },
    ]);
    const b = `${dir}/b.cbor`;
    await hostRecording(b, "web-2", 3);
    const pubB = await procrec(["publish", b, "--to", c.url]);
    assertEquals(pubB.code, 0, pubB.stdout + pubB.stderr);
    const second = await collect(c.url, out);
    assertEquals(second.code, 1, second.stdout + second.stderr);
    for (
      const said of [
        `evil/${junkId} piece 0: piece 0 is missing from the stream (1 later piece is held until it comes)`,
        `evil/${forged.id} piece 2: piece 2 is missing from the stream (1 later piece is held until it comes)`,
      ]
    ) assert(second.stderr.includes(said), `${said}\n${second.stderr}`);
    assert(!/Cannot/.test(second.stderr), second.stderr);
    assertEquals(
      (await Deno.stat(`${out}/evil/${forged.id}.cbor.incomplete`)).size,
      sizeBefore,
    );
    const files = await collectedFiles(`${out}`);
    assertEquals(files.filter((f) => f.includes("/web-2/")).length, 2);
    for (const f of files.filter((f) => f.includes("/web-2/"))) {
      const local = f.includes(genuine.id) ? a : b;
      assertEquals(await fileSha(f), await fileSha(local), f);
    }

    // fleet shows db-7's recording under evil's name, and says so
    const fleet = await procrec(["fleet", out]);
    assertEquals(fleet.code, 1, fleet.stdout + fleet.stderr);
    assert(/^db-7 \(collected as evil\) /m.test(fleet.stdout), fleet.stdout);
    assert(/^web-2 /m.test(fleet.stdout), fleet.stdout);
  }, { nodes: 1 });
});

Deno.test("collect holds no file open between pieces: 300 recording ids a host made up, under a limit of 64 open files", async () => {
  await withCluster(async (c, dir) => {
    const { pieces } = await hostRecording(`${dir}/a.cbor`, "web-2", 1);
    await publishRaw(
      c,
      Array.from({ length: 300 }, (_, i) => ({
        subject: `procrec.evil.${i.toString(16).padStart(32, "0")}`,
        index: "1",
        bytes: pieces[1].bytes,
      })),
    );
    const r = await procrec([
      "collect",
      c.url,
      "-o",
      `${dir}/out`,
    ], { prefix: ["bash", "-c", 'ulimit -n 64 && exec "$@"', "limited"] });
    // (the made-up recordings miss their piece 0: holes, exit 1)
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assert(!/Too many open files/.test(r.stderr), r.stderr);
    assertEquals(
      (r.stderr.match(/piece 0 is missing from the stream/g) ?? []).length,
      300,
    );
  }, { nodes: 1 });
});

Deno.test("collect: a piece held for after the trailer is named as such, and no hole is left open", async () => {
  await withCluster(async (c, dir) => {
    const { id, pieces } = await hostRecording(`${dir}/a.cbor`, "web-2", 1);
    const last = pieces.length - 1;
    const subject = `procrec.web-2.${id}`;
    // every piece but 1, then a piece past the trailer, then piece 1
    await publishRaw(c, [
      ...pieces.filter((p) => p.index !== 1).map((p) => ({
        subject,
        index: String(p.index),
        bytes: p.bytes,
      })),
      { subject, index: String(last + 1), bytes: pieces[2].bytes },
      { subject, index: "1", bytes: pieces[1].bytes },
    ]);
    const r = await collect(c.url, `${dir}/out`);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assert(
      r.stderr.includes(`piece ${last + 1}: it comes after the trailer`),
      r.stderr,
    );
    assert(!/missing/.test(r.stderr + r.stdout), r.stderr + r.stdout);
    assertEquals(
      await fileSha(`${dir}/out/web-2/${id}.cbor`),
      await fileSha(`${dir}/a.cbor`),
    );
    const left = [...Deno.readDirSync(`${dir}/out/web-2`)].map((e) => e.name);
    assertEquals(left, [`${id}.cbor`]);
  }, { nodes: 1 });
});

Deno.test("collect finishes what a killed collector left: a trailer written but not renamed, both names of one file, held pieces half made or already appended", async () => {
  await withCluster(async (c, dir) => {
    const out = `${dir}/out`;
    const host = `${out}/web-2`;
    await Deno.mkdir(host, { recursive: true });
    const recs = await Promise.all(
      [1, 2, 3, 4].map((boot) =>
        hostRecording(`${dir}/${boot}.cbor`, "web-2", boot)
      ),
    );
    const [renamed, linked, held, appended] = recs;
    const bytesOf = (r: typeof renamed, upTo: number) =>
      new Uint8Array(
        r.pieces.slice(0, upTo).flatMap((p) => [...p.bytes]),
      );
    // killed after the trailer was written, before the rename
    await Deno.writeFile(
      `${host}/${renamed.id}.cbor.incomplete`,
      bytesOf(renamed, renamed.pieces.length),
    );
    // killed after the link, before the temporary name was removed
    await Deno.writeFile(
      `${host}/${linked.id}.cbor`,
      bytesOf(linked, linked.pieces.length),
    );
    await Deno.link(
      `${host}/${linked.id}.cbor`,
      `${host}/${linked.id}.cbor.incomplete`,
    );
    // killed while holding piece 2 (an empty file, as a collector before
    // this one left it) and piece 4 (its temporary file)
    await Deno.mkdir(`${host}/${held.id}.cbor.ahead`);
    await Deno.writeFile(`${host}/${held.id}.cbor.ahead/2`, new Uint8Array());
    await Deno.writeFile(
      `${host}/${held.id}.cbor.ahead/4.tmp`,
      new Uint8Array([1]),
    );
    // killed after appending held piece 1, before removing it
    await Deno.writeFile(
      `${host}/${appended.id}.cbor.incomplete`,
      bytesOf(appended, 2),
    );
    await Deno.mkdir(`${host}/${appended.id}.cbor.ahead`);
    await Deno.writeFile(
      `${host}/${appended.id}.cbor.ahead/1`,
      appended.pieces[1].bytes,
    );
    // every piece in the stream; those of `held` with 2 before 1
    const order = (r: typeof held) =>
      r === held
        ? [r.pieces[0], r.pieces[2], r.pieces[1], ...r.pieces.slice(3)]
        : r.pieces;
    await publishRaw(
      c,
      recs.flatMap((r) =>
        order(r).map((p) => ({
          subject: `procrec.web-2.${r.id}`,
          index: String(p.index),
          bytes: p.bytes,
        }))
      ),
    );
    const r = await collect(c.url, out);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assert(!/forged|trailer|missing/.test(r.stderr), r.stderr);
    const names = [...Deno.readDirSync(host)].map((e) => e.name).sort();
    assertEquals(names, recs.map((x) => `${x.id}.cbor`).sort());
    for (const [i, x] of recs.entries()) {
      assertEquals(
        await fileSha(`${host}/${x.id}.cbor`),
        await fileSha(`${dir}/${i + 1}.cbor`),
        `recording ${i + 1}`,
      );
    }

    // fleet: collect's output, then copies elsewhere (no host to check)
    const fleet = await procrec(["fleet", out]);
    assertEquals(fleet.code, 0, fleet.stdout + fleet.stderr);
    assert(fleet.stdout.includes("4 recordings, 1 hosts"), fleet.stdout);
    await Deno.mkdir(`${dir}/case`);
    await Deno.copyFile(
      `${host}/${held.id}.cbor`,
      `${dir}/case/${held.id}.cbor`,
    );
    for (
      const [args, cwd] of [
        [["fleet", "case"], dir],
        [["fleet", "."], host],
        [["fleet", `./${held.id}.cbor`], host],
      ] as const
    ) {
      const f = await procrec([...args], { cwd });
      assertEquals(f.code, 0, `${args}: ${f.stdout}${f.stderr}`);
      assert(!f.stdout.includes("collected as"), f.stdout);
    }
  }, { nodes: 1 });
});

Deno.test("collect names a recording whose file cannot be opened, and collects the other hosts' in the same run", async () => {
  await withCluster(async (c, dir) => {
    const out = `${dir}/out`;
    const a = await hostRecording(`${dir}/a.cbor`, "web-2", 1);
    const b = await hostRecording(`${dir}/b.cbor`, "web-3", 2);
    // (a directory where web-2's file goes)
    await Deno.mkdir(`${out}/web-2/${a.id}.cbor.incomplete`, {
      recursive: true,
    });
    await publishRaw(
      c,
      [a, b].flatMap((r, i) =>
        r.pieces.map((p) => ({
          subject: `procrec.web-${i + 2}.${r.id}`,
          index: String(p.index),
          bytes: p.bytes,
        }))
      ),
    );
    const r = await collect(c.url, out);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertEquals(
      (r.stderr.match(/its pieces are not written in this run/g) ?? [])
        .length,
      1,
      r.stderr,
    );
    assert(r.stderr.includes(`web-2/${a.id}`), r.stderr);
    assertEquals(
      await fileSha(`${out}/web-3/${b.id}.cbor`),
      await fileSha(`${dir}/b.cbor`),
    );
  }, { nodes: 1 });
});

Deno.test("collect: a message whose headers cannot be read (a line break in a value) is named and skipped; the other hosts' recordings are collected (it stopped every run; found by review)", async () => {
  await withCluster(async (c, dir) => {
    const out = `${dir}/out`;
    const a = await hostRecording(`${dir}/a.cbor`, "web-2", 1);
    await publishRaw(
      c,
      a.pieces.map((p) => ({
        subject: `procrec.web-2.${a.id}`,
        index: String(p.index),
        bytes: p.bytes,
      })),
    );
    // a raw HPUB: the client library refuses to send such a header
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: c.nodes[0].port,
    });
    const enc = new TextEncoder();
    const hdr = "NATS/1.0\r\nProcrec-Piece: 1\r\nX: a\nb\r\n\r\n";
    await conn.write(
      enc.encode(
        `CONNECT {"verbose":false,"headers":true}\r\nHPUB procrec.evil.${
          "a".repeat(32)
        } ${hdr.length} ${hdr.length + 1}\r\n${hdr}x\r\nPING\r\n`,
      ),
    );
    const buf = new Uint8Array(4096);
    let said = "";
    while (!said.includes("PONG")) {
      const n = await conn.read(buf);
      if (n === null) break;
      said += new TextDecoder().decode(buf.subarray(0, n));
    }
    conn.close();
    for (const run of [1, 2]) {
      const r = await collect(c.url, out);
      assertEquals(r.code, run === 1 ? 1 : 0, `run ${run}: ${r.stderr}`);
      if (run === 1) {
        assert(r.stderr.includes("its headers cannot be read"), r.stderr);
      }
    }
    assertEquals(
      await fileSha(`${out}/web-2/${a.id}.cbor`),
      await fileSha(`${dir}/a.cbor`),
    );
  }, { nodes: 1 });
});

Deno.test("collect on a full disk stops with exit 2 and acknowledges nothing it did not write; the next run, with space, completes the recording (found by review: the rest was lost to later runs)", async () => {
  if (Deno.uid() !== 0) {
    console.log("skipped: needs root, to mount a small tmpfs");
    return;
  }
  await withCluster(async (c, dir) => {
    const path = `${dir}/big.cbor`;
    const w = await RecordingWriter.create(
      path,
      testHeader({ host: "web-1" }),
      { chunkEvents: 64, flushIntervalMs: 0 },
    );
    for (const e of workload(3000)) w.write(e);
    await w.close();
    const big = await recordingPieces(path);
    const size = (await Deno.stat(path)).size;
    await publishRaw(
      c,
      big.pieces.map((p) => ({
        subject: `procrec.web-1.${big.id}`,
        index: String(p.index),
        bytes: p.bytes,
      })),
    );
    const mnt = `${dir}/mnt`;
    await Deno.mkdir(mnt);
    // (room for about a third of the recording)
    const pages = Math.ceil(size / 3 / 4096);
    await withTmpfs(mnt, `${pages * 4}k`, async () => {
      const out = `${mnt}/out`;
      const full = await collect(c.url, out);
      assertEquals(full.code, 2, full.stdout + full.stderr);
      assert(full.stderr.includes("collect stopped"), full.stderr);
      const remount = await new Deno.Command("mount", {
        args: ["-o", "remount,size=16m", mnt],
      }).output();
      assertEquals(remount.code, 0, new TextDecoder().decode(remount.stderr));
      // (the pieces not acknowledged come back once their ack wait ends)
      const again = await collect(c.url, out);
      assertEquals(again.code, 0, again.stdout + again.stderr);
      assertEquals(
        await fileSha(`${out}/web-1/${big.id}.cbor`),
        await fileSha(path),
      );
    });
  }, { nodes: 1 });
});
