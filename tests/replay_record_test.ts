/**
 * End to end on the real kernel: a workload recorded with `procrec record`
 * replays to the expected tree (exit code, signal, pipeline), the same
 * workload recorded twice (other pids, other times) diffs empty, and a
 * changed exit code diffs as exactly one change. Needs root and the built
 * library; skipped with the reason otherwise.
 */
import {
  assertEquals,
  procrec as runProcrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

/** `./procrec ARGS`, run from the checkout (fixture paths are relative to it). */
const procrec = (...args: string[]) => runProcrec(args, { cwd: ROOT });

function whyNot(): string | undefined {
  if (Deno.uid() !== 0) return "not root: capturing needs root";
  try {
    Deno.statSync(`${ROOT}driver/linux/build/libprocrec.so`);
  } catch {
    return "driver/linux/build/libprocrec.so is not built (make build)";
  }
  return undefined;
}

const skip = whyNot();
if (skip) console.log(`replay_record_test: skipped: ${skip}`);

const workload = (code: number) =>
  `ls / | cat >/dev/null; (exit ${code}); sh -c "kill -9 \\$\\$"; sleep 0.05 & wait; true`;

Deno.test({
  name:
    "a real recording replays to its tree and the same workload twice diffs empty",
  ignore: skip !== undefined,
  fn: async () => {
    await withTempDir(async (dir) => {
      const rec = async (name: string, code: number) => {
        const r = await procrec(
          "record",
          "--only-command",
          "-o",
          `${dir}/${name}.cbor`,
          "--",
          "sh",
          "-c",
          workload(code),
        );
        assertEquals(r.code, 0, r.stderr);
        return `${dir}/${name}.cbor`;
      };
      const a = await rec("a", 3);
      const b = await rec("b", 3);
      const c = await rec("c", 4);
      const tree = await procrec("replay", a);
      assertEquals(tree.code, 0, tree.stderr);
      const lines = tree.stdout.trimEnd().split("\n");
      const has = (re: RegExp) => {
        if (!lines.some((l) => re.test(l))) {
          throw new Error(`no ${re} in\n${tree.stdout}`);
        }
      };
      has(/^\S*sh -c .*\[\d+\].*exit 0/);
      has(/├─ ls \/ .*exit 0/);
      has(/├─ cat .*exit 0/);
      has(/├─ \S*sh -c .*exit 3 /); // the ( ) subshell: a fork of sh
      has(/sh -c 'kill -9 \$\$' .*signal 9 \(SIGKILL\)/);
      has(/└─ sleep 0\.05 .*exit 0/);
      const same = await procrec("diff", a, b);
      assertEquals(
        [same.code, same.stdout],
        [0, "no differences\n"],
        same.stderr,
      );
      const changed = await procrec("diff", a, c, "--json");
      assertEquals(changed.code, 1, changed.stderr);
      const d = JSON.parse(changed.stdout);
      // the code is in the command line: the shell's argv changed, and the
      // ( ) subshell, a fork with its parent's argv, changed argv and exit
      assertEquals([d.added.length, d.removed.length, d.changed.length], [
        0,
        0,
        2,
      ]);
      const fields = d.changed.map((x: { changes: { field: string }[] }) =>
        x.changes.map((c) => c.field).join(",")
      );
      assertEquals(fields, ["argv", "argv,exit"]);
    });
  },
});
