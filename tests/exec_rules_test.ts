/**
 * `procrec record --rules FILE` on the real kernel: a deny rule makes the
 * exec fail with EPERM whether the file is named directly, through a
 * symlink, by a relative path or (a `file:` rule) through a hard link or a
 * copy under another name in another folder (same size and SHA-256); an
 * audit rule lets the exec run; every decision is in the recording with the
 * rule's id, the kernel's path of the file and the arguments; the rules end
 * with the recorder (after a clean end and after kill -9); a malformed rule
 * file names the line and the field and exits 2 before anything is loaded;
 * --dry-run lists what each rule matches among the running processes.
 */
import type { ProcEvent } from "../cli/events/types.ts";
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

/** Runs `path` (argv0 as given) in `cwd`; its exit code (126 and stderr when denied). */
async function run(
  path: string,
  args: string[] = [],
  cwd?: string,
): Promise<{ code: number; stderr: string }> {
  try {
    const o = await new Deno.Command(path, {
      args,
      cwd,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    return { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) {
      return { code: 126, stderr: String(e) };
    }
    throw e;
  }
}

/**
 * A temp dir with copies of /bin/true and /bin/echo and the names the tests
 * use. `filed` (the `file:` rule's) is /bin/true with bytes of this run
 * appended, so that no other program on the host has its contents (a
 * `file:` rule denies every copy); `copies/renamed` is a copy of it.
 */
async function setUp(dir: string): Promise<void> {
  await Deno.copyFile("/bin/true", `${dir}/denied`);
  await Deno.chmod(`${dir}/denied`, 0o755);
  await Deno.symlink(`${dir}/denied`, `${dir}/link`);
  const unique = new TextEncoder().encode(
    `procrec-exec-rules-${Deno.pid}-${Date.now()}-${Math.random()}`,
  );
  await Deno.writeFile(`${dir}/filed`, await Deno.readFile("/bin/true"));
  await Deno.writeFile(`${dir}/filed`, unique, { append: true });
  await Deno.chmod(`${dir}/filed`, 0o755);
  await Deno.link(`${dir}/filed`, `${dir}/hard`);
  await Deno.mkdir(`${dir}/copies`);
  await Deno.copyFile(`${dir}/filed`, `${dir}/copies/renamed`);
  await Deno.chmod(`${dir}/copies/renamed`, 0o755);
  await Deno.copyFile("/bin/echo", `${dir}/audited`);
  await Deno.chmod(`${dir}/audited`, 0o755);
  await Deno.writeTextFile(
    `${dir}/rules.yaml`,
    `# exec rules of the test
rules:
  - id: deny-copy
    action: deny
    path: ${dir}/denied
  - id: deny-file
    action: deny
    file: ${dir}/filed
  - id: audit-echo
    action: audit
    path: ${dir}/audited
    argv: {contains: "--marker"}
`,
  );
}

/** `record --rules DIR/rules.yaml -q -o OUT -- /bin/sh -c SCRIPT`. */
function recordShell(dir: string, out: string, script: string) {
  return procrec([
    "record",
    "--rules",
    `${dir}/rules.yaml`,
    "-q",
    "-o",
    out,
    "--",
    "/bin/sh",
    "-c",
    script,
  ]);
}

captureTest(
  "record --rules denies by path, symlink, relative path and hard link; audit lets it run; each decision is recorded",
  async () => {
    await withTempDir(async (dir) => {
      await setUp(dir);
      const script = [
        `cd ${dir}`,
        `${dir}/denied; echo direct=$?`,
        `${dir}/link; echo symlink=$?`,
        `./denied; echo relative=$?`,
        `${dir}/hard; echo hardlink=$?`,
        `${dir}/copies/renamed; echo copy=$?`,
        `${dir}/audited --marker out; echo audited=$?`,
        `/bin/true; echo other=$?`,
      ].join("\n");
      const out = `${dir}/rec.cbor`;
      const r = await recordShell(dir, out, script);
      assertEquals(r.code, 0, `record: ${r.stderr}`);
      for (
        const line of [
          "direct=126",
          "symlink=126",
          "relative=126",
          "hardlink=126",
          "copy=126",
          "audited=0",
          "other=0",
        ]
      ) {
        assert(r.stdout.includes(line), `missing ${line} in:\n${r.stdout}`);
      }
      assert(r.stdout.includes("--marker out"), "the audited echo ran");
      assert(
        (r.stderr.match(/Operation not permitted/g) ?? []).length === 5,
        `the shell says EPERM five times:\n${r.stderr}`,
      );

      const reader = await RecordingReader.open(out);
      const events: ProcEvent[] = await Array.fromAsync(reader.events());
      const denied = events.filter((e) => e.kind === "exec_denied");
      const audited = events.filter((e) => e.kind === "exec_audited");
      assertEquals(
        denied.map((e) =>
          e.kind === "exec_denied" && [e.rule, e.image, e.byContent ?? false]
        ),
        [
          ["deny-copy", `${dir}/denied`, false],
          ["deny-copy", `${dir}/denied`, false],
          ["deny-copy", `${dir}/denied`, false],
          ["deny-file", `${dir}/hard`, false],
          ["deny-file", `${dir}/copies/renamed`, true],
        ],
        "the denials, with the kernel's path of each file and how a file: rule matched",
      );
      for (const e of denied) {
        assert(
          e.kind === "exec_denied" && e.argv?.length === 1,
          "argv recorded",
        );
        assert(e.kind === "exec_denied" && e.uid === 0, "the caller's uid");
      }
      assertEquals(
        audited.map((e) =>
          e.kind === "exec_audited" && [e.rule, e.image, e.argv]
        ),
        [["audit-echo", `${dir}/audited`, [
          `${dir}/audited`,
          "--marker",
          "out",
        ]]],
      );
      const opts = reader.header.options as {
        execRules?: { file: string; rules: { id: string }[] };
      };
      assertEquals(opts.execRules?.rules.map((x) => x.id), [
        "deny-copy",
        "deny-file",
        "audit-echo",
      ]);

      const tree = await procrec(["replay", out]);
      assertEquals(tree.code, 0, tree.stderr);
      assertEquals(
        (tree.stdout.match(/EXEC DENIED /g) ?? []).length,
        5,
        tree.stdout,
      );
      assert(
        tree.stdout.includes(`exec audited ${dir}/audited (rule audit-echo)`),
        tree.stdout,
      );
      // how the copy was matched is shown, in the tree and the report
      const byContent =
        `EXEC DENIED ${dir}/copies/renamed (rule deny-file, a copy by content)`;
      assert(tree.stdout.includes(byContent), tree.stdout);
      // the report's details and a diff against a run without rules show them
      const html = await procrec(["report", out, "-o", `${dir}/r.html`]);
      assertEquals(html.code, 0, html.stderr);
      const page = await Deno.readTextFile(`${dir}/r.html`);
      assert(
        page.includes("exec denied") && page.includes("deny-copy"),
        "report details",
      );
      assert(page.includes("(rule deny-file, a copy by content)"), "report");
      const base = await procrec([
        "record",
        "-q",
        "-o",
        `${dir}/base.cbor`,
        "--",
        "/bin/sh",
        "-c",
        script,
      ]);
      assertEquals(base.code, 0, base.stderr);
      const diff = await procrec(["diff", `${dir}/base.cbor`, out]);
      assert(diff.stdout.includes("exec denied"), `diff:\n${diff.stdout}`);
      // exports carry the decisions
      for (
        const [format, want] of [
          ["ecs", '"rule":{"id":"deny-copy"'],
          ["ecs", '"matched_by":"content"'],
          ["ocsf", '"disposition":"Blocked"'],
          ["ocsf", '"matched_by":"content"'],
        ]
      ) {
        const x = await procrec(["export", "--format", format, out]);
        assertEquals(x.code, 0, x.stderr);
        assert(x.stdout.includes(want), `${format}: ${want} missing`);
      }
      // the rules ended with the recorder
      assertEquals(
        (await run(`${dir}/denied`)).code,
        0,
        "runs again after the recording",
      );
      assertEquals((await run(`${dir}/hard`)).code, 0);
      assertEquals((await run(`${dir}/copies/renamed`)).code, 0);
    });
  },
  why,
);

captureTest(
  "a decision whose path or arguments are not UTF-8 says so (notUtf8), in the recording, the tree and the ECS export",
  async () => {
    await withTempDir(async (dir) => {
      await setUp(dir);
      // a copy of the file: rule's file under a name of bytes ff fe (denied
      // by content), and the audited echo with an argument ff; the file:
      // rule's own path stays UTF-8
      const script = [
        `cd ${dir}`,
        `bad=$(printf 'copies/\\377\\376x')`,
        `cp filed "$bad" && "./$bad"; echo copy=$?`,
        `./audited --marker "$(printf '\\377')"; echo audited=$?`,
        `./audited --marker plain; echo plain=$?`,
      ].join("\n");
      const out = `${dir}/rec.cbor`;
      const r = await recordShell(dir, out, script);
      assertEquals(r.code, 0, `record: ${r.stderr}`);
      for (const line of ["copy=126", "audited=0", "plain=0"]) {
        assert(r.stdout.includes(line), `missing ${line} in:\n${r.stdout}`);
      }
      const reader = await RecordingReader.open(out);
      const decisions = (await Array.fromAsync(reader.events())).filter((
        e,
      ) => e.kind === "exec_denied" || e.kind === "exec_audited");
      assertEquals(
        decisions.map((e) =>
          (e.kind === "exec_denied" || e.kind === "exec_audited") &&
          [e.kind, e.rule, e.image, e.argv?.at(-1), e.notUtf8]
        ),
        [
          [
            "exec_denied",
            "deny-file",
            `${dir}/copies/\ufffd\ufffdx`,
            `./copies/\ufffd\ufffdx`,
            ["image", "argv"],
          ],
          ["exec_audited", "audit-echo", `${dir}/audited`, "\ufffd", [
            "argv",
          ]],
          // all UTF-8: nothing said
          ["exec_audited", "audit-echo", `${dir}/audited`, "plain", undefined],
        ],
      );
      const tree = await procrec(["replay", out]);
      assertEquals(tree.code, 0, tree.stderr);
      assert(
        tree.stdout.includes(
          `(rule deny-file, a copy by content, not UTF-8: image, argv)`,
        ) && tree.stdout.includes(`(rule audit-echo, not UTF-8: argv)`),
        tree.stdout,
      );
      const ecs = await procrec(["export", out, "--format", "ecs"]);
      assertEquals(ecs.code, 0, ecs.stderr);
      const docs = ecs.stdout.split("\n").filter((l) => l).map((l) =>
        JSON.parse(l)
      ).filter((d) => d.procrec?.decision !== undefined);
      assertEquals(docs.map((d) => d.procrec.decision.not_utf8), [
        ["image", "argv"],
        ["argv"],
        undefined,
      ]);
    });
  },
  why,
);

captureTest(
  "a file system mounted only in another mount namespace (a container's) is checked too",
  async () => {
    await withTempDir(async (dir) => {
      await Deno.mkdir(`${dir}/mnt`);
      await Deno.writeTextFile(
        `${dir}/rules.yaml`,
        `rules:\n  - id: ns-deny\n    action: deny\n    path: "*/nsonly-true"\n`,
      );
      // the tmpfs exists only in the new namespace; the marker thread finds
      // namespaces every second
      const r = await procrec([
        "record",
        "--rules",
        `${dir}/rules.yaml`,
        "-q",
        "-o",
        `${dir}/ns.cbor`,
        "--",
        "unshare",
        "-m",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        `mount -t tmpfs none ${dir}/mnt && cp /bin/true ${dir}/mnt/nsonly-true && sleep 2.5 && ${dir}/mnt/nsonly-true; echo rc=$?`,
      ]);
      assertEquals(r.code, 0, r.stderr);
      assert(
        r.stdout.includes("rc=126"),
        `denied inside the namespace:\n${r.stdout}\n${r.stderr}`,
      );
      const reader = await RecordingReader.open(`${dir}/ns.cbor`);
      const denied = (await Array.fromAsync(reader.events())).filter((e) =>
        e.kind === "exec_denied"
      );
      assertEquals(denied.map((e) => e.kind === "exec_denied" && e.rule), [
        "ns-deny",
      ]);
    });
  },
  why,
);

captureTest(
  "rules end when the recorder is killed with SIGKILL",
  async () => {
    await withTempDir(async (dir) => {
      await setUp(dir);
      const child = new Deno.Command(PROCREC, {
        args: [
          "record",
          "--rules",
          `${dir}/rules.yaml`,
          "-q",
          "-o",
          `${dir}/k.cbor`,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        let enforced = false;
        for (let i = 0; i < 300 && !enforced; i++) {
          await new Promise((res) => setTimeout(res, 100));
          enforced = (await run(`${dir}/denied`)).code === 126;
        }
        assert(enforced, "the deny rule took effect while recording");
        // the recorder's process itself (procrec execs deno): SIGKILL, no cleanup
        Deno.kill(child.pid, "SIGKILL");
        const st = await child.status;
        assertEquals(st.signal, "SIGKILL");
        assertEquals(
          (await run(`${dir}/denied`)).code,
          0,
          "runs after kill -9",
        );
        assertEquals((await run(`${dir}/hard`)).code, 0);
      } finally {
        try {
          Deno.kill(child.pid, "SIGKILL");
        } catch { /* ended */ }
        await child.stderr.cancel().catch(() => {});
      }
    });
  },
  why,
);

Deno.test("a malformed rule file names the line and field, exits 2, and loads nothing", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, RegExp][] = [
      [
        "rules:\n  - id: a\n    action: deny\n    path: /x\n  - id: b\n    action: block\n    path: /y\n",
        /bad\.yaml:6: field action: "block", expected deny or audit/,
      ],
      [
        "rules:\n  - id: a\n    action: deny\n    file: /no/such/file\n",
        /bad\.yaml:2: field file: cannot stat "\/no\/such\/file"/,
      ],
      [
        'rules:\n  - id: a\n    action: audit\n    argv: {regex: "("}\n    path: /x\n',
        /bad\.yaml:4: field argv: regex does not compile/,
      ],
      [
        "rules:\n  - id: a\n    action: audit\n    colour: red\n",
        /bad\.yaml:4: field colour: unknown/,
      ],
      ["rules: [\n", /bad\.yaml:\d+: /],
    ];
    for (const [text, want] of cases) {
      await Deno.writeTextFile(`${dir}/bad.yaml`, text);
      const r = await procrec([
        "record",
        "--rules",
        `${dir}/bad.yaml`,
        "--duration",
        "1s",
        "-o",
        `${dir}/never.cbor`,
      ]);
      assertEquals(r.code, 2, `exit status for ${JSON.stringify(text)}`);
      assert(want.test(r.stderr), `${want} not in:\n${r.stderr}`);
      assert(
        !(await Deno.stat(`${dir}/never.cbor.incomplete`).then(
          () => true,
          () => false,
        )),
        "nothing recorded",
      );
    }
  });
});

captureTest(
  "record --rules FILE --dry-run lists what each rule matches among running processes",
  async () => {
    await withTempDir(async (dir) => {
      await Deno.copyFile("/bin/sleep", `${dir}/sleeper`);
      await Deno.chmod(`${dir}/sleeper`, 0o755);
      // a file rule's file (sleep with bytes of this run appended, so that
      // nothing else on the host has its contents) and a running copy of it
      // under another name: the enforcer would deny the copy by content
      await Deno.writeFile(`${dir}/filed`, await Deno.readFile("/bin/sleep"));
      await Deno.writeFile(
        `${dir}/filed`,
        new TextEncoder().encode(`procrec-dry-run-${Deno.pid}-${Date.now()}`),
        { append: true },
      );
      await Deno.mkdir(`${dir}/copies`);
      await Deno.copyFile(`${dir}/filed`, `${dir}/copies/napper`);
      await Deno.chmod(`${dir}/copies/napper`, 0o755);
      await Deno.writeTextFile(
        `${dir}/rules.yaml`,
        `rules:\n  - id: sleepers\n    action: deny\n    path: "${dir}/sleep*"\n  - id: nobody-sh\n    action: audit\n    user: nobody\n    path: /no/such/*\n  - id: filed\n    action: deny\n    file: ${dir}/filed\n`,
      );
      const sleeper = new Deno.Command(`${dir}/sleeper`, { args: ["30"] })
        .spawn();
      const napper = new Deno.Command(`${dir}/copies/napper`, { args: ["30"] })
        .spawn();
      try {
        const r = await procrec([
          "record",
          "--rules",
          `${dir}/rules.yaml`,
          "--dry-run",
        ]);
        assertEquals(r.code, 0, r.stderr);
        assert(
          r.stdout.includes(
            "rule sleepers (deny, line 2): 1 running process\n",
          ),
          r.stdout,
        );
        assert(
          r.stdout.includes(
            `  ${sleeper.pid}  ${dir}/sleeper  ${dir}/sleeper 30`,
          ),
          r.stdout,
        );
        assert(
          r.stdout.includes(
            "rule nobody-sh (audit, line 5): 0 running processes would match",
          ),
          r.stdout,
        );
        // the copy, found by its size and SHA-256 as the enforcer finds it
        assert(
          r.stdout.includes(
            `rule filed (deny, line 9): 1 running process\n  ${napper.pid}  ${dir}/copies/napper  ${dir}/copies/napper 30  (by content)\n`,
          ),
          r.stdout,
        );
        // nothing was enforced: another copy starts
        assertEquals((await run(`${dir}/sleeper`, ["0"])).code, 0);
        assertEquals((await run(`${dir}/copies/napper`, ["0"])).code, 0);
      } finally {
        for (const p of [sleeper, napper]) {
          p.kill("SIGKILL");
          await p.status;
        }
      }
    });
  },
  why,
);
