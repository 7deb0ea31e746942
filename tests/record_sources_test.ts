/**
 * The same storm recorded by both sources at once (two recorders): the
 * process trees are the same, apart from the fields only eBPF fills (image
 * and argv of processes gone before the proc connector source read /proc).
 */
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  PROCREC,
  procrec,
  waitForPath,
  withTempDir,
} from "./_record_helpers.ts";
import {
  buildStorm,
  leaderExitsUnderExecTid,
  parseTruth,
  recordedSubtree,
} from "./_storm.ts";
import { readCompleteEvents as events } from "./_recording_helpers.ts";

const why = await captureUnavailable();

captureTest(
  "a storm recorded by the eBPF and the proc connector sources at once gives the same process tree",
  async () => {
    await withTempDir(async (dir) => {
      const storm = await buildStorm(dir);
      const nl = `${dir}/netlink.cbor`;
      const bg = new Deno.Command(PROCREC, {
        args: ["record", "--source", "netlink", "-o", nl],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      await waitForPath(`${nl}.incomplete`);
      const eb = `${dir}/ebpf.cbor`;
      const r = await procrec([
        "record",
        "--source",
        "ebpf",
        "-o",
        eb,
        "--",
        storm,
        `${dir}/truth`,
        "1000",
        "2000",
      ]);
      bg.kill("SIGTERM");
      const bgOut = await bg.output();
      assertEquals(r.code, 3, r.stderr);
      assertEquals(bgOut.code, 0, new TextDecoder().decode(bgOut.stderr));
      const truth = parseTruth(await Deno.readTextFile(`${dir}/truth`));
      const a = recordedSubtree(await events(eb), truth.root);
      const b = recordedSubtree(await events(nl), truth.root);
      const shape = (s: typeof a) =>
        [...s.lives.entries()].sort(([x], [y]) => x - y).map(([pid, lives]) => [
          pid,
          lives.map((
            l,
          ) => [l.ppid === -1 ? "root" : l.ppid, l.exits, l.execs.length]),
        ]);
      const sa = shape(a), sb = shape(b);
      assert(sa.length > 1000, `only ${sa.length} processes followed`);
      assertEquals(
        sb,
        sa,
        "process trees (parent, exit statuses, exec count per lifetime)",
      );
      const threads = (m: Map<string, number>) => JSON.stringify([...m].sort());
      assertEquals(
        threads(b.threadCreates),
        threads(a.threadCreates),
        "thread creates",
      );
      // the proc connector may name an old leader's exit by the tid of the
      // thread that exec'd (leaderExitsUnderExecTid says when): only that moves
      const nlExits = leaderExitsUnderExecTid(
        b.threadExits,
        a.threadExits,
        truth.execThreads,
      );
      assertEquals(
        threads(nlExits.exits),
        threads(a.threadExits),
        "thread exits",
      );
      // where the proc connector source has a value, it is the kernel's (eBPF) value
      let both = 0;
      const diffs: string[] = [];
      for (const [pid, lives] of b.lives) {
        lives.forEach((l, i) =>
          l.execs.forEach((x, j) => {
            const y = a.lives.get(pid)![i].execs[j];
            if (x.info.from.image === "proc") {
              both++;
              if (x.info.image !== y.info.image) {
                diffs.push(
                  `pid ${pid} exec ${j}: ${x.info.image} vs ${y.info.image}`,
                );
              }
            }
            if (
              x.info.from.argv === "proc" &&
              JSON.stringify(x.info.argv) !== JSON.stringify(y.info.argv)
            ) {
              diffs.push(
                `pid ${pid} exec ${j}: argv ${x.info.argv} vs ${y.info.argv}`,
              );
            }
          })
        );
      }
      console.log(
        `both sources: ${sa.length} processes; the proc connector source read ${both} images; ` +
          `old leader's exit under the exec'ing thread's tid (proc connector): ${
            nlExits.moved.join(", ") || "none"
          }; lost: eBPF ${a.lost}, proc connector ${b.lost}`,
      );
      assertEquals(
        diffs.slice(0, 20),
        [],
        "values the proc connector source read differ from the kernel's",
      );
      // checked last, so that a failure also shows whether the trees agreed
      assertEquals([a.lost, b.lost], [0, 0], "lost events");
    }, "procrec-both-");
  },
  why,
);
