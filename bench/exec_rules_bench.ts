/**
 * What exec rules cost every exec of the host: a shell runs N execs of a
 * copy of /bin/true, timed inside the shell, (a) alone, (b) while procrec
 * records without rules, (c) with 4 rules that do not match it (each exec
 * still waits for the enforcer's answer; one is a `file:` rule whose file
 * has another size, so the copy is never read), (d) with an audit rule that
 * matches it (a decision recorded per exec), (e) with a `file:` rule whose
 * file has the copy's size and other contents (the copy is hashed once, then
 * its hash comes from the enforcer's cache). Prints microseconds per exec.
 * Every recorder runs with --no-hash-cache: each hashes the running images
 * afresh at its start, so a row does not depend on the runs before it.
 * BENCH_ONLY=PREFIX runs only the rows whose name starts with it.
 * Root; `deno task bench:exec-rules [N]`.
 */
const ROOT = new URL("../", import.meta.url).pathname;
const N = Number(Deno.args[0] ?? 2000);
const dir = await Deno.makeTempDir({ prefix: "procrec-rules-bench-" });
try {
  await Deno.copyFile("/bin/true", `${dir}/t`);
  await Deno.chmod(`${dir}/t`, 0o755);
  // a file: rule's files: `f` of another size than `t`, `g` of t's size
  // (other contents): a file: rule denies every copy of its file, so never
  // name one of a system binary here
  const t = await Deno.readFile(`${dir}/t`);
  const f = new Uint8Array(t.length + 7);
  f.set(t);
  f.set(new TextEncoder().encode(`${Deno.pid}`.padEnd(7, "x")), t.length);
  await Deno.writeFile(`${dir}/f`, f);
  const g = t.slice();
  g[g.length - 1] ^= 0xff;
  await Deno.writeFile(`${dir}/g`, g);
  const loop =
    `s=$(date +%s%N); i=0; while [ $i -lt ${N} ]; do ${dir}/t; i=$((i+1)); done; e=$(date +%s%N); echo "NS $((e-s))"`;
  const rules = (audit: boolean, file: string) =>
    `rules:\n  - id: a\n    action: deny\n    path: /opt/none/*\n  - id: b\n    action: deny\n    path: "*/nc"\n    user: root\n  - id: c\n    action: audit\n    path: "${
      audit ? `${dir}/t` : "/no/such"
    }"\n    argv: {regex: "^.*$"}\n  - id: d\n    action: deny\n    file: ${file}\n`;
  await Deno.writeTextFile(`${dir}/miss.yaml`, rules(false, `${dir}/f`));
  await Deno.writeTextFile(`${dir}/hit.yaml`, rules(true, `${dir}/f`));
  await Deno.writeTextFile(`${dir}/size.yaml`, rules(false, `${dir}/g`));
  const runs: [string, string[]][] = [
    ["alone", ["/bin/sh", "-c", loop]],
    ["recording, no rules", [
      `${ROOT}procrec`,
      "record",
      "-q",
      "--no-hash-cache",
      "-o",
      `${dir}/a.cbor`,
      "--",
      "/bin/sh",
      "-c",
      loop,
    ]],
    ["recording, 4 rules, none match", [
      `${ROOT}procrec`,
      "record",
      "-q",
      "--no-hash-cache",
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
      "--no-hash-cache",
      "--rules",
      `${dir}/hit.yaml`,
      "-o",
      `${dir}/c.cbor`,
      "--",
      "/bin/sh",
      "-c",
      loop,
    ]],
    ["recording, a file: rule of the copy's size", [
      `${ROOT}procrec`,
      "record",
      "-q",
      "--no-hash-cache",
      "--rules",
      `${dir}/size.yaml`,
      "-o",
      `${dir}/d.cbor`,
      "--",
      "/bin/sh",
      "-c",
      loop,
    ]],
  ];
  const only = Deno.env.get("BENCH_ONLY"); // one row, by its start (paired runs)
  console.log(`${N} execs of a copy of /bin/true from a shell loop, per exec:`);
  for (const [name, argv] of runs) {
    if (only && !name.startsWith(only)) continue;
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
