/**
 * `procrec export -o FILE` onto a full disk (a 16 KiB tmpfs): the export
 * fails with exit status 2 and says why, and leaves no partial file behind:
 * neither at the output's name nor as a temporary file; with `--force`, the
 * file it was to replace is left as it was (issue 10 item 14: the output is
 * written to a temporary name and renamed when whole).
 */
import {
  assert,
  assertEquals,
  captureTest,
  procrec,
  withTempDir,
  withTmpfs,
} from "./_record_helpers.ts";
import { workload, writeRecording } from "./_recording_helpers.ts";

const why = Deno.build.os !== "linux"
  ? "mounting a tmpfs needs Linux"
  : Deno.uid() !== 0
  ? "mounting a tmpfs needs root (CI runs as root)"
  : undefined;

/** Runs `fn` with a 16 KiB tmpfs mounted at `dir`. */
const withFullDisk = (dir: string, fn: () => Promise<void>) =>
  withTmpfs(dir, "16k", fn);

captureTest(
  "export onto a full disk fails with exit status 2 and leaves no partial output",
  async () => {
    await withTempDir(async (dir) => {
      // ~1.3 MB of JSON lines: the first 1 MiB write already fails
      await writeRecording(`${dir}/a.cbor`, workload(6000), 4096);
      const disk = `${dir}/disk`;
      await Deno.mkdir(disk);
      await withFullDisk(disk, async () => {
        for (const format of ["jsonl", "ecs"]) {
          const out = `${disk}/a.${format}`;
          const r = await procrec([
            "export",
            `${dir}/a.cbor`,
            "--format",
            format,
            "-o",
            out,
          ]);
          assertEquals(r.code, 2, r.stderr);
          // the message names the output (its temporary file is named for it)
          assert(
            r.stderr.includes(`Cannot write export "${disk}/`) &&
              r.stderr.includes(`a.${format}`) &&
              r.stderr.includes("No space left on device"),
            r.stderr,
          );
          const left = (await Array.fromAsync(Deno.readDir(disk))).map((e) =>
            e.name
          );
          assertEquals(left, [], `left behind: ${left.join(", ")}`);
        }
        // --force over an existing export: the old one stays whole
        const out = `${disk}/old.jsonl`;
        await Deno.writeTextFile(out, "the earlier export\n");
        const r = await procrec(["export", `${dir}/a.cbor`, "-o", out, "-f"]);
        assertEquals(r.code, 2, r.stderr);
        assertEquals(await Deno.readTextFile(out), "the earlier export\n");
        const left = (await Array.fromAsync(Deno.readDir(disk))).map((e) =>
          e.name
        );
        assertEquals(left, ["old.jsonl"], `left behind: ${left.join(", ")}`);
      });
    }, "procrec-export-full-");
  },
  why,
);
