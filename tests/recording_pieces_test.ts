/**
 * A recording cut into the pieces `publish` sends: what follows the last
 * chunk or trailer is a tail left out, whatever CBOR it happens to be
 * (found by review: the zeros a power cut leaves past a file's end are each
 * a whole CBOR item, and went out as thousands of forged chunks).
 */
import { recordingPieces } from "../cli/nats/recording_pieces.ts";
import { scanItem } from "../cli/log/_cbor_scan.ts";
import { workload, writeRecording } from "./_recording_helpers.ts";
import { assertEquals, withTempDir } from "./_record_helpers.ts";

Deno.test("recordingPieces: a crashed recording's zero tail is left out as a tail, not sent as chunks", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/a.cbor`;
    await writeRecording(path, workload(20));
    const whole = await recordingPieces(path);
    assertEquals(whole.tail, 0);
    const bytes = await Deno.readFile(path);
    // (the trailer gone, 4,096 zero bytes after the last chunk)
    const starts: number[] = [];
    for (let p = 0; p < bytes.length; p = scanItem(bytes, p)) starts.push(p);
    const cut = bytes.subarray(0, starts[starts.length - 1]);
    const crashed = new Uint8Array(cut.length + 4096);
    crashed.set(cut);
    await Deno.writeFile(`${dir}/b.cbor.incomplete`, crashed);
    const r = await recordingPieces(`${dir}/b.cbor.incomplete`);
    assertEquals(r.pieces.length, whole.pieces.length - 1);
    assertEquals(r.pieces.map((p) => p.kind).slice(-1), ["chunk"]);
    assertEquals(r.tail, 4096);
    assertEquals(r.id, whole.id);
  });
});
