/**
 * The Debian package, for real: built with `packaging/deb/build_deb.sh`,
 * checked by lintian, installed on this machine with dpkg, run from the
 * installed files (not the checkout), upgraded from an older build, removed
 * and purged. Needs root (dpkg); CI runs as root.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { captureTest } from "./_record_helpers.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const STATE_DIR = "/var/lib/procrec";
const WANTS = "/etc/systemd/system/sysinit.target.wants/procrec.service";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean } = {},
): Promise<Run> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? ROOT,
    env: opts.env,
    clearEnv: opts.clearEnv,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return {
    code: out.code,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
  };
}

async function ok(cmd: string, args: string[], opts = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  assertEquals(
    r.code,
    0,
    `${cmd} ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`,
  );
  return r.stdout;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The installed programs, run as an operator would: not from the checkout. */
const INSTALLED_ENV = {
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
};

async function purgeIfInstalled(): Promise<void> {
  const st = await run("dpkg-query", ["-W", "-f=${Status}", "procrec"]);
  if (st.code === 0 && /installed|config-files/.test(st.stdout)) {
    await ok("dpkg", ["-P", "procrec"]);
  }
}

captureTest(
  "the Debian package builds, passes lintian, installs, runs, upgrades, removes and purges",
  (t) => packageLifecycle(t),
  Deno.uid() === 0 ? undefined : "installing a package with dpkg needs root",
);

async function packageLifecycle(t: Deno.TestContext): Promise<void> {
  {
    const work = await Deno.makeTempDir({ prefix: "procrec-deb-" });
    const hadStateDir = await exists(STATE_DIR);
    const before = new Set<string>();
    if (hadStateDir) {
      for await (const e of Deno.readDir(STATE_DIR)) before.add(e.name);
    }
    await purgeIfInstalled();
    try {
      const version = JSON.parse(
        await Deno.readTextFile(`${ROOT}package.json`),
      ).version as string;
      let deb = "";
      let prev = "";

      await t.step("build: contents, size and metadata", async () => {
        deb = (await ok("bash", ["packaging/deb/build_deb.sh", work])).trim();
        assertEquals(deb, `${work}/procrec_${version}_amd64.deb`);
        const size = (await Deno.stat(deb)).size;
        console.log(`  package: ${deb} (${(size / 1048576).toFixed(1)} MiB)`);
        assert(
          size < 60 * 1048576,
          `the package is ${size} bytes, over 60 MiB`,
        );
        const list = (await ok("dpkg-deb", ["-c", deb])).split("\n")
          .map((l) => l.split(/\s+/).slice(5).join(" ").replace(/ -> .*/, ""));
        for (
          const want of [
            "./usr/bin/procrec",
            "./usr/lib/procrec/procrec",
            "./usr/lib/procrec/cli/main.ts",
            "./usr/lib/procrec/build-info.json",
            "./usr/lib/procrec/node_modules/deno/deno",
            "./usr/lib/procrec/node_modules/cbor-x/package.json",
            "./usr/lib/procrec/node_modules/commander/package.json",
            "./usr/lib/procrec/driver/linux/build/libprocrec.so",
            "./lib/systemd/system/procrec.service",
            "./etc/default/procrec",
            "./usr/share/man/man1/procrec.1.gz",
            "./usr/share/bash-completion/completions/procrec",
            "./usr/share/zsh/vendor-completions/_procrec",
            "./usr/share/fish/vendor_completions.d/procrec.fish",
            "./usr/share/doc/procrec/copyright",
            "./usr/share/doc/procrec/changelog.gz",
          ]
        ) assert(list.includes(want), `the package lacks ${want}`);
        for (const l of list) {
          assert(!/_test\.ts$/.test(l), `the package holds a test: ${l}`);
          assert(
            !/node_modules\/(playwright-core|fast-check|@types|cbor-extract|@deno)\//
              .test(l),
            `the package holds a development or native-addon module: ${l}`,
          );
        }
        const control = await ok("dpkg-deb", ["-f", deb]);
        assertMatch(control, new RegExp(`^Version: ${version}$`, "m"));
        // the shared libraries the binaries need, found by dpkg-shlibdeps
        assertMatch(control, /^Depends: .*libbpf1 .*libc6 /m);
        assertEquals(
          (await ok("dpkg-deb", ["--info", deb, "conffiles"])).trim(),
          "/etc/default/procrec",
        );
        // the ELF needs of the library are met by the Depends line
        const needed = await ok("objdump", [
          "-p",
          `${ROOT}driver/linux/build/libprocrec.so`,
        ]);
        assertMatch(needed, /NEEDED\s+libbpf\.so\.1/);
      });

      await t.step("lintian finds no errors", async () => {
        const r = await run("lintian", ["--suppress-tags", "", deb]);
        const lines = (r.stdout + r.stderr).split("\n").filter((l) =>
          /^[EW]: /.test(l)
        );
        for (const l of lines) console.log(`  lintian: ${l}`);
        assertEquals(lines.filter((l) => l.startsWith("E: ")), []);
      });

      await t.step(
        "an older build installs, with the service enabled",
        async () => {
          // the previous build: the same payload under an older version
          const tree = `${work}/prev`;
          await ok("dpkg-deb", ["-R", deb, tree]);
          const ctl = `${tree}/DEBIAN/control`;
          await Deno.writeTextFile(
            ctl,
            (await Deno.readTextFile(ctl)).replace(
              /^Version: .*$/m,
              `Version: ${version}~prev1`,
            ),
          );
          prev = `${work}/procrec_${version}~prev1_amd64.deb`;
          await ok("dpkg-deb", [
            "--root-owner-group",
            "-Znone",
            "-b",
            tree,
            prev,
          ]);
          await ok("dpkg", ["-i", prev]);
          const st = await Deno.stat(STATE_DIR);
          assertEquals(
            st.mode! & 0o777,
            0o700,
            "the recording directory is 0700",
          );
          assert(await exists(WANTS), "postinst enables procrec.service");
          // the operator's settings and a recording, to be kept by the upgrade
          const conf = await Deno.readTextFile("/etc/default/procrec");
          await Deno.writeTextFile(
            "/etc/default/procrec",
            conf.replace(/^PROCREC_KEEP=.*$/m, "PROCREC_KEEP=3d"),
          );
          await Deno.mkdir(`${STATE_DIR}/kept`, { mode: 0o700 });
          await ok("/usr/bin/procrec", [
            "record",
            "--only-command",
            "-o",
            `${STATE_DIR}/kept/before-upgrade.cbor`,
            "--",
            "/bin/true",
          ], { cwd: "/", env: INSTALLED_ENV, clearEnv: true });
        },
      );

      await t.step("the upgrade keeps settings and recordings", async () => {
        await ok("dpkg", ["-i", deb]);
        assertEquals(
          await ok("dpkg-query", ["-W", "-f=${Version}", "procrec"]),
          version,
        );
        assertMatch(
          await Deno.readTextFile("/etc/default/procrec"),
          /^PROCREC_KEEP=3d$/m,
        );
        assert(await exists(`${STATE_DIR}/kept/before-upgrade.cbor`));
        assert(await exists(WANTS), "the upgrade keeps the service enabled");
      });

      await t.step("the installed files run without the checkout", async () => {
        const opts = { cwd: "/", env: INSTALLED_ENV, clearEnv: true };
        const info = JSON.parse(
          await Deno.readTextFile("/usr/lib/procrec/build-info.json"),
        );
        assertEquals(
          (await ok("procrec", ["--version"], opts)).trim(),
          `procrec ${version} (commit ${info.commit})`,
        );
        const doctor = await ok("procrec", ["doctor"], opts);
        assertMatch(
          doctor,
          /\/usr\/lib\/procrec\/driver\/linux\/build\/libprocrec\.so/,
        );
        assert(!doctor.includes(ROOT), "doctor names nothing of the checkout");
        const rec = `${work}/installed.cbor`;
        await ok("procrec", [
          "record",
          "--only-command",
          "-o",
          rec,
          "--",
          "/bin/true",
        ], opts);
        await ok("procrec", ["verify", rec], opts);
        assertMatch(await ok("procrec", ["replay", rec], opts), /true/);
        await ok("systemd-analyze", [
          "verify",
          "/lib/systemd/system/procrec.service",
        ]);
        await ok("man", ["-w", "procrec"], opts);
      });

      await t.step(
        "the service's ExecStart line records, under its own limits",
        async () => {
          const unit = await Deno.readTextFile(
            "/lib/systemd/system/procrec.service",
          );
          const env: Record<string, string> = { ...INSTALLED_ENV };
          for (const m of unit.matchAll(/^Environment=(.*)$/gm)) {
            for (const kv of m[1].split(" ")) {
              const i = kv.indexOf("=");
              env[kv.slice(0, i)] = kv.slice(i + 1);
            }
          }
          for (
            const line of (await Deno.readTextFile("/etc/default/procrec"))
              .split("\n")
          ) {
            const m = /^([A-Z_]+)=(.*)$/.exec(line);
            if (m) env[m[1]] = m[2];
          }
          const exec = /^ExecStart=(.*)$/m.exec(unit)![1]
            .replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => env[a ?? b] ?? "")
            .split(/\s+/).filter((w) => w.length > 0);
          // the package's launcher, not the checkout it was built from
          // (found by review: the unit ran the build tree's ./procrec)
          assertEquals(exec[0], "/usr/bin/procrec", unit);
          const caps = /^CapabilityBoundingSet=(.*)$/m.exec(unit)![1].split(" ")
            .map((c) => "+" + c.replace(/^CAP_/, "").toLowerCase());
          // the unit's capability bounding set and NoNewPrivileges, as systemd applies them
          const child = new Deno.Command("setpriv", {
            args: [
              "--bounding-set",
              ["-all", ...caps].join(","),
              "--no-new-privs",
              ...exec,
            ],
            cwd: "/",
            env,
            clearEnv: true,
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          await new Promise((r) => setTimeout(r, 4000));
          child.kill("SIGTERM");
          const out = await child.output();
          const stderr = new TextDecoder().decode(out.stderr);
          assertEquals(out.code, 0, `ExecStart exited ${out.code}: ${stderr}`);
          const segments: string[] = [];
          for await (const e of Deno.readDir(STATE_DIR)) {
            if (e.isFile && e.name.endsWith(".cbor")) {
              segments.push(e.name);
            }
          }
          assert(segments.length >= 1, `no segment in ${STATE_DIR}: ${stderr}`);
          await ok("procrec", ["verify", `${STATE_DIR}/${segments[0]}`], {
            cwd: "/",
            env: INSTALLED_ENV,
            clearEnv: true,
          });
        },
      );

      await t.step(
        "remove keeps recordings and settings; purge removes only the package's own",
        async () => {
          await ok("dpkg", ["-r", "procrec"]);
          assert(!(await exists("/usr/bin/procrec")));
          assert(!(await exists("/usr/lib/procrec/procrec")));
          assert(
            await exists(`${STATE_DIR}/kept/before-upgrade.cbor`),
            "remove keeps recordings",
          );
          assert(
            await exists("/etc/default/procrec"),
            "remove keeps the settings",
          );
          await ok("dpkg", ["-P", "procrec"]);
          assert(
            await exists(`${STATE_DIR}/kept/before-upgrade.cbor`),
            "purge keeps recordings",
          );
          for (
            const gone of [
              "/etc/default/procrec",
              "/var/cache/procrec",
              "/usr/lib/procrec",
              "/lib/systemd/system/procrec.service",
              "/usr/share/doc/procrec",
              WANTS,
            ]
          ) assert(!(await exists(gone)), `purge left ${gone}`);
          // every file the package shipped is gone
          const list = (await ok("dpkg-deb", ["-c", deb])).split("\n")
            .map((l) => l.split(/\s+/).slice(5).join(" ").replace(/ -> .*/, ""))
            .filter((p) => p.length > 0 && !p.endsWith("/"));
          for (const p of list) {
            assert(!(await exists(p.slice(1))), `purge left ${p.slice(1)}`);
          }
        },
      );

      await t.step(
        "/etc/procrec/no-autostart installs without enabling the service",
        async () => {
          await Deno.mkdir("/etc/procrec", { recursive: true });
          await Deno.writeTextFile("/etc/procrec/no-autostart", "");
          try {
            const r = await run("dpkg", ["-i", prev]);
            assertEquals(r.code, 0, r.stderr);
            assertMatch(
              r.stderr,
              /no-autostart exists: the service is not enabled/,
            );
            assert(!(await exists(WANTS)), "the service was enabled");
          } finally {
            await Deno.remove("/etc/procrec/no-autostart");
            await purgeIfInstalled();
          }
          assert(
            !(await exists("/etc/procrec")),
            "purge removes the empty /etc/procrec",
          );
        },
      );
    } finally {
      await purgeIfInstalled();
      // only this test's own recordings: what was there before stays
      if (await exists(STATE_DIR)) {
        for await (const e of Deno.readDir(STATE_DIR)) {
          if (!before.has(e.name)) {
            await Deno.remove(`${STATE_DIR}/${e.name}`, { recursive: true });
          }
        }
        if (!hadStateDir) await Deno.remove(STATE_DIR).catch(() => {});
      }
      await Deno.remove(work, { recursive: true });
    }
  }
}
