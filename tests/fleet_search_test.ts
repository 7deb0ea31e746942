/**
 * `procrec fleet` over a directory of recordings (complete, open, broken) and
 * `procrec search` across recordings, directories and bundles.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import {
  processCreate,
  testHeader,
  workload,
  writeRecording,
} from "./_recording_helpers.ts";
import { bundleCreate } from "./_bundle_helpers.ts";
import { recordingPieces } from "../cli/nats/recording_pieces.ts";
import { concatBytes } from "../cli/io/mod.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const MS = 1_000_000;

/** A shell (uid 1000, user alice) that runs curl, and a root cron job. */
function events(): ProcEvent[] {
  const info = (image: string, argv: string[], uid: number, user?: string) => ({
    image,
    argv,
    uid,
    user,
    from: {},
  });
  return [
    processCreate(1 * MS, 100, 1),
    {
      kind: "exec",
      t: 2 * MS,
      pid: 100,
      tid: 100,
      info: info("/bin/bash", ["bash"], 1000, "alice"),
    },
    processCreate(3 * MS, 101, 100),
    {
      kind: "exec",
      t: 4 * MS,
      pid: 101,
      tid: 101,
      info: info(
        "/usr/bin/curl",
        ["curl", "-s", "http://evil.example/x"],
        1000,
        "alice",
      ),
    },
    { kind: "process_exit", t: 5 * MS, pid: 101, tid: 101, status: 0 },
    processCreate(600 * MS, 200, 1),
    {
      kind: "exec",
      t: 601 * MS,
      pid: 200,
      tid: 200,
      info: info("/usr/sbin/cron", ["cron"], 0),
    },
    {
      kind: "lost",
      t: 602 * MS,
      pid: 0,
      tid: 0,
      reason: "ring_full",
      count: 7,
    },
  ] as ProcEvent[];
}

async function write(
  path: string,
  host: string,
  opts: { close?: boolean } = {},
): Promise<void> {
  const w = await RecordingWriter.create(
    path,
    testHeader({ host, bootId: crypto.randomUUID() }),
    { chunkEvents: 3, flushIntervalMs: 0 },
  );
  for (const e of events()) w.write(e);
  if (opts.close === false) w.abandon();
  else await w.close();
}

Deno.test("fleet lists one row per host and recording with span, events, lost and chain state", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/fleet/web-1`, { recursive: true });
    await Deno.mkdir(`${dir}/fleet/web-2`, { recursive: true });
    await write(`${dir}/fleet/web-1/a.cbor`, "web-1");
    await write(`${dir}/fleet/web-2/b.cbor`, "web-2", { close: false });
    const r = await procrec(["fleet", `${dir}/fleet`, "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    assertEquals(rows.length, 2);
    assertEquals(
      rows.map((
        x: { host: string; chain: string; events: number; lost: number },
      ) => [x.host, x.chain, x.events, x.lost]),
      [["web-1", "complete", 8, 7], ["web-2", "open", 8, 7]],
    );
    assertEquals(rows[0].first, "2026-09-21T14:13:20.001000000Z");
    assertEquals(rows[0].last, "2026-09-21T14:13:20.602000000Z");
    assert(/^[0-9a-f]{32}$/.test(rows[0].id), rows[0].id);

    // one byte changed in a chunk: the chain is broken, exit status 1
    const bytes = await Deno.readFile(`${dir}/fleet/web-1/a.cbor`);
    bytes[bytes.length - 120] ^= 0x40;
    await Deno.writeFile(`${dir}/fleet/web-1/a.cbor`, bytes);
    const broken = await procrec(["fleet", `${dir}/fleet`]);
    assertEquals(broken.code, 1, broken.stdout + broken.stderr);
    assert(/web-1 .* broken/.test(broken.stdout), broken.stdout);
    assert(/2 recordings, 2 hosts/.test(broken.stdout), broken.stdout);
  });
});

Deno.test("search finds processes across recordings, directories and bundles, with host, pid, time and parent chain", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/fleet/web-1`, { recursive: true });
    await write(`${dir}/fleet/web-1/a.cbor`, "web-1");
    await write(`${dir}/db.cbor`, "db-1");
    const b = await bundleCreate(`${dir}/case.zip`, [`${dir}/db.cbor`]);
    assertEquals(b.code, 0, b.stderr);

    const r = await procrec([
      "search",
      `${dir}/fleet`,
      `${dir}/case.zip`,
      "--image",
      "curl",
      "--cmdline",
      "https?://evil",
      "--json",
    ]);
    assertEquals(r.code, 1, "hits: exit status 1: " + r.stderr);
    const hits = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(hits.map((h) => [h.host, h.pid, h.image, h.parents]), [
      ["web-1", 101, "/usr/bin/curl", ["/bin/bash[100]", "[1]"]],
      ["db-1", 101, "/usr/bin/curl", ["/bin/bash[100]", "[1]"]],
    ]);
    assert(hits[1].recording.startsWith(`${dir}/case.zip#`), hits[1].recording);
    assertEquals(hits[0].time, "2026-09-21T14:13:20.004000000Z");

    const text = await procrec(["search", `${dir}/fleet`, "--user", "alice"]);
    assertEquals(text.code, 1);
    assert(/web-1 .* pid 100 .* \/bin\/bash/.test(text.stdout), text.stdout);
    assert(
      /parents: \/bin\/bash\[100\] < \[1\]/.test(text.stdout),
      text.stdout,
    );
    assert(/2 hits on 1 hosts/.test(text.stdout), text.stdout);

    const root = await procrec([
      "search",
      `${dir}/fleet`,
      "--user",
      "0",
      "--json",
    ]);
    assertEquals(root.stdout.trim().split("\n").length, 1, root.stdout);

    // the time window leaves the curl out
    const late = await procrec([
      "search",
      `${dir}/fleet`,
      "--image",
      "curl",
      "--from",
      "2026-09-21T14:13:20.100Z",
    ]);
    assertEquals(late.code, 0, late.stdout);
    assert(/0 hits/.test(late.stdout), late.stdout);

    const usage = await procrec(["search", `${dir}/fleet`]);
    assertEquals(usage.code, 2);
    assert(/at least one of/.test(usage.stderr), usage.stderr);
  });
});

Deno.test("search with more hits than a call's arguments can hold: every hit printed, no stack overflow", async () => {
  await withTempDir(async (dir) => {
    // (130,000 hits and more overflowed the call stack: the hits were
    // pushed as a spread of arguments)
    const n = 140_000;
    const path = `${dir}/many.cbor`;
    await writeRecording(path, workload(n), 4096);
    const text = await procrec(["search", path, "--image", "env"]);
    assertEquals(text.code, 1, text.stderr);
    const lines = text.stdout.split("\n");
    assertEquals(lines.length, 2 * n + 2, `${lines.length} lines`);
    assertEquals(lines.at(-2), `${n} hits on 1 hosts`);
    assert(lines[0].includes(`pid 2000 `), lines[0]);
    const json = await procrec(["search", path, "--image", "env", "--json"]);
    assertEquals(json.code, 1, json.stderr);
    const hits = json.stdout.trimEnd().split("\n");
    assertEquals(hits.length, n);
    assertEquals(JSON.parse(hits[n - 1]).pid, 2000 + n - 1);
  }, "procrec-search-many-");
});

Deno.test("search names at most the 64 nearest parents of a hit, then '...' (a deep tree's chains are not walked whole for every hit)", async () => {
  await withTempDir(async (dir) => {
    // a chain of 300 shells, each the child of the one before
    const events: ProcEvent[] = [];
    for (let i = 0; i < 300; i++) {
      events.push(
        processCreate(i * 1000, 5000 + i, i === 0 ? 1 : 4999 + i, {
          info: { image: "/bin/sh", argv: ["sh"], from: {} },
        }),
      );
    }
    const path = `${dir}/chain.cbor`;
    await writeRecording(path, events, 4096);
    const r = await procrec(["search", path, "--image", "sh", "--json"]);
    assertEquals(r.code, 1, r.stderr);
    const hits = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assertEquals(hits.length, 300);
    const byPid = new Map(hits.map((h) => [h.pid, h]));
    // the first has its parent outside the recording; the 10th nine
    // shells and that one; the last the 64 nearest shells
    assertEquals(byPid.get(5000).parents, ["[1]"]);
    assertEquals(byPid.get(5009).parents.length, 10);
    // 64 shells and the parent outside: the whole chain
    const whole = byPid.get(5064).parents;
    assertEquals(whole.length, 65);
    assertEquals(whole[63], "/bin/sh[5000]");
    assertEquals(whole[64], "[1]");
    // 65 shells: the nearest 64, then a mark that the chain goes on
    assertEquals(byPid.get(5065).parents.at(-1), "...");
    const last = byPid.get(5299).parents;
    assertEquals(last.length, 65);
    assertEquals(last[0], "/bin/sh[5298]");
    assertEquals(last[63], "/bin/sh[5235]");
    assertEquals(last[64], "...");
    const text = await procrec(["search", path, "--image", "sh"]);
    assert(text.stdout.includes(" < /bin/sh[5235] < ...\n"), text.stdout);
  }, "procrec-search-chain-");
});

Deno.test("search marks the hits of a recording that fails its own check, and credits a collected recording to the host directory it came in under (found by review)", async () => {
  await withTempDir(async (dir) => {
    // a recording spliced: its second chunk (whole, its digest right) from
    // another recording, its chain broken
    const bad = `${dir}/bad.cbor`;
    await write(`${dir}/a.cbor`, "web-1");
    const other = `${dir}/b.cbor`;
    const w = await RecordingWriter.create(
      other,
      testHeader({ host: "web-1" }),
      {
        chunkEvents: 3,
        flushIntervalMs: 0,
      },
    );
    for (const e of events()) {
      w.write(
        e.kind === "exec" && e.pid === 101
          ? {
            ...e,
            info: { ...e.info, argv: ["curl", "http://EVIL.example/"] },
          }
          : e,
      );
    }
    await w.close();
    const A = await recordingPieces(`${dir}/a.cbor`);
    const B = await recordingPieces(other);
    await Deno.writeFile(
      bad,
      concatBytes(
        A.pieces.map((p) => p.index === 2 ? B.pieces[2].bytes : p.bytes),
      ),
    );
    const r = await procrec(["search", bad, "--cmdline", "EVIL", "--json"]);
    assertEquals(r.code, 1, r.stderr);
    const hits = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(hits.map((h) => h.integrity), ["broken"]);
    assert(r.stderr.includes("does not pass its own check"), r.stderr);
    // collect's output: a recording naming web-1, under evil's directory
    const out = `${dir}/fleet`;
    await Deno.mkdir(`${out}/evil`, { recursive: true });
    await Deno.writeTextFile(`${out}/.procrec-collect`, "");
    await write(`${out}/evil/${"a".repeat(32)}.cbor`, "web-1");
    const c = await procrec(["search", out, "--cmdline", "evil"]);
    assertEquals(c.code, 1, c.stderr);
    assert(c.stdout.includes("web-1 (collected as evil)  "), c.stdout);
    assert(c.stdout.includes("1 hits on 1 hosts"), c.stdout);
    const j = await procrec(["search", out, "--cmdline", "evil", "--json"]);
    assertEquals(JSON.parse(j.stdout.trim()).collectedAs, "evil");
  });
});
