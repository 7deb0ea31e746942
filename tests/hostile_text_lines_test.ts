/**
 * Text from evidence never starts a line of its own: a newline in an image
 * path, an argument or a user name is escaped in every line-oriented output
 * (`replay --events`, `search`, `hunt`), as it is in the tree.
 */
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";
import { processCreate, writeRecording } from "./_recording_helpers.ts";

Deno.test("replay --events, search and hunt escape a newline from evidence: no forged line", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    await writeRecording(rec, [
      processCreate(1000, 4000, 1),
      {
        kind: "exec",
        t: 2000,
        pid: 4000,
        tid: 4000,
        info: {
          image: "/tmp/evil\nFORGED-IMAGE 1 bin ok",
          argv: ["evil", "x\nFORGED-ARG"],
          from: {},
        },
      },
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

Deno.test("the tree names the image when the command's first word names another file: a masquerade shows", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    const cases: [string, string, boolean][] = [
      ["/tmp/evil-sshd", "sshd", true],
      ["/tmp/x/sshd", "/usr/sbin/sshd", true],
      ["/usr/bin/ls", "/bin/ls", false],
      ["/usr/bin/ls", "ls", false],
      ["/usr/bin/dash", "sh", true],
    ];
    await writeRecording(
      rec,
      cases.flatMap(([image, argv0], i) => [
        processCreate(1000 + i, 4000 + i, 1),
        {
          kind: "exec" as const,
          t: 2000 + i,
          pid: 4000 + i,
          tid: 4000 + i,
          info: { image, argv: [argv0, `case-${i}`], from: {} },
        },
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
  });
});
