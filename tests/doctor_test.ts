import {
  assert,
  assertEquals,
  LIB,
  procrec,
  unprivilegedPrefix,
} from "./_record_helpers.ts";
import type { HostReport } from "../cli/record/check_host.ts";

const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;
if (!isRoot) {
  console.error("skipping the root doctor tests: they need root on Linux");
}

function check(r: HostReport, name: string) {
  const c = r.checks.find((c) => c.name === name);
  assert(c, `no check "${name}" in ${JSON.stringify(r.checks)}`);
  return c;
}

Deno.test({
  name: "doctor as root says this host can record, exit status 0",
  ignore: !isRoot,
  fn: async () => {
    const r = await procrec(["doctor", "--json"]);
    const report = JSON.parse(r.stdout) as HostReport;
    assertEquals(r.code, 0, `exit status; report ${r.stdout} ${r.stderr}`);
    assert(report.canRecord);
    assert(check(report, "privilege").ok);
    assert(check(report, "library present").ok);
    assert(check(report, "library loadable, ABI version").ok);
    assert(check(report, "proc connector source (netlink)").ok, r.stdout);
    assert(
      report.autoSource?.name === "netlink" ||
        report.autoSource?.name === "ebpf",
    );
    if (report.autoSource?.name === "ebpf") { // why, not only that it did
      assertEquals(
        report.autoSource.reason,
        "chosen automatically: kernel BTF present at /sys/kernel/btf/vmlinux, BPF programs loaded and attached",
      );
    }
    const text = await procrec(["doctor"]);
    assertEquals(text.code, 0);
    assert(text.stdout.includes("This host can record"), text.stdout);
  },
});

Deno.test("doctor without the library says how to build it, exit status 2", async () => {
  const r = await procrec(["doctor", "--json"], {
    env: { PROCREC_LIB: "/nonexistent/libprocrec.so" },
  });
  assertEquals(r.code, 2, r.stderr);
  const report = JSON.parse(r.stdout) as HostReport;
  assert(!report.canRecord);
  const lib = check(report, "library present");
  assert(
    !lib.ok && lib.detail === "/nonexistent/libprocrec.so",
    JSON.stringify(lib),
  );
  assert(lib.fix?.includes("make build"), lib.fix);
  const text = await procrec(["doctor"], {
    env: { PROCREC_LIB: "/nonexistent/libprocrec.so" },
  });
  assert(text.stdout.includes("what to do: run `make build`"), text.stdout);
  assert(text.stdout.includes("This host cannot record"), text.stdout);
});

Deno.test("doctor with a file that is not the library reports the load error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/libprocrec.so`, "not an ELF file");
    const r = await procrec(["doctor", "--json"], {
      env: { PROCREC_LIB: `${dir}/libprocrec.so` },
    });
    assertEquals(r.code, 2);
    const c = check(JSON.parse(r.stdout), "library loadable, ABI version");
    assert(
      !c.ok && c.detail.includes("Cannot load the procrec library"),
      c.detail,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "doctor as an unprivileged user names the missing privilege, exit status 2",
  ignore: !isRoot,
  fn: async () => {
    const unpriv = await unprivilegedPrefix();
    const r = await procrec(["doctor", "--json"], {
      prefix: unpriv.prefix,
      env: { PROCREC_LIB: LIB },
    });
    assertEquals(r.code, 2, r.stderr);
    const report = JSON.parse(r.stdout) as HostReport;
    const p = check(report, "privilege");
    assert(
      !p.ok && p.detail.includes(`euid ${unpriv.uid}`),
      JSON.stringify(p),
    );
    assert(p.fix?.includes("CAP_NET_ADMIN"), p.fix);
    assert(!report.canRecord);
  },
});
