/**
 * `record -- CMD`: the command's end as a shell gives it, whatever ended it
 * (a real-time signal made Deno's status reject, and the recorder died
 * leaving its recording without a trailer), and the command found in a pid
 * namespace of its own (the sources report the host's pids: --only-command
 * followed the host process that had the namespace's number).
 */
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

captureTest(
  "a command killed by a real-time signal, by SIGKILL or ended with a code: the shell's status, a closed recording with its exit",
  () =>
    withTempDir(async (dir) => {
      const cases: [string, number][] = [
        ["kill -35 $$", 128 + 35],
        ["kill -40 $$", 128 + 40],
        ["kill -40 $$", 128 + 40],
        ["kill -40 $$", 128 + 40],
        ["kill -9 $$", 128 + 9],
        ["exit 7", 7],
      ];
      for (const [i, [how, status]] of cases.entries()) {
        const out = `${dir}/c${i}.cbor`;
        const r = await procrec([
          "record",
          "-o",
          out,
          "--only-command",
          "--",
          "/bin/sh",
          "-c",
          `/bin/true; ${how}`,
        ]);
        assertEquals(r.code, status, `${how}: ${r.stderr}`);
        assert(/events: \d+/.test(r.stderr), `${how}: a summary: ${r.stderr}`);
        const v = await procrec(["verify", out]);
        assertEquals(v.code, 0, `${how}: ${v.stdout}${v.stderr}`);
        const tree = await procrec(["replay", out]);
        const top = tree.stdout.split("\n")[0];
        assert(
          top.includes(
            status > 128 ? `  signal ${status - 128}` : `  exit ${status}  `,
          ),
          `${how}: ${tree.stdout}`,
        );
      }
    }),
  why,
);

captureTest(
  "record --only-command in a pid namespace of its own (unshare --pid --fork): the command's processes as the host names them, its exit status",
  () =>
    withTempDir(async (dir) => {
      for (const source of ["ebpf", "netlink"]) {
        const out = `${dir}/${source}.cbor`;
        const r = await procrec([
          "record",
          "--source",
          source,
          "-o",
          out,
          "--only-command",
          "--",
          "/bin/sh",
          "-c",
          "/bin/true pidns-marker; exit 3",
        ], { prefix: ["unshare", "--pid", "--fork"] });
        assertEquals(r.code, 3, `${source}: ${r.stderr}`);
        const j = await procrec(["replay", out, "--json"]);
        assertEquals(j.code, 0, j.stderr);
        const forest = JSON.parse(j.stdout);
        const procs = forest.processes as {
          argv?: string[];
          image?: string;
          exit?: { text: string };
          pid: number;
        }[];
        const top = procs.find((p) =>
          p.argv?.join(" ") === "/bin/sh -c /bin/true pidns-marker; exit 3"
        );
        assert(top !== undefined, `${source}: the command: ${j.stdout}`);
        assertEquals(top.exit?.text, "exit 3", source);
        assert(
          procs.some((p) => p.argv?.join(" ") === "/bin/true pidns-marker"),
          `${source}: its child`,
        );
        // nothing of the host: every process is the command's
        assert(
          procs.every((p) => !p.image?.startsWith("[") && p.argv !== undefined),
          `${source}: only the command's processes: ${
            JSON.stringify(procs.map((p) => p.argv ?? p.image))
          }`,
        );
        // the header's pid is the host's, the command's pid in the recording
        const h = await procrec(["verify", out, "--json"]);
        assertEquals(h.code, 0, h.stdout + h.stderr);
      }
      // a pid namespace with its own /proc (a container): the host's pid of
      // the command cannot be told, --only-command is refused
      const c = await procrec([
        "record",
        "-o",
        `${dir}/c.cbor`,
        "--only-command",
        "--",
        "/bin/true",
      ], { prefix: ["unshare", "--pid", "--fork", "--mount-proc"] });
      assertEquals(c.code, 2, c.stdout + c.stderr);
      assert(c.stderr.includes("Cannot record --only-command here"), c.stderr);
    }),
  why,
);
