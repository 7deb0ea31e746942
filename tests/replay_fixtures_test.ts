/**
 * Golden outputs of the fixtures, through the library and through the CLI:
 * regenerating the fixtures gives the committed outputs; replaying the
 * committed recordings gives the committed trees; diffs are empty where the
 * workload is the same, byte-identical across runs, and exit 0/1/2 as diff(1).
 */
import { analyze, renderTree } from "../cli/analysis/mod.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import { generateFixtures, GOLDEN_DIFFS } from "./fixtures_gen.ts";
import {
  assertEquals,
  procrec as runProcrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

const FIX = `${ROOT}fixtures`;

/** `./procrec ARGS`, run from the checkout (fixture paths are relative to it). */
const procrec = (...args: string[]) => runProcrec(args, { cwd: ROOT });

Deno.test("regenerating the fixtures gives the committed golden outputs", async () => {
  await withTempDir(async (dir) => {
    const outputs = await generateFixtures(dir);
    if (outputs.size < 10) throw new Error(`only ${outputs.size} outputs`);
    for (const [file, text] of outputs) {
      const golden = await Deno.readTextFile(`${FIX}/${file}`);
      assertEquals(
        text,
        golden,
        `fixtures/${file} differs from a regeneration`,
      );
    }
  });
});

Deno.test("replaying each committed recording gives its golden tree", async () => {
  let n = 0;
  for await (const e of Deno.readDir(FIX)) {
    if (!e.name.endsWith(".cbor")) continue;
    const r = await RecordingReader.open(`${FIX}/${e.name}`);
    const forest = await analyze(r.events(), {
      os: r.header.os,
      bootId: r.header.bootId,
    });
    if (!r.report.complete) throw new Error(`${e.name} is not complete`);
    const golden = await Deno.readTextFile(
      `${FIX}/${e.name.replace(/\.cbor$/, ".tree.txt")}`,
    );
    assertEquals(renderTree(forest), golden, e.name);
    n++;
  }
  if (n < 8) throw new Error(`only ${n} recordings in fixtures/`);
});

Deno.test("procrec replay prints the golden tree and summary", async () => {
  const tree = await procrec("replay", "fixtures/windows.cbor");
  assertEquals(tree.code, 0, tree.stderr);
  assertEquals(tree.stdout, await Deno.readTextFile(`${FIX}/windows.tree.txt`));
  assertEquals(tree.stderr, "");
  const sum = await procrec("replay", "fixtures/orphans.cbor", "--summary");
  assertEquals(
    sum.stdout,
    await Deno.readTextFile(`${FIX}/orphans.summary.txt`),
  );
});

Deno.test("procrec replay filters by image, pid, subtree and time", async () => {
  const img = await procrec("replay", "fixtures/make.cbor", "--image", "cc1");
  const lines = img.stdout.trimEnd().split("\n");
  // two matches under their ancestors bash, make, sh, gcc
  assertEquals(lines.filter((l) => l.includes("* ")).length, 2, img.stdout);
  assertEquals(lines.length, 8, img.stdout);
  const pid = await procrec("replay", "fixtures/make.cbor", "--pid", "1012");
  if (!pid.stdout.includes("* ld -o app")) throw new Error(pid.stdout);
  const sub = await procrec(
    "replay",
    "fixtures/make.cbor",
    "--subtree",
    "1010",
  );
  assertEquals(
    sub.stdout.trimEnd().split("\n").filter((l) => l.includes("* ")).length,
    3,
  );
  const win = await procrec(
    "replay",
    "fixtures/failing.cbor",
    "--from",
    "1s",
    "--to",
    "1.011s",
  );
  // timeout and sleep ran until ~1.008s, the crasher starts at 1.010s
  if (!win.stdout.includes("* ./crasher") || win.stdout.includes("* python3")) {
    throw new Error(win.stdout);
  }
  const none = await procrec(
    "replay",
    "fixtures/make.cbor",
    "--image",
    "nothing-like-this",
  );
  assertEquals(none.stdout, "(no process matches)\n");
  const bad = await procrec("replay", "fixtures/make.cbor", "--from", "soon");
  assertEquals(bad.code, 2);
});

Deno.test("procrec replay --json gives the forest with stable ids", async () => {
  const r = await procrec("replay", "fixtures/windows.cbor", "--json");
  assertEquals(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertEquals(j.meta.os, "windows");
  assertEquals(j.processes.length, 9);
  const spoofed = j.processes.find((p: { image?: string }) =>
    p.image?.endsWith("rundll32.exe")
  );
  assertEquals(spoofed.flags, ["parent-differs-from-creator"]);
  if (!/^\{[0-9a-f]{8}-/.test(spoofed.id)) throw new Error(spoofed.id);
  assertEquals(j.report.complete, true);
});

Deno.test("a recording diffed with itself is empty and exits 0", async () => {
  for (const f of ["make", "windows", "orphans"]) {
    const r = await procrec("diff", `fixtures/${f}.cbor`, `fixtures/${f}.cbor`);
    assertEquals([r.code, r.stdout, r.stderr], [0, "no differences\n", ""], f);
  }
  const j = await procrec(
    "replay",
    "--diff",
    "fixtures/make.cbor",
    "fixtures/make.cbor",
    "--json",
  );
  assertEquals(j.code, 0);
  assertEquals(JSON.parse(j.stdout).same, true);
});

Deno.test("the same workload with other pids and times diffs empty", async () => {
  for (const f of ["make", "pipeline", "windows"]) {
    const r = await procrec(
      "diff",
      `fixtures/${f}.cbor`,
      `fixtures/${f}_b.cbor`,
    );
    assertEquals([r.code, r.stdout], [0, "no differences\n"], f);
  }
});

Deno.test("golden diffs, byte-identical over repeated runs, exit 1", async () => {
  for (const [name, a, b] of GOLDEN_DIFFS) {
    const golden = await Deno.readTextFile(`${FIX}/${name}.diff.txt`);
    const runs = await Promise.all(
      [1, 2, 3].map(() => procrec("diff", `fixtures/${a}`, `fixtures/${b}`)),
    );
    for (const r of runs) {
      assertEquals(r.code, golden === "" ? 0 : 1, name);
      // the CLI names the inputs as given
      assertEquals(
        r.stdout,
        golden === ""
          ? "no differences\n"
          : golden.replace(`--- ${a}`, `--- fixtures/${a}`).replace(
            `+++ ${b}`,
            `+++ fixtures/${b}`,
          ),
        name,
      );
    }
  }
  const via = await procrec(
    "replay",
    "--diff",
    "fixtures/make.cbor",
    "fixtures/make_broken.cbor",
    "--json",
  );
  assertEquals(via.code, 1);
  const j = JSON.parse(via.stdout);
  assertEquals([j.added.length, j.removed.length, j.changed.length], [1, 1, 2]);
});

Deno.test("--ignore-argv and --no-normalize change what counts as the same", async () => {
  const plain = await procrec(
    "diff",
    "fixtures/make.cbor",
    "fixtures/make_broken.cbor",
    "--json",
  );
  const ignored = await procrec(
    "diff",
    "fixtures/make.cbor",
    "fixtures/make_broken.cbor",
    "--json",
    "--ignore-argv",
    " ?--as-needed",
  );
  assertEquals(JSON.parse(plain.stdout).changed.length, 2);
  assertEquals(JSON.parse(ignored.stdout).changed.length, 1);
  // windows_b has the same temp dir, so without normalization it is still the same
  const nn = await procrec(
    "diff",
    "fixtures/windows.cbor",
    "fixtures/windows_b.cbor",
    "--no-normalize",
  );
  assertEquals(nn.code, 0);
  const badRe = await procrec(
    "diff",
    "fixtures/make.cbor",
    "fixtures/make.cbor",
    "--ignore-argv",
    "(",
  );
  assertEquals(badRe.code, 2);
});

Deno.test("input that is not a recording is one clear error, exit 2", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello, not CBOR\n");
    for (
      const args of [["replay", `${dir}/notes.txt`], [
        "diff",
        `${dir}/notes.txt`,
        "fixtures/make.cbor",
      ], ["replay", `${dir}/missing.cbor`]]
    ) {
      const r = await procrec(...args);
      assertEquals(r.code, 2, args.join(" "));
      assertEquals(r.stdout, "");
      const lines = r.stderr.trimEnd().split("\n");
      if (
        lines.length !== 1 ||
        !lines[0].startsWith("procrec: Cannot read recording")
      ) {
        throw new Error(r.stderr);
      }
    }
  });
});

Deno.test("a truncated recording shows its complete chunks and says where it stopped", async () => {
  await withTempDir(async (dir) => {
    const bytes = await Deno.readFile(`${FIX}/make.cbor`);
    const cut = `${dir}/cut.cbor`;
    await Deno.writeFile(
      cut,
      bytes.subarray(0, Math.floor(bytes.length * 0.6)),
    );
    const r = await procrec("replay", cut);
    assertEquals(r.code, 0, r.stderr);
    if (!r.stdout.includes("make -j2")) throw new Error(r.stdout);
    if (!/chunk \d+, offset \d+: truncated/.test(r.stderr)) {
      throw new Error(r.stderr);
    }
    if (!r.stderr.includes("incomplete")) throw new Error(r.stderr);
  });
});

Deno.test("a bit-flipped chunk is skipped and reported; the other chunks still replay", async () => {
  await withTempDir(async (dir) => {
    const bytes = await Deno.readFile(`${FIX}/make.cbor`);
    const r0 = await RecordingReader.open(`${FIX}/make.cbor`);
    const chunks = await Array.fromAsync(r0.chunks());
    const victim = chunks[2];
    const flipped = bytes.slice();
    flipped[victim.offset + victim.length - 3] ^= 0x10; // inside its body
    await Deno.writeFile(`${dir}/flipped.cbor`, flipped);
    const r = await procrec("replay", `${dir}/flipped.cbor`);
    assertEquals(r.code, 0, r.stderr);
    if (!r.stdout.includes("make -j2")) throw new Error(r.stdout);
    if (!r.stderr.includes(`chunk 2, offset ${victim.offset}: damaged`)) {
      throw new Error(r.stderr);
    }
    // the events of the skipped chunk are a lost span: processes over it say so
    if (!r.stdout.includes("in-lost-span")) throw new Error(r.stdout);
  });
});

Deno.test("recordings of format version 1 (fixtures/v1/) still replay to their golden trees", async () => {
  for (const name of ["make", "windows"]) {
    const r = await RecordingReader.open(`${FIX}/v1/${name}.cbor`);
    assertEquals(r.header.version, 1, `${name}: a version 1 recording`);
    const forest = await analyze(r.events(), {
      os: r.header.os,
      bootId: r.header.bootId,
    });
    if (!r.report.complete) throw new Error(`v1/${name}.cbor is not complete`);
    assertEquals(
      renderTree(forest),
      await Deno.readTextFile(`${FIX}/v1/${name}.tree.txt`),
      `v1/${name}`,
    );
    const cli = await procrec("replay", `fixtures/v1/${name}.cbor`);
    assertEquals(cli.code, 0, cli.stderr);
  }
});

Deno.test("recordings of format version 4 (fixtures/v4/, before image_hash events) still replay with their identity fields", async () => {
  // written by the version 4 writer (tests/fixtures_gen.ts of the commit
  // before format 5): users, setuid, fileless, no-exec, argv-truncated,
  // Sysmon hashes and container, shown by today's reader as then
  for (const name of ["identity", "windows_identity"]) {
    const r = await RecordingReader.open(`${FIX}/v4/${name}.cbor`);
    assertEquals(r.header.version, 4, `${name}: a version 4 recording`);
    const forest = await analyze(r.events(), {
      os: r.header.os,
      bootId: r.header.bootId,
    });
    if (!r.report.complete) throw new Error(`v4/${name}.cbor is not complete`);
    assertEquals(
      renderTree(forest, { wide: true }),
      await Deno.readTextFile(`${FIX}/v4/${name}.tree.txt`),
      `v4/${name}`,
    );
    const cli = await procrec("replay", "--wide", `fixtures/v4/${name}.cbor`);
    assertEquals(cli.code, 0, cli.stderr);
    assertEquals(
      cli.stdout,
      await Deno.readTextFile(`${FIX}/v4/${name}.tree.txt`),
    );
  }
});
