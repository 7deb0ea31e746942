/**
 * Many Sigma hits: `bundle create --rules` with more hits than a call's
 * arguments or a manifest can hold (the bundle is made, its manifest stays
 * within what readers take: the first hits listed, all of them counted; it
 * reads and verifies), and `hunt`'s text and JSON written in pieces.
 */
import { workload, writeRecording } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";
import { openBundle } from "../cli/bundle/mod.ts";
import { INPUT_LIMITS } from "../cli/io/mod.ts";
import { Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";

/** One member of a zip file, as stored. */
async function member(zip: string, name: string): Promise<Uint8Array> {
  const r = new ZipReader(new Uint8ArrayReader(await Deno.readFile(zip)));
  try {
    const e = (await r.getEntries()).find((x) => x.filename === name);
    assert(e && !e.directory, `${name} in ${zip}`);
    return await e.getData(new Uint8ArrayWriter());
  } finally {
    await r.close();
  }
}

/** A process_creation rule every process of `workload` matches (its exec of /usr/bin/env). */
const EVERY_ENV = `title: Every env
id: 5d1f0c3e-8a0b-4c8e-9f1a-2b3c4d5e6f70
status: test
description: Matches every exec of env (a test of many hits).
logsource:
    category: process_creation
    product: linux
detection:
    selection:
        Image|endswith: '/env'
    condition: selection
level: low
`;

Deno.test("bundle create --rules with 140,000 hits: made, its manifest within the readers' limit, verified and read", async () => {
  await withTempDir(async (dir) => {
    // (130,000 hits and more overflowed the call stack: they were pushed
    // as a spread of arguments; and 40,000 made a manifest no reader took)
    const n = 140_000;
    const rec = `${dir}/many.cbor`;
    await writeRecording(rec, workload(n), 4096);
    await Deno.writeTextFile(`${dir}/env.yml`, EVERY_ENV);
    const zip = `${dir}/case.zip`;
    const key = await procrec(["keygen", "-o", `${dir}/team.key`]);
    assertEquals(key.code, 0, key.stderr);
    const made = await procrec([
      "bundle",
      "create",
      "-o",
      zip,
      "--sign",
      `${dir}/team.key`,
      "--rules",
      `${dir}/env.yml`,
      rec,
    ]);
    assertEquals(made.code, 0, made.stderr);
    assert(
      made.stdout.includes(`Sigma hits`) &&
        made.stdout.includes(` of ${n} Sigma hits`),
      made.stdout,
    );
    const bundle = await openBundle(zip);
    try {
      const d = bundle.manifest.detections!;
      assertEquals(d.hitsTotal, n);
      assert(d.hits.length > 1000 && d.hits.length < n, `${d.hits.length}`);
      assertEquals(d.hits[0].pid, 2000);
    } finally {
      await bundle.close();
    }
    const manifest = await member(zip, "manifest.json");
    // as many hits as fit: the manifest close to the limit, not over it
    assert(
      manifest.length <= INPUT_LIMITS.manifest &&
        manifest.length > 0.99 * INPUT_LIMITS.manifest,
      `${manifest.length}`,
    );
    // signed over the manifest as written
    const verified = await procrec([
      "verify",
      zip,
      "--key",
      `${dir}/team.key.pub`,
    ]);
    assertEquals(verified.code, 0, verified.stdout + verified.stderr);
    assert(verified.stdout.includes("INTACT"), verified.stdout);
    // summary.txt lists every hit
    const text = new TextDecoder().decode(await member(zip, "summary.txt"));
    assert(text.includes(`-- detections (Sigma): ${n} --`), text.slice(0, 800));
  }, "procrec-bundle-hits-");
});

Deno.test("hunt with thousands of hits: text and --json written in pieces, whole and parseable", async () => {
  await withTempDir(async (dir) => {
    const n = 3000;
    const rec = `${dir}/many.cbor`;
    await writeRecording(rec, workload(n), 4096);
    await Deno.writeTextFile(`${dir}/env.yml`, EVERY_ENV);
    const text = await procrec(["hunt", "--rules", `${dir}/env.yml`, rec]);
    assertEquals(text.code, 1, text.stderr);
    // four lines per hit, then the totals
    const lines = text.stdout.split("\n");
    assertEquals(lines.filter((l) => l.startsWith("low  Every env")).length, n);
    assert(
      text.stdout.includes(`\n${n} hits of 1 rule in 1 recording\n`),
      text.stdout.slice(-500),
    );
    const json = await procrec([
      "hunt",
      "--json",
      "--rules",
      `${dir}/env.yml`,
      rec,
    ]);
    assertEquals(json.code, 1, json.stderr);
    // (over 500,000 characters: many pieces, one object)
    assert(json.stdout.length > 500_000, `${json.stdout.length}`);
    const report = JSON.parse(json.stdout);
    assertEquals(report.hits.length, n);
    assertEquals(report.hits[n - 1].pid, 2000 + n - 1);
    assertEquals(report.recordings[0].hits, n);
    assertEquals(report.rules.loaded, 1);
  }, "procrec-hunt-hits-");
});
