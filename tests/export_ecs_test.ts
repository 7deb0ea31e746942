import { assert, assertEquals } from "./import_assert.ts";
import {
  EMPIRE,
  LSASS,
  procrec,
  rawRecords,
  withTempDir,
} from "./import_helpers.ts";
import {
  EVERY_KIND,
  INEXACT,
  lines,
  writeRecording,
} from "./export_helpers.ts";
import { MAX_ENDED_KEPT } from "../cli/interop/process_table.ts";
import { processCreate } from "./_recording_helpers.ts";

/** The documents of `procrec export PATH --format FORMAT` (it must succeed). */
// deno-lint-ignore no-explicit-any
async function exportDocs(path: string, format: string): Promise<any[]> {
  const run = await procrec(["export", path, "--format", format]);
  assertEquals(run.code, 0, run.stderr);
  return lines(run.stdout).map((l) => JSON.parse(l));
}

/**
 * The ECS type of every field the export writes, as the ECS field reference
 * gives them (ECS 8.x): keyword, wildcard, long, date. `array` marks fields
 * ECS says hold an array of values.
 */
const ECS_TYPES: Record<
  string,
  {
    type: "keyword" | "wildcard" | "long" | "date" | "boolean";
    array?: true;
    allowed?: string[];
  }
> = {
  "@timestamp": { type: "date" },
  "ecs.version": { type: "keyword" },
  "event.kind": {
    type: "keyword",
    allowed: [
      "alert",
      "asset",
      "enrichment",
      "event",
      "metric",
      "state",
      "pipeline_error",
      "signal",
    ],
  },
  "event.category": { type: "keyword", array: true, allowed: ["process"] },
  "event.type": {
    type: "keyword",
    array: true,
    allowed: ["access", "change", "end", "info", "start"],
  }, // those ECS allows with category process
  "event.action": { type: "keyword" },
  "event.module": { type: "keyword" },
  "event.dataset": { type: "keyword" },
  "event.sequence": { type: "long" },
  "host.name": { type: "keyword" },
  "host.os.type": {
    type: "keyword",
    allowed: ["linux", "macos", "unix", "windows", "ios", "android"],
  },
  "user.name": { type: "keyword" },
  "user.domain": { type: "keyword" },
  "user.id": { type: "keyword" },
  "user.effective.id": { type: "keyword" },
  "user.effective.name": { type: "keyword" },
  "group.id": { type: "keyword" },
  "group.name": { type: "keyword" },
  "container.id": { type: "keyword" },
  // procrec's own (custom) fields
  "procrec.signal.number": { type: "long" },
  "procrec.signal.name": { type: "keyword" },
  "procrec.lost.reason": { type: "keyword" },
  "procrec.lost.count": { type: "long" },
  "procrec.lost.cpu": { type: "long" },
  "procrec.hash_state": { type: "keyword" },
  "procrec.not_utf8": {
    type: "keyword",
    array: true,
    allowed: ["image", "argv", "comm", "cwd", "cred", "cgroup"],
  },
  "procrec.args_truncated": { type: "boolean" },
  "procrec.fileless": { type: "boolean" },
  "procrec.deleted_image": { type: "boolean" },
  "procrec.parent.not_utf8": {
    type: "keyword",
    array: true,
    allowed: ["image", "argv", "comm", "cwd", "cred", "cgroup"],
  },
  "procrec.parent.args_truncated": { type: "boolean" },
  "procrec.parent.fileless": { type: "boolean" },
  "procrec.parent.deleted_image": { type: "boolean" },
};
const PROCESS: typeof ECS_TYPES = {
  "entity_id": { type: "keyword" },
  "pid": { type: "long" },
  "executable": { type: "keyword" },
  "name": { type: "keyword" },
  "args": { type: "keyword", array: true },
  "args_count": { type: "long" },
  "command_line": { type: "wildcard" },
  "working_directory": { type: "keyword" },
  "start": { type: "date" },
  "end": { type: "date" },
  "exit_code": { type: "long" },
  "thread.id": { type: "long" },
  "hash.sha256": { type: "keyword" },
  "pe.original_file_name": { type: "keyword" },
  "pe.description": { type: "keyword" },
  "pe.product": { type: "keyword" },
  "pe.company": { type: "keyword" },
};
for (const [k, v] of Object.entries(PROCESS)) {
  ECS_TYPES[`process.${k}`] = v;
  if (!["end", "exit_code", "thread.id"].includes(k)) {
    ECS_TYPES[`process.parent.${k}`] = v;
  }
}

/** The lost events of EVERY_KIND as documents' `procrec.lost`. */
const LOST_DOCS = [
  ["pipeline_error", { reason: "enobufs" }],
  ["pipeline_error", { reason: "seq_gap", count: 3, cpu: 1 }],
];

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const LONG_MIN = -(2n ** 63n), LONG_MAX = 2n ** 63n - 1n;

/** Errors of one document against {@link ECS_TYPES}; empty when it validates. */
function validateEcs(doc: unknown): string[] {
  const errors: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) {
        walk(x, path ? `${path}.${k}` : k);
      }
      return;
    }
    const spec = ECS_TYPES[path];
    if (spec === undefined) {
      return errors.push(`${path}: not an ECS field this export may write`);
    }
    const values = Array.isArray(v) ? v : [v];
    if (spec.array && !Array.isArray(v)) {
      errors.push(`${path}: expected an array`);
    }
    if (values.length === 0) errors.push(`${path}: empty array`);
    for (const x of values) {
      switch (spec.type) {
        case "keyword":
        case "wildcard":
          if (typeof x !== "string") {
            errors.push(`${path}: ${JSON.stringify(x)} is not a ${spec.type}`);
          } else if (spec.allowed && !spec.allowed.includes(x)) {
            errors.push(`${path}: ${x} is not an allowed value`);
          }
          break;
        case "boolean":
          if (typeof x !== "boolean") {
            errors.push(`${path}: ${JSON.stringify(x)} is not a boolean`);
          }
          break;
        case "long":
          if (
            !Number.isInteger(x) || BigInt(x as number) < LONG_MIN ||
            BigInt(x as number) > LONG_MAX
          ) {
            errors.push(`${path}: ${JSON.stringify(x)} is not a long`);
          }
          break;
        case "date":
          if (
            typeof x !== "string" || !ISO_DATE.test(x) ||
            Number.isNaN(Date.parse(x))
          ) {
            errors.push(
              `${path}: ${JSON.stringify(x)} is not an ISO 8601 date`,
            );
          }
      }
    }
  };
  walk(doc, "");
  const d = doc as Record<string, Record<string, unknown>>;
  // a lost span is about no process
  const lost = d.event?.action === "lost";
  for (
    const required of ["@timestamp", "ecs", "event", "host"].concat(
      lost ? ["procrec"] : ["process"],
    )
  ) {
    if (!(required in d)) errors.push(`${required}: missing`);
  }
  if (
    d.process &&
    (d.process.entity_id === undefined || d.process.pid === undefined)
  ) {
    errors.push("process.entity_id and process.pid: missing");
  }
  return errors;
}

Deno.test("validateEcs() catches wrong types, unknown fields and disallowed values", () => {
  const good = {
    "@timestamp": "2023-08-16T04:53:48.446000000Z",
    ecs: { version: "8.11.0" },
    event: { kind: "event", category: ["process"], type: ["start"] },
    host: { name: "h" },
    process: { entity_id: "{a}", pid: 4, args: ["a"] },
  };
  assertEquals(validateEcs(good), []);
  assertEquals(
    validateEcs({ ...good, process: { ...good.process, pid: "4" } }),
    ['process.pid: "4" is not a long'],
  );
  assertEquals(
    validateEcs({ ...good, process: { ...good.process, args: "a" } }),
    ["process.args: expected an array"],
  );
  assertEquals(validateEcs({ ...good, "@timestamp": "2023-08-16 04:53:48" }), [
    '@timestamp: "2023-08-16 04:53:48" is not an ISO 8601 date',
  ]);
  assertEquals(
    validateEcs({ ...good, event: { ...good.event, type: ["boot"] } }),
    ["event.type: boot is not an allowed value"],
  );
  assertEquals(
    validateEcs({ ...good, process: { ...good.process, guid: "x" } }),
    ["process.guid: not an ECS field this export may write"],
  );
});

Deno.test("export --format ecs of imported Sysmon logs validates against ECS types and keeps ProcessGuid links", async () => {
  await withTempDir(async (dir) => {
    for (const file of [LSASS, EMPIRE]) {
      const raw = rawRecords(file);
      const host = String(raw[0].Hostname);
      const rec = `${dir}/s.cbor`;
      const imp = await procrec([
        "import",
        "sysmon",
        file,
        "-o",
        rec,
        "--host",
        host,
        "-f",
      ]);
      assertEquals(imp.code, 0, imp.stderr);
      const run = await procrec(["export", rec, "--format", "ecs"]);
      assertEquals(run.code, 0, run.stderr);
      const docs = lines(run.stdout).map((l) => JSON.parse(l));
      for (const d of docs) assertEquals(validateEcs(d), [], JSON.stringify(d));
      const starts = docs.filter((d) => d.event.type[0] === "start");
      const ends = docs.filter((d) => d.event.type[0] === "end");
      const creates = raw.filter((r) => Number(r.EventID) === 1);
      assertEquals(starts.length, creates.length);
      const terminated = new Set(
        raw.filter((r) => Number(r.EventID) === 5).map((r) =>
          String(r.ProcessGuid).toLowerCase()
        ),
      );
      assertEquals(ends.length, terminated.size);
      // every creation names its own and its parent's ProcessGuid
      const byGuid = new Map(
        starts.map((d) => [d.process.entity_id.toLowerCase(), d]),
      );
      for (const r of creates) {
        const d = byGuid.get(String(r.ProcessGuid).toLowerCase())!;
        assert(d, `start of ${r.ProcessGuid}`);
        assertEquals(
          d.process.parent.entity_id.toLowerCase(),
          String(r.ParentProcessGuid).toLowerCase(),
        );
        assertEquals(d.process.executable, r.Image);
        assertEquals(d.process.command_line, r.CommandLine);
        assertEquals(
          d["@timestamp"],
          // all nine digits of the fraction, as every procrec time
          String(r.UtcTime).replace(" ", "T").padEnd(29, "0") + "Z",
        );
        if (r.ProcessId !== undefined) {
          assertEquals(d.process.pid, Number(r.ProcessId));
        }
      }
      // Sysmon gives no exit status: no exit_code, but the end time
      assert(
        ends.every((d) =>
          d.process.exit_code === undefined && d.process.end === d["@timestamp"]
        ),
      );
      assert(
        docs.every((d) => d.host.name === host && d.host.os.type === "windows"),
      );
    }
  });
});

Deno.test("export --format ecs maps Linux events: args, exit codes and signals, parents by pid, execs as starts, lost spans", async () => {
  await withTempDir(async (dir) => {
    await writeRecording(`${dir}/a.cbor`, EVERY_KIND);
    const run = await procrec(["export", `${dir}/a.cbor`, "--format", "ecs"]);
    assertEquals(run.code, 0, run.stderr);
    const all = lines(run.stdout).map((l) => JSON.parse(l));
    const docs = all.filter((d) => d.process !== undefined);
    for (const d of all) assertEquals(validateEcs(d), [], JSON.stringify(d));
    const lost = all.filter((d) => d.event.action === "lost");
    assertEquals(
      lost.map((d) => [d.event.kind, d.procrec.lost]),
      LOST_DOCS,
      "lost spans as documents",
    );
    assertEquals(docs.map((d) => `${d.event.type[0]}:${d.process.pid}`), [
      "info:1",
      "start:100",
      "start:100",
      "start:102",
      "end:102",
      "end:100",
      "start:4",
      "end:4",
    ]);
    const [init, make, exec, sh, shEnd, makeEnd] = docs;
    assertEquals(init.process.start, "2025-11-22T01:59:51.123456789Z");
    assertEquals(make.process.parent.entity_id, init.process.entity_id);
    assertEquals(exec.process.args, ["make", "-j2", "ünïcødé ☃", 'q"uote']);
    assertEquals(exec.process.args_count, 4);
    assertEquals(exec.process.working_directory, "/src");
    assertEquals(exec.user, { id: "1000" });
    assertEquals(sh.process.parent.entity_id, make.process.entity_id);
    assertEquals(
      [shEnd.process.exit_code, shEnd.procrec.signal],
      [137, { number: 9, name: "SIGKILL" }],
      "killed by signal 9: 128 + 9 and the signal",
    );
    assertEquals(exec.process.parent.entity_id, init.process.entity_id);
    assertEquals(makeEnd.process.exit_code, 2);
    assertEquals(makeEnd.process.entity_id, make.process.entity_id);
    assertEquals(makeEnd.process.executable, "/usr/bin/make");
    assertEquals(docs[6].process.args, ["x.exe", "/y"]);
    assertEquals(docs[6].user, { name: "u", domain: "D" });
    assertEquals(
      docs[7].process.entity_id,
      "{AB}",
      "an exit finds its process by guid, whatever its case",
    );
  });
});

Deno.test("export --format ecs --bulk interleaves create actions for a _bulk load", async () => {
  await withTempDir(async (dir) => {
    await writeRecording(`${dir}/a.cbor`, EVERY_KIND);
    const plain = lines(
      (await procrec(["export", `${dir}/a.cbor`, "--format", "ecs"])).stdout,
    );
    const bulk = lines(
      (await procrec(["export", `${dir}/a.cbor`, "--format", "ecs", "--bulk"]))
        .stdout,
    );
    assertEquals(bulk.length, 2 * plain.length);
    assertEquals(
      bulk.filter((_, i) => i % 2 === 0),
      plain.map(() => '{"create":{}}'),
    );
    assertEquals(bulk.filter((_, i) => i % 2 === 1), plain);
    const named = lines(
      (await procrec([
        "export",
        `${dir}/a.cbor`,
        "--format",
        "ecs",
        "--index",
        "procrec-x",
      ])).stdout,
    );
    assertEquals(named[0], '{"create":{"_index":"procrec-x"}}');
    const bad = await procrec([
      "export",
      `${dir}/a.cbor`,
      "--format",
      "jsonl",
      "--bulk",
    ]);
    assertEquals(bad.code, 2);
    const unknown = await procrec([
      "export",
      `${dir}/a.cbor`,
      "--format",
      "csv",
    ]);
    assertEquals(unknown.code, 2);
    assert(unknown.stderr.includes('format "csv" is unknown'), unknown.stderr);
  });
});

Deno.test("export --format ecs says which names were not UTF-8, cut arguments, fileless and unlinked images, of the process and of its parent", async () => {
  await withTempDir(async (dir) => {
    await writeRecording(`${dir}/a.cbor`, INEXACT);
    const run = await procrec(["export", `${dir}/a.cbor`, "--format", "ecs"]);
    assertEquals(run.code, 0, run.stderr);
    const all = lines(run.stdout).map((l) => JSON.parse(l));
    const docs = all.filter((d) => d.event.action !== "exec_denied");
    for (const d of docs) assertEquals(validateEcs(d), [], JSON.stringify(d));
    const run50 = { not_utf8: ["image", "cwd"] };
    assertEquals(
      docs.map((d) => [d.event.action, d.process.pid, d.procrec]),
      [
        ["process_snapshot", 50, run50],
        ["process_create", 51, { parent: run50 }],
        ["exec", 51, {
          not_utf8: ["image", "argv"],
          args_truncated: true,
          fileless: true,
          parent: run50,
        }],
        ["process_exit", 51, {
          not_utf8: ["image", "argv"],
          args_truncated: true,
          fileless: true,
          parent: run50,
        }],
        ["process_create", 52, undefined],
        ["exec", 52, { deleted_image: true }],
        // nothing to say: no procrec fields at all
        ["process_create", 53, undefined],
        ["exec", 53, undefined],
      ],
    );
    const denied = all.find((d) => d.event.action === "exec_denied");
    assertEquals(denied.procrec.decision, {
      action: "deny",
      args_truncated: true,
      not_utf8: ["image"],
    });
    // the caller is the running process 53, whose other documents it joins
    assertEquals(denied.process.entity_id, docs[7].process.entity_id);
    assertEquals(denied.process.parent, { pid: 1 }, "init was not seen");
  });
});

Deno.test("export ecs and ocsf: a decision names the parent the process had when it called exec (not the one that created it and exited since)", async () => {
  await withTempDir(async (dir) => {
    const info = (image: string) => ({
      image,
      argv: [image],
      from: { image: "proc" as const, argv: "proc" as const },
    });
    await writeRecording(`${dir}/a.cbor`, [
      {
        kind: "process_snapshot",
        t: 0,
        pid: 1,
        tid: 1,
        ppid: 0,
        start: -10,
        info: info("/sbin/init"),
      },
      {
        kind: "process_snapshot",
        t: 0,
        pid: 100,
        tid: 100,
        ppid: 1,
        start: -5,
        info: info("/bin/bash"),
      },
      {
        kind: "process_create",
        t: 10,
        pid: 101,
        tid: 101,
        ppid: 100,
        ptid: 100,
        creatorPid: 100,
        creatorTid: 100,
        start: 10,
      },
      { kind: "process_exit", t: 20, pid: 100, tid: 100, status: 0 },
      {
        kind: "exec_denied",
        t: 30,
        pid: 101,
        tid: 101,
        rule: "r",
        image: "/tmp/x",
        ppid: 1,
        parentImage: "/sbin/init",
        uid: 0,
        euid: 0,
      },
    ]);
    const out = (format: string) => exportDocs(`${dir}/a.cbor`, format);
    const ecs = await out("ecs");
    const id = (pid: number) =>
      ecs.find((d) => d.process.pid === pid).process.entity_id;
    const denied = ecs.at(-1);
    assertEquals(denied.process.entity_id, id(101));
    assertEquals(denied.process.parent, {
      entity_id: id(1),
      pid: 1,
      executable: "/sbin/init",
    });
    const ocsf = await out("ocsf");
    const last = ocsf.at(-1);
    assertEquals(last.process.uid, id(101));
    assertEquals(last.actor.process.uid, id(101));
    assertEquals(last.process.parent_process.uid, id(1));
  });
});

Deno.test("export ecs and ocsf: a decision reported before the exit of its pid's last holder names the process that took the pid, and one about a process that exits after it still names that process", async () => {
  await withTempDir(async (dir) => {
    const info = (image: string) => ({
      image,
      argv: [image],
      from: { image: "proc" as const, argv: "proc" as const },
    });
    const decision = (t: number, pid: number, image: string) => ({
      kind: "exec_denied" as const,
      t,
      pid,
      tid: pid,
      rule: "r",
      image,
      ppid: 100,
      uid: 0,
      euid: 0,
    });
    // in the order a recorder writes them: the enforcer's decision at once,
    // the kernel source's exit and creation a little later
    await writeRecording(`${dir}/a.cbor`, [
      {
        kind: "process_snapshot",
        t: 0,
        pid: 100,
        tid: 100,
        ppid: 1,
        start: -9,
        info: info("/bin/bash"),
      },
      {
        kind: "process_snapshot",
        t: 0,
        pid: 500,
        tid: 500,
        ppid: 1,
        start: -5,
        info: info("/usr/sbin/sshd"),
      },
      {
        kind: "process_snapshot",
        t: 0,
        pid: 600,
        tid: 600,
        ppid: 100,
        start: -4,
        info: info("/bin/sh"),
      },
      decision(30, 500, "/tmp/x"),
      { kind: "process_exit", t: 20, pid: 500, tid: 500, status: 0 },
      {
        kind: "process_create",
        t: 25,
        pid: 500,
        tid: 500,
        ppid: 100,
        ptid: 100,
        creatorPid: 100,
        creatorTid: 100,
        start: 25,
      },
      decision(35, 600, "/tmp/y"),
      { kind: "process_exit", t: 40, pid: 500, tid: 500, status: 1 },
      { kind: "process_exit", t: 45, pid: 600, tid: 600, status: 1 },
      // a second later: the decisions are settled before it
      { kind: "process_exit", t: 2_000_000_000, pid: 100, tid: 100, status: 0 },
    ]);
    const out = (format: string) => exportDocs(`${dir}/a.cbor`, format);
    const ecs = await out("ecs");
    const doc = (pid: number, type: string) =>
      ecs.find((d) =>
        d.process.pid === pid && d.event.type[0] === type &&
        d.event.action !== "exec_denied"
      );
    const sshd = doc(500, "info");
    const child = doc(500, "start");
    const sh = doc(600, "info");
    assert(sshd && child && sh);
    assert(sshd.process.entity_id !== child.process.entity_id);
    const denials = ecs.filter((d) => d.event.action === "exec_denied");
    assertEquals(denials.map((d) => d.process.executable), [
      "/tmp/x",
      "/tmp/y",
    ]);
    // the process created at 25 held pid 500 at 30, not sshd (ended at 20)
    assertEquals(denials[0].process.entity_id, child.process.entity_id);
    // sh held pid 600 at 35, and exited at 45, before the decision came out
    assertEquals(denials[1].process.entity_id, sh.process.entity_id);
    // both came out after the exits and the creation reported after them,
    // and before the event a second later
    assert(ecs.indexOf(denials[0]) > ecs.indexOf(child));
    assert(ecs.indexOf(denials[1]) < ecs.indexOf(doc(100, "end")));
    const ocsf = await out("ocsf");
    const ocsfDenials = ocsf.filter((d) => d.policy?.uid === "r");
    assertEquals(ocsfDenials.map((d) => d.process.uid), [
      child.process.entity_id,
      sh.process.entity_id,
    ]);
  });
});

Deno.test("export ecs: a decision still names its process when more processes than the exporter remembers end while it is held", async () => {
  await withTempDir(async (dir) => {
    const create = (t: number, pid: number) => processCreate(t, pid, 1);
    const exit = (t: number, pid: number) => ({
      kind: "process_exit" as const,
      t,
      pid,
      tid: pid,
      status: 0,
    });
    const events = [
      create(0, 1000),
      {
        kind: "exec_denied" as const,
        t: 10,
        pid: 1000,
        tid: 1000,
        rule: "r",
        image: "/tmp/x",
        ppid: 1,
        uid: 0,
        euid: 0,
      },
      exit(20, 1000),
    ];
    // more short processes end within the next second than MAX_ENDED_KEPT
    for (let i = 0; i < MAX_ENDED_KEPT + 100; i++) {
      events.push(
        create(100 + 10 * i, 20000 + i),
        exit(105 + 10 * i, 20000 + i),
      );
    }
    events.push(exit(2_000_000_000, 7));
    await writeRecording(`${dir}/a.cbor`, events);
    const docs = await exportDocs(`${dir}/a.cbor`, "ecs");
    const start = docs.find((d) =>
      d.process.pid === 1000 && d.event.action === "process_create"
    );
    const denied = docs.find((d) => d.event.action === "exec_denied");
    assertEquals(denied.process.entity_id, start.process.entity_id);
  });
});
