/**
 * Every file procrec writes goes through one opener (cli/io/open_output.ts):
 * a link planted at an output or at NAME.incomplete is never written through
 * (issue 11 item 5), two recorders of one output cannot both start (item 6),
 * outputs are 0600 (directories 0700) whatever the umask, or 0640/0750 to a
 * group with --group (issue 20 items 1-2), and every command refuses an
 * output directory that does not exist (item 11).
 */
import { openOutput } from "../cli/io/mod.ts";
import { procrecBounded } from "./_bounded.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  exists,
  PROCREC,
  ROOT,
  waitForPath,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();
const FIXTURE = `${ROOT}fixtures/make.cbor`;
const LIMITS = { timeoutMs: 60_000, maxRssMiB: 400 };
const modeOf = async (p: string) => ((await Deno.lstat(p)).mode! & 0o777);
const octal = (n: number) => n.toString(8);

/** A link at `at` to a file holding "precious"; returns the target. */
async function plantLink(dir: string, at: string): Promise<string> {
  const target = `${dir}/victim`;
  await Deno.writeTextFile(target, "precious");
  await Deno.symlink(target, at);
  return target;
}

Deno.test("report --force and export --force replace a planted link, never write through it", async () => {
  await withTempDir(async (dir) => {
    for (
      const args of [
        ["report", FIXTURE, "--force", "-o"],
        ["export", FIXTURE, "--force", "-o"],
      ]
    ) {
      const out = `${dir}/${args[0]}.out`;
      const target = await plantLink(dir, out);
      const r = await procrecBounded([...args, out], LIMITS);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(await Deno.readTextFile(target), "precious");
      assert((await Deno.lstat(out)).isFile, `${out} is still a link`);
      assertEquals(octal(await modeOf(out)), "600");
      await Deno.remove(target);
    }
  }, "procrec-link-");
});

Deno.test("a link planted at NAME.incomplete is refused by import --force and never followed", async () => {
  await withTempDir(async (dir) => {
    const jsonl = `${dir}/make.jsonl`;
    const e = await procrecBounded(["export", FIXTURE, "-o", jsonl], LIMITS);
    assertEquals(e.code, 0, e.stderr);
    const out = `${dir}/copy.cbor`;
    const target = await plantLink(dir, `${out}.incomplete`);
    const r = await procrecBounded(
      ["import", "jsonl", jsonl, "--force", "-o", out],
      LIMITS,
    );
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes(`"${out}.incomplete" exists`), r.stderr);
    assertEquals(await Deno.readTextFile(target), "precious");
    assert(!(await exists(out)), "an output was written");
  }, "procrec-link-");
});

Deno.test("every output is 0600 (directories 0700) under umask 000", async () => {
  await withTempDir(async (dir) => {
    const umask = { ...LIMITS, shellPrefix: "umask 000;", cwd: dir };
    const runs: [string[], string][] = [
      [["report", FIXTURE, "-o", "r.html"], "r.html"],
      [["export", FIXTURE, "-o", "e.jsonl"], "e.jsonl"],
      [["import", "jsonl", "e.jsonl", "-o", "i.cbor"], "i.cbor"],
      [["bundle", "create", "-o", "b.zip", "i.cbor"], "b.zip"],
      [["keygen", "-o", "k.key"], "k.key"],
    ];
    for (const [args, out] of runs) {
      const r = await procrecBounded(args, umask);
      assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assertEquals(octal(await modeOf(`${dir}/${out}`)), "600", out);
    }
    // the public key is meant to be handed out
    assertEquals(octal(await modeOf(`${dir}/k.key.pub`)), "644");
    // no temporary file is left behind
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(names, [
      "b.zip",
      "e.jsonl",
      "i.cbor",
      "k.key",
      "k.key.pub",
      "r.html",
    ]);
  }, "procrec-umask-");
});

Deno.test("--group gives 0640 files owned by the group; an unknown group is refused before anything is written", async () => {
  await withTempDir(async (dir) => {
    const g = { ...LIMITS, shellPrefix: "umask 077;", cwd: dir };
    for (
      const args of [
        ["report", FIXTURE, "--group", "daemon", "-o", "r.html"],
        ["export", FIXTURE, "--group", "1", "-o", "e.jsonl"],
        ["import", "jsonl", "e.jsonl", "--group", "daemon", "-o", "i.cbor"],
        ["bundle", "create", "--group", "daemon", "-o", "b.zip", "i.cbor"],
      ]
    ) {
      const r = await procrecBounded(args, g);
      assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      const out = `${dir}/${
        args.at(-1) === "i.cbor" && args[0] === "bundle"
          ? "b.zip"
          : args[args.indexOf("-o") + 1]
      }`;
      const st = await Deno.stat(out);
      assertEquals(octal(st.mode! & 0o777), "640", out);
      assertEquals(st.gid, 1, out);
    }
    const bad = await procrecBounded(
      ["report", FIXTURE, "--group", "no-such-group-x", "-o", "x.html"],
      g,
    );
    assertEquals(bad.code, 2);
    assert(bad.stderr.includes("no such group"), bad.stderr);
    assert(!(await exists(`${dir}/x.html`)));
  }, "procrec-group-");
});

Deno.test("openOutput without force refuses a name that appeared after it opened", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/x`;
    const out = await openOutput(path);
    out.writeSync(new Uint8Array([1, 2, 3]));
    await Deno.writeTextFile(path, "first");
    let message = "";
    await out.commit().catch((e) => (message = (e as Error).message));
    assert(message.includes("the file exists"), message);
    assertEquals(await Deno.readTextFile(path), "first");
  }, "procrec-open-");
});

Deno.test("every command refuses an output directory that does not exist", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/missing/x`;
    const jsonl = `${dir}/make.jsonl`;
    await procrecBounded(["export", FIXTURE, "-o", jsonl], LIMITS);
    for (
      const args of [
        ["report", FIXTURE, "-o", out],
        ["export", FIXTURE, "-o", out],
        ["import", "jsonl", jsonl, "-o", out],
        ["bundle", "create", "-o", out, FIXTURE],
        ["keygen", "-o", out],
        ["record", "--duration", "100ms", "-o", out],
      ]
    ) {
      const r = await procrecBounded(args, LIMITS);
      assertEquals(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert(
        r.stderr.includes(`the directory "${dir}/missing" does not exist`),
        `${args[0]}: ${r.stderr}`,
      );
    }
    assert(!(await exists(`${dir}/missing`)), "a directory was made");
  }, "procrec-nodir-");
});

captureTest(
  "of many simultaneous record runs with the same -o exactly one records; the recording verifies",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/same.cbor`;
      const n = 12;
      const runs = await Promise.all(
        Array.from(
          { length: n },
          () =>
            procrecBounded([
              "record",
              "--source",
              "netlink",
              "--duration",
              "1500ms",
              "-o",
              out,
            ], { timeoutMs: 120_000, maxRssMiB: 400 }),
        ),
      );
      const ok = runs.filter((r) => r.code === 0);
      assertEquals(ok.length, 1, runs.map((r) => r.stderr).join("\n"));
      for (const r of runs.filter((r) => r.code !== 0)) {
        assertEquals(r.code, 2, r.stderr);
        assert(
          r.stderr.includes("exists"),
          `a refused run does not say why: ${r.stderr}`,
        );
      }
      const v = await procrecBounded(["verify", out], LIMITS);
      assertEquals(v.code, 0, v.stdout + v.stderr);
      assertEquals(octal(await modeOf(out)), "600");
    }, "procrec-race-");
  },
  why,
);

captureTest(
  "record stops on SIGHUP like on SIGTERM: the recording is closed and complete",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/hup.cbor`;
      const child = new Deno.Command(PROCREC, {
        args: ["record", "--source", "netlink", "-o", out],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      assert(
        await waitForPath(`${out}.incomplete`, { child }),
        "the recording did not start",
      );
      child.kill("SIGHUP");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const r = await child.output();
      clearTimeout(timer);
      assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
      assert(await exists(out), "the recording was not closed");
      assert(!(await exists(`${out}.incomplete`)));
      const v = await procrecBounded(["verify", out], LIMITS);
      assertEquals(v.code, 0, v.stdout + v.stderr);
    }, "procrec-hup-");
  },
  why,
);

captureTest(
  "record without -o makes its default recordings/ directory 0700",
  async () => {
    await withTempDir(async (dir) => {
      const r = await procrecBounded(
        ["record", "--source", "netlink", "--duration", "100ms"],
        { ...LIMITS, cwd: dir, shellPrefix: "umask 000;" },
      );
      assertEquals(r.code, 0, r.stderr);
      assertEquals(octal(await modeOf(`${dir}/recordings`)), "700");
      for (const e of Deno.readDirSync(`${dir}/recordings`)) {
        assertEquals(octal(await modeOf(`${dir}/recordings/${e.name}`)), "600");
      }
    }, "procrec-defdir-");
  },
  why,
);

Deno.test("openOutput never replaces a FIFO or a device, even with force (found by review: -f -o a device node put a recording in its place)", async () => {
  await withTempDir(async (dir) => {
    const fifo = `${dir}/fifo`;
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assertEquals(mk.code, 0);
    for (const path of [fifo, "/dev/null"]) {
      let msg = "";
      try {
        await openOutput(path, { force: true });
      } catch (e) {
        msg = (e as Error).message;
      }
      assert(msg.includes("which procrec never replaces"), `${path}: ${msg}`);
    }
    assert((await Deno.lstat(fifo)).isFifo, "the FIFO was replaced");
  });
});
