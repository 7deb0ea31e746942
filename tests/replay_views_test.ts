/**
 * replay's --flag, --hash, --container, --at, --time, --summary --all and
 * --wide against the golden fixtures: the Linux identity fixture (users,
 * setuid, hashes, a container, a fileless image, cut arguments), the
 * Windows-shaped ones (Sysmon-style Hashes) and a real Sysmon import.
 */
import { code, Sim, writeRecording } from "./fixtures_gen.ts";
import {
  assert,
  assertEquals,
  procrec as runProcrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

const IDENTITY = "fixtures/identity.cbor";
const WIN_IDENTITY = "fixtures/windows_identity.cbor";
const ORPHANS = "fixtures/orphans.cbor";
const FAILING = "fixtures/failing.cbor"; // time base 2026-01-01T00:00:00Z
const WINDOWS = "fixtures/windows.cbor";
const LSASS =
  "fixtures/sysmon/otrf_lsass_campaign_01_logonpasswords_sysmon_eid1_eid5.jsonl";

const run = (args: string[], env?: Record<string, string>) =>
  runProcrec(args, { cwd: ROOT, env });

/** The pids replay marks as matching ("* "), sorted. */
async function marked(
  args: string[],
  env?: Record<string, string>,
): Promise<number[]> {
  const r = await run(["replay", ...args], env);
  assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return [...r.stdout.matchAll(/\* .*? \[(\d+)\]/g)].map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

Deno.test("--flag selects each flag; repeated flags OR, other kinds AND", async () => {
  const cases: [string, string[], number[]][] = [
    [IDENTITY, ["--flag", "setuid"], [1001]],
    [IDENTITY, ["--flag", "fileless"], [1004]],
    [IDENTITY, ["--flag", "argv-truncated"], [1005]],
    [IDENTITY, ["--flag", "no-exec"], [1003]],
    [IDENTITY, ["--flag", "existing-before-recording"], [1000]],
    [IDENTITY, ["--flag", "setuid", "--flag", "fileless"], [1001, 1004]],
    [IDENTITY, ["--flag", "fileless", "--signal", "KILL"], [1004]],
    [IDENTITY, ["--flag", "fileless", "--failed", "--user", "33"], []],
    [ORPHANS, ["--flag", "reparented"], [1004, 1007]],
    [ORPHANS, ["--flag", "in-lost-span"], [1000, 1001, 1004, 1007]],
    [ORPHANS, ["--flag", "no-exec"], [1003, 1006, 1007]],
    [ORPHANS, ["--flag", "reparented", "--flag", "no-exec"], [
      1003,
      1004,
      1006,
      1007,
    ]],
    [ORPHANS, ["--flag", "reparented", "--image", "sleep"], [1004]],
    [WINDOWS, ["--flag", "existing-before-recording"], [1000, 1008]],
    [WINDOWS, ["--flag", "parent-differs-from-creator"], [1044]],
    [WINDOWS, ["--flag", "no-exec"], []], // a Linux notion
  ];
  for (const [file, args, want] of cases) {
    assertEquals(await marked([file, ...args]), want, args.join(" "));
  }
});

Deno.test("--hash matches the start of any image hash, any case: recorded SHA-256 and Sysmon Hashes", async () => {
  const cases: [string, string[], number[]][] = [
    [IDENTITY, ["--hash", "5e884898"], [1001]],
    [IDENTITY, ["--hash", "9F86D081"], [1002]],
    [IDENTITY, ["--hash", "sha256:2c26b46b"], [1004]],
    [IDENTITY, ["--hash", "5e88", "--hash", "2c26"], [1001, 1004]],
    [IDENTITY, ["--hash", "5e88", "--flag", "fileless"], []],
    [IDENTITY, ["--hash", "ffffffff"], []],
    // Windows-shaped: SHA256, SHA1, MD5, IMPHASH of Sysmon's Hashes
    [WIN_IDENTITY, ["--hash", "9f86d081"], [1008]],
    [WIN_IDENTITY, ["--hash", "a94a8fe5"], [1008]],
    [WIN_IDENTITY, ["--hash", "5A105E8B"], [1016]],
    [WIN_IDENTITY, ["--hash", "f34d5f2d"], [1008]],
    [WIN_IDENTITY, ["--hash", "5e884898"], [1016]],
    [WINDOWS, ["--hash", "5e884898"], []], // no hashes recorded
  ];
  for (const [file, args, want] of cases) {
    assertEquals(await marked([file, ...args]), want, `${file} ${args}`);
  }
});

Deno.test("--hash on a Sysmon import: the processes whose Hashes name that image", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/lsass.cbor`;
    const im = await run(["import", "sysmon", LSASS, "-o", out]);
    assertEquals(im.code, 0, im.stderr);
    const text = await Deno.readTextFile(`${ROOT}${LSASS}`);
    // every process create of msedge.exe carries this SHA-256 and MD5
    const creates = text.split("\n").filter((l) =>
      l.includes('"EventID":1,') &&
      l.includes(
        "SHA256=73D84D249F16B943D1D3F9DD9E516FADD323E70939C29B4A640693EB8818EE9A",
      )
    ).length;
    assert(creates > 1, `${creates} creates`);
    const bySha = await marked([out, "--hash", "73d84d249f16"]);
    assertEquals(bySha.length, creates);
    assertEquals(await marked([out, "--hash", "AD8536C7440638D4"]), bySha);
  });
});

Deno.test("--container matches an id's start, runtime:id, any case; with other kinds AND", async () => {
  const id = "3f4e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";
  const cases: [string[], number[]][] = [
    [["--container", "3f4e2a"], [1002]],
    [["--container", id.toUpperCase()], [1002]],
    [["--container", "docker:3f4e"], [1002]],
    [["--container", "podman:3f4e"], []],
    [["--container", "abcdef"], []],
    [["--container", "abcdef", "--container", "3f4e"], [1002]],
    [["--container", "3f4e", "--user", "www-data"], []],
    [["--container", "3f4e", "--user", "33"], [1002]],
  ];
  for (const [args, want] of cases) {
    assertEquals(await marked([IDENTITY, ...args]), want, args.join(" "));
  }
  assertEquals(await marked([WIN_IDENTITY, "--container", "3f4e"]), []);
});

Deno.test("bad --flag, --hash, --container, --time, --at values exit 2 naming the option", async () => {
  const bad: [string[], string][] = [
    [["--flag", "suid"], '--flag "suid" is not a flag'],
    [["--hash", "xyz123"], "not a hash prefix"],
    [["--hash", "abc"], "not a hash prefix"],
    [["--container", " "], "--container"],
    [["--time", "gmt"], '--time "gmt"'],
    [["--at", "noon"], '--at "noon" is not a time'],
    [["--at", "1s", "--from", "0s"], "--at"],
    [["--all"], "--all goes with --summary"],
  ];
  for (const [args, text] of bad) {
    const r = await run(["replay", IDENTITY, ...args]);
    assertEquals(r.code, 2, args.join(" "));
    assert(r.stderr.includes(text), `${args.join(" ")}: ${r.stderr}`);
    assertEquals(r.stdout, "");
  }
});

Deno.test("--at T: the processes alive at T, in every time form", async () => {
  const want = [1000, 1003, 1004]; // bash, timeout and sleep at +0.5s
  const forms: [string, Record<string, string>?][] = [
    ["0.5s"],
    ["500ms"],
    ["2026-01-01T00:00:00.5Z"],
    ["2026-01-01T01:00:00.500+01:00"],
    ["00:00:00.5", { TZ: "UTC" }],
    ["01:00:00.5", { TZ: "Europe/Berlin" }],
  ];
  for (const [t, env] of forms) {
    assertEquals(await marked([FAILING, "--at", t], env), want, t);
  }
  // before anything started: only the shell that ran before the recording
  assertEquals(await marked([FAILING, "--at", "-1s"]), [1000]);
  assertEquals(await marked([FAILING, "--at", "1.0105s"]), [1000, 1005]);
  // Windows-shaped: the spoofed rundll32 is alive at +0.010s
  assert(
    (await marked([WINDOWS, "--at", "0.010s"])).includes(1044),
    "rundll32 alive",
  );
  // a tree: ancestors shown for context, unmarked
  const r = await run(["replay", ORPHANS, "--at", "1s"]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("└─ * sleep 5  [1004]"), r.stdout);
});

Deno.test("--time utc|local|relative in the tree, --summary and --events; defaults relative, relative, utc", async () => {
  const tree = async (args: string[], env?: Record<string, string>) => {
    const r = await run(["replay", FAILING, "--pid", "1005", ...args], env);
    assertEquals(r.code, 0, r.stderr);
    return r.stdout.split("\n").find((l) => l.includes("[1005]"))!;
  };
  assert((await tree([])).includes("[1005]  +1.010s  "));
  assert((await tree(["--time", "relative"])).includes("[1005]  +1.010s  "));
  assert(
    (await tree(["--time", "utc"])).includes(
      "[1005]  2026-01-01T00:00:01.010Z  ",
    ),
  );
  assert(
    (await tree(["--time", "local"], { TZ: "America/New_York" })).includes(
      "[1005]  2025-12-31T19:00:01.010-05:00  ",
    ),
  );
  assert(
    (await tree(["--time", "local"], { TZ: "Asia/Kolkata" })).includes(
      "[1005]  2026-01-01T05:30:01.010+05:30  ",
    ),
  );
  // the snapshot's start, before the time base
  const bash = (await run(["replay", FAILING, "--time", "utc"])).stdout;
  assert(bash.startsWith("bash  [1000]  2025-12-31T23:59:55.001Z  "), bash);

  const summary = async (args: string[], env?: Record<string, string>) => {
    const r = await run(["replay", FAILING, "--summary", ...args], env);
    assertEquals(r.code, 0, r.stderr);
    return r.stdout.split("\n").find((l) => l.startsWith("time: "));
  };
  assertEquals(await summary([]), "time: +0.001s to +1.013s (1.012s)");
  assertEquals(
    await summary(["--time", "utc"]),
    "time: 2026-01-01T00:00:00.001Z to 2026-01-01T00:00:01.013Z (1.012s)",
  );
  assertEquals(
    await summary(["--time", "local"], { TZ: "Europe/Berlin" }),
    "time: 2026-01-01T01:00:00.001+01:00 to 2026-01-01T01:00:01.013+01:00 (1.012s)",
  );

  const events = async (args: string[], env?: Record<string, string>) => {
    const r = await run(
      ["replay", FAILING, "--events", "--pid", "1006", ...args],
      env,
    );
    assertEquals(r.code, 0, r.stderr);
    return r.stdout.split("\n")[0].split("  ")[0];
  };
  assertEquals(await events([]), "2026-01-01T00:00:01.012150000Z");
  assertEquals(
    await events(["--time", "utc"]),
    "2026-01-01T00:00:01.012150000Z",
  );
  assertEquals(await events(["--time", "relative"]), "+1.012150000s");
  assertEquals(
    await events(["--time", "local"], { TZ: "Europe/Berlin" }),
    "2026-01-01T01:00:01.012150000+01:00",
  );
  // JSON lines keep UTC and the offset whatever --time says
  const j = await run([
    "replay",
    FAILING,
    "--events",
    "--json",
    "--time",
    "local",
    "--pid",
    "1006",
  ]);
  const row = JSON.parse(j.stdout.split("\n")[0]);
  assertEquals([row.time, row.t], [
    "2026-01-01T00:00:01.012150000Z",
    1012150000,
  ]);
});

Deno.test("--summary --all lists every failure; --wide prints commands and tree lines uncut", async () => {
  await withTempDir(async (dir) => {
    const s = new Sim("linux", { pidBase: 100, t0: 1_000_000, seed: 7 });
    const sh = s.snapshot(1, { image: "/usr/bin/bash", argv: ["bash"] });
    const arg = "x".repeat(300);
    for (let i = 0; i < 25; i++) {
      const p = s.run(sh, "/usr/bin/false", ["false", `job-${i}`, arg]);
      s.exit(p, code(1));
    }
    const file = `${dir}/many.cbor`;
    await writeRecording(file, "linux", "many", s.events);

    const cut = await run(["replay", file, "--summary"]);
    assertEquals(cut.code, 0, cut.stderr);
    const listed = (t: string) =>
      t.split("\n").filter((l) => /^ {2}exit 1 {2}pid /.test(l));
    assertEquals(listed(cut.stdout).length, 20);
    assert(cut.stdout.includes("  ... 5 more"), cut.stdout);
    assert(listed(cut.stdout).every((l) => l.endsWith("...")));

    const all = await run(["replay", file, "--summary", "--all"]);
    assertEquals(listed(all.stdout).length, 25);
    assert(!all.stdout.includes("more"), all.stdout);

    const wide = await run(["replay", file, "--summary", "--all", "--wide"]);
    const lines = listed(wide.stdout);
    assertEquals(lines.length, 25);
    assert(lines.every((l) => l.endsWith(arg)), lines[0]);
    assert(lines[24].includes("job-24"), lines[24]);

    const j = await run(["replay", file, "--summary", "--all", "--json"]);
    assertEquals(JSON.parse(j.stdout).failures.length, 25);

    const tree = await run(["replay", file]);
    const treeWide = await run(["replay", file, "--wide"]);
    const job = (t: string) => t.split("\n").find((l) => l.includes("job-3"))!;
    assert(job(tree.stdout).includes("xxx...  ["), job(tree.stdout));
    assert(job(treeWide.stdout).includes(`${arg}  [`), job(treeWide.stdout));
  });
});
