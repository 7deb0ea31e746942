/**
 * `procrec hunt` over SigmaHQ's own data (fixtures/sigma, DRL 1.1): every
 * process_creation rule loads (or is reported unsupported, with a reason),
 * and every positive regression case, imported with `procrec import sysmon`,
 * is matched by its rule, on its own event.
 */
import {
  type CompiledRule,
  type HuntHit,
  keptFromText,
  keptToText,
  loadRuleSet,
  PARSED_RULES_FORMAT,
  type ParsedEntry,
  RuleHunter,
} from "../cli/hunt/mod.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import type { RecordingHeader } from "../cli/log/schema.ts";
import { workload } from "../bench/hunt_bench_workload.ts";
import { testHeader } from "./_recording_helpers.ts";
import { procrec, ROOT } from "./_record_helpers.ts";

const SIGMA = `${ROOT}fixtures/sigma`;

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

function ruleFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "regression") out.push(...ruleFiles(p));
    else if (e.isFile && p.endsWith(".yml")) out.push(p);
  }
  return out.sort();
}

Deno.test("hunt: every SigmaHQ process_creation rule loads; at most 2% unsupported, none invalid", () => {
  const files = ruleFiles(SIGMA);
  const set = loadRuleSet(
    files.map((path) => ({ path, text: Deno.readTextFileSync(path) })),
  );
  const unsupported = set.problems.filter((p) => p.kind === "unsupported");
  const invalid = set.problems.filter((p) => p.kind === "invalid");
  const na = (os: "linux" | "windows") =>
    set.rules.filter((r) =>
      r.notApplicable[os] && !/logsource/.test(r.notApplicable[os]!)
    );
  console.log(
    `${files.length} rule files: ${set.rules.length} compiled, ${unsupported.length} unsupported, ${invalid.length} invalid; ` +
      `needing a field procrec lacks: windows ${na("windows").length}, linux ${
        na("linux").length
      }`,
  );
  for (const p of set.problems) console.log(`  ${p.kind}: ${p.message}`);
  for (const r of na("windows")) {
    console.log(
      `  not applicable on windows: ${r.rule.file}: ${r.notApplicable.windows}`,
    );
  }
  assert(files.length >= 1600, `${files.length} rule files`);
  assert(invalid.length === 0, invalid.map((p) => p.message).join("\n"));
  assert(unsupported.length <= files.length * 0.02);
  for (const p of unsupported) assert(p.reason.length > 0);
  assert(set.rules.length + set.problems.length === files.length);
});

Deno.test("hunt: rules loaded from kept parses (by SHA-256 of the text) are the rules the YAML gives", () => {
  const files = ruleFiles(SIGMA).map((path) => ({
    path,
    text: Deno.readTextFileSync(path),
  }));
  // a malformed and an unsupported rule are kept as their errors
  files.push(
    { path: "bad.yml", text: "title: [\n" },
    {
      path: "count.yml",
      text:
        "title: c\nlogsource: {}\ndetection: {s: {Image: x}, condition: s | count() > 5}\n",
    },
  );
  const kept = new Map<string, ParsedEntry>();
  const fresh = loadRuleSet(files, { kept });
  const text = keptToText(kept);
  const back = keptFromText(text);
  assert(back !== undefined && back.size === kept.size);
  // the same texts under other paths: the paths are the new ones
  const moved = files.map((f) => ({ path: `moved/${f.path}`, text: f.text }));
  const again = loadRuleSet(moved, { kept: back });
  assert(back.size === kept.size, "nothing parsed again");
  // JSON with the keys of every object in order
  const sorted = (_k: string, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
        Object.entries(v).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
      )
      : v;
  const shape = (r: CompiledRule, prefix = "") =>
    JSON.stringify({
      ...r.rule,
      file: prefix + r.rule.file,
      selections: [...r.rule.selections],
      anchors: r.anchors,
      required: r.required,
      fields: r.fields,
      notApplicable: r.notApplicable,
      unanswered: r.unanswered,
    }, sorted);
  assert(fresh.rules.length === again.rules.length);
  for (let i = 0; i < fresh.rules.length; i++) {
    assert(
      shape(fresh.rules[i], "moved/") === shape(again.rules[i]),
      `${fresh.rules[i].rule.file}: kept parse differs`,
    );
  }
  assert(fresh.problems.length === 2 && again.problems.length === 2);
  for (let i = 0; i < fresh.problems.length; i++) {
    const a = fresh.problems[i], b = again.problems[i];
    assert(
      a.kind === b.kind && a.field === b.field && a.reason === b.reason &&
        b.message === a.message.replace(a.file, b.file) &&
        b.file === `moved/${a.file}`,
      `${JSON.stringify(a)} ${JSON.stringify(b)}`,
    );
  }
  // a damaged store is not used
  assert(keptFromText(text.replace("detection", "detectioN")) === undefined);
  assert(keptFromText(text.slice(0, -1)) === undefined);
  console.log(
    `${files.length} rule files, kept as ${
      (text.length / 1e6).toFixed(1)
    } MB: the same rules and problems`,
  );
});

Deno.test("hunt: the kept-parse format is bumped when the parser changes", async () => {
  // kept parses of an older parser must not be used: PARSED_RULES_FORMAT
  // names the parser's sources by their SHA-256
  const sources = [
    "parse_rule.ts",
    "parse_condition.ts",
    "sigma_rule.ts",
    "rule_error.ts",
  ].map((f) => Deno.readTextFileSync(`${ROOT}cli/hunt/${f}`)).join("\0");
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(sources),
    ),
  );
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert(
    PARSED_RULES_FORMAT.endsWith(`:${hex.slice(0, 16)}`),
    `the parser changed: set PARSED_RULES_FORMAT in cli/hunt/parsed_rules.ts to "procrec-sigma-parsed:${
      hex.slice(0, 16)
    }"`,
  );
});

Deno.test({
  name:
    "hunt: every SigmaHQ regression case, imported from its Sysmon event XML, is matched by its rule",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "procrec-hunt-" });
    try {
      const cases = [...Deno.readDirSync(`${SIGMA}/regression`)]
        .filter((e) => e.isDirectory).map((e) => e.name).sort();
      assert(cases.length >= 60, `${cases.length} cases`);
      // the imports, a few at a time
      const queue = [...cases];
      const worker = async () => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
          const r = await procrec([
            "import",
            "sysmon",
            `${SIGMA}/regression/${c}/events.xml`,
            "-o",
            `${dir}/${c}.cbor`,
          ]);
          assert(r.code === 0, `import ${c}: ${r.stderr}`);
        }
      };
      await Promise.all([worker(), worker(), worker()]);
      const ruleOf = new Map(cases.map((c) => [
        c,
        `${SIGMA}/${
          Deno.readTextFileSync(`${SIGMA}/regression/${c}/rule.txt`).trim()
        }`,
      ]));
      const rules = [...new Set(ruleOf.values())];
      const r = await procrec([
        "hunt",
        ...rules.flatMap((f) => ["--rules", f]),
        "--json",
        ...cases.map((c) => `${dir}/${c}.cbor`),
      ]);
      assert(r.code === 1, `exit ${r.code}: ${r.stderr}`);
      const out = JSON.parse(r.stdout);
      assert(
        out.rules.invalid.length === 0 && out.rules.unsupported.length === 0,
      );
      const missed: string[] = [];
      for (const c of cases) {
        // the case's own event: its ProcessId, in its recording
        const xml = Deno.readTextFileSync(
          `${SIGMA}/regression/${c}/events.xml`,
        );
        const pids = [...xml.matchAll(/<Data Name="ProcessId">(\d+)</g)]
          .map((m) => Number(m[1]));
        const hit = out.hits.find((
          h: { recording: string; rule: { file: string }; pid: number },
        ) =>
          h.recording === `${dir}/${c}.cbor` && h.rule.file === ruleOf.get(c) &&
          pids.includes(h.pid)
        );
        if (!hit) missed.push(`${c} (${ruleOf.get(c)})`);
      }
      console.log(
        `${
          cases.length - missed.length
        } of ${cases.length} regression cases matched by their rule; ${out.hits.length} hits in all`,
      );
      assert(missed.length === 0, `not matched:\n${missed.join("\n")}`);
      // the index never hides a match: every rule of the corpus, indexed
      // and exhaustive, over each case's events
      const set = loadRuleSet(
        ruleFiles(SIGMA).map((path) => ({
          path,
          text: Deno.readTextFileSync(path),
        })),
      );
      let same = 0;
      for (const c of cases) {
        const rec = await RecordingReader.open(`${dir}/${c}.cbor`);
        const events = [];
        for await (const e of rec.events()) events.push(e);
        const a = new RuleHunter(c, rec.header, set.rules);
        // every rule on every process, every value tested afresh
        const b = new RuleHunter(c, rec.header, set.rules, {
          useIndex: false,
          valuesPerField: 0,
        });
        for (const e of events) {
          a.add(e);
          b.add(e);
        }
        const key = (h: HuntHit) => `${h.rule.file} ${h.process} ${h.t}`;
        const ka = a.finish().hits.map(key).sort().join("\n");
        const kb = b.finish().hits.map(key).sort().join("\n");
        assert(ka === kb, `${c}: indexed\n${ka}\nexhaustive\n${kb}`);
        same += kb ? kb.split("\n").length : 0;
      }
      console.log(
        `all rules over the cases: ${same} hits, the same with and without the index and remembered verdicts`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("hunt: the rule index never hides a match: indexed and exhaustive hunts agree over the benchmark's workloads", () => {
  const files = ruleFiles(SIGMA);
  const set = loadRuleSet(
    files.map((path) => ({ path, text: Deno.readTextFileSync(path) })),
  );
  const key = (h: { rule: { file: string }; process: string; t: number }) =>
    `${h.rule.file} ${h.process} ${h.t}`;
  const compare = (
    name: string,
    os: "linux" | "windows",
    events: Iterable<ProcEvent>,
  ) => {
    const h = testHeader({ os }) as RecordingHeader;
    // indexed, remembering verdicts per value (as `procrec hunt` does), and
    // with a table of 5 values per field that starts afresh every few
    // processes, against every rule on every process, tested afresh
    const a = new RuleHunter(name, h, set.rules);
    const small = new RuleHunter(name, h, set.rules, { valuesPerField: 5 });
    const b = new RuleHunter(name, h, set.rules, {
      useIndex: false,
      valuesPerField: 0,
    });
    for (const e of events) {
      a.add(e);
      small.add(e);
      b.add(e);
    }
    const kb = b.finish().hits.map(key).sort();
    for (const [how, x] of [["indexed", a], ["small table", small]] as const) {
      const ka = x.finish().hits.map(key).sort();
      assert(
        JSON.stringify(ka) === JSON.stringify(kb),
        `${name}: ${how} ${ka.length} hits, exhaustive ${kb.length}: ${
          kb.filter((k) => !ka.includes(k)).slice(0, 5).join("\n")
        }`,
      );
    }
    return kb.length;
  };
  let hits = 0;
  hits += compare("linux", "linux", workload("linux", 6_000));
  hits += compare("windows", "windows", workload("windows", 6_000));
  console.log(
    `${hits} hits, the same with and without the index and remembered verdicts`,
  );
});
