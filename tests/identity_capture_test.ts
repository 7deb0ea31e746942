/**
 * Identity fields captured from the real kernel under both Linux sources:
 * images as the kernel names them (memfd, deleted binary) with device,
 * inode and the `fileless` / `deleted-image` marks; credentials of a setuid
 * program run as nobody; cgroup v2 path and id, container and namespaces of
 * a shell moved into a cgroup named like a Docker scope.
 *
 * The execs whose fields are checked run 20 ms or more: the proc connector
 * source reads those fields from /proc when the exec arrives, and its thread
 * can wake a few ms late on a busy or virtual machine, after a 1 ms program
 * has exited (that exec is then recorded without them, provenance `gone`:
 * the documented limit of that source, see driver/linux/README.md). These
 * tests are about the identity fields, not about that race.
 */
import type { Exec, ProcEvent } from "../cli/events/types.ts";
import { readCompleteEvents } from "./_recording_helpers.ts";
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

const unavailable = await captureUnavailable();
const SOURCES = ["ebpf", "netlink"] as const;
const CGROUP2 = "/sys/fs/cgroup/unified";

function execsOf(events: ProcEvent[], re: RegExp): Exec[] {
  return events.filter((e): e is Exec =>
    e.kind === "exec" && re.test(e.info.image ?? "")
  );
}

async function record(
  source: string,
  out: string,
  command: string[],
  commandStatus = 0,
): Promise<ProcEvent[]> {
  const r = await procrecRecord(source, out, command, {
    flags: ["--only-command"],
  });
  // record exits with the command's status
  assert(
    r.code === commandStatus,
    `record --source ${source} exited ${r.code}: ${r.stderr}`,
  );
  return await readCompleteEvents(out);
}

for (const source of SOURCES) {
  captureTest(
    `${source}: a memfd exec is "/memfd:NAME (deleted)" {fileless}, a deleted binary "PATH (deleted)" {deleted-image}, with device and inode`,
    () =>
      withTempDir(async (dir) => {
        const bin = await buildC(
          "tests/identity_workload.c",
          `${dir}/identity_workload`,
        );
        const truthFile = `${dir}/truth`;
        const out = `${dir}/r.cbor`;
        const events = await record(source, out, [bin, dir, truthFile]);
        const truth = new Map(
          (await Deno.readTextFile(truthFile)).trim().split("\n").map((l) => {
            const [what, dev, ino, path] = l.split(" ");
            return [what, { dev: Number(dev), ino: Number(ino), path }];
          }),
        );
        const memfd = execsOf(events, /memfd/);
        assertEquals(memfd.length, 1, "one memfd exec");
        const m = memfd[0].info;
        assertEquals(m.image, "/memfd:procrec-x (deleted)", "memfd image");
        assertEquals(m.argv, ["memfdsleep", "0.02"], "memfd argv");
        assertEquals([m.fileless, m.deletedImage], [true, undefined], "marks");
        assertEquals([m.dev, m.ino], [
          truth.get("memfd")!.dev,
          truth.get("memfd")!.ino,
        ], "memfd dev/ino");
        const want = source === "ebpf" ? "kernel" : "proc";
        assertEquals([m.from.image, m.from.file], [want, want], "provenance");

        const del = execsOf(events, /delsleep/);
        assertEquals(del.length, 1, "one exec of the deleted binary");
        const d = del[0].info;
        const t = truth.get("deleted")!;
        assertEquals(d.image, `${t.path} (deleted)`, "deleted image");
        assertEquals([d.fileless, d.deletedImage], [undefined, true], "marks");
        assertEquals([d.dev, d.ino], [t.dev, t.ino], "deleted dev/ino");

        // hashed: both are copies of /bin/sleep; read through /proc/PID/exe
        // while the process still ran it, the hash is /bin/sleep's, else
        // `gone` (no path to open once it ended), never another file's
        const want256 = await new Deno.Command("sha256sum", {
          args: ["/bin/sleep"],
        }).output().then((o) =>
          new TextDecoder().decode(o.stdout).split(" ")[0]
        );
        for (
          const [what, e] of [["memfd", memfd[0]], ["deleted", del[0]]] as [
            string,
            Exec,
          ][]
        ) {
          const h = events.find((x) =>
            x.kind === "image_hash" && x.pid === e.pid && x.execT === e.t
          );
          assert(h?.kind === "image_hash", `${what}: an image_hash event`);
          if (h.status === "ok") {
            assertEquals(h.sha256, want256, `${what}: /bin/sleep's hash`);
          } else {
            assertEquals(h.status, "gone", `${what}: ${JSON.stringify(h)}`);
            assertEquals(h.sha256, undefined, `${what}: no hash`);
          }
        }

        // shown in the tree
        const tree = await procrec(["replay", out]);
        assert(tree.code === 0, tree.stderr);
        const line = (re: RegExp) =>
          tree.stdout.split("\n").find((l) => re.test(l)) ?? "";
        assert(/\{[^}]*fileless/.test(line(/^.*memfdsleep/)), tree.stdout);
        assert(/\{[^}]*deleted-image/.test(line(/^.*delsleep/)), tree.stdout);
        // replay --json carries the fields
        const json = await procrec(["replay", "--json", out]);
        const procs = JSON.parse(json.stdout).processes as {
          execs: { image?: string; fileless?: boolean; ino?: number }[];
        }[];
        const step = procs.flatMap((p) => p.execs).find((s) =>
          s.image?.startsWith("/memfd:")
        );
        assertEquals([step?.fileless, step?.ino], [true, m.ino], "json");
      }),
    unavailable,
  );

  captureTest(
    `${source}: a setuid binary run as nobody through setpriv has uid 65534, euid 0 and {setuid}`,
    () =>
      withTempDir(async (dir) => {
        const out = `${dir}/r.cbor`;
        // passwd (setuid root) asks nobody for the current password and
        // waits on its input, a pipe that sleep closes after 50 ms: it then
        // ends with status 10 (authentication token manipulation error)
        const events = await record(source, out, [
          "sh",
          "-c",
          "sleep 0.05 | setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/passwd",
        ], 10);
        const ex = execsOf(events, /\/passwd$/);
        assertEquals(ex.length, 1, "one exec of passwd");
        const i = ex[0].info;
        assertEquals(
          [i.uid, i.euid, i.gid, i.egid],
          [65534, 0, 65534, 65534],
          "ids after the exec",
        );
        const tree = await procrec(["replay", out]);
        const line = tree.stdout.split("\n").find((l) =>
          l.includes(`[${ex[0].pid}]`)
        ) ?? "";
        assert(/\{[^}]*setuid/.test(line), tree.stdout);
        assert(!/setgid/.test(line), line);
        // names from the recording's account tables (the host's /etc/passwd)
        const nobody = (await Deno.readTextFile("/etc/passwd")).split("\n")
          .find((l) => l.split(":")[2] === "65534")?.split(":")[0];
        assert(nobody !== undefined, "uid 65534 has a name here");
        assert(line.includes(`user ${nobody} as root`), line);
        const accounts = events.filter((e) => e.kind === "accounts");
        assertEquals(accounts.length, 1, "one accounts event");
        const json = await procrec(["replay", "--json", out]);
        const step = (JSON.parse(json.stdout).processes as {
          execs: {
            image?: string;
            userName?: string;
            effectiveUserName?: string;
          }[];
        }[]).flatMap((p) => p.execs).find((s) => s.image === "/usr/bin/passwd");
        assertEquals(
          [step?.userName, step?.effectiveUserName],
          [nobody, "root"],
          "names on the exec step",
        );
        // the report's details carry the user and the ids
        const rep = await procrec(["report", out, "-o", `${dir}/r.html`]);
        assert(rep.code === 0, rep.stderr);
        const html = await Deno.readTextFile(`${dir}/r.html`);
        assert(html.includes(`${nobody} as root`), "report: user");
        assert(html.includes("uid 65534  euid 0"), "report: ids");
      }),
    unavailable,
  );

  captureTest(
    `${source}: a shell moved into a cgroup named like a Docker scope execs with that cgroup path and id, the container id and the namespaces of /proc/PID/ns`,
    async () => {
      const id = crypto.getRandomValues(new Uint8Array(32)).reduce(
        (s, b) => s + b.toString(16).padStart(2, "0"),
        "",
      );
      const parent = `${CGROUP2}/procrec-test-${source}-${Deno.pid}`;
      const scope = `${parent}/docker-${id}.scope`;
      await Deno.mkdir(scope, { recursive: true });
      try {
        await withTempDir(async (dir) => {
          const out = `${dir}/r.cbor`;
          // the shell execs sleep 0.02 (20 ms) with the marker as its argv[0]
          const events = await record(source, out, [
            "bash",
            "-c",
            `echo $$ > ${scope}/cgroup.procs && exec -a marker-${source} /bin/sleep 0.02`,
          ]);
          const ex = events.filter((e): e is Exec =>
            e.kind === "exec" &&
            (e.info.argv ?? []).includes(`marker-${source}`)
          );
          assertEquals(ex.length, 1, "one exec of /bin/sleep");
          const i = ex[0].info;
          assertEquals(
            [i.image, i.argv],
            [await Deno.realPath("/bin/sleep"), [`marker-${source}`, "0.02"]],
            "image and argv",
          );
          const rel = scope.slice(CGROUP2.length);
          assertEquals(i.cgroup, rel, "cgroup path");
          assertEquals(i.cgroupId, (await Deno.stat(scope)).ino, "cgroup id");
          const ns: Record<string, number> = {};
          for (const n of ["pid", "mnt", "net", "user", "cgroup"]) {
            ns[n] = (await Deno.stat(`/proc/self/ns/${n}`)).ino!;
          }
          assertEquals(i.ns, ns, "namespaces (those of this test)");
          const tree = await procrec(["replay", "--wide", out]);
          const line = tree.stdout.split("\n").find((l) =>
            l.includes(`marker-${source}`)
          ) ?? "";
          assert(
            line.includes(`container docker:${id.slice(0, 12)}`),
            tree.stdout,
          );
        });
      } finally {
        await Deno.remove(scope).catch(() => {});
        await Deno.remove(parent).catch(() => {});
      }
    },
    unavailable,
  );
}
