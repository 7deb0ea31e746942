/**
 * The trailer of a recording made with `record --publish` carries the
 * publishing figures as an 8th item (SCHEMA.md): it must read back complete
 * and verify, like a 7-item trailer.
 */
import { RecordingReader, RecordingWriter } from "../cli/log/mod.ts";
import { testHeader, workload } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

Deno.test("a recording whose trailer has the publish figures reads back complete and verifies", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/p.cbor`;
    const w = await RecordingWriter.create(path, testHeader(), {
      chunkEvents: 8,
      flushIntervalMs: 0,
      publishCounts: () => ({ published: 5, acked: 4, pending: 1 }),
    });
    for (const e of workload(10)) w.write(e);
    await w.close();
    const r = await RecordingReader.open(path);
    const events = await Array.fromAsync(r.events());
    assertEquals(events.length, 30);
    assert(r.report.complete, JSON.stringify(r.report.problems));
    assertEquals(r.report.problems, []);
    const v = await procrec(["verify", path]);
    assertEquals(v.code, 0, v.stdout + v.stderr);
  });
});
