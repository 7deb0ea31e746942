/**
 * The Windows event source end to end under Wine: the test program
 * (driver/windows/test/wine_e2e.c) loads procrec.dll, which installs and
 * starts the test build of procrec.sys; synthetic notifications go through
 * the driver's own callbacks; the ABI records it read back are decoded here
 * with cli/native/ and replayed as a Windows recording through the analysis.
 *
 * Needs mingw-w64 and Wine (scripts/setup.sh installs both); without them
 * the test fails and says what is missing. Linux only: on other hosts it is
 * ignored with the reason printed.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { analyze, type ProcessNode } from "../cli/analysis/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader, RecordingWriter } from "../cli/log/mod.ts";
import { decodeRecords } from "../cli/native/decode_records.ts";
import { withTempDir } from "./_record_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const WIN_DIR = `${ROOT}driver/windows`;
const OVERFLOW_N = 3000; // thread creations injected with the reader paused
const SCRIPT_N = 14; // records of the scripted sequence (wine_e2e.c)
const onLinux = Deno.build.os === "linux";
if (!onLinux) {
  console.log(
    `windows_wine_test: ignored on ${Deno.build.os}: it cross-builds with mingw-w64 and runs Wine on Linux`,
  );
}

async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { WINEDEBUG: "-all" },
  }).output();
  const dec = new TextDecoder();
  return {
    code: r.code,
    out: dec.decode(r.stdout) + dec.decode(r.stderr),
  };
}

/** Builds, runs the Wine end-to-end program, returns the records it read. */
async function recordUnderWine(dir: string): Promise<Uint8Array> {
  const build = await run("make", ["-s", "-C", WIN_DIR, "check-tools", "all"]);
  assert.equal(build.code, 0, `make -C driver/windows failed:\n${build.out}`);
  const path = `${dir}/records.bin`;
  const e2e = await run(`${WIN_DIR}/test/run_wine.sh`, [path]);
  assert.equal(e2e.code, 0, `the Wine end-to-end program failed:\n${e2e.out}`);
  assert.match(e2e.out, /PASSED: \d+ records written, 0 failures/);
  return await Deno.readFile(path);
}

function byPid(processes: ProcessNode[], pid: number): ProcessNode {
  const p = processes.find((x) => x.pid === pid);
  assert.ok(p, `process ${pid} is in the forest`);
  return p;
}

Deno.test({
  name:
    "procrec.dll and procrec.sys under Wine: records decode in cli/native and replay as a Windows recording",
  ignore: !onLinux,
  sanitizeResources: false,
  async fn() {
    await withTempDir(async (dir) => {
      const bytes = await recordUnderWine(dir);
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      const baseMono = view.getBigUint64(16, true);
      const baseUtc = view.getBigUint64(24, true);
      const decoded = decodeRecords(bytes, baseMono);
      assert.equal(decoded.invalid, 0);
      assert.equal(decoded.unknown, 0);
      const events = decoded.events;

      // Wine's own processes first (the snapshot), then the script in order.
      const firstScript = events.findIndex((e) =>
        e.kind !== "process_snapshot"
      );
      assert.ok(firstScript >= 1, "snapshot records come first");
      // the snapshot carries each process's token as a create does
      // (wine_e2e.c compares its own with what user mode reads)
      const tokens = events.slice(0, firstScript).filter((e) =>
        e.kind === "process_snapshot" && e.info?.from.cred === "kernel"
      );
      assert.ok(tokens.length >= 1, "snapshot records with their token");
      for (const e of tokens) {
        assert.ok(e.kind === "process_snapshot" && e.info);
        assert.match(e.info.user ?? "", /^S-1-\d+(-\d+)+$/);
        assert.ok(e.info.integrityLevel, `pid ${e.pid}: integrity level`);
      }
      const script = events.slice(firstScript);
      assert.deepEqual(
        script.slice(0, SCRIPT_N).map((e) => `${e.kind}:${e.pid}`),
        [
          "process_create:4100",
          "thread_create:4100",
          "thread_create:4100",
          "thread_create:4100",
          "image_load:4100",
          "process_create:4200",
          "process_create:4300",
          "process_exit:4300",
          "thread_exit:4100",
          "thread_exit:4100",
          "process_exit:4100",
          "process_create:4400",
          "process_create:4500",
          "process_create:4600",
        ],
      );
      const [cmd, , , , image, blocked, long] = script;
      assert.ok(cmd.kind === "process_create" && cmd.info);
      assert.equal(cmd.info.image, "\\??\\C:\\Windows\\System32\\cmd.exe");
      assert.equal(cmd.info.cmdline, "cmd.exe /c echo ünïcödé 𝄞");
      assert.equal(cmd.ppid, 700);
      assert.equal(cmd.creatorTid, 701);
      assert.ok(cmd.start < cmd.t, "created before the notification");
      // the creating token, as the driver read it (injected under Wine)
      assert.equal(
        cmd.info.user,
        "S-1-5-21-123456789-1009719083-675233178-1001",
      );
      assert.equal(cmd.info.sessionId, 1);
      assert.equal(cmd.info.integrityLevel, "High");
      assert.equal(cmd.info.from.cred, "kernel");
      assert.ok(image.kind === "image_load");
      // an unpaired surrogate in the loaded image's name: U+FFFD for each
      // byte of its WTF-8, and the event flagged (format 8)
      assert.equal(
        image.image,
        "\\SystemRoot\\System32\\ntdll\ufffd\ufffd\ufffd.dll",
      );
      assert.equal(image.notUtf8, true);
      assert.equal(image.base, 0x7ff800000000);
      assert.ok(blocked.kind === "process_create" && blocked.denied === true);
      assert.ok(long.kind === "process_create" && long.info?.argvTruncated);
      // non-canonical names: a device path in mixed case is denied by
      // "*\BLOCKED.exe"; an unpaired surrogate is kept as its value (WTF-8),
      // bytes that are not UTF-8: U+FFFD for each, and the fields flagged
      const [device, odd, accented] = script.slice(SCRIPT_N - 3, SCRIPT_N);
      assert.ok(device.kind === "process_create" && device.denied === true);
      assert.equal(
        device.info?.image,
        "\\Device\\HarddiskVolume3\\EVIL\\Blocked.EXE",
      );
      assert.ok(odd.kind === "process_create" && odd.denied !== true);
      assert.equal(
        odd.info?.image,
        "\\??\\c:/Temp/PROGRA~1/x\ufffd\ufffd\ufffdy.exe",
      );
      assert.deepEqual(odd.info?.notUtf8, ["image", "argv"]);
      // a non-ASCII name in another case than the rule "*\\ÉVIL.exe": denied
      assert.ok(accented.kind === "process_create" && accented.denied === true);
      assert.equal(accented.info?.image, "\\??\\C:\\Temp\\évil.EXE");

      // The overflow: K stored, one lost record with exactly the rest.
      const rest = script.slice(SCRIPT_N);
      const lostAt = rest.findIndex((e) => e.kind === "lost");
      const stored = rest.slice(0, lostAt);
      assert.ok(
        stored.every((e) => e.kind === "thread_create" && e.pid === 5000),
        "only the overflow's thread creations come before the lost record",
      );
      const lost = rest[lostAt];
      assert.ok(lost.kind === "lost");
      assert.equal(lost.reason, "driver_queue");
      assert.equal(lost.count, OVERFLOW_N - stored.length);
      assert.ok(lost.count > 0);
      const marker = rest[lostAt + 1];
      assert.ok(marker.kind === "process_exit" && marker.pid === 5000);
      assert.equal(marker.status, 7);
      // Then four producers at once: each one's records in its order.
      const parallel = rest.slice(lostAt + 2).filter((e) =>
        e.kind === "thread_create" && e.pid >= 7000 && e.pid < 7004
      );
      for (let k = 0; k < 4; k++) {
        const tids = parallel.filter((e) => e.pid === 7000 + k).map((e) =>
          e.tid
        );
        assert.deepEqual(tids, [...tids].sort((a, b) => a - b));
      }
      // Last, an overflow that no record follows (nothing injected after it,
      // then stop): its lost record still arrives, last, with the exact count.
      const last = events[events.length - 1];
      const endStored = events.filter((e) =>
        e.kind === "thread_create" && e.pid === 5100
      );
      assert.ok(endStored.length > 0);
      assert.ok(
        events.slice(-1 - endStored.length, -1).every((e) =>
          e.kind === "thread_create" && e.pid === 5100
        ),
        "the end overflow's stored creations come just before the lost record",
      );
      assert.ok(last.kind === "lost", "the stream ends with the lost record");
      assert.equal(last.reason, "driver_queue");
      assert.equal(last.count, OVERFLOW_N - endStored.length);

      // Replayed as a Windows recording: the same events come back...
      const path = `${dir}/wine.cbor`;
      const w = await RecordingWriter.create(path, {
        host: "wine",
        os: "windows",
        kernel: "Wine 8 (procrec_test.sys)",
        bootId: "wine-e2e",
        timeBase: { monoNs: baseMono, utcNs: baseUtc },
        clock: { source: "interrupt time", monoToUtcNs: baseUtc - baseMono },
        tool: { name: "procrec", version: "test" },
        source: {
          name: "windows",
          reason: "synthetic notifications injected under Wine",
        },
        options: {},
      }, { flushIntervalMs: 0 });
      for (const e of events) w.write(e);
      await w.close();
      const reader = await RecordingReader.open(path);
      assert.equal(reader.header.os, "windows");
      const replayed: ProcEvent[] = [];
      for await (const e of reader.events()) replayed.push(e);
      assert.deepEqual(replayed, events);
      assert.ok(reader.report.complete);

      // ...and analyze as Windows processes.
      const forest = await analyze(replayed, {
        os: "windows",
        bootId: "wine-e2e",
      });
      const p4100 = byPid(forest.processes, 4100);
      assert.equal(p4100.exit?.name, "STATUS_CONTROL_C_EXIT");
      assert.equal(p4100.cmdline, "cmd.exe /c echo ünïcödé 𝄞");
      const kids = p4100.children.map((id) => forest.byId.get(id)?.pid);
      assert.deepEqual(kids.sort(), [4200, 4300]);
      assert.ok(byPid(forest.processes, 4200).flags.includes("denied"));
      assert.equal(byPid(forest.processes, 4300).exit?.code, 1);
      const t4104 = p4100.threads.find((t) => t.tid === 4104);
      // the driver leaves PR_F_REMOTE off this first thread (made by the
      // creator, 700), and the analysis follows the driver's verdict
      assert.equal(t4104?.remote, false, "a first thread is not remote");
      assert.equal(t4104?.processExiting, true);
      const t4112 = p4100.threads.find((t) => t.tid === 4112);
      assert.ok(t4112?.remote, "a later thread created by process 700: remote");
      assert.equal(t4104?.exitClass, "teardown");
      assert.equal(p4100.threads.find((t) => t.tid === 4108)?.remote, false);
      assert.deepEqual(
        forest.lost.map((l) => [l.reason, l.count]),
        events.filter((e) => e.kind === "lost").map((e) => [e.reason, e.count]),
      );
      assert.deepEqual(forest.lost[0].count, OVERFLOW_N - stored.length);
      const snapshots = forest.processes.filter((p) =>
        p.flags.includes("existing-before-recording")
      );
      assert.equal(snapshots.length, firstScript);
      // procrec.dll hashed the images of its hash session's creations: its
      // own program (the SHA-256 this test computes), the same again from
      // the cache, a missing file gone
      const own = createHash("sha256").update(
        await Deno.readFile(`${WIN_DIR}/build/procrec_e2e.exe`),
      ).digest("hex");
      const hashOf = (pid: number) =>
        replayed.find((e) => e.kind === "image_hash" && e.pid === pid);
      const [h0, h1, h2] = [9000, 9004, 9008].map(hashOf);
      assert.ok(h0?.kind === "image_hash" && h1?.kind === "image_hash");
      assert.ok(h2?.kind === "image_hash");
      assert.deepEqual([h0.status, h0.sha256, h0.cached], [
        "ok",
        own,
        undefined,
      ]);
      assert.deepEqual([h1.status, h1.sha256, h1.cached], ["ok", own, true]);
      assert.deepEqual([h2.status, h2.reason], ["gone", "path-missing"]);
      // with the worker paused between creation and hashing: a fresh copy
      // of the program read (the same hash, not from the cache: another
      // file), a copy written to after its creation `changed` (no hash of
      // what it holds now), a copy held unshared an `error`
      const [h3, h4, h5] = [9012, 9016, 9020].map(hashOf);
      assert.ok(h3?.kind === "image_hash" && h4?.kind === "image_hash");
      assert.ok(h5?.kind === "image_hash");
      assert.deepEqual([h3.status, h3.sha256, h3.cached], [
        "ok",
        own,
        undefined,
      ]);
      assert.deepEqual([h4.status, h4.reason, h4.sha256], [
        "changed",
        "ctime-after-exec",
        undefined,
      ]);
      assert.deepEqual([h5.status, h5.reason, h5.sha256], [
        "error",
        "EACCES",
        undefined,
      ]);
      // ...joined onto the creation's image in the analysis
      assert.equal(byPid(forest.processes, 9000).execs[0].sha256, own);
      assert.equal(byPid(forest.processes, 9004).execs[0].hashCached, true);
      assert.equal(byPid(forest.processes, 9008).execs[0].hashState, "gone");
      assert.equal(byPid(forest.processes, 9012).execs[0].sha256, own);
      const changed = byPid(forest.processes, 9016).execs[0];
      assert.deepEqual([changed.hashState, changed.sha256], [
        "changed",
        undefined,
      ]);
      assert.equal(byPid(forest.processes, 9020).execs[0].hashState, "error");

      // ...and replayed, a snapshot process shows its token's user
      const tokened = snapshots.filter((p) => p.execs[0]?.user);
      assert.equal(tokened.length, tokens.length);
      for (const p of tokened) {
        const e = tokens.find((x) => x.pid === p.pid);
        assert.ok(e?.kind === "process_snapshot");
        assert.deepEqual(
          [p.execs[0].user, p.execs[0].integrityLevel],
          [e.info?.user, e.info?.integrityLevel],
        );
      }
    }, "procrec-wine-test-");
  },
});
