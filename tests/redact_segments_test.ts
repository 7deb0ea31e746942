/**
 * Segment mode (`record -o DIR/ --rotate`) with `--redact`: every segment's
 * header carries the redaction, no segment holds the secret (the processes
 * alive at a segment's start are listed redacted), and under umask 000 the
 * directory is 0700 and every segment 0600.
 */
import { RecordingReader } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  PROCREC,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();
const SECRET = "S3gm3ntS3cret";

async function holds(path: string, needle: string): Promise<boolean> {
  return new TextDecoder("latin1").decode(await Deno.readFile(path)).includes(
    needle,
  );
}

captureTest(
  "record -o DIR/ --rotate --redact: no segment holds the secret, each names the rules; DIR 0700, segments 0600 under umask 000",
  async () => {
    await withTempDir(async (tmp) => {
      await Deno.writeTextFile(
        `${tmp}/rules.json`,
        '{"rules":[{"name":"pw","flag":"-p","separate":false}]}',
      );
      const k = await procrec(["keygen", "--redact", "-o", `${tmp}/k`]);
      assertEquals(k.code, 0, k.stderr);
      // alive across every segment start: listed in each header
      const before = new Deno.Command("sh", {
        args: ["-c", "sleep 6", `-p${SECRET}`],
      }).spawn();
      const dir = `${tmp}/segs`;
      try {
        const o = await new Deno.Command("sh", {
          args: [
            "-c",
            'umask 000; exec "$0" "$@"',
            PROCREC,
            "record",
            "--redact",
            `${tmp}/rules.json`,
            "--redact-key",
            `${tmp}/k`,
            "-o",
            `${dir}/`,
            "--rotate",
            "400ms",
            "--",
            "sh",
            "-c",
            `for i in 1 2 3 4 5 6; do /bin/echo -p${SECRET} >/dev/null; sleep 0.3; done`,
          ],
          stdout: "null",
          stderr: "piped",
        }).output();
        assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
      } finally {
        before.kill();
        await before.status;
      }
      assertEquals(
        ((await Deno.stat(dir)).mode! & 0o777).toString(8),
        "700",
        "the segment directory",
      );
      const names = [...Deno.readDirSync(dir)].map((e) => e.name)
        .filter((n) => n.endsWith(".cbor")).sort();
      assert(names.length >= 2, `segments: ${names}`);
      let aliveMarkers = 0;
      for (const n of names) {
        const path = `${dir}/${n}`;
        assertEquals(
          ((await Deno.stat(path)).mode! & 0o777).toString(8),
          "600",
          n,
        );
        assert(!(await holds(path, SECRET)), `${n} holds the secret`);
        const r = await RecordingReader.open(path);
        assertEquals(r.header.redaction?.rules[0].name, "pw", n);
        const alive = JSON.stringify(
          (r.header as unknown as { segment?: { alive?: unknown } }).segment
            ?.alive ?? [],
        );
        if (alive.includes("[redacted:pw:")) aliveMarkers++;
        await Array.fromAsync(r.events());
      }
      assert(aliveMarkers >= 1, "no segment lists the process alive, redacted");
      const v = await procrec(["verify", `${dir}/`]);
      assertEquals(v.code, 0, v.stdout + v.stderr);
    }, "procrec-redact-seg-");
  },
  why,
);
