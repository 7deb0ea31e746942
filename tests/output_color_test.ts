/**
 * Colour on a terminal only (a pseudo-terminal made by script(1)), never
 * into a pipe, and not with NO_COLOR; evidence cannot carry colour markers;
 * a diff of a long command line marks the changed tokens instead of
 * printing both lines.
 */
import { analyze, renderTree } from "../cli/analysis/mod.ts";
import { applyStyles } from "../cli/text/style.ts";
import { Sim, writeRecording } from "./fixtures_gen.ts";
import {
  assert,
  assertEquals,
  PROCREC,
  procrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

const ESC = "\x1b[";

/** `procrec ARGS` in a pseudo-terminal; what the terminal showed. */
async function inTerminal(
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const quoted = [PROCREC, ...args].map((a) =>
    `'${a.replaceAll("'", "'\\''")}'`
  )
    .join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qfec", quoted, "/dev/null"],
    cwd: ROOT,
    env: { TERM: "xterm", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("replay colours failures and flags on a terminal; not into a pipe, not with NO_COLOR", async () => {
  const tty = await inTerminal(["replay", "fixtures/failing.cbor"]);
  assert(tty.includes(`${ESC}31mexit 3${ESC}0m`), JSON.stringify(tty));
  assert(tty.includes(`${ESC}31msignal 9 (SIGKILL)${ESC}0m`), tty);
  assert(tty.includes(`${ESC}33m{ppid 1; existing-before-recording}`), tty);
  assert(!tty.includes(`${ESC}31mexit 0`), "success is not red");
  const plain = (await procrec(["replay", "fixtures/failing.cbor"], {
    cwd: ROOT,
  })).stdout;
  assert(!plain.includes("\x1b"), "no colour into a pipe");
  assertEquals(
    // deno-lint-ignore no-control-regex
    tty.replaceAll("\r\n", "\n").replace(/\x1b\[[0-9;]*m/g, ""),
    plain,
  );
  const noColor = await inTerminal(["replay", "fixtures/failing.cbor"], {
    NO_COLOR: "1",
  });
  assert(!noColor.includes("\x1b"), JSON.stringify(noColor));
  const summary = await inTerminal([
    "replay",
    "fixtures/failing.cbor",
    "--summary",
  ]);
  assert(summary.includes(`${ESC}31mfailures: 6${ESC}0m`), summary);
});

Deno.test("evidence cannot carry colour: marker characters in argv print escaped", async () => {
  const f = await analyze([
    {
      kind: "process_create",
      t: 0,
      pid: 5,
      tid: 5,
      ppid: 1,
      ptid: 1,
      creatorPid: 1,
      creatorTid: 1,
      start: 0,
      info: { argv: ["evil", "\uE001RED\uE000"], from: {} },
    },
    { kind: "process_exit", t: 5, pid: 5, tid: 5, status: 256 },
  ], { os: "linux", bootId: "b" });
  const text = applyStyles(renderTree(f, { color: true }), true);
  assert(text.includes("\\ue001RED\\ue000"), JSON.stringify(text));
  assert(text.includes(`${ESC}31mexit 1${ESC}0m`), JSON.stringify(text));
  assert(!text.includes(`${ESC}31mRED`), "no colour from evidence");
});

Deno.test("diff of a long command line marks the changed tokens instead of printing both lines", async () => {
  await withTempDir(async (dir) => {
    const args = (profile: string) => [
      "java",
      "-Xmx2g",
      "-cp",
      "/opt/app/lib/a.jar:/opt/app/lib/b.jar:/opt/app/lib/c.jar",
      "-Dlog.level=info",
      "-Dcache.size=512",
      "com.example.Main",
      "--profile",
      profile,
      "--workers",
      "8",
    ];
    for (const [name, profile] of [["a", "blue"], ["b", "green"]]) {
      const s = new Sim("linux", { pidBase: 100, t0: 1_000_000, seed: 3 });
      const sh = s.snapshot(1, { image: "/usr/bin/bash", argv: ["bash"] });
      const p = s.run(sh, "/usr/bin/java", args(profile));
      s.exit(p, 0);
      await writeRecording(`${dir}/${name}.cbor`, "linux", name, s.events);
    }
    const r = await procrec(["diff", `${dir}/a.cbor`, `${dir}/b.cbor`]);
    assertEquals(r.code, 1, r.stderr);
    const line = r.stdout.split("\n").find((l) => l.startsWith("~"))!;
    assert(
      line.includes(
        "{argv: java ... com.example.Main --profile [-blue-]{+green+} --workers 8}",
      ),
      line,
    );
    // the old command line is not printed whole
    assert(!line.includes(args("blue").join(" ")), line);
    // a short command line still shows both (the golden diffs)
    const golden = await procrec([
      "diff",
      "fixtures/make.cbor",
      "fixtures/make_broken.cbor",
    ], { cwd: ROOT });
    assert(
      golden.stdout.includes(
        "{argv: ld -o app a.o b.o -> ld -o app a.o b.o --as-needed}",
      ),
      golden.stdout,
    );
    const tty = await inTerminal(["diff", `${dir}/a.cbor`, `${dir}/b.cbor`]);
    assert(tty.includes(`${ESC}31m[-blue-]${ESC}0m`), JSON.stringify(tty));
    assert(tty.includes(`${ESC}32m{+green+}${ESC}0m`), JSON.stringify(tty));
  });
});
