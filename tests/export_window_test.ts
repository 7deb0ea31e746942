/**
 * `export --from/--to` in ECS and OCSF: a process created before the span
 * keeps, in the span's documents, the entity id, image and parent the whole
 * export gives it (found by review: its exit had an id made from the exit's
 * time and no executable, so two exports could not be joined on the id).
 */
import { exec, processCreate, writeRecording } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

type Doc = Record<string, unknown>;

function docs(text: string): Doc[] {
  return text.trimEnd().split("\n").map((l) => JSON.parse(l));
}

Deno.test("export --format ecs/ocsf --from: a process created before the span keeps its id, image and parent", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    await writeRecording(rec, [
      processCreate(1_000, 4000, 1),
      exec(2_000, 4000, "/usr/bin/sleeper", ["sleeper", "9"]),
      processCreate(3_000, 4001, 4000),
      exec(4_000, 4001, "/usr/bin/child", ["child"]),
      {
        kind: "process_exit",
        t: 5_000_000_000,
        pid: 4001,
        tid: 4001,
        status: 0,
      },
      {
        kind: "process_exit",
        t: 6_000_000_000,
        pid: 4000,
        tid: 4000,
        status: 256,
      },
    ]);
    for (const format of ["ecs", "ocsf"]) {
      const whole = await procrec(["export", rec, "--format", format]);
      assertEquals(whole.code, 0, whole.stderr);
      const part = await procrec([
        "export",
        rec,
        "--format",
        format,
        "--from",
        "4s",
      ]);
      assertEquals(part.code, 0, part.stderr);
      const all = docs(whole.stdout);
      const some = docs(part.stdout);
      // the span holds the two exits only
      assertEquals(some.length, 2, part.stdout);
      assert(part.stderr.includes("outside --from/--to"), part.stderr);
      // each of them is the whole export's document of the same exit
      for (const d of some) {
        const same = all.filter((a) => JSON.stringify(a) === JSON.stringify(d));
        assertEquals(same.length, 1, `${format}: ${JSON.stringify(d)}`);
      }
      assert(part.stdout.includes("/usr/bin/child"), part.stdout);
      assert(part.stdout.includes("/usr/bin/sleeper"), part.stdout);
    }
  });
});
