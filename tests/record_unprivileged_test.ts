import {
  assert,
  assertEquals,
  mustNotSkip,
  procrec,
  unprivilegedPrefix,
  withTempDir,
} from "./_record_helpers.ts";

function unavailable(): string | undefined {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.uid() !== 0) {
    return "needs root to switch to an unprivileged user with setpriv";
  }
  return undefined;
}

for (
  const [source, privilege] of [
    [
      "auto",
      "CAP_NET_ADMIN (proc connector) or CAP_BPF and CAP_PERFMON (eBPF)",
    ],
    ["netlink", "CAP_NET_ADMIN"],
    ["ebpf", "CAP_BPF and CAP_PERFMON"],
  ]
) {
  const name =
    `record --source ${source} without privilege fails naming ${privilege}, exit status 2`;
  const why = unavailable();
  if (why) console.error(`skipping "${name}": ${why}`);
  Deno.test({ name, ignore: !!why && !mustNotSkip() }, async () => {
    if (why) throw new Error(`CI must run this test, but: ${why}`);
    const dir = await Deno.makeTempDir();
    await Deno.chmod(dir, 0o777);
    try {
      const unpriv = await unprivilegedPrefix();
      const out = `${dir}/x.cbor`;
      const r = await procrec([
        "record",
        "--source",
        source,
        "-o",
        out,
        "--",
        "true",
      ], {
        prefix: unpriv.prefix,
      });
      assertEquals(r.code, 2, `exit status (stderr: ${r.stderr})`);
      assert(
        r.stderr.includes(`missing privilege ${privilege}`),
        `stderr does not name the privilege: ${r.stderr}`,
      );
      assert(r.stderr.includes(`uid ${unpriv.uid}`), r.stderr);
      const left = [...Deno.readDirSync(dir)].map((e) => e.name);
      assertEquals(left, [], "files left behind");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const NO_BPF = [
  "setpriv",
  "--inh-caps=-bpf,-perfmon,-sys_admin",
  "--bounding-set=-bpf,-perfmon,-sys_admin",
];

{
  const name =
    "without the privilege to load BPF, auto falls back to the proc connector and says why; --source ebpf fails";
  const why = unavailable();
  if (why) console.error(`skipping "${name}": ${why}`);
  Deno.test({ name, ignore: !!why && !mustNotSkip() }, async () => {
    if (why) throw new Error(`CI must run this test, but: ${why}`);
    await withTempDir(async (dir) => {
      const auto = await procrec(
        ["record", "--source", "auto", "-o", `${dir}/a.cbor`, "--", "true"],
        { prefix: NO_BPF },
      );
      assertEquals(auto.code, 0, auto.stderr);
      const { RecordingReader } = await import("../cli/log/mod.ts");
      const r = await RecordingReader.open(`${dir}/a.cbor`);
      assertEquals(r.header.source.name, "netlink");
      assert(
        /bpf|BPF/.test(r.header.source.reason),
        `reason: ${r.header.source.reason}`,
      );
      await Array.fromAsync(r.events());
      const ebpf = await procrec(
        ["record", "--source", "ebpf", "-o", `${dir}/b.cbor`, "--", "true"],
        { prefix: NO_BPF },
      );
      assertEquals(ebpf.code, 2, ebpf.stderr);
      assert(
        ebpf.stderr.includes("missing privilege CAP_BPF and CAP_PERFMON"),
        ebpf.stderr,
      );
    });
  });
}
