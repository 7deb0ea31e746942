/**
 * The same storm recorded by both sources at once: an eBPF recorder of the
 * whole host, and a proc connector recorder that runs the storm. Their
 * process trees of the storm must be the same (parents, exit statuses, execs,
 * threads); image and argv must agree wherever the proc connector source
 * reached them (it misses short-lived processes: provenance "gone").
 */
import {
  buildEbpfStorm,
  parseStormTruth,
  type SeenProcess,
  stormChildren,
} from "./_ebpf_helpers.ts";
import {
  assertEquals,
  captureTest,
  captureUnavailable,
  PROCREC,
  procrec,
  waitForPath,
} from "./_record_helpers.ts";
import { readCompleteEvents as events } from "./_recording_helpers.ts";

const why = await captureUnavailable();

/** The tree of the storm as both sources can fill it. */
function comparable(p: SeenProcess) {
  return {
    pid: p.pid,
    ppid: p.ppid,
    status: p.status,
    exits: p.exits,
    execs: p.execs.length,
  };
}

captureTest(
  "the storm recorded by the eBPF and the proc connector sources at once gives the same process tree",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "procrec-ebpf-two-" });
    let ebpf: Deno.ChildProcess | undefined;
    try {
      const storm = await buildEbpfStorm(dir);
      const bOut = `${dir}/ebpf.cbor`;
      ebpf = new Deno.Command(PROCREC, {
        args: ["record", "--source", "ebpf", "-o", bOut],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // the recording file appears once the source has started
      await waitForPath(`${bOut}.incomplete`, { tries: 300, intervalMs: 50 });
      const aOut = `${dir}/netlink.cbor`;
      const a = await procrec([
        "record",
        "--source",
        "netlink",
        "-o",
        aOut,
        "--",
        storm,
        "2000",
        "200",
        `${dir}/truth`,
      ]);
      assertEquals(a.code, 0, `netlink recorder (stderr: ${a.stderr})`);
      await new Promise((r) => setTimeout(r, 300)); // the eBPF reader drains every 100 ms
      ebpf.kill("SIGTERM");
      const b = await ebpf.output();
      ebpf = undefined;
      assertEquals(
        b.code,
        0,
        `eBPF recorder (stderr: ${new TextDecoder().decode(b.stderr)})`,
      );

      const truth = parseStormTruth(await Deno.readTextFile(`${dir}/truth`));
      const nl = stormChildren(await events(aOut), truth.root);
      const bp = stormChildren(await events(bOut), truth.root);
      assertEquals(nl.lost, 0, "events lost by the proc connector source");
      assertEquals(bp.lost, 0, "events lost by the eBPF source");
      const flat = (m: Map<number, SeenProcess[]>) =>
        [...m.values()].flat().map(comparable).sort((x, y) => x.pid - y.pid);
      const nlTree = flat(nl.byPid), bpTree = flat(bp.byPid);
      assertEquals(
        nlTree.length,
        truth.execs.length + 1 + truth.children.length,
        "netlink: the storm's children",
      );
      assertEquals(bpTree, nlTree, "the two trees of the storm");
      assertEquals(
        [bp.threads, bp.rootExit],
        [nl.threads, nl.rootExit],
        "threads and the storm's exit",
      );

      // image and argv wherever the proc connector reached them
      let compared = 0;
      for (const [pid, nlList] of nl.byPid) {
        const bpList = bp.byPid.get(pid) ?? [];
        nlList.forEach((p, i) => {
          p.execs.forEach((x, j) => {
            if (x.from !== "proc/proc") return;
            const y = bpList[i]?.execs[j];
            assertEquals(
              [y?.image, y?.argv],
              [x.image, x.argv],
              `pid ${pid} exec ${j}: eBPF vs /proc`,
            );
            compared++;
          });
        });
      }
      console.log(
        `two recorders: ${bpTree.length} processes and ${bp.threads} threads alike; ` +
          `image and argv compared where the proc connector reached them: ${compared}`,
      );
    } finally {
      if (ebpf) {
        ebpf.kill("SIGKILL");
        await ebpf.output();
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
  why,
);
