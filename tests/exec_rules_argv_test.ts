/**
 * `record --rules FILE` with an `argv` rule on the real kernel: the rule
 * sees every argument, after one longer than a decision keeps and in a
 * 32-bit exec (`int $0x80`, driver/linux/tests/exec_rules_helper.c); an
 * exec whose arguments cannot be read is denied (fail closed) and its
 * decision says the arguments were unread (no `argv`, `argvTruncated`).
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

captureTest(
  "an argv rule denies text after a long argument, in an ia32 exec, and fails closed when argv is unreadable",
  async () => {
    await withTempDir(async (dir) => {
      const helper = await buildC(
        "driver/linux/tests/exec_rules_helper.c",
        `${dir}/helper`,
      );
      await Deno.copyFile("/bin/echo", `${dir}/argv-echo`);
      await Deno.chmod(`${dir}/argv-echo`, 0o755);
      await Deno.writeTextFile(
        `${dir}/rules.yaml`,
        `rules:\n  - id: no-forbidden\n    action: deny\n    path: "*/argv-echo"\n    argv: {contains: "--forbidden"}\n`,
      );
      const script = [
        `cd ${dir}`,
        `./argv-echo "$(head -c 5000 /dev/zero | tr '\\0' A)" --forbidden >/dev/null; echo long=$?`,
        `${helper} ia32 ./argv-echo -n --forbidden; echo ia32=$?`,
        `${helper} ia32 ./argv-echo fine; echo ia32fine=$?`,
        `${helper} badargv ./argv-echo; echo unread=$?`,
      ].join("\n");
      const out = `${dir}/rec.cbor`;
      const r = await procrec([
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
      assertEquals(r.code, 0, r.stderr);
      for (
        const line of [
          "long=126",
          "errno=1\nia32=126",
          "fine\nia32fine=0",
          "errno=1\nunread=126",
        ]
      ) {
        assert(r.stdout.includes(line), `missing ${line} in:\n${r.stdout}`);
      }
      const reader = await RecordingReader.open(out);
      const denied = (await Array.fromAsync(reader.events())).filter((e) =>
        e.kind === "exec_denied"
      );
      assertEquals(
        denied.map((e) =>
          e.kind === "exec_denied" && [
            e.rule,
            e.argv === undefined
              ? "unread"
              : e.argv.at(-1)!.length > 100
              ? "cut"
              : e.argv.join(" "),
            e.argvTruncated ?? false,
          ]
        ),
        [
          ["no-forbidden", "cut", true],
          ["no-forbidden", "./argv-echo -n --forbidden", false],
          ["no-forbidden", "unread", true],
        ],
      );
    });
  },
  why,
);
