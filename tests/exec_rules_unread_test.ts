/**
 * `record --rules FILE` counts the exec rule decisions taken with the
 * arguments unread (an `argv` matcher that failed closed): `execArgvUnread`
 * in `--stats-out` and a closing line on stderr. On the real kernel: 0 when
 * every exec's arguments are read; an exec whose argv pointer is unmapped
 * (driver/linux/tests/exec_rules_helper.c `badargv`: the kernel opens the
 * file, the permission event, before it reads argv) counts once under a
 * deny rule and once under an audit rule, and not under a rule without an
 * `argv` matcher (that decision did not rest on the arguments).
 */
import { RecordingReader } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  buildC,
  captureTest,
  captureUnavailable,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

const RULES = `rules:
  - id: no-forbidden
    action: deny
    path: "*/deny-echo"
    argv: {contains: "--forbidden"}
  - id: watch-secret
    action: audit
    path: "*/audit-echo"
    argv: {contains: "--secret"}
  - id: no-plain
    action: deny
    path: "*/plain-echo"
`;

const UNREAD_LINE = "taken with the arguments unread";

/** Records `script` under the rules in `dir`: the run, stats and decisions. */
async function recordUnder(dir: string, name: string, script: string) {
  const out = `${dir}/${name}.cbor`;
  const stats = `${dir}/${name}.json`;
  const r = await procrec([
    "record",
    "--rules",
    `${dir}/rules.yaml`,
    "-o",
    out,
    "--stats-out",
    stats,
    "--",
    "/bin/sh",
    "-c",
    `cd ${dir}\n${script}`,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const reader = await RecordingReader.open(out);
  const decisions = (await Array.fromAsync(reader.events())).flatMap((e) =>
    e.kind === "exec_denied" || e.kind === "exec_audited"
      ? [[
        e.kind,
        e.rule,
        e.argv === undefined ? "no argv" : "argv",
        e.argvTruncated ?? false,
      ]]
      : []
  );
  return {
    run: r,
    stats: JSON.parse(await Deno.readTextFile(stats)),
    decisions,
  };
}

captureTest(
  "record --rules counts the decisions taken with the arguments unread: 0 when all are read, each that failed closed when not",
  async () => {
    await withTempDir(async (dir) => {
      const helper = await buildC(
        "driver/linux/tests/exec_rules_helper.c",
        `${dir}/helper`,
      );
      for (const name of ["deny-echo", "audit-echo", "plain-echo"]) {
        await Deno.copyFile("/bin/echo", `${dir}/${name}`);
        await Deno.chmod(`${dir}/${name}`, 0o755);
      }
      await Deno.writeTextFile(`${dir}/rules.yaml`, RULES);

      // every exec's arguments read: decisions, none unread
      const read = await recordUnder(
        dir,
        "read",
        [
          "./deny-echo --forbidden; echo denied=$?",
          "./audit-echo --secret >/dev/null; echo audited=$?",
          `${helper} ia32 ./deny-echo --forbidden; echo ia32=$?`,
          "./plain-echo x; echo plain=$?",
          "./deny-echo fine",
        ].join("\n"),
      );
      for (
        const line of [
          "denied=126",
          "audited=0",
          "errno=1\nia32=126",
          "plain=126",
          "fine",
        ]
      ) {
        assert(
          read.run.stdout.includes(line),
          `missing ${line} in:\n${read.run.stdout}`,
        );
      }
      assertEquals(read.decisions, [
        ["exec_denied", "no-forbidden", "argv", false],
        ["exec_audited", "watch-secret", "argv", false],
        ["exec_denied", "no-forbidden", "argv", false],
        ["exec_denied", "no-plain", "argv", false],
      ]);
      assertEquals(read.stats.execArgvUnread, 0);
      assert(
        !read.run.stderr.includes(UNREAD_LINE),
        `an unread line with nothing unread:\n${read.run.stderr}`,
      );

      // argv at an unmapped address: the deny and the audit rule fail
      // closed (counted); the rule without argv decides on the path alone
      // (not counted); a read exec in between is not counted either
      const unread = await recordUnder(
        dir,
        "unread",
        [
          `${helper} badargv ./deny-echo; echo deny=$?`,
          `${helper} badargv ./audit-echo; echo audit=$?`,
          `${helper} badargv ./plain-echo; echo plain=$?`,
          "./deny-echo --forbidden; echo read=$?",
        ].join("\n"),
      );
      for (
        const line of [
          "errno=1\ndeny=126",
          // audited, so the exec went on and the kernel failed it reading argv
          "errno=14\naudit=126",
          "errno=1\nplain=126",
          "read=126",
        ]
      ) {
        assert(
          unread.run.stdout.includes(line),
          `missing ${line} in:\n${unread.run.stdout}`,
        );
      }
      assertEquals(unread.decisions, [
        ["exec_denied", "no-forbidden", "no argv", true],
        ["exec_audited", "watch-secret", "no argv", true],
        ["exec_denied", "no-plain", "no argv", false],
        ["exec_denied", "no-forbidden", "argv", false],
      ]);
      assertEquals(unread.stats.execArgvUnread, 2);
      assert(
        unread.run.stderr.includes(
          `procrec: exec rules: 2 decisions were ${UNREAD_LINE}`,
        ),
        `no unread line in:\n${unread.run.stderr}`,
      );
    });
  },
  why,
);
