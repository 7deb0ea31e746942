/**
 * Image SHA-256 from the real kernel (issue 12 item 3), end to end through
 * `procrec record` under both Linux sources: every exec of a binary the test
 * copies, and twenty runs of /bin/sleep, carry the hash that `sha256sum`
 * gives, in the recording (`image_hash`), in `replay --json` and `--wide`, and
 * on the ECS and OCSF start documents; the twenty runs read /bin/sleep once
 * (the cache); `--no-image-hash` records none. The programs live 20 ms or more, so
 * that the proc connector source reads their device and inode in time
 * (without them a hash is `gone`: nothing to check a file against). (Changed, replaced and deleted
 * binaries: driver/linux/tests/test_hash.c, which pauses the worker.)
 */
import type { ImageHash, ProcEvent } from "../cli/events/types.ts";
import { readCompleteEvents } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  buildC,
  captureTest,
  captureUnavailable,
  procrec,
  procrecRecord,
  sha256sum,
  withTempDir,
} from "./_record_helpers.ts";

const unavailable = await captureUnavailable();

/** A copy of `from` at `to`, executable. */
async function executableCopy(from: string, to: string): Promise<string> {
  await Deno.copyFile(from, to);
  await Deno.chmod(to, 0o755);
  return to;
}

/** Execs of `image` and the hash event of each (undefined when none). */
function hashesOf(events: ProcEvent[], image: string) {
  const hashes = new Map<string, ImageHash>();
  for (const e of events) {
    if (e.kind === "image_hash") hashes.set(`${e.pid}:${e.execT}`, e);
  }
  return events.filter((e) => e.kind === "exec" && e.info.image === image)
    .map((e) => hashes.get(`${e.pid}:${e.t}`));
}

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `${source}: every exec's recorded SHA-256 is sha256sum's, shown by replay and the exports; /bin/sleep read once for twenty runs`,
    async () => {
      await withTempDir(async (dir) => {
        const bin = `${dir}/copied-sleep`;
        await Deno.copyFile("/bin/sleep", bin);
        await Deno.chmod(bin, 0o755);
        const trueImage = await Deno.realPath("/bin/sleep");
        const out = `${dir}/h.cbor`;
        // the run's own cache, not one of an earlier run in this boot
        const r = await procrecRecord(source, out, [
          "sh",
          "-c",
          `${bin} 0.05; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do /bin/sleep 0.02; done`,
        ], { flags: ["--only-command", "--no-hash-cache"] });
        assertEquals(r.code, 0, r.stderr);
        const events = await readCompleteEvents(out);

        const want = await sha256sum(bin);
        const mine = hashesOf(events, bin);
        assertEquals(mine.length, 1, "one exec of the copied binary");
        assertEquals(mine[0]?.status, "ok", JSON.stringify(mine[0]));
        assertEquals(mine[0]?.sha256, want, "the copied binary's hash");

        const trues = hashesOf(events, trueImage);
        assertEquals(trues.length, 20, "twenty execs of /bin/sleep");
        const wantTrue = await sha256sum(trueImage);
        for (const h of trues) {
          assertEquals(h?.sha256, wantTrue, JSON.stringify(h));
        }
        const read = trues.filter((h) => !h?.cached).length;
        assert(read <= 1, `/bin/sleep read ${read} times for 20 execs`);

        // replay --json carries it on the exec step; --wide prints it
        const json = await procrec(["replay", "--json", out]);
        assertEquals(json.code, 0, json.stderr);
        const forest = JSON.parse(json.stdout);
        const steps = forest.processes.flatMap((
          p: { execs: { image?: string; sha256?: string; via: string }[] },
        ) => p.execs.filter((s) => s.via === "exec" && s.image === bin));
        assertEquals(steps.length, 1);
        assertEquals(steps[0].sha256, want);
        const wide = await procrec(["replay", "--wide", out]);
        assert(wide.stdout.includes(`sha256 ${want}`), wide.stdout);

        // ECS and OCSF: on the start document of that exec
        const ecs = await procrec(["export", "--format", "ecs", out]);
        assertEquals(ecs.code, 0, ecs.stderr);
        const start = ecs.stdout.trim().split("\n").map((l) => JSON.parse(l))
          .find((d) =>
            d.event.action === "exec" && d.process.executable === bin
          );
        assertEquals(start?.process?.hash?.sha256, want, "ECS exec document");
        const ocsf = await procrec(["export", "--format", "ocsf", out]);
        assertEquals(ocsf.code, 0, ocsf.stderr);
        assert(
          ocsf.stdout.includes(`"value":"${want}"`),
          "OCSF file.hashes of the exec",
        );

        // procrec's JSON lines round-trip the image_hash events
        const jsonl = `${dir}/h.jsonl`, back = `${dir}/back.cbor`;
        const ex = await procrec([
          "export",
          "--format",
          "jsonl",
          out,
          "-o",
          jsonl,
        ]);
        assertEquals(ex.code, 0, ex.stderr);
        const im = await procrec(["import", "jsonl", jsonl, "-o", back]);
        assertEquals(im.code, 0, im.stderr);
        const again = hashesOf(await readCompleteEvents(back), bin);
        assertEquals(again[0]?.sha256, want, "after export and import");
      });
    },
    unavailable,
  );
}

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `${source}: an image over 1 GiB (a sparse file) is not read: its hash is skipped, too-large, and the next exec's is made`,
    async () => {
      await withTempDir(async (dir) => {
        const big = await executableCopy("/bin/sleep", `${dir}/big-sleep`);
        const small = await executableCopy("/bin/sleep", `${dir}/small-sleep`);
        // (3 GiB of which a few pages are written: reading it took the
        // hash thread seconds, and a terabyte would take hours)
        await Deno.truncate(big, 3 * 1024 ** 3);
        const out = `${dir}/h.cbor`;
        const r = await procrecRecord(source, out, [
          "sh",
          "-c",
          `${big} 0.05; ${small} 0.05`,
        ], { flags: ["--only-command", "--no-hash-cache"] });
        assertEquals(r.code, 0, r.stderr);
        const events = await readCompleteEvents(out);
        const [h] = hashesOf(events, big);
        assertEquals(
          [h?.status, h?.reason],
          ["skipped", "too-large"],
          JSON.stringify(h),
        );
        const [s] = hashesOf(events, small);
        assertEquals(s?.sha256, await sha256sum(small), JSON.stringify(s));
      });
    },
    unavailable,
  );
}

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `${source}: an image grown to 64 GiB while its hash is read is not read to its new end; the next exec's hash is made`,
    async () => {
      await withTempDir(async (dir) => {
        const big = await executableCopy("/bin/true", `${dir}/big-true`);
        const small = await executableCopy("/bin/sleep", `${dir}/small-sleep`);
        // half a GiB (a fraction of a second to read), then grown to 64 GiB
        // once it ran, most often while it is being read. The command then
        // waits 3 s, so that a slow host reads the half GiB before the
        // recorder stops (the first read of a file's hole took 1.4 s of
        // system time here once: "stopped" would prove nothing)
        await Deno.truncate(big, 512 * 1024 ** 2 - 4096);
        const out = `${dir}/h.cbor`;
        const r = await procrecRecord(source, out, [
          "sh",
          "-c",
          `${big}; sleep 0.2; truncate -s 64G ${big}; ${small} 0.05; sleep 3`,
        ], { flags: ["--only-command", "--no-hash-cache"] });
        assertEquals(r.code, 0, r.stderr);
        const events = await readCompleteEvents(out);
        const [h] = hashesOf(events, big);
        // changed while read; too large (opened after it grew); or, on a
        // machine that hashes fast, read whole before it grew
        const wholeBefore = h?.status === "ok" &&
          h.size === 512 * 1024 ** 2 - 4096;
        assert(
          (h?.status === "changed" && h.reason === "changed-while-read") ||
            (h?.status === "skipped" && h.reason === "too-large") ||
            wholeBefore,
          JSON.stringify(h),
        );
        const [s] = hashesOf(events, small);
        assertEquals(s?.sha256, await sha256sum(small), JSON.stringify(s));
      });
    },
    unavailable,
  );
}

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `${source}: an image under a path past PATH_MAX, run as ./x, is not recorded as ./x, and its hash is made`,
    async () => {
      await withTempDir(async (dir) => {
        const out = `${dir}/h.cbor`;
        // 25 directories of 200 characters: the path is 5,000 long, which
        // neither readlink of /proc/PID/exe nor the eBPF path walk gives
        const helper = await buildC(
          "tests/long_path_helper.c",
          `${dir}/long-path`,
        );
        const bin = await executableCopy("/bin/sleep", `${dir}/sleep-copy`);
        const r = await procrecRecord(source, out, [helper, bin, "25"], {
          flags: ["--only-command", "--no-hash-cache"],
          cwd: dir,
        });
        assertEquals(r.code, 0, r.stderr);
        const events = await readCompleteEvents(out);
        const exec = events.find((e) =>
          e.kind === "exec" && e.info.argv?.[0] === "./x"
        );
        assert(exec?.kind === "exec", JSON.stringify(events));
        assert(
          exec.info.image === undefined || exec.info.image.startsWith(dir),
          `the caller's name taken for the image: ${exec.info.image}`,
        );
        const h = events.find((e) =>
          e.kind === "image_hash" && e.pid === exec.pid && e.execT === exec.t
        );
        assertEquals(
          h?.kind === "image_hash" ? h.sha256 : undefined,
          await sha256sum(bin),
          JSON.stringify(h),
        );
      });
    },
    unavailable,
  );
}

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `${source}: an image 45 directories deep (past the eBPF unrolled path walk, under PATH_MAX) is recorded under its path, with its hash; never as a later exec's image`,
    async () => {
      await withTempDir(async (dir) => {
        // 45 nested directories: deeper than the 40 the eBPF program's
        // unrolled walk takes, a path of a few hundred characters
        let deep = dir;
        for (let i = 0; i < 45; i++) deep += `/level-${i}`;
        await Deno.mkdir(deep, { recursive: true });
        const bin = await executableCopy("/bin/sleep", `${deep}/deep-sleep`);
        const sh = await executableCopy("/bin/sh", `${deep}/deep-sh`);
        const out = `${dir}/h.cbor`;
        // the sleep runs a second (the library reads /proc/PID/exe after the
        // event); the shell execs /bin/sleep at once, before it is read
        const r = await procrecRecord(source, out, [
          "/bin/sh",
          "-c",
          `${bin} 1; ${sh} -c 'exec /bin/sleep 0.3'`,
        ], { flags: ["--only-command", "--no-hash-cache"] });
        assertEquals(r.code, 0, r.stderr);
        const events = await readCompleteEvents(out);
        const exec = events.find((e) =>
          e.kind === "exec" && e.info.argv?.[0] === bin
        );
        assert(exec?.kind === "exec", JSON.stringify(events));
        assertEquals(exec.info.image, bin, JSON.stringify(exec.info));
        // (eBPF: the BPF program walks it through bpf_loop, as deep as a path
        // goes; an older kernel's unrolled walk stops at 40 directories, and
        // the library then reads the exe link, with proc provenance)
        assertEquals(
          exec.info.from.image,
          source === "ebpf" ? "kernel" : "proc",
          JSON.stringify(exec.info),
        );
        const h = events.find((e) =>
          e.kind === "image_hash" && e.pid === exec.pid && e.execT === exec.t
        );
        assertEquals(
          h?.kind === "image_hash" ? h.sha256 : undefined,
          await sha256sum(bin),
          JSON.stringify(h),
        );
        // the shell's exec: its own path or none, not /bin/sleep's (the
        // exe link it shows by the time it is read); with the proc
        // connector it may be found gone (no argv either: it exec'd sleep
        // before it was read, as CI once saw), then it is the exec before
        // the same process's exec of /bin/sleep
        const sleepExec = events.find((e) =>
          e.kind === "exec" && e.info.argv?.[0] === "/bin/sleep"
        );
        const shExec = events.find((e) =>
          e.kind === "exec" && e.info.argv?.[0] === sh
        ) ?? events.find((e) =>
          e.kind === "exec" && e.pid === sleepExec?.pid &&
          e.t < sleepExec.t && e.info.from.image === "gone"
        );
        assert(shExec?.kind === "exec", JSON.stringify(events));
        assert(
          shExec.info.image === undefined || shExec.info.image === sh,
          `a later exec's image taken: ${shExec.info.image}`,
        );
      });
    },
    unavailable,
  );
}

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `${source}: programs written just before their execs, started together and gone 50 ms later, are hashed (dropped tools run at once)`,
    async () => {
      await withTempDir(async (dir) => {
        const out = `${dir}/d.cbor`;
        const [a, b] = [`${dir}/dropped-a`, `${dir}/dropped-b`];
        // (the hash worker must find them running: once a program has
        // exited, a file written this close before its exec may have been
        // written after it; the second exec comes within the 2 ms in which
        // the first one's wake-up of the eBPF reader stands for both)
        const r = await procrecRecord(source, out, [
          "sh",
          "-c",
          `cp /bin/sleep ${a} && cp /bin/sleep ${b} && { ${a} 0.05 & ${b} 0.05 & wait; }`,
        ], { flags: ["--only-command", "--no-hash-cache"] });
        assertEquals(r.code, 0, r.stderr);
        const events = await readCompleteEvents(out);
        const want = await sha256sum("/bin/sleep");
        for (const bin of [a, b]) {
          const [hash] = hashesOf(events, bin);
          assertEquals(hash?.status, "ok", `${bin}: ${JSON.stringify(hash)}`);
          assertEquals(hash?.sha256, want);
        }
      });
    },
    unavailable,
  );
}

captureTest(
  "record --no-image-hash records no image hashes",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/n.cbor`;
      const r = await procrecRecord("auto", out, ["/bin/true"], {
        flags: ["--only-command", "--no-image-hash"],
      });
      assertEquals(r.code, 0, r.stderr);
      const events = await readCompleteEvents(out);
      assert(events.some((e) => e.kind === "exec"), "the exec is recorded");
      assertEquals(events.filter((e) => e.kind === "image_hash").length, 0);
    });
  },
  unavailable,
);
