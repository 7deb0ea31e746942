/**
 * Benchmark (not a test): `deno task bench:hunt`. Every rule of
 * `fixtures/sigma` (SigmaHQ's 1,629 process_creation rules) over a
 * 1,000,000-event Linux recording and a 1,000,000-event Windows recording of
 * varied processes (a few of them malicious), printing rule load time, then
 * events/s for reading alone, for reading + hunting, and for hunting events
 * already in memory, with process creations/s and the rules an event reaches
 * through the index. `BENCH_EVENTS` sets the number of events. Target
 * (issue 17): ≥ 300,000 events/s with every rule loaded.
 *
 * @module
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader, RecordingWriter } from "../cli/log/mod.ts";
import {
  EventFields,
  keptFromText,
  keptToText,
  loadRuleSet,
  type ParsedEntry,
  RuleHunter,
  RuleIndex,
} from "../cli/hunt/mod.ts";
import { testHeader } from "../tests/_recording_helpers.ts";
import process from "node:process";
import { workload } from "./hunt_bench_workload.ts";

const TOTAL = Number(Deno.env.get("BENCH_EVENTS") ?? 1_000_000);
const ROOT = new URL("../", import.meta.url).pathname;

function ruleFiles(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "regression") out.push(...ruleFiles(p));
    else if (e.isFile && p.endsWith(".yml")) {
      out.push({ path: p, text: Deno.readTextFileSync(p) });
    }
  }
  return out;
}

/** CPU time of this process, ms: on a shared machine, closer to the work done than wall time. */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const rate = (n: number, ms: number) =>
  `${Math.round(n / (ms / 1000)).toLocaleString("en")}/s`;

const files = ruleFiles(`${ROOT}fixtures/sigma`);
const kept = new Map<string, ParsedEntry>();
let t0 = performance.now();
let c0 = cpu();
const set = loadRuleSet(files, { kept });
console.log(
  `rules: ${files.length} files, ${set.rules.length} compiled, ${set.problems.length} not loaded, in ${
    (performance.now() - t0).toFixed(0)
  } ms wall, ${(cpu() - c0).toFixed(0)} ms CPU (YAML parsed)`,
);
// a later run: the parses kept (as `procrec hunt` keeps them in a file)
const keptText = keptToText(kept);
t0 = performance.now();
c0 = cpu();
const again = loadRuleSet(files, { kept: keptFromText(keptText)! });
console.log(
  `rules again: ${again.rules.length} compiled in ${
    (performance.now() - t0).toFixed(0)
  } ms wall, ${
    (cpu() - c0).toFixed(0)
  } ms CPU (parses kept by SHA-256 of the text, ${
    (keptText.length / 1e6).toFixed(1)
  } MB)`,
);

const dir = await Deno.makeTempDir({ prefix: "procrec-hunt-bench-" });
try {
  for (const os of ["linux", "windows"] as const) {
    const path = `${dir}/${os}.cbor`;
    const header = testHeader({
      host: "bench",
      os,
      source: { name: "fixture", reason: "bench" },
    });
    const w = await RecordingWriter.create(path, header, {
      flushIntervalMs: 0,
      overwrite: true,
    });
    for (const e of workload(os, TOTAL)) w.write(e);
    await w.close();

    // reading alone (events not kept, as `procrec hunt` keeps none)
    c0 = cpu();
    t0 = performance.now();
    let n = 0;
    for await (const c of (await RecordingReader.open(path)).chunks()) {
      n += c.events.length;
    }
    const readMs = performance.now() - t0;
    const readCpu = cpu() - c0;

    // reading + hunting, as `procrec hunt` does
    c0 = cpu();
    t0 = performance.now();
    const r = await RecordingReader.open(path);
    const h = new RuleHunter(path, r.header, set.rules);
    for await (const c of r.chunks()) {
      for (let i = 0; i < c.events.length; i++) h.add(c.events[i]);
    }
    const out = h.finish();
    const bothMs = performance.now() - t0;
    const bothCpu = cpu() - c0;

    const events: ProcEvent[] = [];
    for await (const c of (await RecordingReader.open(path)).chunks()) {
      for (const e of c.events) events.push(e);
    }
    // hunting events already decoded
    c0 = cpu();
    t0 = performance.now();
    const h2 = new RuleHunter(path, r.header, set.rules);
    for (const e of events) h2.add(e);
    const out2 = h2.finish();
    const huntMs = performance.now() - t0;
    const huntCpu = cpu() - c0;

    // how many rules an event reaches through the index
    const applied = set.rules.filter((x) => !x.notApplicable[os]);
    const index = new RuleIndex(applied);
    let reached = 0, subjects = 0;
    for (const e of events.slice(0, 200_000)) {
      if (
        (os === "linux" && e.kind === "exec") ||
        (os === "windows" && e.kind === "process_create")
      ) {
        subjects++;
        reached += index.candidates(
          new EventFields({
            os,
            host: "bench",
            process: { pid: e.pid, ppid: 0, start: 0, info: e.info! },
          }),
        ).length;
      }
    }
    console.log(
      `${os}: ${n.toLocaleString("en")} events, ${
        out.subjects.toLocaleString("en")
      } process creations, ${applied.length} rules applicable (${index.unindexed} without anchor), ${out.hits.length} hits (${out2.hits.length} in memory)\n` +
        `  read only:       ${rate(n, readMs)} events wall, ${
          rate(n, readCpu)
        } per CPU second (${readMs.toFixed(0)} ms wall, ${
          readCpu.toFixed(0)
        } ms CPU)\n` +
        `  read + hunt:     ${rate(n, bothMs)} events wall, ${
          rate(n, bothCpu)
        } per CPU second (${bothMs.toFixed(0)} ms wall, ${
          bothCpu.toFixed(0)
        } ms CPU)  [target ≥ 300,000/s]\n` +
        `  hunt in memory:  ${rate(n, huntMs)} events wall, ${
          rate(n, huntCpu)
        } per CPU second; ${
          rate(out2.subjects, huntCpu)
        } process creations per CPU second\n` +
        `  rules reached per process creation through the index: ${
          (reached / Math.max(1, subjects)).toFixed(1)
        } of ${applied.length}`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log(
  `memory at the end: ${
    (Deno.memoryUsage().rss / 2 ** 20).toFixed(0)
  } MiB resident (all events of the last recording held for the in-memory pass)`,
);
console.log(
  `load average: ${
    Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
  } (2 cores, shared)`,
);
