import { assert, assertEquals } from "./import_assert.ts";
import { analyze } from "../cli/analysis/mod.ts";
import {
  EMPIRE,
  expected,
  LSASS,
  perHostPath,
  procrec,
  rawRecords,
  withTempDir,
} from "./import_helpers.ts";
import { readRecording as readAll } from "./_recording_helpers.ts";
import { exists } from "./_record_helpers.ts";

/** Numbers verified by hand with jq over the fixtures (see the report of issue 7). */
const LITERAL = {
  "MKT01.pandalab.com": {
    creates: 269,
    terminateRecords: 252,
    terminatedGuids: 250,
    processes: 284,
    pairs: 242,
    terminateWithoutCreate: 8,
    createWithoutTerminate: 27,
    parentsNotCreated: 10,
    missingPid: 0,
    terminateBeforeCreate: 19,
    terminateBeforeChild: 13,
  },
  "WORKSTATION5.theshire.local": {
    creates: 117,
    terminateRecords: 98,
    terminatedGuids: 98,
    processes: 186,
    pairs: 32,
    terminateWithoutCreate: 66,
    createWithoutTerminate: 85,
    parentsNotCreated: 4,
    missingPid: 1,
    terminateBeforeCreate: 0,
    terminateBeforeChild: 0,
  },
  "MORDORDC.theshire.local": {
    creates: 3,
    terminateRecords: 3,
    terminatedGuids: 3,
    processes: 4,
    pairs: 3,
    terminateWithoutCreate: 0,
    createWithoutTerminate: 0,
    parentsNotCreated: 1,
    missingPid: 0,
    terminateBeforeCreate: 0,
    terminateBeforeChild: 0,
  },
} as const;

const DATASETS = [
  { file: LSASS, hosts: ["MKT01.pandalab.com"] },
  {
    file: EMPIRE,
    hosts: ["WORKSTATION5.theshire.local", "MORDORDC.theshire.local"],
  },
];

const low = (s: string | undefined) => s?.toLowerCase();

for (const { file, hosts } of DATASETS) {
  const name = file.slice(file.lastIndexOf("/") + 1);
  Deno.test(`import sysmon ${name} keeps every process and pair the data holds, linked to its ParentProcessGuid`, async () => {
    const raw = rawRecords(file);
    const want = expected(raw);
    assertEquals([...want.keys()].sort(), [...hosts].sort());
    await withTempDir(async (dir) => {
      const out = `${dir}/rec.cbor`;
      const run = await procrec(["import", "sysmon", file, "-o", out]);
      assertEquals(run.code, 0, run.stderr);
      for (const host of hosts) {
        const w = want.get(host)!;
        // the independent count agrees with the numbers checked by hand
        const { host: _, ...counts } = w;
        assertEquals(counts, LITERAL[host as keyof typeof LITERAL]);

        const path = hosts.length === 1 ? out : perHostPath(out, host);
        const { header, events, report } = await readAll(path);
        assert(report.complete && report.chainIntact, `${path} complete`);
        assertEquals(header.host, host);
        assertEquals(header.os, "windows");
        assertEquals(header.source.name, "import");
        assertEquals(header.import?.format, "sysmon");
        assertEquals(header.import?.files.map((f) => f.name), [name]);
        assert(/^[0-9a-f]{64}$/.test(header.import!.files[0].sha256 ?? ""));

        const creates = events.filter((e) => e.kind === "process_create");
        const exits = events.filter((e) => e.kind === "process_exit");
        const snaps = events.filter((e) => e.kind === "process_snapshot");
        assertEquals(creates.length, w.creates);
        assertEquals(exits.length, w.terminatedGuids);
        const guids = new Set(
          [...creates, ...snaps].map((e) => low(e.guid)),
        );
        assertEquals(guids.size, w.processes);
        assertEquals(creates.length + snaps.length, w.processes);
        const createdGuids = new Set(creates.map((e) => low(e.guid)));
        const exitGuids = new Set(exits.map((e) => low(e.guid)));
        assertEquals(
          [...createdGuids].filter((g) => exitGuids.has(g)).length,
          w.pairs,
        );
        assert(
          exits.every((e) => e.kind === "process_exit" && e.statusUnknown),
        );
        assert(
          events.every((e, i) => i === 0 || events[i - 1].t <= e.t),
          "events in time order",
        );
        assertEquals(Math.min(...events.map((e) => e.t)), 0);
        assert(
          [...creates, ...snaps].every((e) => e.info?.from.image === "import"),
          "provenance import",
        );
        assert(run.stdout.includes(`${w.processes} processes`), run.stdout);
        assert(
          run.stdout.includes(`${w.pairs} create/terminate pairs`),
          run.stdout,
        );
        const after = run.stdout.slice(run.stdout.indexOf(`host ${host}:`))
          .split("\n").slice(1);
        const end = after.findIndex((l) => !l.startsWith(" "));
        const section = after.slice(0, end < 0 ? after.length : end).join("\n");
        const holes: [number, string][] = [
          [w.terminateWithoutCreate, "terminations without a creation"],
          [w.createWithoutTerminate, "creations without a termination"],
          [w.parentsNotCreated, "parents known only from their children"],
          [
            w.terminateBeforeCreate,
            "terminations stamped before their creation",
          ],
          [
            w.terminateBeforeChild,
            "terminations stamped before a child's creation",
          ],
          [w.terminateRecords - w.terminatedGuids, "duplicate terminations"],
          [w.missingPid, "records without ProcessId"],
        ];
        for (const [n, label] of holes) {
          const line = section.split("\n").find((l) => l.includes(label));
          if (n === 0) assertEquals(line, undefined, label);
          else assertEquals(line?.trim().split(/\s+/)[0], String(n), label);
        }

        // parent links, two ways: by (ppid, time order) over the events, and
        // through the analysis, each checked against ParentProcessGuid
        const childRaw = raw.filter((r) =>
          r.Hostname === host && Number(r.EventID) === 1
        );
        const live = new Map<number, string | undefined>();
        let linkedByPid = 0;
        for (const e of events) {
          if (e.kind === "process_create") {
            const parentGuid = live.get(e.ppid);
            assertEquals(
              parentGuid,
              low(e.parentGuid),
              `ppid link of ${e.guid}`,
            );
            linkedByPid++;
          }
          if (e.kind === "process_create" || e.kind === "process_snapshot") {
            live.set(e.pid, low(e.guid));
          }
          if (e.kind === "process_exit") {
            assertEquals(live.get(e.pid), low(e.guid), `exit of ${e.guid}`);
            live.delete(e.pid);
          }
        }
        assertEquals(linkedByPid, childRaw.length);

        const forest = await analyze(events, {
          os: header.os,
          bootId: header.bootId,
        });
        assertEquals(forest.processes.length, w.processes);
        assertEquals(
          forest.problems.filter((p) => p.type === "exit-without-create"),
          [],
        );
        const byGuid = new Map(forest.processes.map((p) => [low(p.guid), p]));
        for (const r of childRaw) {
          const child = byGuid.get(low(String(r.ProcessGuid)))!;
          assert(child, `process ${r.ProcessGuid}`);
          const parent = forest.byId.get(child.parentId!);
          assertEquals(
            low(parent?.guid),
            low(String(r.ParentProcessGuid)),
            `parent of ${r.ProcessGuid}`,
          );
        }
        const ended = forest.processes.filter((p) => p.end !== undefined);
        assertEquals(ended.length, w.terminatedGuids);
      }
    });
  });
}

Deno.test("replay prints the tree of an imported Sysmon log and report renders it", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/lsass.cbor`;
    assertEquals(
      (await procrec(["import", "sysmon", LSASS, "-o", rec])).code,
      0,
    );
    const replay = await procrec(["replay", rec]);
    assertEquals(replay.code, 0, replay.stderr);
    const lines = replay.stdout.split("\n").filter((l) => / \[\d+\] /.test(l));
    assertEquals(lines.length, LITERAL["MKT01.pandalab.com"].processes);
    // explorer (known only as the parent of msedge) and its child msedge
    const i = lines.findIndex((l) =>
      l.includes("C:\\Windows\\Explorer.EXE") && l.includes("[4544]")
    );
    assert(i >= 0, replay.stdout.slice(0, 2000));
    const child = lines[i + 1];
    assert(
      /^[├└]─ /.test(child) && child.includes("msedge.exe") &&
        child.includes("[7448]"),
      child,
    );

    const html = `${dir}/lsass.html`;
    const report = await procrec(["report", rec, "-o", html]);
    assertEquals(report.code, 0, report.stderr);
    const text = await Deno.readTextFile(html);
    assert(text.includes("MKT01.pandalab.com"), "host in report");
    assert(text.includes("msedge.exe"), "processes in report");
  });
});

Deno.test("import sysmon refuses an existing per-host recording before writing any of the set", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/rec.cbor`;
    const taken = perHostPath(out, "WORKSTATION5.theshire.local");
    await Deno.writeTextFile(taken, "keep me");
    const run = await procrec(["import", "sysmon", EMPIRE, "-o", out]);
    assertEquals(run.code, 2, run.stderr);
    assert(run.stderr.includes(`"${taken}": the file exists`), run.stderr);
    assertEquals(await Deno.readTextFile(taken), "keep me");
    assertEquals(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      [taken.slice(dir.length + 1)],
      "files written",
    );
  });
});

Deno.test("import sysmon --host makes one recording per input file", async () => {
  await withTempDir(async (dir) => {
    const run = await procrec([
      "import",
      "sysmon",
      LSASS,
      EMPIRE,
      "-o",
      `${dir}/r.cbor`,
      "--host",
      "lab",
    ]);
    assertEquals(run.code, 0, run.stderr);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(names, [
      "r.otrf_empire_runkeys_standard_user_sysmon_eid1_eid5.cbor",
      "r.otrf_lsass_campaign_01_logonpasswords_sysmon_eid1_eid5.cbor",
    ]);
    const { header, events } = await readAll(`${dir}/${names[0]}`);
    assertEquals(header.host, "lab");
    // both hosts of the file in one recording: 4 + 186 processes
    assertEquals(
      events.filter((e) =>
        e.kind === "process_create" || e.kind === "process_snapshot"
      ).length,
      190,
    );
  });
});

Deno.test("import sysmon --host: two input files of one name in two folders are two recordings (found by review: they were merged into one, silently)", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    await Deno.copyFile(LSASS, `${dir}/a/sysmon.jsonl`);
    await Deno.copyFile(EMPIRE, `${dir}/b/sysmon.jsonl`);
    const run = await procrec([
      "import",
      "sysmon",
      `${dir}/a/sysmon.jsonl`,
      `${dir}/b/sysmon.jsonl`,
      "-o",
      `${dir}/r.cbor`,
      "--host",
      "lab",
    ]);
    assertEquals(run.code, 0, run.stderr);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name)
      .filter((n) => n.endsWith(".cbor")).sort();
    assertEquals(names, ["r.sysmon-1.cbor", "r.sysmon-2.cbor"]);
    // each holds its own file's processes: those of the two files apart
    const alone = async (input: string) => {
      const out = `${dir}/alone-${names.length}-${input.length}.cbor`;
      const r = await procrec([
        "import",
        "sysmon",
        input,
        "-o",
        out,
        "--host",
        "lab",
      ]);
      assertEquals(r.code, 0, r.stderr);
      return (await readAll(out)).events.length;
    };
    assertEquals(
      (await readAll(`${dir}/r.sysmon-1.cbor`)).events.length,
      await alone(LSASS),
    );
    assertEquals(
      (await readAll(`${dir}/r.sysmon-2.cbor`)).events.length,
      await alone(EMPIRE),
    );
  });
});

Deno.test("import sysmon refuses malformed input with file, line and field, and never crashes", async () => {
  await withTempDir(async (dir) => {
    const good = JSON.stringify({
      EventID: 1,
      Hostname: "h",
      UtcTime: "2020-01-01 00:00:00.000",
      ProcessGuid: "{a}",
      ProcessId: "4",
    });
    const cases: [string, string, RegExp][] = [
      [
        "bad.jsonl",
        `${good}\n{"EventID": 1,\n`,
        /"bad\.jsonl": line 2: is not JSON/,
      ],
      [
        "time.jsonl",
        `${good}\n${good.replace("2020-01-01 00:00:00.000", "yesterday")}\n`,
        /"time\.jsonl": line 2: field "UtcTime" is "yesterday"/,
      ],
      [
        "guid.jsonl",
        `${good.replace('"ProcessGuid":"{a}",', "")}\n`,
        /"guid\.jsonl": line 1: field "ProcessGuid" is missing/,
      ],
      [
        "pid.jsonl",
        `${good.replace('"4"', '"four"')}\n`,
        /"pid\.jsonl": line 1: field "ProcessId" is "four"/,
      ],
      [
        "id.jsonl",
        `{"Hostname":"h"}\n`,
        /"id\.jsonl": line 1: field "EventID" is missing/,
      ],
      [
        "open.xml",
        `<Events>\n<Event><System><EventID>1</EventID>\n`,
        /"open\.xml": line 2: an <Event> element is not closed/,
      ],
      [
        "ent.xml",
        `<Event><System><EventID>1</EventID></System><EventData>\n<Data Name="Image">a &bogus; b</Data></EventData></Event>`,
        /"ent\.xml": line 1: field "Image" holds "&bogus; b"/,
      ],
      ["text.txt", `\n\nhello`, /"text\.txt": line 3: starts with "h"/],
      ["empty.jsonl", "", /no Sysmon Event ID 1 or 5 records/],
    ];
    for (const [name, text, message] of cases) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      const run = await procrec([
        "import",
        "sysmon",
        `${dir}/${name}`,
        "-o",
        `${dir}/${name}.cbor`,
      ]);
      assertEquals(run.code, 2, `${name}: ${run.stderr}`);
      assert(message.test(run.stderr), `${name}: ${run.stderr}`);
      assert(
        !/\n\s+at /.test(run.stderr),
        `${name}: no stack trace: ${run.stderr}`,
      );
      assert(!(await exists(`${dir}/${name}.cbor`)), `${name}: no recording`);
    }
    const missing = await procrec([
      "import",
      "sysmon",
      `${dir}/nope.jsonl`,
      "-o",
      `${dir}/n.cbor`,
    ]);
    assertEquals(missing.code, 2);
    assert(missing.stderr.includes('Cannot import "'), missing.stderr);
  });
});
