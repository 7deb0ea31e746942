import { assert, assertEquals } from "./import_assert.ts";
import { LSASS, procrec, rawRecords, withTempDir } from "./import_helpers.ts";
import {
  EVERY_KIND,
  INEXACT,
  lines,
  writeRecording,
} from "./export_helpers.ts";

/** OCSF 1.1 types of the attributes the export writes (Process Activity, class 1007). */
const OCSF_TYPES: Record<
  string,
  | "integer_t"
  | "long_t"
  | "timestamp_t"
  | "string_t"
  | "boolean_t"
  | "string_t[]"
> = {
  activity_id: "integer_t",
  activity_name: "string_t",
  category_uid: "integer_t",
  category_name: "string_t",
  class_uid: "integer_t",
  class_name: "string_t",
  type_uid: "long_t",
  type_name: "string_t",
  severity_id: "integer_t",
  severity: "string_t",
  time: "timestamp_t",
  exit_code: "integer_t",
  "metadata.version": "string_t",
  "metadata.product.name": "string_t",
  "metadata.product.vendor_name": "string_t",
  "metadata.product.version": "string_t",
  "device.hostname": "string_t",
  "device.type_id": "integer_t",
  "device.os.name": "string_t",
  "device.os.type": "string_t",
  "device.os.type_id": "integer_t",
  "actor.user.uid": "string_t",
  "actor.user.name": "string_t",
  // procrec's own, outside the class
  "unmapped.signal.number": "integer_t",
  "unmapped.signal.name": "string_t",
  "unmapped.lost.reason": "string_t",
  "unmapped.lost.count": "long_t",
  "unmapped.lost.cpu": "integer_t",
  status_id: "integer_t",
  status: "string_t",
  disposition_id: "integer_t",
  disposition: "string_t",
  "policy.uid": "string_t",
  "policy.name": "string_t",
  "unmapped.hash_state": "string_t",
  "unmapped.decision": "string_t",
  "unmapped.exempt": "boolean_t",
  "unmapped.matched_by": "string_t",
  "unmapped.cgroup": "string_t",
  "unmapped.args_truncated": "boolean_t",
  "unmapped.not_utf8": "string_t[]",
  "unmapped.unsettled": "boolean_t",
  "unmapped.fileless": "boolean_t",
  "unmapped.deleted_image": "boolean_t",
  "unmapped.parent.args_truncated": "boolean_t",
  "unmapped.parent.not_utf8": "string_t[]",
  "unmapped.parent.fileless": "boolean_t",
  "unmapped.parent.deleted_image": "boolean_t",
};
const PROCESS: typeof OCSF_TYPES = {
  pid: "integer_t",
  uid: "string_t",
  name: "string_t",
  cmd_line: "string_t",
  created_time: "timestamp_t",
  terminated_time: "timestamp_t",
  "file.path": "string_t",
  "file.name": "string_t",
  "file.type_id": "integer_t",
  "user.name": "string_t",
  "user.domain": "string_t",
  "user.uid": "string_t",
  "file.hashes[].algorithm_id": "integer_t",
  "file.hashes[].algorithm": "string_t",
  "file.hashes[].value": "string_t",
  "container.uid": "string_t",
};
for (
  const prefix of [
    "process",
    "process.parent_process",
    "actor.process",
    "actor.process.parent_process",
  ]
) {
  for (const [k, v] of Object.entries(PROCESS)) {
    OCSF_TYPES[`${prefix}.${k}`] = v;
  }
}
const REQUIRED = [
  "activity_id",
  "category_uid",
  "class_uid",
  "type_uid",
  "severity_id",
  "time",
  "metadata.version",
  "metadata.product.vendor_name",
  "device.hostname",
  "device.type_id",
  "device.os.name",
  "device.os.type_id",
  "process.pid",
  "process.uid",
  "actor",
];

/** Of a lost span: no process or actor. */
const REQUIRED_LOST = REQUIRED.filter((r) =>
  !r.startsWith("process") && r !== "actor"
);

function validateOcsf(
  e: Record<string, unknown>,
  required = e.activity_name === "Lost" ? REQUIRED_LOST : REQUIRED,
): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  const walk = (v: unknown, path: string) => {
    seen.add(path);
    if (Array.isArray(v) && v.some((x) => typeof x === "object")) {
      for (const x of v) walk(x, `${path}[]`);
      return;
    }
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) {
        walk(x, path ? `${path}.${k}` : k);
      }
      return;
    }
    const t = OCSF_TYPES[path];
    if (t === undefined) {
      errors.push(`${path}: not an attribute this export may write`);
    } else if (t === "string_t[]" || t === "boolean_t") {
      const ok = t === "boolean_t"
        ? typeof v === "boolean"
        : Array.isArray(v) && v.length > 0 &&
          v.every((x) => typeof x === "string");
      if (!ok) errors.push(`${path}: ${JSON.stringify(v)} is not ${t}`);
    } else if (
      t === "string_t" ? typeof v !== "string" : !Number.isSafeInteger(v)
    ) {
      errors.push(`${path}: ${JSON.stringify(v)} is not ${t}`);
    } else if (
      t === "integer_t" &&
      ((v as number) < -(2 ** 31) || (v as number) >= 2 ** 32)
    ) {
      errors.push(`${path}: ${v} is out of integer_t`);
    }
  };
  walk(e, "");
  for (const r of required) if (!seen.has(r)) errors.push(`${r}: missing`);
  if (e.class_uid !== 1007 || e.category_uid !== 1) {
    errors.push("not Process Activity");
  }
  if (e.type_uid !== 100700 + (e.activity_id as number)) {
    errors.push(`type_uid ${e.type_uid}`);
  }
  if (![1, 2, 99].includes(e.activity_id as number)) {
    errors.push(`activity_id ${e.activity_id}`);
  }
  return errors;
}

Deno.test("export --format ocsf of an imported Sysmon log: Process Activity launches and terminations with their ProcessGuids", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/s.cbor`;
    assertEquals(
      (await procrec(["import", "sysmon", LSASS, "-o", rec])).code,
      0,
    );
    const run = await procrec([
      "export",
      rec,
      "--format",
      "ocsf",
      "-o",
      `${dir}/s.ocsf.jsonl`,
    ]);
    assertEquals(run.code, 0, run.stderr);
    const events = lines(await Deno.readTextFile(`${dir}/s.ocsf.jsonl`)).map((
      l,
    ) => JSON.parse(l));
    for (const e of events) {
      assertEquals(validateOcsf(e), [], JSON.stringify(e));
    }
    const raw = rawRecords(LSASS);
    const creates = raw.filter((r) => Number(r.EventID) === 1);
    const launches = events.filter((e) => e.activity_id === 1);
    const terms = events.filter((e) => e.activity_id === 2);
    assertEquals(launches.length, creates.length);
    assertEquals(terms.length, 250);
    assertEquals(
      events.filter((e) => e.activity_id === 99).length,
      15,
      "snapshots as Other (Running)",
    );
    const byUid = new Map(
      launches.map((e) => [e.process.uid.toLowerCase(), e]),
    );
    for (const r of creates) {
      const e = byUid.get(String(r.ProcessGuid).toLowerCase())!;
      assert(e, `launch of ${r.ProcessGuid}`);
      const parent = String(r.ParentProcessGuid).toLowerCase();
      assertEquals(e.process.parent_process.uid.toLowerCase(), parent);
      assertEquals(
        e.actor.process.uid.toLowerCase(),
        parent,
        "the actor of a launch is the parent",
      );
      assertEquals(e.process.file.path, r.Image);
      assertEquals(e.process.cmd_line, r.CommandLine);
      assertEquals(
        e.time,
        Date.parse(String(r.UtcTime).replace(" ", "T") + "Z"),
      );
      assertEquals(e.type_name, "Process Activity: Launch");
    }
    for (const e of terms) {
      assertEquals(e.actor.process.uid, e.process.uid);
      assertEquals(e.exit_code, undefined, "Sysmon reports no exit status");
      assertEquals(e.process.terminated_time, e.time);
    }
    assert(
      events.every((e) =>
        e.device.hostname === "MKT01.pandalab.com" &&
        e.device.os.type_id === 100
      ),
    );
    assert(
      events.every((e) =>
        e.metadata.product.name === "procrec" &&
        /^1\.\d+\.\d+$/.test(e.metadata.version)
      ),
    );
  });
});

Deno.test("export --format ocsf maps Linux exits to exit codes and signals, execs to Other with their parent, lost spans to events", async () => {
  await withTempDir(async (dir) => {
    await writeRecording(`${dir}/a.cbor`, EVERY_KIND);
    const run = await procrec(["export", `${dir}/a.cbor`, "--format", "ocsf"]);
    assertEquals(run.code, 0, run.stderr);
    const all = lines(run.stdout).map((l) => JSON.parse(l));
    for (const e of all) {
      assertEquals(validateOcsf(e), [], JSON.stringify(e));
    }
    assertEquals(
      all.filter((e) => e.activity_name === "Lost").map((e) => e.unmapped.lost),
      [{ reason: "enobufs" }, { reason: "seq_gap", count: 3, cpu: 1 }],
      "lost spans",
    );
    const events = all.filter((e) => e.process !== undefined);
    assertEquals(events.map((e) => `${e.activity_name}:${e.process.pid}`), [
      "Running:1",
      "Launch:100",
      "Exec:100",
      "Launch:102",
      "Terminate:102",
      "Terminate:100",
      "Launch:4",
      "Terminate:4",
    ]);
    assertEquals(events[5].exit_code, 2);
    assertEquals(
      [events[4].exit_code, events[4].unmapped.signal],
      [137, { number: 9, name: "SIGKILL" }],
      "signal 9: 128 + 9 and the signal",
    );
    assertEquals(
      events[2].process.parent_process.uid,
      events[0].process.uid,
      "an exec names its parent",
    );
    assertEquals(events[3].actor.process.uid, events[1].process.uid);
    assertEquals(events[2].process.cmd_line, 'make -j2 ünïcødé ☃ q"uote');
    assertEquals(events[0].device.os, {
      name: "Linux",
      type_id: 200,
      type: "Linux",
    });
  });
});

Deno.test("export --format ocsf says which names were not UTF-8, cut arguments, fileless and unlinked images, of the process and of its parent", async () => {
  await withTempDir(async (dir) => {
    await writeRecording(`${dir}/a.cbor`, INEXACT);
    const run = await procrec(["export", `${dir}/a.cbor`, "--format", "ocsf"]);
    assertEquals(run.code, 0, run.stderr);
    const all = lines(run.stdout).map((l) => JSON.parse(l));
    for (const e of all) assertEquals(validateOcsf(e), [], JSON.stringify(e));
    const run50 = { not_utf8: ["image", "cwd"] };
    const payload = {
      not_utf8: ["image", "argv"],
      args_truncated: true,
      fileless: true,
      parent: run50,
    };
    assertEquals(
      all.map((e) => [e.activity_name, e.process.pid, e.unmapped]),
      [
        ["Running", 50, run50],
        ["Launch", 51, { parent: run50 }],
        ["Exec", 51, payload],
        ["Terminate", 51, payload],
        ["Launch", 52, undefined],
        ["Exec", 52, { deleted_image: true }],
        ["Launch", 53, undefined],
        ["Exec", 53, undefined],
        ["Launch", 53, {
          decision: "exec_denied",
          args_truncated: true,
          not_utf8: ["image"],
        }],
      ],
    );
    // the denial names the running process 53 as its other events do
    assertEquals(all[8].process.uid, all[7].process.uid);
    assertEquals(all[8].disposition, "Blocked");
  });
});
