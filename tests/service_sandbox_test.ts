/**
 * procrec.service's sandbox, made as its directives make it (systemd is not
 * PID 1 here and cannot start the unit): tests/service_sandbox_helper.c
 * mounts (ProtectSystem=, PrivateTmp=, ProtectKernelTunables=,
 * ReadOnlyPaths=, PrivateDevices=, ReadWritePaths=) and loads the call
 * filter (SystemCallFilter=, SystemCallArchitectures=, RestrictNamespaces=,
 * RestrictAddressFamilies=), setpriv bounds the capabilities and sets no new
 * privileges, all read from the unit that `service install` writes. Under
 * it what the sandbox is there to stop fails (found by review: the unit's
 * capabilities and uid 0 wrote /proc/sys/kernel/core_pattern): kernel
 * tunables, other processes' memory, ptrace, new namespaces (the device
 * policy, a cgroup's, is not made here); and each source still records: an
 * exec and its hash with netlink and eBPF, also of short-lived images run
 * from /tmp and /dev/shm (a private /tmp and /dev hid them), exec rules (CAP_SYS_ADMIN added, as the drop-in the README names
 * adds it) that read a process's arguments from /proc/PID/mem and refuse
 * its exec, a 32-bit one included.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { readCompleteEvents } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  buildC,
  captureTest,
  captureUnavailable,
  procrec,
  sha256sum,
  waitForPath,
} from "./_record_helpers.ts";

const unavailable = await captureUnavailable();

/** The values of `key=` lines of a unit, in order. */
function values(unit: string, key: string): string[] {
  return unit.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) =>
    l.slice(key.length + 1)
  );
}

/** The calls of a `systemd-analyze syscall-filter` group, nested ones too. */
async function groupCalls(group: string): Promise<string[]> {
  const out = await new Deno.Command("systemd-analyze", {
    args: ["syscall-filter", "--no-pager", group],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const calls: string[] = [];
  for (const raw of new TextDecoder().decode(out.stdout).split("\n").slice(1)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    calls.push(...line.startsWith("@") ? await groupCalls(line) : [line]);
  }
  return calls;
}

const FAMILIES: Record<string, number> = {
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  AF_NETLINK: 16,
  AF_PACKET: 17,
};

/**
 * The command line that runs `argv` as the unit would: the helper's
 * options from the unit's directives, then setpriv with its capability
 * bounding set (and `moreCaps`, as a drop-in adds them).
 */
async function sandboxed(
  helper: string,
  unit: string,
  argv: string[],
  moreCaps: string[] = [],
): Promise<string[]> {
  const one = (key: string) => values(unit, key).at(-1);
  const args: string[] = [];
  if (one("ProtectSystem") === "strict") {
    // (the API file systems stay writable: other lines say otherwise)
    args.push("--ro", "/", "--rw", "/proc", "--rw", "/sys", "--rw", "/dev");
  }
  if (one("PrivateTmp") === "yes") {
    args.push("--tmpfs", "/tmp", "--tmpfs", "/var/tmp");
  }
  if (one("ProtectKernelTunables") === "yes") {
    args.push("--ro", "/proc/sys", "--ro", "/sys");
  }
  for (const v of values(unit, "ReadOnlyPaths")) {
    for (const p of v.split(" ")) args.push("--ro", p.replace(/^-/, ""));
  }
  if (one("PrivateDevices") === "yes") args.push("--private-dev");
  for (const v of values(unit, "ReadWritePaths")) {
    for (const p of v.split(" ")) args.push("--rw", p.replace(/^-/, ""));
  }
  for (const v of values(unit, "CacheDirectory")) {
    await Deno.mkdir(`/var/cache/${v}`, { recursive: true, mode: 0o700 });
    args.push("--rw", `/var/cache/${v}`);
  }
  for (const v of values(unit, "SystemCallFilter")) {
    assert(v.startsWith("~"), `an allow list is not made here: ${v}`);
    for (const name of v.slice(1).split(" ")) {
      const calls = name.startsWith("@") ? await groupCalls(name) : [name];
      for (const c of calls) args.push("--deny", c);
    }
  }
  if (one("RestrictNamespaces") === "yes") args.push("--restrict-ns");
  for (const v of values(unit, "RestrictAddressFamilies")) {
    for (const f of v.split(" ")) {
      assert(FAMILIES[f] !== undefined, `unknown family ${f}`);
      args.push("--family", String(FAMILIES[f]));
    }
  }
  const caps = [
    ...(one("CapabilityBoundingSet") ?? "").split(" "),
    ...moreCaps,
  ].filter((c) => c !== "").map((c) =>
    "+" + c.replace(/^CAP_/, "").toLowerCase()
  );
  return [
    helper,
    ...args,
    "--",
    "setpriv",
    "--bounding-set",
    ["-all", ...caps].join(","),
    ...(one("NoNewPrivileges") === "yes" ? ["--no-new-privs"] : []),
    ...argv,
  ];
}

/** The unit's `Environment=` settings. */
function unitEnv(unit: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of values(unit, "Environment")) {
    for (const pair of v.split(" ")) {
      const i = pair.indexOf("=");
      if (i > 0) env[pair.slice(0, i)] = pair.slice(i + 1);
    }
  }
  return env;
}

/** Runs `argv` to its end; its exit status and output. */
async function run(argv: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    text: d.decode(out.stdout) + d.decode(out.stderr),
  };
}

/**
 * A directory of the test's own (not in /tmp, which the unit had private
 * once); removed afterwards.
 */
async function withServiceDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({
    dir: "/var/lib",
    prefix: "procrec-sandbox-test-",
  });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `service install --no-enable` into `dir`; the unit's text. */
async function installUnit(dir: string, source: string): Promise<string> {
  const r = await procrec([
    "service",
    "install",
    "--no-enable",
    "--unit-dir",
    dir,
    "--dir",
    `${dir}/segments`,
    "--source",
    source,
  ]);
  assertEquals(r.code, 0, r.stderr);
  return await Deno.readTextFile(`${dir}/procrec.service`);
}

captureTest(
  "under the unit's sandbox kernel tunables, other processes' memory, ptrace and new namespaces are out of reach",
  async () => {
    await withServiceDir(async (dir) => {
      const helper = await buildC(
        "tests/service_sandbox_helper.c",
        `${dir}/sandbox`,
      );
      const unit = await installUnit(dir, "auto");
      const sh = async (script: string) =>
        await run(await sandboxed(helper, unit, ["/bin/sh", "-c", script]));
      // (each writes back what is there: harmless if it got through)
      const tunable = await sh(
        "v=$(cat /proc/sys/kernel/core_pattern) && " +
          'printf "%s\\n" "$v" > /proc/sys/kernel/core_pattern && echo WROTE',
      );
      assert(!tunable.text.includes("WROTE"), `core_pattern: ${tunable.text}`);
      const sysfs = await sh(
        "v=$(cat /sys/kernel/mm/transparent_hugepage/enabled | " +
          "sed 's/.*\\[\\(.*\\)\\].*/\\1/') && " +
          'echo "$v" > /sys/kernel/mm/transparent_hugepage/enabled && echo WROTE',
      );
      assert(!sysfs.text.includes("WROTE"), `/sys: ${sysfs.text}`);
      // another process's memory: a sleep of the test's, not in the sandbox
      const victim = new Deno.Command("sleep", { args: ["30"] }).spawn();
      try {
        const mem = await sh(`exec 3<>/proc/${victim.pid}/mem && echo OPENED`);
        assert(!mem.text.includes("OPENED"), `/proc/PID/mem: ${mem.text}`);
        // ...that it may read, as exec rules read arguments
        const read = await sh(
          `exec 3</proc/${victim.pid}/mem && echo READABLE`,
        );
        assert(read.text.includes("READABLE"), `reading: ${read.text}`);
      } finally {
        victim.kill();
        await victim.status;
      }
      // ptrace(PTRACE_TRACEME) (x86-64's call 101); strace hung, its child
      // killed
      if (Deno.build.arch === "x86_64") {
        const traced = await sh(
          `perl -e 'syscall(101, 0, 0, 0, 0) == 0 and print "TRACED\\n"'`,
        );
        assert(!traced.text.includes("TRACED"), `ptrace: ${traced.text}`);
      }
      const ns = await sh("unshare -U /bin/true && echo UNSHARED");
      assert(!ns.text.includes("UNSHARED"), `a namespace: ${ns.text}`);
      const rootfs = await sh("echo x > /etc/procrec-sandbox-test && echo W");
      assert(!rootfs.text.includes("W\n"), `/etc: ${rootfs.text}`);
    });
  },
  unavailable,
);

/** The exec events of `image`, with their hash events. */
function execsOf(events: ProcEvent[], image: string) {
  const hashes = new Map<string, ProcEvent & { kind: "image_hash" }>();
  for (const e of events) {
    if (e.kind === "image_hash") hashes.set(`${e.pid}:${e.execT}`, e);
  }
  return events.filter((e) => e.kind === "exec" && e.info.image === image)
    .map((e) => hashes.get(`${e.pid}:${e.t}`));
}

for (const source of ["netlink", "ebpf"]) {
  captureTest(
    `${source}: the unit's ExecStart, in its sandbox, records an exec and the image's hash`,
    async () => {
      await withServiceDir(async (dir) => {
        const helper = await buildC(
          "tests/service_sandbox_helper.c",
          `${dir}/sandbox`,
        );
        const unit = await installUnit(dir, source);
        const exec = (/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "").split(" ");
        const seg = `${dir}/segments`;
        const bin = `${dir}/sandbox-marker`;
        await Deno.copyFile("/bin/sleep", bin);
        await Deno.chmod(bin, 0o755);
        // (ended at once: hashed by their paths, after)
        const tmp = await Deno.makeTempDir();
        const brief = [`${tmp}/tmp-marker`, `/dev/shm/${tmp.slice(5)}-marker`];
        for (const b of brief) {
          await Deno.copyFile("/bin/true", b);
          await Deno.chmod(b, 0o755);
        }
        const argv = await sandboxed(helper, unit, exec);
        const child = new Deno.Command(argv[0], {
          args: argv.slice(1),
          env: unitEnv(unit),
          stdout: "null",
          stderr: "piped",
        }).spawn();
        let stderr = "";
        try {
          assert(
            await waitForPath(`${seg}/writer.pid`, { child, tries: 1200 }),
            "the recorder did not start in the sandbox",
          );
          await new Promise((res) => setTimeout(res, 1000));
          const w = await run([bin, "0.05"]);
          assertEquals(w.code, 0, w.text);
          for (const b of brief) assertEquals((await run([b])).code, 0, b);
          await new Promise((res) => setTimeout(res, 1000));
        } finally {
          try {
            child.kill("SIGTERM");
          } catch { /* ended by itself: its status says why */ }
          const out = await child.output();
          await Deno.remove(tmp, { recursive: true });
          await Deno.remove(brief[1]);
          stderr = new TextDecoder().decode(out.stderr);
          assertEquals(out.code, 0, `ExecStart exited ${out.code}: ${stderr}`);
        }
        const names: string[] = [];
        for await (const e of Deno.readDir(seg)) names.push(e.name);
        const events = (await Promise.all(
          names.filter((n) => n.endsWith(".cbor")).map((n) =>
            readCompleteEvents(`${seg}/${n}`)
          ),
        )).flat();
        const mine = execsOf(events, bin);
        assertEquals(mine.length, 1, `one exec of ${bin}: ${stderr}`);
        assertEquals(mine[0]?.status, "ok", JSON.stringify(mine[0]));
        assertEquals(mine[0]?.sha256, await sha256sum(bin));
        const sum = await sha256sum("/bin/true");
        for (const b of brief) {
          const h = execsOf(events, b);
          assertEquals(h.length, 1, `one exec of ${b}`);
          assertEquals([h[0]?.status, h[0]?.sha256], ["ok", sum], b);
        }
      });
    },
    unavailable,
  );
}

captureTest(
  "exec rules, in the unit's sandbox with CAP_SYS_ADMIN added, read arguments and refuse an exec, a 32-bit one too",
  async () => {
    await withServiceDir(async (dir) => {
      const helper = await buildC(
        "tests/service_sandbox_helper.c",
        `${dir}/sandbox`,
      );
      const ia32 = await buildC(
        "driver/linux/tests/exec_rules_helper.c",
        `${dir}/ia32`,
      );
      const unit = await installUnit(dir, "netlink");
      const exec = (/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "").split(" ");
      await Deno.copyFile("/bin/echo", `${dir}/argv-echo`);
      await Deno.chmod(`${dir}/argv-echo`, 0o755);
      await Deno.writeTextFile(
        `${dir}/rules.yaml`,
        `rules:\n  - id: no-forbidden\n    action: deny\n    path: "*/argv-echo"\n    argv: {contains: "--forbidden"}\n`,
      );
      const argv = await sandboxed(
        helper,
        unit,
        [...exec, "--rules", `${dir}/rules.yaml`],
        ["CAP_SYS_ADMIN"],
      );
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: unitEnv(unit),
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        assert(
          await waitForPath(`${dir}/segments/writer.pid`, {
            child,
            tries: 1200,
          }),
          "the recorder did not start in the sandbox",
        );
        await new Promise((res) => setTimeout(res, 1000));
        const w = await run([
          "/bin/sh",
          "-c",
          [
            `cd ${dir}`,
            `./argv-echo fine; echo fine=$?`,
            `./argv-echo --forbidden; echo denied=$?`,
            `${ia32} ia32 ./argv-echo -n --forbidden; echo ia32=$?`,
          ].join("\n"),
        ]);
        assert(w.text.includes("fine\nfine=0"), w.text);
        assert(w.text.includes("denied=126"), w.text);
        assert(w.text.includes("ia32=126"), w.text);
      } finally {
        try {
          child.kill("SIGTERM");
        } catch { /* ended by itself */ }
        const out = await child.output();
        const stderr = new TextDecoder().decode(out.stderr);
        assertEquals(out.code, 0, `ExecStart exited ${out.code}: ${stderr}`);
      }
    });
  },
  unavailable,
);
