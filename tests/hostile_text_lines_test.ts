/**
 * Text from evidence, shown as it is: a newline in an image path, an
 * argument or a user name never starts a line of its own in a line-oriented
 * output (`replay --events`, `search`, `hunt`), as in the tree; a masquerade
 * (a first word naming another file) shows the image; a leading byte order
 * mark is kept.
 */
import {
  assert,
  assertEquals,
  buildC,
  captureTest,
  captureUnavailable,
  procrec,
  procrecRecord,
  withTempDir,
} from "./_record_helpers.ts";
import {
  exec,
  imageHash,
  processCreate,
  readCompleteEvents,
  testHeader,
  writeRecording,
} from "./_recording_helpers.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { analyze } from "../cli/analysis/mod.ts";
import { renderTextSummary } from "../cli/report/render_text_summary.ts";
import { unzip } from "./_bundle_helpers.ts";

const unavailable = await captureUnavailable();

Deno.test("replay --events, search and hunt escape a newline from evidence: no forged line", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    await writeRecording(rec, [
      processCreate(1000, 4000, 1),
      exec(2000, 4000, "/tmp/evil\nFORGED-IMAGE 1 bin ok", [
        "evil",
        "x\nFORGED-ARG",
      ]),
      { kind: "process_exit", t: 3000, pid: 4000, tid: 4000, status: 0 },
    ]);
    const rule = `${dir}/r.yml`;
    await Deno.writeTextFile(
      rule,
      "title: forged\nid: r\nlevel: high\nlogsource: {category: process_creation, product: linux}\ndetection:\n  s:\n    CommandLine|contains: FORGED\n  condition: s\n",
    );
    const runs = [
      ["replay", rec, "--events"],
      ["search", rec, "--cmdline", "FORGED"],
      ["hunt", "--rules", rule, rec],
    ];
    for (const args of runs) {
      const r = await procrec(args);
      assert(r.code === 0 || r.code === 1, `${args}: ${r.code} ${r.stderr}`);
      assert(r.stdout.includes("FORGED"), `${args}: ${r.stdout}`);
      for (const line of r.stdout.split("\n")) {
        assert(
          !/^FORGED/.test(line),
          `${args[0]} printed a forged line:\n${r.stdout}`,
        );
      }
      assert(r.stdout.includes("\\u000a"), `${args}: ${r.stdout}`);
    }
    // the tree escaped it already
    const tree = await procrec(["replay", rec]);
    assertEquals(tree.code, 0, tree.stderr);
    assert(!/^FORGED/m.test(tree.stdout), tree.stdout);
  });
});

Deno.test("an image hash, a hash state and a loss reason from evidence are escaped in the tree and the summary, and invisible characters show (found by review)", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    await writeRecording(rec, [
      processCreate(1000, 4000, 1),
      exec(2000, 4000, "/usr/sbin/sshd\u200b", ["sshd\u200b"]),
      imageHash(2500, 4000, 2000, "zz\n├─ /usr/bin/FORGED  [999]"),
      processCreate(2600, 4001, 1),
      exec(2700, 4001, "/bin/x", ["x"]),
      {
        kind: "image_hash",
        t: 2800,
        pid: 4001,
        tid: 4001,
        execT: 2700,
        status: "error\nFORGED-STATE" as "error",
        reason: "r",
      },
      {
        kind: "lost",
        t: 2900,
        pid: 0,
        tid: 0,
        reason: "ring\nFORGED-REASON" as "ring_full",
        count: 3,
      },
      { kind: "process_exit", t: 3000, pid: 4000, tid: 4000, status: 0 },
    ]);
    for (
      const args of [["replay", rec, "--wide"], ["replay", rec, "--summary"]]
    ) {
      const r = await procrec(args);
      assertEquals(r.code, 0, r.stderr);
      assert(r.stdout.includes("FORGED"), `${args}: ${r.stdout}`);
      for (const line of r.stdout.split("\n")) {
        assert(
          !/^\s*(├─ \/usr\/bin\/FORGED|FORGED)/.test(line),
          `${args.join(" ")} printed a forged line:\n${r.stdout}`,
        );
      }
    }
    // a zero-width space does not pass for nothing: sshd\u200b is not sshd
    const tree = await procrec(["replay", rec]);
    assert(tree.stdout.includes("sshd\\u200b"), tree.stdout);
  });
});

Deno.test("the six characters \\u202e in evidence never read as the escaped override: tree, events, diff, hunt and the report page tell them apart", async () => {
  await withTempDir(async (dir) => {
    // one process whose argument holds the real right-to-left override, one
    // whose argument holds the text of its escape (what an attacker types to
    // make a harmless command read like a masquerade, or the reverse)
    const real = `${dir}/real.cbor`, forged = `${dir}/forged.cbor`;
    const arg = (x: string) =>
      [
        processCreate(1000, 4000, 1),
        exec(2000, 4000, `/tmp/a${x}b`, ["tool", `x${x}y`]),
        { kind: "process_exit", t: 3000, pid: 4000, tid: 4000, status: 0 },
      ] as ProcEvent[];
    await writeRecording(real, arg("\u202e"));
    await writeRecording(forged, arg("\\u202E"));
    // (a Windows path's backslashes stay as they are)
    await writeRecording(`${dir}/win.cbor`, [
      processCreate(1000, 4000, 1),
      exec(2000, 4000, "C:\\Users\\user\\tool.exe", [
        "C:\\Users\\user\\tool.exe",
      ]),
    ]);
    const shown = async (args: string[]) => {
      const r = await procrec(args);
      assert(r.code === 0 || r.code === 1, `${args}: ${r.code} ${r.stderr}`);
      return r.stdout;
    };
    for (const args of [["replay", "--wide"], ["replay", "--events"]]) {
      const a = await shown([...args, real]);
      const b = await shown([...args, forged]);
      assert(a.includes("x\\u202ey"), `${args}: ${a}`);
      assert(b.includes("x\\u005cu202Ey"), `${args}: ${b}`);
      assert(!b.includes("x\\u202E"), `${args}: ${b}`);
    }
    const d = await shown(["diff", real, forged]);
    assert(d.includes("\\u202e") && d.includes("\\u005cu202E"), d);
    const rule = `${dir}/r.yml`;
    await Deno.writeTextFile(
      rule,
      "title: t\nid: r\nlevel: high\nlogsource: {category: process_creation, product: linux}\ndetection:\n  s:\n    Image|startswith: /tmp/a\n  condition: s\n",
    );
    const h = await shown(["hunt", "--rules", rule, forged]);
    assert(h.includes("/tmp/a\\u005cu202Eb"), h);
    await shown(["report", "--rules", rule, forged, "-o", `${dir}/r.html`]);
    const html = await Deno.readTextFile(`${dir}/r.html`);
    assert(html.includes("/tmp/a\\\\u005cu202Eb"), "report page data");
    assert(!html.includes("/tmp/a\\\\u202E"), "report page data");
    const w = await shown(["replay", "--wide", `${dir}/win.cbor`]);
    assert(w.includes("C:\\Users\\user\\tool.exe"), w);
  });
});

Deno.test("summary.txt's detection lines escape C1, bidi and invisible characters of a command line (JSON escapes only C0; found by review)", async () => {
  const forest = await analyze([], { os: "linux", bootId: "b" });
  const cmdline = "invoice\u202egpj.exe \u009b2J \u2028next \u200bz";
  const text = renderTextSummary({
    title: "t",
    recordings: [{
      name: "a.cbor",
      forest,
      header: {
        host: "h",
        os: "linux",
        kernel: "6",
        bootId: "b",
        timeBaseUtcNs: "0",
        source: { name: "test", reason: "" },
        tool: { name: "procrec", version: "0" },
      },
      integrity: { complete: true, chainIntact: true, problems: [] },
      detections: [{
        process: "p",
        pid: 5,
        time: "2026-01-01T00:00:00Z",
        rule: { title: "r", level: "high" },
        image: "/tmp/x",
        cmdline,
      }],
    }],
  });
  const line = text.split("\n").find((l) => l.includes("invoice"));
  assert(line !== undefined, text);
  for (const c of ["\u202e", "\u009b", "\u2028", "\u200b"]) {
    assert(!line.includes(c), `raw U+${c.charCodeAt(0).toString(16)}: ${line}`);
  }
  assert(line.includes("\\u202e") && line.includes("\\u200b"), line);
});

Deno.test("the tree names the image when the command's first word names another file: a masquerade shows", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    const cases: [string, string, boolean][] = [
      ["/tmp/evil-sshd", "sshd", true],
      ["/tmp/x/sshd", "/usr/sbin/sshd", true],
      ["/usr/bin/ls", "/bin/ls", false],
      ["/usr/bin/ls", "ls", false],
      ["/usr/bin/dash", "sh", true],
      // (a backslash is a character of a Linux file name: found by review)
      ["/tmp/evil\\sshd", "sshd", true],
      // a bare name shows the file only from the system's directories: the
      // same name from /dev/shm or a home directory is shown (found by review)
      ["/dev/shm/.x/sshd", "sshd", true],
      ["/home/u/bin/tool", "tool", true],
      ["/usr/sbin/sshd", "sshd", false],
      ["/usr/local/bin/tool", "tool", false],
      ["/usr/lib/systemd/systemd-udevd", "systemd-udevd", false],
    ];
    await writeRecording(
      rec,
      cases.flatMap(([image, argv0], i) => [
        processCreate(1000 + i, 4000 + i, 1),
        exec(2000 + i, 4000 + i, image, [argv0, `case-${i}`]),
      ]),
    );
    const tree = await procrec(["replay", rec]);
    assertEquals(tree.code, 0, tree.stderr);
    for (const [i, [image, , shown]] of cases.entries()) {
      const line = tree.stdout.split("\n").find((l) =>
        l.includes(`case-${i} `)
      );
      assert(line !== undefined, tree.stdout);
      assertEquals(line.includes(`image ${image}`), shown, line);
    }
    // and the exports name the file as it is
    for (const format of ["ecs", "ocsf"]) {
      const out = await procrec(["export", rec, "--format", format]);
      assertEquals(out.code, 0, out.stderr);
      const names = out.stdout.trim().split("\n").map((l) => JSON.parse(l))
        .map((d) => d.process)
        .filter((p) => (p?.executable ?? p?.file?.path) === "/tmp/evil\\sshd")
        .map((p) => p.name);
      assert(
        names.length > 0 && names.every((n) => n === "evil\\sshd"),
        `${format}: ${JSON.stringify(names)}`,
      );
    }
  });
});

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `${source}: a name and an argument that begin with a byte order mark are recorded with it`,
    async () => {
      await withTempDir(async (dir) => {
        const bin = await buildC("tests/bom_text_helper.c", `${dir}/bom`);
        await Deno.copyFile(bin, `${dir}/\ufefftool`);
        await Deno.chmod(`${dir}/\ufefftool`, 0o755);
        const out = `${dir}/a.cbor`;
        const r = await procrecRecord(source, out, [bin], {
          flags: ["--only-command", "-q"],
          cwd: dir,
        });
        assertEquals(r.code, 0, r.stderr);
        const events = await readCompleteEvents(out);
        assert(
          events.some((e) => e.kind === "comm" && e.comm === "\ufeffsshd"),
          JSON.stringify(events.filter((e) => e.kind === "comm")),
        );
        assert(
          events.some((e) =>
            e.kind === "exec" && e.info.argv?.[0] === "\ufefftool"
          ),
          JSON.stringify(events.filter((e) => e.kind === "exec")),
        );
      });
    },
    unavailable,
  );
}

Deno.test("a bundle's summary.txt and fleet escape a newline from evidence: no forged line", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/in/a.cbor`;
    await Deno.mkdir(`${dir}/in`);
    const w = await RecordingWriter.create(
      rec,
      testHeader({ host: "win1\nFORGED-HOST" }),
      { flushIntervalMs: 0 },
    );
    for (
      const e of [
        processCreate(1000, 4000, 1),
        exec(2000, 4000, "/tmp/evil\nFORGED-IMAGE", ["evil", "FORGED"]),
      ]
    ) w.write(e);
    await w.close();
    const rule = `${dir}/r.yml`;
    await Deno.writeTextFile(
      rule,
      "title: forged\nid: r\nlevel: high\nlogsource: {category: process_creation, product: linux}\ndetection:\n  s:\n    CommandLine|contains: FORGED\n  condition: s\n",
    );
    const b = await procrec([
      "bundle",
      "create",
      "-o",
      `${dir}/case.zip`,
      rec,
      "--rules",
      rule,
    ]);
    assertEquals(b.code, 0, b.stderr);
    const summary = new TextDecoder().decode(
      (await unzip(`${dir}/case.zip`)).get("summary.txt"),
    );
    assert(summary.includes("FORGED-IMAGE"), summary);
    assert(!/^FORGED/m.test(summary), summary);
    const fleet = await procrec(["fleet", `${dir}/in`]);
    assertEquals(fleet.code, 0, fleet.stderr);
    assert(fleet.stdout.includes("FORGED-HOST"), fleet.stdout);
    assert(!/^FORGED/m.test(fleet.stdout), fleet.stdout);
  });
});

Deno.test("the tree names the image of a Windows masquerade, from the command line's first word", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/w.cbor`;
    const cases: [string, string, boolean][] = [
      [
        "C:\\Users\\Public\\Downloads\\svchost.exe",
        '"C:\\Windows\\System32\\svchost.exe" -k netsvcs case-0',
        true,
      ],
      [
        "C:\\Users\\Public\\svch0st.exe",
        "C:\\Windows\\System32\\svchost.exe -k netsvcs case-1",
        true,
      ],
      ["C:\\Windows\\System32\\cmd.exe", "cmd.exe /c case-2", false],
      ["C:\\Temp\\evil.exe", '"notepad.exe" case-3', true],
      // (Windows names without case)
      [
        "C:\\Windows\\System32\\svchost.exe",
        "c:\\windows\\system32\\SVCHOST.EXE -k case-4",
        false,
      ],
      // a bare name shows the file only from the Windows directories
      // (found by review)
      ["C:\\Users\\Public\\svchost.exe", "svchost.exe -k case-5", true],
      ["C:\\Windows\\SysWOW64\\svchost.exe", "svchost -k case-6", false],
      ["C:\\Windows\\explorer.exe", "explorer.exe case-7", false],
    ];
    const w = await RecordingWriter.create(
      rec,
      testHeader({ os: "windows" }),
      { flushIntervalMs: 0 },
    );
    for (const [i, [image, cmdline]] of cases.entries()) {
      w.write(processCreate(1000 + i, 4000 + i, 1));
      w.write({
        kind: "exec",
        t: 2000 + i,
        pid: 4000 + i,
        tid: 4000 + i,
        info: { image, cmdline, from: {} },
      });
    }
    await w.close();
    const tree = await procrec(["replay", rec]);
    assertEquals(tree.code, 0, tree.stderr);
    for (const [i, [image, , shown]] of cases.entries()) {
      const line = tree.stdout.split("\n").find((l) => l.includes(`case-${i}`));
      assert(line !== undefined, tree.stdout);
      assertEquals(
        line.includes(`image ${image.replaceAll("\\", "\\")}`),
        shown,
        line,
      );
    }
  });
});

Deno.test("replay --wide escapes a container name from a cgroup path: no raw tab or colour mark (found by review)", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/c.cbor`;
    const name = "\t\t\uE002\uE005FAKE";
    const e = exec(2000, 4000, "/usr/bin/true", ["true", "case-c"]);
    if (e.kind === "exec") {
      e.info.cgroup = `/machine.slice/machine-${name}.scope`;
    }
    await writeRecording(rec, [processCreate(1000, 4000, 1), e]);
    const r = await procrec(["replay", rec, "--wide"]);
    assertEquals(r.code, 0, r.stderr);
    const line = r.stdout.split("\n").find((l) => l.includes("case-c"));
    assert(line !== undefined, r.stdout);
    assert(line.includes("container systemd-nspawn:\\u0009\\u0009"), line);
    assert(!/[\t\uE000-\uE006]/.test(line), JSON.stringify(line));
  });
});

Deno.test("diff shows a control character in a command escaped as the tree does: a\\nb and a?b differ visibly (found by review)", async () => {
  await withTempDir(async (dir) => {
    const write = (path: string, arg: string) =>
      writeRecording(path, [
        processCreate(1000, 4000, 1),
        exec(2000, 4000, "/usr/bin/curl", ["curl", "-o", arg]),
      ]);
    await write(`${dir}/a.cbor`, "/x/a?b");
    await write(`${dir}/b.cbor`, "/x/a\nb");
    const r = await procrec(["diff", `${dir}/a.cbor`, `${dir}/b.cbor`]);
    assertEquals(r.code, 1, r.stderr);
    assert(r.stdout.includes("/x/a?b"), r.stdout);
    assert(r.stdout.includes("/x/a\\u000ab"), r.stdout);
  });
});

Deno.test("diff names the image of a process whose command hides it, as the tree does: two `sshd -D` of different files differ visibly (found by review)", async () => {
  await withTempDir(async (dir) => {
    const write = (path: string, image: string) =>
      writeRecording(path, [
        processCreate(1000, 4000, 1),
        exec(2000, 4000, image, ["sshd", "-D"]),
      ]);
    await write(`${dir}/a.cbor`, "/usr/sbin/sshd");
    await write(`${dir}/b.cbor`, "/dev/shm/.x/sshd");
    const r = await procrec(["diff", `${dir}/a.cbor`, `${dir}/b.cbor`]);
    assertEquals(r.code, 1, r.stderr);
    const lines = r.stdout.split("\n");
    assert(
      lines.includes("+ sshd -D  image /dev/shm/.x/sshd  (running, threads 1)"),
      r.stdout,
    );
    assert(lines.includes("- sshd -D  (running, threads 1)"), r.stdout);
  });
});
