import { assert, assertEquals } from "./import_assert.ts";
import { analyze } from "../cli/analysis/mod.ts";
import { EMPIRE, LSASS, rawRecords } from "./import_helpers.ts";
import {
  guidStartSeconds,
  planSysmonRecordings,
  readSysmonRecords,
  type SysmonRecordingPlan,
} from "../cli/interop/mod.ts";

type Rec = Record<string, unknown>;

const T0 = "2023-08-16 04:53:48";
/** A GUID whose time groups say 2023-08-16 04:53:48 UTC (0x64dc565c). */
const guid = (n: number, upper = false) => {
  const g = `{81056205-565c-64dc-${
    n.toString(16).padStart(4, "0")
  }-000000000800}`;
  return upper ? g.toUpperCase() : g;
};
const create = (
  n: number,
  pid: number | undefined,
  ms: number,
  parent: number,
  ppid: number,
  extra: Rec = {},
): Rec => ({
  EventID: 1,
  Hostname: "h",
  UtcTime: `${T0}.${String(ms).padStart(3, "0")}`,
  ProcessGuid: guid(n),
  ...(pid !== undefined ? { ProcessId: String(pid) } : {}),
  Image: `C:\\p${n}.exe`,
  CommandLine: `p${n}.exe -n ${n}`,
  User: "LAB\\ann",
  ParentProcessGuid: guid(parent),
  ParentProcessId: String(ppid),
  ParentImage: `C:\\p${parent}.exe`,
  ParentCommandLine: `p${parent}.exe --parent`,
  ...extra,
});
const terminate = (
  n: number,
  pid: number | undefined,
  ms: number,
  extra: Rec = {},
): Rec => ({
  EventID: 5,
  Hostname: "h",
  UtcTime: `${T0}.${String(ms).padStart(3, "0")}`,
  ProcessGuid: guid(n),
  ...(pid !== undefined ? { ProcessId: String(pid) } : {}),
  Image: `C:\\p${n}.exe`,
  ...extra,
});

async function plan(records: Rec[]): Promise<SysmonRecordingPlan> {
  const bytes = new TextEncoder().encode(
    records.map((r) => JSON.stringify(r)).join("\n"),
  );
  const r = await readSysmonRecords([bytes], "t.jsonl");
  const plans = planSysmonRecordings([{ ...r, sha256: "00" }]);
  assertEquals(plans.length, 1);
  return plans[0];
}

async function forest(p: SysmonRecordingPlan) {
  return await analyze(p.events, { os: "windows", bootId: p.header.bootId });
}

Deno.test("a termination without a creation is kept as a snapshot just before its exit", async () => {
  const p = await plan([create(1, 10, 0, 99, 4), terminate(2, 20, 500)]);
  assertEquals(p.events.map((e) => e.kind), [
    "process_snapshot",
    "process_create",
    "process_snapshot",
    "process_exit",
  ]);
  const snap = p.events[2];
  assert(snap.kind === "process_snapshot");
  assertEquals([snap.pid, snap.t, snap.guid, snap.info?.image], [
    20,
    500_000_000,
    guid(2),
    "C:\\p2.exe",
  ]);
  // started at the GUID's second, 04:53:48.000, which is the time base here
  assertEquals(snap.start, 0);
  const exit = p.events[3];
  assert(
    exit.kind === "process_exit" && exit.statusUnknown === true &&
      exit.pid === 20,
  );
  assertEquals(p.stats.terminateWithoutCreate, 1);
  const f = await forest(p);
  const node = f.processes.find((n) => n.guid === guid(2))!;
  assertEquals(node.end, 500_000_000);
  assertEquals(node.exit?.kind, "unknown");
  assert(node.flags.includes("existing-before-recording"));
});

Deno.test("a parent named only by ParentProcessGuid becomes a snapshot described from its child", async () => {
  const p = await plan([create(2, 20, 100, 1, 10), create(3, 30, 200, 1, 10)]);
  assertEquals(p.stats.parentSnapshots, 1);
  const snap = p.events[0];
  assert(snap.kind === "process_snapshot");
  assertEquals(
    [
      snap.pid,
      snap.guid,
      snap.info?.image,
      snap.info?.cmdline,
      snap.info?.from.image,
    ],
    [10, guid(1), "C:\\p1.exe", "p1.exe --parent", "import"],
  );
  const f = await forest(p);
  const parent = f.processes.find((n) => n.guid === guid(1))!;
  assertEquals(parent.children.map((id) => f.byId.get(id)!.guid), [
    guid(2),
    guid(3),
  ]);
});

Deno.test("GUIDs compare without regard to case", async () => {
  const p = await plan([
    create(1, 10, 0, 99, 4),
    create(2, 20, 100, 1, 10, { ParentProcessGuid: guid(1, true) }),
    terminate(2, 20, 300, { ProcessGuid: guid(2, true) }),
  ]);
  assertEquals(p.stats.pairs, 1);
  assertEquals(p.stats.processes, 3); // 1, 2 and the snapshot of 99
  assertEquals(p.stats.terminateWithoutCreate, 0);
  const f = await forest(p);
  const child = f.processes.find((n) => n.guid === guid(2))!;
  assertEquals(f.byId.get(child.parentId!)?.guid, guid(1));
  assertEquals(child.end, 300_000_000);
});

Deno.test("shuffled records give the same events; at equal times creations go first, parents before children", async () => {
  const records = [
    create(1, 10, 0, 99, 4),
    create(2, 20, 100, 1, 10),
    terminate(2, 20, 100),
    create(3, 30, 100, 2, 20),
    terminate(1, 10, 900),
  ];
  const a = await plan(records);
  const b = await plan([...records].reverse());
  assertEquals(b.events, a.events);
  assertEquals(a.events.filter((e) => e.pid === 20).map((e) => e.kind), [
    "process_create",
    "process_exit",
  ]);
  // p2 exits at its child p3's creation, after it: p3 still finds its parent
  const f = await forest(a);
  const p3 = f.processes.find((n) => n.guid === guid(3))!;
  assertEquals(f.byId.get(p3.parentId!)?.guid, guid(2));
});

Deno.test("a termination stamped before its creation or its child's is moved to it, and counted", async () => {
  const p = await plan([
    create(1, 10, 50, 99, 4),
    terminate(1, 10, 20), // before its own creation
    create(2, 20, 100, 99, 4),
    create(3, 30, 400, 2, 20),
    terminate(2, 20, 300), // before its child's creation
  ]);
  assertEquals([p.stats.terminateBeforeCreate, p.stats.terminateBeforeChild], [
    1,
    1,
  ]);
  const exitT = (pid: number) =>
    p.events.find((e) => e.kind === "process_exit" && e.pid === pid)?.t;
  // t = 0 at the earliest UtcTime kept: p1's creation (its termination moved)
  const base = 50_000_000;
  assertEquals([exitT(10), exitT(20)], [50_000_000 - base, 400_000_000 - base]);
  assertEquals(
    p.header.timeBase.utcNs,
    BigInt(Date.UTC(2023, 7, 16, 4, 53, 48)) * 1_000_000n + 50_000_000n,
  );
});

Deno.test("a record without ProcessId takes its termination's pid, or is kept with pid 0", async () => {
  const p = await plan([
    create(1, undefined, 0, 99, 4),
    terminate(1, 10, 100),
    create(2, undefined, 200, 99, 4),
  ]);
  assertEquals([p.stats.missingPid, p.stats.missingPidRecovered], [2, 1]);
  const pids = p.events.filter((e) => e.kind === "process_create").map((e) =>
    e.pid
  );
  assertEquals(pids, [10, 0]);
});

Deno.test("the same pid under a new GUID is another process; duplicates are dropped and counted", async () => {
  const p = await plan([
    create(1, 10, 0, 99, 4),
    terminate(1, 10, 100),
    create(2, 10, 200, 99, 4),
    create(2, 10, 250, 99, 4),
    terminate(2, 10, 300),
    terminate(2, 10, 400),
  ]);
  assertEquals(
    [
      p.stats.pidReused,
      p.stats.duplicateCreates,
      p.stats.duplicateTerminates,
      p.stats.pairs,
    ],
    [1, 1, 1, 2],
  );
  const f = await forest(p);
  const mine = f.processes.filter((n) => n.pid === 10);
  assertEquals(mine.map((n) => [n.guid, n.end]), [[guid(1), 100_000_000], [
    guid(2),
    300_000_000,
  ]]);
});

Deno.test("Winlogbeat's nested shape reads like the flat one; other events and providers are skipped", async () => {
  const flat = create(1, 10, 0, 99, 4);
  const { EventID: _, Hostname: __, ...eventData } = flat;
  const nested = {
    winlog: {
      event_id: 1,
      computer_name: "h",
      provider_name: "Microsoft-Windows-Sysmon",
      event_data: eventData,
    },
  };
  const other = {
    EventID: 1,
    Hostname: "h",
    SourceName: "Microsoft-Windows-Something",
    UtcTime: `${T0}.000`,
    ProcessGuid: guid(7),
  };
  const bytes = new TextEncoder().encode(
    [nested, other, { EventID: 3, Hostname: "h" }].map((r) => JSON.stringify(r))
      .join("\n"),
  );
  const r = await readSysmonRecords([bytes], "w.jsonl");
  assertEquals(r.skipped, 2);
  const a = await plan([flat]);
  const b = planSysmonRecordings([{ ...r, sha256: "00" }])[0];
  assertEquals(b.events, a.events);
});

Deno.test("both datasets agree with the GUID time layout that snapshot starts rely on", () => {
  let checked = 0;
  for (const file of [LSASS, EMPIRE]) {
    for (const r of rawRecords(file)) {
      if (Number(r.EventID) !== 1) continue;
      const s = guidStartSeconds(String(r.ProcessGuid));
      const utc = Date.parse(String(r.UtcTime).replace(" ", "T") + "Z") / 1000;
      assertEquals(s, Math.floor(utc), String(r.ProcessGuid));
      checked++;
    }
  }
  assertEquals(checked, 269 + 120);
});
