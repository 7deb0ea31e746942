/**
 * What exec rules cost every exec of the host: a shell runs N execs of a
 * copy of /bin/true, timed inside the shell, (a) alone, (b) while procrec
 * records without rules, (c) with 3 rules that do not match it (each exec
 * still waits for the enforcer's answer), (d) with an audit rule that
 * matches it (a decision recorded per exec). Prints microseconds per exec.
 * Root; `deno task bench:exec-rules [N]`.
 */
const ROOT = new URL("../", import.meta.url).pathname;
const N = Number(Deno.args[0] ?? 2000);
const dir = await Deno.makeTempDir({ prefix: "procrec-rules-bench-" });
try {
  await Deno.copyFile("/bin/true", `${dir}/t`);
  await Deno.chmod(`${dir}/t`, 0o755);
  const loop =
    `s=$(date +%s%N); i=0; while [ $i -lt ${N} ]; do ${dir}/t; i=$((i+1)); done; e=$(date +%s%N); echo "NS $((e-s))"`;
  const rules = (audit: boolean) =>
    `rules:\n  - id: a\n    action: deny\n    path: /opt/none/*\n  - id: b\n    action: deny\n    path: "*/nc"\n    user: root\n  - id: c\n    action: audit\n    path: "${
      audit ? `${dir}/t` : "/no/such"
    }"\n    argv: {regex: "^.*$"}\n`;
  await Deno.writeTextFile(`${dir}/miss.yaml`, rules(false));
  await Deno.writeTextFile(`${dir}/hit.yaml`, rules(true));
  const runs: [string, string[]][] = [
    ["alone", ["/bin/sh", "-c", loop]],
    ["recording, no rules", [
      `${ROOT}procrec`,
      "record",
      "-q",
      "-o",
      `${dir}/a.cbor`,
      "--",
      "/bin/sh",
      "-c",
      loop,
    ]],
    ["recording, 3 rules, none match", [
      `${ROOT}procrec`,
      "record",
      "-q",
      "--rules",
      `${dir}/miss.yaml`,
      "-o",
      `${dir}/b.cbor`,
      "--",
      "/bin/sh",
      "-c",
      loop,
    ]],
    ["recording, an audit rule matches each exec", [
      `${ROOT}procrec`,
      "record",
      "-q",
      "--rules",
      `${dir}/hit.yaml`,
      "-o",
      `${dir}/c.cbor`,
      "--",
      "/bin/sh",
      "-c",
      loop,
    ]],
  ];
  console.log(`${N} execs of a copy of /bin/true from a shell loop, per exec:`);
  for (const [name, argv] of runs) {
    const o = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stderr: "null",
    }).output();
    const m = /NS (\d+)/.exec(new TextDecoder().decode(o.stdout));
    if (!m) throw new Error(`${name}: no timing (exit ${o.code})`);
    console.log(
      `  ${name.padEnd(44)} ${(Number(m[1]) / N / 1000).toFixed(1)} µs`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
