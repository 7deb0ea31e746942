/**
 * `verify DIR/` of a segment directory cut in ways that passed as intact
 * (found by review): the newest segment, closed, cut short while a forged
 * writer.pid named a running process; a segment whose trailer was removed
 * while its successor says it was closed; a missing oldest segment hidden
 * by giving a segment file after the directory.
 */
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { scanItem } from "../cli/log/_cbor_scan.ts";
import { testHeader, workload } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

/** Three linked segments of 40 events each, closed; their paths, oldest first. */
async function threeSegments(dir: string): Promise<string[]> {
  const w = await SegmentWriter.open(testHeader(), {
    dir,
    writer: { flushIntervalMs: 0, chunkEvents: 8 },
  });
  const events = workload(40);
  const paths: string[] = [];
  for (let s = 0; s < 3; s++) {
    for (const e of events.slice(s * 40, (s + 1) * 40)) w.write(e);
    paths.push(w.path!.replace(/\.incomplete$/, ""));
    if (s < 2) await w.rotateNow();
    else await w.close();
  }
  return paths;
}

/** Where each top-level CBOR item of the file begins (header, chunks, trailer). */
async function itemStarts(path: string): Promise<number[]> {
  const bytes = await Deno.readFile(path);
  const starts: number[] = [];
  for (let p = 0; p < bytes.length; p = scanItem(bytes, p)) starts.push(p);
  return starts;
}

/** `/proc/PID/stat`'s start time (field 22) of `pid`. */
function startOf(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

Deno.test("verify: a closed newest segment cut short is incomplete, whatever a writer.pid says (a forged one naming pid 1 made it a live recorder's)", async () => {
  await withTempDir(async (dir) => {
    const paths = await threeSegments(dir);
    const newest = paths[2];
    const starts = await itemStarts(newest);
    // (cut after its second chunk: its later chunks and trailer gone)
    await Deno.truncate(newest, starts[3]);
    const boot = Deno.readTextFileSync("/proc/sys/kernel/random/boot_id")
      .trim();
    await Deno.writeTextFile(`${dir}/writer.pid`, `1 ${boot} ${startOf(1)}\n`);
    const r = await procrec(["verify", dir]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assert(!/being written by a live recorder/.test(r.stdout), r.stdout);
  });
});

Deno.test("verify: a newest segment cut short under its .incomplete name is incomplete when writer.pid names a process that says it is procrec but holds no writer.lock", async () => {
  await withTempDir(async (dir) => {
    const paths = await threeSegments(dir);
    const newest = paths[2];
    const starts = await itemStarts(newest);
    await Deno.truncate(newest, starts[3]);
    await Deno.rename(newest, `${newest}.incomplete`);
    // (a process whose command line says procrec, as exec -a makes it)
    const fake = new Deno.Command("bash", {
      args: ["-c", "exec -a procrec sleep 60"],
    }).spawn();
    try {
      for (let i = 0; i < 100; i++) {
        const cmd = await Deno.readTextFile(`/proc/${fake.pid}/cmdline`)
          .catch(() => "");
        if (cmd.startsWith("procrec")) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const boot = Deno.readTextFileSync("/proc/sys/kernel/random/boot_id")
        .trim();
      await Deno.writeTextFile(
        `${dir}/writer.pid`,
        `${fake.pid} ${boot} ${startOf(fake.pid)}\n`,
      );
      await Deno.writeTextFile(`${dir}/writer.lock`, "");
      const r = await procrec(["verify", dir]);
      assertEquals(r.code, 1, r.stdout + r.stderr);
      assert(!/being written by a live recorder/.test(r.stdout), r.stdout);
    } finally {
      fake.kill("SIGKILL");
      await fake.status;
    }
  });
});

Deno.test("verify: a segment whose trailer was removed, while its successor says it was closed, is tampered", async () => {
  await withTempDir(async (dir) => {
    const paths = await threeSegments(dir);
    const middle = paths[1];
    const starts = await itemStarts(middle);
    // (the last item is the trailer: not in the hash chain)
    await Deno.truncate(middle, starts[starts.length - 1]);
    const r = await procrec(["verify", dir]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assert(/TAMPERED/.test(r.stdout), r.stdout);
    assert(
      r.stdout.includes(
        "was closed, but that segment ends without its trailer",
      ),
      r.stdout,
    );
  });
});

Deno.test("verify: a missing oldest segment is reported when a segment file is given after the directory", async () => {
  await withTempDir(async (dir) => {
    const paths = await threeSegments(dir);
    await Deno.remove(paths[0]);
    const alone = await procrec(["verify", dir]);
    assertEquals(alone.code, 1, alone.stdout + alone.stderr);
    const both = await procrec(["verify", dir, paths[1]]);
    assertEquals(both.code, 1, both.stdout + both.stderr);
    assert(/is not there/.test(both.stdout), both.stdout);
  });
});
