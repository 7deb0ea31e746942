import { assert, assertEquals, procrec } from "./_record_helpers.ts";

const NOBODY = [
  "setpriv",
  "--reuid=65534",
  "--regid=65534",
  "--clear-groups",
  "--inh-caps=-all",
];

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
  Deno.test({ name, ignore: !!why }, async () => {
    const dir = await Deno.makeTempDir();
    await Deno.chmod(dir, 0o777);
    try {
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
        prefix: NOBODY,
      });
      assertEquals(r.code, 2, `exit status (stderr: ${r.stderr})`);
      assert(
        r.stderr.includes(`missing privilege ${privilege}`),
        `stderr does not name the privilege: ${r.stderr}`,
      );
      assert(r.stderr.includes("uid 65534"), r.stderr);
      const left = [...Deno.readDirSync(dir)].map((e) => e.name);
      assertEquals(left, [], "files left behind");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
