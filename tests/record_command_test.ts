/**
 * `procrec record -- COMMAND`: the command's subtree is marked and can be kept
 * alone, its exit status passes through, the live summary equals the replay
 * summary, and SIGTERM or --duration close a system-wide recording cleanly.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  buildC,
  captureTest,
  captureUnavailable,
  exists,
  PROCREC,
  procrec,
  waitForPath,
  withTempDir,
  withTmpfs,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

async function readAll(path: string) {
  const reader = await RecordingReader.open(path);
  const events = await Array.fromAsync(reader.events());
  return { reader, events };
}

async function waitFor(path: string, child: Deno.ChildProcess): Promise<void> {
  if (!(await waitForPath(path, { child }))) {
    throw new Error(`${path} did not appear`);
  }
}

const argvOf = (e: ProcEvent) =>
  e.kind === "exec" || e.kind === "process_create" ||
    e.kind === "process_snapshot"
    ? e.info?.argv ?? []
    : [];

/**
 * Records a command that waits for the test: while it waits, the test runs an
 * unrelated process, then lets the command go on. Returns the recorder's run.
 */
async function recordWithBystander(dir: string, name: string, only: boolean) {
  const out = `${dir}/${name}.cbor`;
  const go = `${dir}/${name}.go`;
  const child = new Deno.Command(PROCREC, {
    args: [
      "record",
      ...(only ? ["--only-command"] : []),
      "-o",
      out,
      "--",
      "sh",
      "-c",
      `while [ ! -e ${go} ]; do sleep 0.05; done; /bin/sleep 0.1; sh -c 'exit 4' inner-marker`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await waitFor(`${out}.incomplete`, child);
  // a process outside the command's subtree, alive long enough to be read
  const by = new Deno.Command("sh", {
    args: ["-c", "sleep 0.3", "bystander-marker"],
  }).spawn();
  assert((await by.status).success);
  await Deno.writeTextFile(go, "");
  const o = await child.output();
  const d = new TextDecoder();
  return {
    out,
    bystander: by.pid,
    code: o.code,
    stdout: d.decode(o.stdout),
    stderr: d.decode(o.stderr),
  };
}

captureTest(
  "record --only-command keeps a child the command makes with CLONE_PARENT (its parent is the recorder) and that child's own children, with either source",
  async () => {
    await withTempDir(async (dir) => {
      const bin = await buildC("tests/clone_parent_helper.c", `${dir}/cp`);
      for (const source of ["netlink", "ebpf"]) {
        const out = `${dir}/${source}.cbor`;
        const r = await procrec([
          "record",
          "-q",
          "--source",
          source,
          "--only-command",
          "-o",
          out,
          "--",
          bin,
        ]);
        assertEquals(r.code, 0, r.stderr);
        const { events } = await readAll(out);
        for (
          const marker of ["clone-parent-child", "clone-parent-grandchild"]
        ) {
          assert(
            events.some((e) => e.kind === "exec" && argvOf(e).includes(marker)),
            `${source}: the exec of ${marker} is missing`,
          );
        }
        // the child's parent is the recorder, not a member: kept all the same
        const created = events.filter((e) => e.kind === "process_create");
        assertEquals(
          created.length,
          3,
          `${source}: ${JSON.stringify(created)}`,
        );
      }
    }, "procrec-cmd-");
  },
  why,
);

captureTest(
  "record --only-command keeps only the command's subtree; without it the host's other processes are in",
  async () => {
    await withTempDir(async (dir) => {
      const only = await recordWithBystander(dir, "only", true);
      assertEquals(
        only.code,
        4,
        `the command's exit status passes through: ${only.stderr}`,
      );
      const a = await readAll(only.out);
      assert(a.reader.report.complete);
      const cmd = a.reader.header.command;
      assert(
        cmd?.pid && cmd.onlyCommand === true && cmd.argv[0] === "sh",
        JSON.stringify(cmd),
      );
      const members = new Set([cmd.pid]);
      for (const e of a.events) {
        if (e.kind === "process_create") {
          assert(
            members.has(e.ppid) || e.pid === cmd.pid,
            `process ${e.pid} of parent ${e.ppid} is outside the subtree`,
          );
          members.add(e.pid);
        } else if (e.kind !== "lost" && e.kind !== "accounts") {
          assert(
            members.has(e.pid),
            `${e.kind} of pid ${e.pid} is outside the subtree`,
          );
        }
      }
      assert(
        !a.events.some((e) => e.kind === "process_snapshot"),
        "snapshots of other processes kept",
      );
      assert(
        !a.events.some((e) => argvOf(e).includes("bystander-marker")),
        "the bystander was kept",
      );
      assert(
        !a.events.some((e) => e.pid === only.bystander),
        "events of the bystander's pid were kept",
      );
      assert(
        a.events.some((e) => e.kind === "exec" && e.pid !== cmd.pid),
        "the command's children are in",
      );
      assert(
        a.events.some((e) =>
          e.kind === "process_exit" && e.pid === cmd.pid && e.status === 4 << 8
        ),
        "the command's own exit is in",
      );
      assert(
        a.events.some((e) => e.kind === "process_create" && e.pid === cmd.pid),
        "the command's own creation is in",
      );

      // the control: the same without --only-command sees the bystander
      const all = await recordWithBystander(dir, "all", false);
      assertEquals(all.code, 4, all.stderr);
      const b = await readAll(all.out);
      assert(
        b.events.some((e) => e.kind === "process_snapshot"),
        "a system-wide recording has snapshots",
      );
      assert(
        b.events.some((e) =>
          e.kind === "process_create" && e.pid === all.bystander
        ),
        "the system-wide recording lacks the bystander",
      );

      // one analysis: the live summary printed by record equals the replay summary
      for (const run of [only, all]) {
        const replay = await procrec(["replay", run.out, "--summary"]);
        assertEquals(replay.code, 0, replay.stderr);
        // stdout is the recorded command's (which prints nothing here)
        assertEquals(run.stdout, "", "record printed on stdout");
        assert(replay.stdout.length > 0, "replay printed no summary");
        assert(
          run.stderr.endsWith(replay.stdout),
          `live summary (stderr) vs replay summary:\n${run.stderr}\n---\n${replay.stdout}`,
        );
      }
    }, "procrec-cmd-");
  },
  why,
);

captureTest(
  "record passes through a command's death by signal as 128 + signal",
  async () => {
    await withTempDir(async (dir) => {
      const r = await procrec([
        "record",
        "--only-command",
        "-o",
        `${dir}/k.cbor`,
        "--",
        "sh",
        "-c",
        "kill -9 $$",
      ]);
      assertEquals(r.code, 137, r.stderr);
      const { reader, events } = await readAll(`${dir}/k.cbor`);
      const pid = reader.header.command?.pid;
      assert(
        events.some((e) =>
          e.kind === "process_exit" && e.pid === pid && e.status === 9
        ),
      );
    }, "procrec-sig-");
  },
  why,
);

captureTest(
  "record keeps stdout for the command: its summary is on stderr, --quiet leaves it out",
  async () => {
    await withTempDir(async (dir) => {
      const cmd = ["--", "sh", "-c", "echo stdout-marker"];
      const loud = await procrec([
        "record",
        "--only-command",
        "-o",
        `${dir}/loud.cbor`,
        ...cmd,
      ]);
      assertEquals(loud.code, 0, loud.stderr);
      assertEquals(loud.stdout, "stdout-marker\n");
      assert(
        loud.stderr.includes("procrec: recorded ") &&
          loud.stderr.includes("processes"),
        loud.stderr,
      );
      const quiet = await procrec([
        "record",
        "--quiet",
        "--only-command",
        "-o",
        `${dir}/quiet.cbor`,
        ...cmd,
      ]);
      assertEquals(quiet.code, 0, quiet.stderr);
      assertEquals(quiet.stdout, "stdout-marker\n");
      assertEquals(quiet.stderr, "", "--quiet printed something");
      const { reader } = await readAll(`${dir}/quiet.cbor`);
      assert(reader.report.complete, "the quiet recording is complete");
    }, "procrec-quiet-");
  },
  why,
);

captureTest(
  "SIGTERM stops a system-wide recording cleanly: drained, trailer, renamed",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/host.cbor`;
      const child = new Deno.Command(PROCREC, {
        args: ["record", "-o", out],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitFor(`${out}.incomplete`, child);
      await new Deno.Command("/bin/true", { args: ["sigterm-marker"] })
        .output();
      child.kill("SIGTERM");
      const o = await child.output();
      assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
      assert(
        !(await exists(`${out}.incomplete`)),
        "the .incomplete file was renamed",
      );
      const { reader, events } = await readAll(out);
      assert(reader.report.complete, JSON.stringify(reader.report.problems));
      assert(events.some((e) => e.kind === "process_snapshot"));
      assert(
        events.some((e) => e.kind === "process_exit"),
        "events recorded before the signal are in",
      );
    }, "procrec-term-");
  },
  why,
);

captureTest(
  "record --duration stops by itself with a complete recording",
  async () => {
    await withTempDir(async (dir) => {
      const r = await procrec([
        "record",
        "--duration",
        "300ms",
        "-o",
        `${dir}/d.cbor`,
      ]);
      assertEquals(r.code, 0, r.stderr);
      const { reader, events } = await readAll(`${dir}/d.cbor`);
      assert(reader.report.complete);
      assert(events.length > 0);
      assertEquals(reader.header.options.durationMs, 300);
      assert(
        reader.header.bootId.length > 0 && reader.header.kernel.length > 0,
      );
      assert(
        /^(netlink|ebpf)$/.test(reader.header.source.name),
        reader.header.source.name,
      );
    }, "procrec-dur-");
  },
  why,
);

captureTest("the live status line is shown on a terminal only", async () => {
  await withTempDir(async (dir) => {
    // script(1) gives the recorder a pseudo-terminal and copies what it shows
    const tty = await new Deno.Command("script", {
      args: [
        "-qec",
        `${PROCREC} record --duration 1500ms -o ${dir}/tty.cbor`,
        "/dev/null",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const shown = new TextDecoder().decode(tty.stdout);
    assertEquals(tty.code, 0, shown);
    assert(
      /recording \d+\.\ds +[\d,]+ events +[\d,]+ events\/s +[\d,]+ processes +[\d,]+ lost/
        .test(shown),
      shown,
    );
    const piped = await procrec([
      "record",
      "--duration",
      "1500ms",
      "-o",
      `${dir}/pipe.cbor`,
    ]);
    assertEquals(piped.code, 0, piped.stderr);
    assert(
      !piped.stderr.includes("events/s") && !piped.stderr.includes("\r"),
      piped.stderr,
    );
  }, "procrec-tty-");
}, why);

captureTest(
  "SIGINT to the recorder reaches the command, and the recording still closes cleanly",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/int.cbor`;
      const ready = `${dir}/ready`;
      const child = new Deno.Command(PROCREC, {
        args: [
          "record",
          "--only-command",
          "-o",
          out,
          "--",
          "sh",
          "-c",
          `trap 'exit 7' INT; touch ${ready}; while :; do sleep 0.05; done`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitFor(ready, child);
      child.kill("SIGINT");
      const o = await child.output();
      assertEquals(o.code, 7, new TextDecoder().decode(o.stderr));
      const { reader, events } = await readAll(out);
      assert(reader.report.complete, JSON.stringify(reader.report.problems));
      const pid = reader.header.command?.pid;
      assert(
        events.some((e) =>
          e.kind === "process_exit" && e.pid === pid && e.status === 7 << 8
        ),
      );
    }, "procrec-int-");
  },
  why,
);

captureTest(
  "record refuses to replace an existing recording unless --force",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/x.cbor`;
      await Deno.writeTextFile(out, "precious");
      const r = await procrec(["record", "--duration", "100ms", "-o", out]);
      assertEquals(r.code, 2);
      assert(r.stderr.includes("the file exists"), r.stderr);
      assertEquals(await Deno.readTextFile(out), "precious");
      const f = await procrec([
        "record",
        "--force",
        "--duration",
        "100ms",
        "-o",
        out,
      ]);
      assertEquals(f.code, 0, f.stderr);
      const { reader } = await readAll(out);
      assert(reader.report.complete);
      // a recording not closed under the name: named, and what it may be
      const left = `${dir}/y.cbor`;
      await Deno.writeFile(`${left}.incomplete`, new Uint8Array(0));
      const y = await procrec(["record", "--duration", "100ms", "-o", left]);
      assertEquals(y.code, 2, y.stderr);
      assert(
        y.stderr.includes(
          `"${left}.incomplete" exists, a recording not closed`,
        ) && y.stderr.includes(`procrec verify "${left}.incomplete"`),
        y.stderr,
      );
      assertEquals((await Deno.stat(`${left}.incomplete`)).size, 0);
    }, "procrec-force-");
  },
  why,
);

captureTest(
  "record names the output path when it cannot be written, and the command when it is not found",
  async () => {
    await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/file`, "");
      const bad = `${dir}/file/x.cbor`;
      const r = await procrec(["record", "-o", bad, "--", "true"]);
      assertEquals(r.code, 2, r.stderr);
      assert(
        r.stderr.includes(
          `Cannot record to "${bad}": a parent is not a directory`,
        ),
        r.stderr,
      );
      const out = `${dir}/y.cbor`;
      const c = await procrec(["record", "-o", out, "--", "no-such-command-x"]);
      assertEquals(c.code, 2, c.stderr);
      assert(
        c.stderr.includes('Cannot run command "no-such-command-x": not found'),
        c.stderr,
      );
      // --force replaces a file, not a directory: refused before recording
      await Deno.mkdir(`${dir}/adir`);
      const d = await procrec([
        "record",
        "-f",
        "-o",
        `${dir}/adir`,
        "--",
        "true",
      ]);
      assertEquals(d.code, 2, d.stderr);
      assert(d.stderr.includes("it is a directory"), d.stderr);
      // nothing half-written is left behind
      assertEquals(
        [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
        ["adir", "file"],
      );
    }, "procrec-badout-");
  },
  why,
);

captureTest(
  "record without the library names it once, exit status 2, and writes nothing",
  async () => {
    await withTempDir(async (dir) => {
      const lib = `${dir}/no-such-libprocrec.so`;
      const r = await procrec(["record", "-o", `${dir}/x.cbor`, "--", "true"], {
        env: { PROCREC_LIB: lib },
      });
      assertEquals(r.code, 2, r.stderr);
      assert(
        r.stderr.includes(`Cannot load the procrec library "${lib}"`),
        r.stderr,
      );
      // the cause's text is in the message already: not printed twice
      assert(!r.stderr.includes("cause:"), r.stderr);
      assertEquals([...Deno.readDirSync(dir)], []);
    }, "procrec-nolib-");
  },
  why,
);

captureTest(
  "record onto a full disk says which recording could not be written, exit status 2, and leaves it readable",
  async () => {
    await withTempDir(async (dir) => {
      await withTmpfs(dir, "16k", async () => {
        const out = `${dir}/x.cbor`;
        const r = await procrec([
          "record",
          "-o",
          out,
          "--",
          "sh",
          "-c",
          "for i in $(seq 1500); do /bin/true; done",
        ]);
        assertEquals(r.code, 2, r.stderr);
        assert(
          r.stderr.includes(`Cannot write recording "${out}.incomplete"`),
          r.stderr,
        );
        const reader = await RecordingReader.open(`${out}.incomplete`);
        await Array.fromAsync(reader.events());
        assert(!reader.report.complete);
        assertEquals(reader.header.command?.argv[0], "sh");
      });
    }, "procrec-full-");
  },
  why,
);

captureTest(
  "a session that fails on anything but a write leaves NAME.incomplete without a trailer, says why, exit status 2",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/x.cbor`;
      const r = await procrec([
        "record",
        "-o",
        out,
        "--",
        "sh",
        "-c",
        "for i in $(seq 20); do /bin/true; done; exec sleep 5",
      ], { env: { PROCREC_TEST_FAIL_READ_AFTER_MS: "1000" } });
      assertEquals(r.code, 2, r.stderr);
      assert(
        r.stderr.includes("Cannot read the event source") &&
          r.stderr.includes(`"${out}.incomplete", without a trailer`),
        r.stderr,
      );
      assert(!(await exists(out)), "the failed recording was renamed");
      const { reader, events } = await readAll(`${out}.incomplete`);
      assert(!reader.report.complete, "an abandoned recording is complete");
      assertEquals(reader.report.trailer, undefined);
      assert(events.some((e) => argvOf(e)[0] === "seq"), "the events are lost");
    }, "procrec-fail-");
  },
  why,
);

/** Whether process `pid` runs; ends it if so. */
async function endIfRunning(pidFile: string): Promise<boolean> {
  const pid = Number((await Deno.readTextFile(pidFile)).trim());
  try {
    Deno.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/** `procrec ARGS` with its output and the command's thrown away; its exit status and time. */
async function recordQuietly(args: string[]) {
  const t0 = performance.now();
  const s = await new Deno.Command(PROCREC, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return { code: s.code, ms: performance.now() - t0 };
}

captureTest(
  "a command that ignores SIGTERM outlives a recording stopped before it ends, as procrec says (found by review: Deno killed it when procrec exited)",
  async () => {
    await withTempDir(async (dir) => {
      const r = await recordQuietly([
        "record",
        "-q",
        "-o",
        `${dir}/a.cbor`,
        "--duration",
        "1s",
        "--",
        "sh",
        "-c",
        `echo $$ > ${dir}/pid; trap "" TERM; sleep 20; :`,
      ]);
      // (2: the command had not ended)
      assertEquals(r.code, 2);
      await new Promise((res) => setTimeout(res, 300));
      assert(await endIfRunning(`${dir}/pid`), "the command was killed");
    });
  },
  why,
);

captureTest(
  "a write error ends the recording even when its command ignores SIGTERM, which is left running (found by review: the recorder waited for it for ever, deaf to signals)",
  async () => {
    await withTempDir(async (dir) => {
      const disk = `${dir}/disk`;
      await Deno.mkdir(disk);
      await withTmpfs(disk, "16k", async () => {
        const r = await recordQuietly([
          "record",
          "-o",
          `${disk}/x.cbor`,
          "--",
          "sh",
          "-c",
          `echo $$ > ${dir}/pid; trap "" TERM; for i in $(seq 1500); do /bin/true; done; sleep 30; :`,
        ]);
        assertEquals(r.code, 2);
        assert(r.ms < 20_000, `it took ${r.ms} ms`);
        assert(await endIfRunning(`${dir}/pid`), "the command was killed");
      });
    });
  },
  why,
);
