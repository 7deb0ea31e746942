/**
 * The storm (60,000 threads alongside 1,500 execs of /bin/true and
 * /bin/false, an exec from a non-leader thread, an _exit(3), a SIGKILL)
 * recorded with `--source ebpf`: every exec's image and argv exact, every
 * parent and exit status right, every thread seen, nothing lost.
 */
import { RecordingReader } from "../cli/log/mod.ts";
import {
  buildEbpfStorm,
  checkEbpfStorm,
  parseStormTruth,
} from "./_ebpf_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrecRecord,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

captureTest(
  "record --source ebpf -- <storm of 60,000 threads and 1,500 execs> has every exec's image and argv, every parent and status, nothing lost",
  async () => {
    await withTempDir(async (dir) => {
      const storm = await buildEbpfStorm(dir);
      const out = `${dir}/storm.cbor`;
      const r = await procrecRecord(
        "ebpf",
        out,
        [storm, "60000", "1500", `${dir}/truth`],
        { statsOut: `${dir}/stats.json` },
      );
      assertEquals(r.code, 0, `procrec record (stderr: ${r.stderr})`);
      const truth = parseStormTruth(await Deno.readTextFile(`${dir}/truth`));
      const reader = await RecordingReader.open(out);
      assertEquals(reader.header.source.name, "ebpf", "header.source");
      assertEquals(
        reader.header.command?.pid,
        truth.root,
        "header.command.pid",
      );
      const events = await Array.fromAsync(reader.events());
      assert(reader.report.complete, JSON.stringify(reader.report.problems));
      const real = (p: string) => Deno.realPathSync(p);
      const { errors, exact, total, lost } = checkEbpfStorm(
        events,
        truth,
        real,
      );
      const stats = JSON.parse(await Deno.readTextFile(`${dir}/stats.json`));
      console.log(
        `ebpf storm: ${truth.threads} threads, ${total} execs: image and argv exact for ${exact}/${total}; ` +
          `${events.length} events, lost ${lost}; library: ${stats.kernelMsgs} kernel messages, lostBpf ${stats.lostBpf}`,
      );
      assertEquals(errors, [], "differences from the storm's own account");
      assertEquals(exact, 1500, "execs with exact image and argv");
      assertEquals(stats.lostBpf, 0, "BPF reserve failures");
    }, "procrec-ebpf-storm-");
  },
  why,
);

captureTest(
  "record --source ebpf keeps the cwd and cuts an argv longer than 4 KiB with argvTruncated",
  async () => {
    await withTempDir(async (dir) => {
      const deep = `${dir}/a/b/c/d/e/f/g/h/i/j/k/l`;
      await Deno.mkdir(deep, { recursive: true });
      const args = Array.from({ length: 3000 }, (_, i) => String(i));
      const out = `${dir}/long.cbor`;
      const r = await procrecRecord(
        "ebpf",
        out,
        ["sh", "-c", `cd "${deep}" && exec /bin/true "$@"`, "sh", ...args],
        // other tests exec /bin/true at the same time
        { flags: ["--only-command"] },
      );
      assertEquals(r.code, 0, `procrec record (stderr: ${r.stderr})`);
      const reader = await RecordingReader.open(out);
      const execs = (await Array.fromAsync(reader.events())).filter((e) =>
        e.kind === "exec" && e.info.argv?.[0] === "/bin/true"
      );
      assertEquals(execs.length, 1, "execs of /bin/true");
      const info = execs[0].kind === "exec" ? execs[0].info : undefined;
      assertEquals(info?.image, Deno.realPathSync("/bin/true"), "image");
      assertEquals(info?.cwd, Deno.realPathSync(deep), "cwd");
      assertEquals(info?.argvTruncated, true, "argvTruncated");
      const argv = info?.argv ?? [];
      const kept = argv.join("\0").length;
      assert(kept <= 4096 && kept > 4000, `kept ${kept} bytes of argv`);
      // every argument but the cut last one is whole and in order
      assertEquals(argv.slice(1, -1), args.slice(0, argv.length - 2), "argv");
      assertEquals(info?.from, {
        image: "kernel",
        argv: "kernel",
        comm: "kernel",
        cwd: "kernel",
        cred: "kernel",
        file: "kernel",
        ns: "kernel",
        cgroup: "kernel",
      }, "provenance");
    }, "procrec-ebpf-argv-");
  },
  why,
);
