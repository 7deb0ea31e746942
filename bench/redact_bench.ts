/**
 * How fast redaction is: exec events (argv of 4 to 8 elements, a `sh -c`
 * script in one of four) through a Redactor with the four rules of the
 * README's example, against the same events not redacted. Prints events per
 * second; it is a benchmark, not a test.
 *
 * deno run --allow-all bench/redact_bench.ts [events]
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { parseRedactionRules, Redactor } from "../cli/redact/mod.ts";

const n = Number(Deno.args[0] ?? 200_000);
const rules = parseRedactionRules(
  JSON.stringify({
    rules: [
      { name: "mysql-password", flag: "-p", separate: false },
      { name: "token", flag: ["--token", "--password"] },
      { name: "secret-env", env: ".*(PASSWORD|SECRET|TOKEN).*", flags: "i" },
      { name: "bearer", match: "Bearer (\\S+)" },
    ],
  }),
  "bench",
);
const redactor = new Redactor(rules, new Uint8Array(32).fill(1));
const events: ProcEvent[] = [];
for (let i = 0; i < n; i++) {
  const argv = i % 4 === 0
    ? ["sh", "-c", `mysql -uroot -pS3cret${i % 10} db_${i} < dump.sql`]
    : i % 4 === 1
    ? ["curl", "-s", "--token", `t${i}`, "https://example.org/api/v1"]
    : i % 4 === 2
    ? ["env", `DB_PASSWORD=x${i}`, "HOME=/root", "/usr/bin/app", "--verbose"]
    : ["/usr/bin/make", "-j4", `target${i}`, "CC=gcc", "V=1", "all", "install"];
  events.push({
    kind: "exec",
    t: i,
    pid: 1000 + i,
    tid: 1000 + i,
    info: {
      image: `/usr/bin/${argv[0]}`,
      argv,
      comm: argv[0].slice(0, 15),
      cwd: "/home/user/src/project",
      from: { image: "kernel", argv: "kernel" },
    },
  });
}

function time(label: string, fn: (e: ProcEvent) => unknown): number {
  const t0 = performance.now();
  let sink = 0;
  for (const e of events) sink += fn(e) ? 1 : 0;
  const ms = performance.now() - t0;
  const rate = Math.round(n / (ms / 1000));
  console.log(
    `${label}: ${n} exec events in ${ms.toFixed(0)} ms, ${
      rate.toLocaleString("en")
    } events/s (${sink})`,
  );
  return ms;
}

time("copy (no redaction)", (e) => ({ ...e }));
time("redact, 4 rules (warm-up)", (e) => redactor.event(e));
const ms = time("redact, 4 rules", (e) => redactor.event(e));
console.log(
  `per exec event: ${(ms * 1000 / n).toFixed(2)} us; values redacted: ${
    JSON.stringify(redactor.counts)
  }`,
);
