/**
 * `procrec service`: the systemd unit (checked by systemd-analyze), install
 * and uninstall into a unit directory, and `service status` on a live and a
 * dead writer recording from the real kernel.
 */
import { deepStrictEqual, match, ok } from "node:assert/strict";
import {
  captureTest,
  captureUnavailable,
  fillDisk,
  PROCREC,
  procrec,
  segmentRecordArgs,
  waitForPath,
  withTempDir,
  withTmpfs,
} from "./_record_helpers.ts";
import { procrecBounded } from "./_bounded.ts";
import { renderServiceStatus } from "../cli/service/mod.ts";

async function analyzeVerify(unitPath: string): Promise<string> {
  const out = await new Deno.Command("systemd-analyze", {
    // the man page is checked by the package test, where it is installed
    args: ["verify", "--man=no", unitPath],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) +
    new TextDecoder().decode(out.stdout);
  deepStrictEqual(out.code, 0, `systemd-analyze verify: ${text}`);
  return text;
}

/** `systemd-analyze security` of a unit file: its table, its exposure. */
async function analyzeSecurity(
  unitPath: string,
): Promise<{ text: string; exposure: number }> {
  const out = await new Deno.Command("systemd-analyze", {
    args: ["security", "--offline=true", "--no-pager", unitPath],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const m = /Overall exposure level for \S+: ([0-9.]+)/.exec(text);
  ok(
    m,
    `systemd-analyze security: ${text}${new TextDecoder().decode(out.stderr)}`,
  );
  return { text, exposure: Number(m[1]) };
}

for (
  const [source, want, not] of [
    ["netlink", ["CAP_NET_ADMIN"], ["CAP_BPF", "CAP_PERFMON", "CAP_SYS_ADMIN"]],
    ["ebpf", ["CAP_BPF", "CAP_PERFMON"], ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]],
    ["auto", ["CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN"], ["CAP_SYS_ADMIN"]],
  ] as const
) {
  Deno.test(`service unit --source ${source} is hardened, verified by systemd-analyze, and bounded to its source's capabilities`, async () => {
    await withTempDir(async (dir) => {
      const r = await procrec([
        "service",
        "unit",
        "--dir",
        `${dir}/segments`,
        "--rotate",
        "15m",
        "--keep",
        "100",
        "--source",
        source,
      ]);
      deepStrictEqual(r.code, 0, r.stderr);
      const unit = r.stdout;
      await Deno.writeTextFile(`${dir}/procrec.service`, unit);
      await analyzeVerify(`${dir}/procrec.service`);
      const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "";
      deepStrictEqual(
        exec,
        `${PROCREC} record -o ${dir}/segments/ --rotate 15m --keep 100 --source ${source} --hash-cache /var/cache/procrec/image-hashes`,
      );
      for (
        const line of [
          "Restart=always",
          "ProtectSystem=strict",
          `ReadWritePaths=${dir}/segments`,
          "NoNewPrivileges=yes",
          "ExecReload=/bin/kill -HUP $MAINPID",
          "WantedBy=sysinit.target",
          // (found by review) restarted however often it fails to start,
          // and hardened further
          "StartLimitIntervalSec=0",
          // a directory removed while the service was down is made again
          `ExecStartPre=+/bin/mkdir -p -m 0700 ${dir}/segments`,
          "ProtectKernelModules=yes",
          "ProtectControlGroups=yes",
          "SystemCallArchitectures=native",
          "OOMScoreAdjust=-900",
          // (found by review) with uid 0 and its capabilities the recorder
          // could write kernel tunables, other processes' memory and disks
          "ProtectKernelTunables=yes",
          "ReadOnlyPaths=/proc",
          "DevicePolicy=closed",
          "RestrictNamespaces=yes",
          "SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap process_vm_writev",
        ]
      ) ok(unit.split("\n").includes(line), `the unit lacks ${line}`);
      // (tests/service_sandbox_test.ts runs the recorder under them)
      ok(!/^MemoryDenyWriteExecute=yes/m.test(unit), "V8 needs JIT memory");
      ok(!/^RestrictRealtime=yes/m.test(unit), "netlink runs SCHED_FIFO");
      // a private /tmp or /dev hid from the hash worker the image of a
      // process run from /tmp or /dev/shm that ended before it was hashed
      ok(!/^Private(Tmp|Devices)=yes/m.test(unit), "the host's /tmp, /dev/shm");
      const security = await analyzeSecurity(`${dir}/procrec.service`);
      ok(security.exposure <= 3.5, security.text);
      for (
        const item of [
          "ProtectKernelTunables=",
          "SystemCallFilter=~@debug",
          "SystemCallFilter=~@mount",
          "RestrictNamespaces=~user",
        ]
      ) {
        ok(
          new RegExp(`^✓ ${item.replace(/[~@=]/g, "\\$&")}`, "m").test(
            security.text,
          ),
          `systemd-analyze security: ${item} is not met\n${security.text}`,
        );
      }
      const caps = (/^CapabilityBoundingSet=(.*)$/m.exec(unit)?.[1] ?? "")
        .split(" ");
      for (const c of want) ok(caps.includes(c), `${source} needs ${c}`);
      for (const c of not) ok(!caps.includes(c), `${source} must not get ${c}`);
    });
  });
}

Deno.test("service unit --config reads the settings from an environment file", async () => {
  const r = await procrec([
    "service",
    "unit",
    "--config",
    "/etc/default/procrec",
    "--exec",
    "/usr/bin/procrec",
  ]);
  deepStrictEqual(r.code, 0, r.stderr);
  match(r.stdout, /^EnvironmentFile=-\/etc\/default\/procrec$/m);
  match(
    r.stdout,
    /^ExecStart=\/usr\/bin\/procrec record -o \$\{PROCREC_DIR\}\/ --rotate \$\{PROCREC_ROTATE\} --keep \$\{PROCREC_KEEP\} --source \$\{PROCREC_SOURCE\} --hash-cache \/var\/cache\/procrec\/image-hashes \$PROCREC_ARGS$/m,
  );
});

Deno.test("service unit refuses a relative --exec and a --rotate that would break the ExecStart line", async () => {
  const a = await procrec(["service", "unit", "--exec", "procrec"]);
  deepStrictEqual(a.code, 2);
  match(a.stderr, /exec "procrec" must be an absolute path/);
  const b = await procrec(["service", "unit", "--rotate", "1h; rm -rf /"]);
  deepStrictEqual(b.code, 2);
  match(
    b.stderr,
    /--rotate "1h; rm -rf \/" is neither a size .* nor a duration/,
  );
});

Deno.test("service install writes the unit and a 0700 directory; uninstall removes the unit and keeps recordings", async () => {
  await withTempDir(async (dir) => {
    const units = `${dir}/units`;
    await Deno.mkdir(units);
    const r = await procrec([
      "service",
      "install",
      "--no-enable",
      "--unit-dir",
      units,
      "--dir",
      `${dir}/rec`,
      "--source",
      "netlink",
    ]);
    deepStrictEqual(r.code, 0, r.stderr);
    const st = await Deno.stat(`${dir}/rec`);
    deepStrictEqual(st.mode! & 0o777, 0o700);
    await analyzeVerify(`${units}/procrec.service`);
    await Deno.writeTextFile(`${dir}/rec/kept.cbor`, "evidence");
    const u = await procrec(["service", "uninstall", "--unit-dir", units]);
    deepStrictEqual(u.code, 0, u.stderr);
    await Deno.stat(`${dir}/rec/kept.cbor`);
    let gone = false;
    try {
      await Deno.stat(`${units}/procrec.service`);
    } catch (e) {
      gone = e instanceof Deno.errors.NotFound;
    }
    ok(gone, "uninstall left the unit");
    const again = await procrec(["service", "uninstall", "--unit-dir", units]);
    deepStrictEqual(again.code, 2);
    match(again.stderr, /there is no unit/);
  });
});

Deno.test("service install keeps an existing directory's mode, refuses one every user can write; uninstall of a missing unit touches no service; --rotate and --keep are checked as record checks them; --dir / is refused", async () => {
  await withTempDir(async (dir) => {
    // a systemctl that logs its calls
    const bin = `${dir}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/systemctl`,
      `#!/bin/sh\necho "$@" >> ${dir}/systemctl.log\n`,
      { mode: 0o755 },
    );
    const env = { PATH: `${bin}:${Deno.env.get("PATH")}` };
    const shared = `${dir}/shared`;
    await Deno.mkdir(shared);
    await Deno.chmod(shared, 0o755);
    await Deno.mkdir(`${dir}/units`);
    const install = (d: string) =>
      procrec([
        "service",
        "install",
        "--no-enable",
        "--unit-dir",
        `${dir}/units`,
        "--dir",
        d,
      ], { env });
    const r = await install(shared);
    deepStrictEqual(r.code, 0, r.stderr);
    deepStrictEqual((await Deno.stat(shared)).mode! & 0o7777, 0o755);
    match(r.stderr, /mode 755: others can read/);
    // (found by review) one that every user can write: any of them could
    // make and hold writer.lock, and the recorder never ran
    await Deno.remove(`${dir}/units/procrec.service`);
    await Deno.chmod(shared, 0o1777);
    const open = await install(shared);
    deepStrictEqual(open.code, 2, open.stderr);
    ok(
      open.stderr.includes(`${shared}: mode 1777: every user can write it`),
      open.stderr,
    );
    match(open.stderr, /chmod 0700 /);
    deepStrictEqual((await Deno.stat(shared)).mode! & 0o7777, 0o1777);
    ok(
      !(await Deno.lstat(`${dir}/units/procrec.service`).then(
        () => 1,
        () => 0,
      )),
      "a unit was written for a directory every user can write",
    );
    // a directory above it that they can write: they could replace it
    await Deno.mkdir(`${dir}/open/rec`, { recursive: true });
    await Deno.chmod(`${dir}/open`, 0o777);
    const above = await install(`${dir}/open/rec`);
    deepStrictEqual(above.code, 2, above.stderr);
    ok(
      above.stderr.includes(`${dir}/open: mode 0777: every user can write it`),
      above.stderr,
    );
    const u = await procrec([
      "service",
      "uninstall",
      "--unit-dir",
      `${dir}/typo`,
    ], { env });
    deepStrictEqual(u.code, 2);
    match(u.stderr, /there is no unit/);
    const calls = await Deno.readTextFile(`${dir}/systemctl.log`).catch(
      () => "",
    );
    deepStrictEqual(calls, "", "systemctl ran for a unit that is not there");
    for (
      const [args, want] of [
        [["--rotate", "1hour"], /--rotate "1hour" is neither/],
        [["--keep", "0"], /--keep "0" keeps nothing/],
        [["--dir", "/"], /is the root directory/],
        [["--config", "etc/default procrec"], /must be an absolute path/],
      ] as const
    ) {
      const bad = await procrec(["service", "unit", ...args]);
      deepStrictEqual(bad.code, 2, bad.stdout);
      match(bad.stderr, want);
    }
  });
});

/** The uid of user nobody. */
async function nobodyUid(): Promise<number> {
  const out = await new Deno.Command("id", { args: ["-u", "nobody"] })
    .output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

Deno.test("service install refuses a launcher, an installation or a directory above them that another user than root can change (found by review)", async () => {
  if (Deno.uid() !== 0) {
    console.log("skipped: needs root, to give files to another user");
    return;
  }
  const nobody = await nobodyUid();
  await withTempDir(async (dir) => {
    // an installation: the launcher beside cli/main.ts (nothing is run)
    const inst = `${dir}/above/inst`;
    await Deno.mkdir(`${inst}/cli`, { recursive: true });
    await Deno.writeTextFile(`${inst}/procrec`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(`${inst}/cli/main.ts`, "");
    await Deno.mkdir(`${dir}/bin`);
    await Deno.symlink(`${inst}/procrec`, `${dir}/bin/procrec`);
    await Deno.mkdir(`${dir}/units`);
    const unit = `${dir}/units/procrec.service`;
    const install = async (exec: string) => {
      await Deno.remove(unit).catch(() => {});
      const r = await procrec([
        "service",
        "install",
        "--no-enable",
        "--unit-dir",
        `${dir}/units`,
        "--dir",
        `${dir}/rec`,
        "--exec",
        exec,
      ]);
      const written = await Deno.lstat(unit).then(() => true, () => false);
      deepStrictEqual(written, r.code === 0, r.stderr);
      return r;
    };
    // root's, below /tmp (others may add to it, not replace root's): taken
    let r = await install(`${inst}/procrec`);
    deepStrictEqual(r.code, 0, r.stderr);
    r = await install(`${dir}/bin/procrec`);
    deepStrictEqual(r.code, 0, r.stderr);
    match(await Deno.readTextFile(unit), new RegExp(`ExecStart=${dir}/bin/`));

    const refused = async (exec: string, want: string) => {
      const bad = await install(exec);
      deepStrictEqual(bad.code, 2, bad.stderr);
      ok(bad.stderr.includes(want), `${want}: ${bad.stderr}`);
      match(bad.stderr, /would run as root what another user than root/);
      match(bad.stderr, new RegExp(`chown -R root:root ${inst}`));
    };
    await Deno.chown(`${inst}/procrec`, nobody, nobody);
    await refused(`${inst}/procrec`, `${inst}/procrec: owned by uid ${nobody}`);
    // through a link too
    await refused(
      `${dir}/bin/procrec`,
      `${inst}/procrec: owned by uid ${nobody}`,
    );
    await Deno.chown(`${inst}/procrec`, 0, 0);
    // what the launcher runs
    await Deno.chown(`${inst}/cli/main.ts`, nobody, nobody);
    await refused(
      `${inst}/procrec`,
      `${inst}/cli/main.ts: owned by uid ${nobody}`,
    );
    await Deno.chown(`${inst}/cli/main.ts`, 0, 0);
    await Deno.chmod(`${inst}/cli`, 0o775);
    await Deno.chown(`${inst}/cli`, 0, nobody);
    await refused(
      `${inst}/procrec`,
      `${inst}/cli: mode 0775: group ${nobody} can write it`,
    );
    await Deno.chmod(`${inst}/cli`, 0o755);
    // a directory above: the installation could be replaced
    await Deno.chmod(`${dir}/above`, 0o777);
    await refused(
      `${inst}/procrec`,
      `${dir}/above: mode 0777: every user can write it`,
    );
    await Deno.chmod(`${dir}/above`, 0o755);
    // the directory of the link
    await Deno.chmod(`${dir}/bin`, 0o777);
    await refused(
      `${dir}/bin/procrec`,
      `${dir}/bin: mode 0777: every user can write it`,
    );
    const missing = await install(`${dir}/nothing/procrec`);
    deepStrictEqual(missing.code, 2);
    match(
      missing.stderr,
      /the launcher ".*\/nothing\/procrec" \(--exec\) is not there/,
    );
  });
});

captureTest(
  "a writer.lock another user made is refused with its owner and the fix, held or not; once removed the recorder records (found by review)",
  async () => {
    const nobody = await nobodyUid();
    await withTempDir(async (dir) => {
      const seg = `${dir}/seg`;
      await Deno.mkdir(seg, { mode: 0o700 });
      const lock = `${seg}/writer.lock`;
      await Deno.writeTextFile(lock, "", { mode: 0o600 });
      await Deno.chown(lock, nobody, nobody);
      const want =
        `its writer.lock is owned by uid ${nobody}, not by this recorder's user (uid 0)`;
      const planted = await recordBriefly(seg);
      deepStrictEqual(planted.code, 2, planted.stderr);
      ok(planted.stderr.includes(want), planted.stderr);
      ok(planted.stderr.includes(`rm ${lock}`), planted.stderr);
      // held by that user, as the review did: the same (not "another
      // recorder", which sent one to look for a recorder that is not there)
      await Deno.chmod(dir, 0o711);
      await Deno.chmod(seg, 0o777);
      const holder = new Deno.Command("setpriv", {
        args: [
          `--reuid=${nobody}`,
          `--regid=${nobody}`,
          "--clear-groups",
          "flock",
          lock,
          "sleep",
          "30",
        ],
      }).spawn();
      try {
        for (let i = 0; i < 100 && !(await locked(lock)); i++) {
          await new Promise((res) => setTimeout(res, 50));
        }
        ok(await locked(lock), "user nobody did not lock writer.lock");
        const held = await recordBriefly(seg);
        deepStrictEqual(held.code, 2, held.stderr);
        ok(held.stderr.includes(want), held.stderr);
        ok(!held.stderr.includes("another recorder"), held.stderr);
      } finally {
        try {
          holder.kill("SIGKILL");
        } catch { /* ended: the test said why */ }
        await holder.status;
      }
      await Deno.remove(lock);
      await Deno.chmod(seg, 0o700);
      const after = await recordBriefly(seg);
      deepStrictEqual(after.code, 0, after.stderr);
    });
  },
  await captureUnavailable(),
);

/** Whether a flock is held on `path` (by anyone). */
async function locked(path: string): Promise<boolean> {
  const st = await Deno.stat(path);
  const locks = await Deno.readTextFile("/proc/locks");
  return locks.split("\n").some((l) =>
    / FLOCK /.test(l) && l.includes(`:${st.ino} `)
  );
}

/** `procrec record` into the segment directory `seg` for a second. */
function recordBriefly(seg: string) {
  return procrec([
    "record",
    "-q",
    "--source",
    "netlink",
    "-o",
    `${seg}/`,
    "--duration",
    "1s",
  ]);
}

captureTest(
  "a writer.pid left by a recorder of an earlier boot, or naming a pid another process has now, does not stop a new recorder; one naming a running recorder does",
  async () => {
    await withTempDir(async (dir) => {
      const boot = (await Deno.readTextFile(
        "/proc/sys/kernel/random/boot_id",
      )).trim();
      for (
        const stale of [
          "1\n", // an earlier version's file: pid 1 is not procrec
          "1 00000000-0000-0000-0000-000000000000 5\n", // another boot
          `1 ${boot} 999999999\n`, // this boot, but pid 1 started at 0
        ]
      ) {
        const seg = `${dir}/seg`;
        await Deno.mkdir(seg, { recursive: true });
        await Deno.writeTextFile(`${seg}/writer.pid`, stale);
        const r = await recordBriefly(seg);
        deepStrictEqual(r.code, 0, `${JSON.stringify(stale)}: ${r.stderr}`);
        await Deno.remove(seg, { recursive: true });
      }
      // a running recorder names itself by pid, boot and start time; a
      // second one is refused
      const seg = `${dir}/live`;
      const child = new Deno.Command(PROCREC, {
        args: ["record", "-q", "--source", "netlink", "-o", `${seg}/`],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        ok(
          await waitForPath(`${seg}/writer.pid`, { child, tries: 600 }),
          "the recorder did not start",
        );
        const line = (await Deno.readTextFile(`${seg}/writer.pid`)).trim();
        match(line, new RegExp(`^${child.pid} ${boot} \\d+$`));
        const second = await recordBriefly(seg);
        deepStrictEqual(second.code, 2, second.stderr);
        match(
          second.stderr,
          new RegExp(`another recorder \\(pid ${child.pid}\\)`),
        );
      } finally {
        child.kill("SIGTERM");
        await child.output();
      }
    });
  },
  await captureUnavailable(),
);

captureTest(
  "service status tells a live writer (its pid) from a dead one and an unclean stop",
  async () => {
    await withTempDir(async (dir) => {
      const empty = await procrec(["service", "status", "--dir", dir]);
      deepStrictEqual(empty.code, 1);
      match(empty.stdout, /no segments yet/);

      const child = new Deno.Command(PROCREC, {
        args: [
          "record",
          "--source",
          "netlink",
          "-o",
          `${dir}/a.cbor`,
          "--duration",
          "30s",
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        ok(
          await waitForPath(`${dir}/a.cbor.incomplete`, { child, tries: 600 }),
          "the recorder did not start",
        );
        // let the recorder write its first chunk
        await new Promise((r) => setTimeout(r, 1000));
        const live = await procrec([
          "service",
          "status",
          "--dir",
          dir,
          "--json",
        ]);
        deepStrictEqual(live.code, 0, live.stdout + live.stderr);
        const s = JSON.parse(live.stdout);
        deepStrictEqual(s.writers, [child.pid]);
        deepStrictEqual(s.newest.name, "a.cbor.incomplete");
        ok(s.newest.events > 0, "the live segment has events");
        deepStrictEqual(s.healthy, true);
        // (found by review) a writer stopped by SIGSTOP records nothing
        Deno.kill(child.pid, "SIGSTOP");
        const halted = await procrec(["service", "status", "--dir", dir]);
        Deno.kill(child.pid, "SIGCONT");
        deepStrictEqual(halted.code, 1, halted.stdout);
        match(halted.stdout, /writer: +STOPPED \(pid /);
      } finally {
        child.kill("SIGTERM");
        await child.output();
      }

      const dead = await procrec(["service", "status", "--dir", dir]);
      deepStrictEqual(dead.code, 1, dead.stdout);
      // without --dir: the PROCREC_DIR of the service's environment file
      await Deno.writeTextFile(`${dir}/env`, `# x\nPROCREC_DIR="${dir}"\n`);
      const viaConfig = await procrec([
        "service",
        "status",
        "--config",
        `${dir}/env`,
      ]);
      deepStrictEqual(viaConfig.stdout, dead.stdout);
      match(dead.stdout, /newest: +a\.cbor \(closed\)/);
      match(dead.stdout, /writer: +NOT running\n/);

      await Deno.copyFile(`${dir}/a.cbor`, `${dir}/b.cbor.incomplete`);
      const unclean = await procrec(["service", "status", "--dir", dir]);
      deepStrictEqual(unclean.code, 1);
      match(unclean.stdout, /an unclean stop/);
      match(unclean.stdout, /segments: +2 /);
      // (found by review) a process that only reads the open segment is no
      // writer
      const reader = new Deno.Command("sh", {
        args: ["-c", `exec sleep 30 < "${dir}/b.cbor.incomplete"`],
      }).spawn();
      try {
        await new Promise((r) => setTimeout(r, 300));
        const read = await procrec(["service", "status", "--dir", dir]);
        deepStrictEqual(read.code, 1, read.stdout);
        match(read.stdout, /writer: +NOT running/);
      } finally {
        reader.kill("SIGKILL");
        await reader.status;
      }
      // a damaged newest segment says so
      const bytes = await Deno.readFile(`${dir}/a.cbor`);
      await Deno.writeFile(
        `${dir}/c.cbor.incomplete`,
        bytes.subarray(0, 40),
      );
      const damaged = await procrec(["service", "status", "--dir", dir]);
      deepStrictEqual(damaged.code, 1, damaged.stdout);
      match(damaged.stdout, /damaged: +the newest segment: /);
    });
  },
  await captureUnavailable(),
);

captureTest(
  "service status says when the writer runs but writes no segment (a full disk), and healthy again once it writes",
  async () => {
    await withTempDir(async (dir) => {
      await withTmpfs(dir, "256k", async () => {
        const out = `${dir}/segs`;
        const stop = `${dir}/stop`;
        const child = new Deno.Command(PROCREC, {
          args: segmentRecordArgs(
            out,
            `while [ ! -e ${stop} ]; do /bin/true; sleep 0.01; done`,
          ),
          stdout: "null",
          stderr: "piped",
        }).spawn();
        try {
          ok(
            await waitForPath(`${out}/writer.pid`, { child, tries: 600 }),
            "the recorder did not start",
          );
          await new Promise((r) => setTimeout(r, 500));
          const writing = await procrec(["service", "status", "--dir", out]);
          deepStrictEqual(writing.code, 0, writing.stdout + writing.stderr);
          match(writing.stdout, /writer: +alive \(pid \d+\)\n/);
          // the disk fills: the segment's next write fails, and the retries
          // to begin another (each second) fail too
          await fillDisk(`${dir}/filler`);
          let full = writing;
          for (let i = 0; i < 50; i++) {
            await new Promise((r) => setTimeout(r, 200));
            full = await procrec(["service", "status", "--dir", out, "--json"]);
            if (JSON.parse(full.stdout).writerNotWriting === true) break;
          }
          const s = JSON.parse(full.stdout);
          deepStrictEqual(s.writerNotWriting, true, full.stdout);
          deepStrictEqual(s.healthy, false, full.stdout);
          deepStrictEqual(full.code, 1, full.stdout);
          const text = await procrec(["service", "status", "--dir", out]);
          match(text.stdout, /but WRITING NOTHING: it holds no segment open/);
          // space returns: a new segment is begun, and status says alive
          await Deno.remove(`${dir}/filler`);
          let back = text;
          for (let i = 0; i < 50; i++) {
            await new Promise((r) => setTimeout(r, 200));
            back = await procrec(["service", "status", "--dir", out]);
            if (back.code === 0) break;
          }
          deepStrictEqual(back.code, 0, back.stdout + back.stderr);
          match(back.stdout, /writer: +alive \(pid \d+\)\n/);
        } finally {
          await Deno.writeTextFile(stop, "").catch(() => {});
          const done = await child.output();
          deepStrictEqual(
            done.code,
            0,
            new TextDecoder().decode(done.stderr),
          );
        }
      });
    });
  },
  await captureUnavailable(),
);

captureTest(
  "the unit's ExecStart line, run directly under its capability bounding set, records segments; status sees the writer, then a clean stop",
  async () => {
    await withTempDir(async (dir) => {
      const seg = `${dir}/segments`;
      const r = await procrec([
        "service",
        "install",
        "--no-enable",
        "--unit-dir",
        dir,
        "--dir",
        seg,
        "--rotate",
        "2s",
        "--keep",
        "50",
        "--source",
        "netlink",
      ]);
      deepStrictEqual(r.code, 0, r.stderr);
      const unit = await Deno.readTextFile(`${dir}/procrec.service`);
      const exec = (/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "").split(" ");
      const caps = (/^CapabilityBoundingSet=(.*)$/m.exec(unit)?.[1] ?? "")
        .split(" ").map((c) => "+" + c.replace(/^CAP_/, "").toLowerCase());
      // what systemd applies: the bounding set and no new privileges
      const child = new Deno.Command("setpriv", {
        args: [
          "--bounding-set",
          ["-all", ...caps].join(","),
          "--no-new-privs",
          ...exec,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let stderr = "";
      try {
        let live: { code: number; stdout: string } = { code: 1, stdout: "" };
        for (let i = 0; i < 60 && live.code !== 0; i++) {
          await new Promise((res) => setTimeout(res, 250));
          live = await procrec(["service", "status", "--dir", seg, "--json"]);
        }
        deepStrictEqual(live.code, 0, live.stdout);
        deepStrictEqual(JSON.parse(live.stdout).writers, [child.pid]);
        // past one rotation
        await new Promise((res) => setTimeout(res, 2500));
      } finally {
        try {
          child.kill("SIGTERM");
        } catch { /* ended by itself: its status says why */ }
        const out = await child.output();
        stderr = new TextDecoder().decode(out.stderr);
        deepStrictEqual(out.code, 0, `ExecStart exited ${out.code}: ${stderr}`);
      }
      const names: string[] = [];
      for await (const e of Deno.readDir(seg)) names.push(e.name);
      const segments = names.filter((n) => n.endsWith(".cbor"));
      ok(segments.length >= 2, `expected a rotation: ${names.join(" ")}`);
      const v = await procrec(["verify", `${seg}/`]);
      deepStrictEqual(v.code, 0, v.stdout + v.stderr);
      const dead = await procrec(["service", "status", "--dir", seg]);
      deepStrictEqual(dead.code, 1, dead.stdout);
      match(dead.stdout, /\(closed\)/);
      match(dead.stdout, /writer: +NOT running\n/);
    });
  },
  await captureUnavailable(),
);

Deno.test("service status says when it could not look at whether the writer holds a segment (its open files another user's)", () => {
  const base = {
    dir: "/var/lib/procrec",
    segments: 1,
    bytes: 10,
    writers: [42],
    newest: {
      name: "a.cbor.incomplete",
      open: true,
      ageSeconds: 1,
      events: 5,
      lost: 0,
    },
  };
  const checked = renderServiceStatus(base);
  const unchecked = renderServiceStatus({ ...base, writerUnchecked: true });
  deepStrictEqual(checked.healthy, true);
  deepStrictEqual(unchecked.healthy, true);
  match(checked.text, /writer: +alive \(pid 42\)\n/);
  match(
    unchecked.text,
    /writer: +alive \(pid 42; whether it writes a segment was not checked/,
  );
});

Deno.test("a FIFO in writer.pid's place names no writer and is never read: verify and status end (a hostile directory)", async () => {
  await withTempDir(async (dir) => {
    const mk = await new Deno.Command("mkfifo", { args: [`${dir}/writer.pid`] })
      .output();
    deepStrictEqual(mk.code, 0);
    for (const args of [["service", "status", "--dir", dir], ["verify", dir]]) {
      const r = await procrecBounded(args, {
        timeoutMs: 30_000,
        maxRssMiB: 400,
      });
      ok(!r.stdout.includes("alive"), `${args[0]}: ${r.stdout}`);
    }
  });
});
