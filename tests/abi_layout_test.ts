/**
 * The ABI as one checked contract: the C compiler's view of procrec_abi.h
 * (driver/common/abi_layout.c, printed as JSON) against the TypeScript layout
 * table (cli/native/abi_layout.ts) and constants, and decodeRecords against
 * that table (a record written at the table's offsets must decode to the
 * values written). Either side drifting fails here.
 */
import { ABI_LAYOUT } from "../cli/native/abi_layout.ts";
import {
  decodeRecords,
  FIXED_BYTES,
  Flag,
  HASH_STATUS,
  HashFlag,
  Kind,
  LOST_REASONS,
  PROVENANCE,
} from "../cli/native/decode_records.ts";
import {
  Control,
  encodeOptions,
  OPT_EXEC_RULES,
  OPT_NO_ENRICH,
  OPT_NO_HASH,
  OPT_NO_SNAPSHOT,
  SOURCE_CODES,
  STATS_FIELDS,
} from "../cli/native/event_source.ts";
import { Status } from "../cli/native/ffi.ts";
import {
  RULE_FILE_CONTENT,
  RULE_FILES_MAX,
  RULE_TEXT_MAX,
  RuleAction,
  RuleMatch,
  RULES_MAX,
} from "../cli/rules/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";

const ROOT = new URL("..", import.meta.url).pathname;

interface CLayout {
  abi_version: number;
  structs: Record<string, { size: number; fields: Record<string, number> }>;
  constants: Record<string, number>;
}

/** Builds and runs driver/common/build/abi_layout. */
async function cLayout(): Promise<CLayout> {
  const make = await new Deno.Command("make", {
    args: ["-s", "-C", `${ROOT}driver/common`, "build/abi_layout"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!make.success) {
    throw new Error(
      `Cannot build driver/common/build/abi_layout: ${
        new TextDecoder().decode(make.stderr)
      }`,
    );
  }
  const run = await new Deno.Command(
    `${ROOT}driver/common/build/abi_layout`,
    { stdout: "piped", stderr: "piped" },
  ).output();
  if (!run.success) {
    throw new Error(
      `abi_layout failed: ${new TextDecoder().decode(run.stderr)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(run.stdout));
}

/** Every difference between the C layout and the TypeScript table. */
function layoutDifferences(c: CLayout): string[] {
  const out: string[] = [];
  const ts: Record<
    string,
    { size: number; fields: Record<string, number> }
  > = ABI_LAYOUT.structs;
  if (c.abi_version !== ABI_LAYOUT.abi_version) {
    out.push(
      `PROCREC_ABI_VERSION is ${c.abi_version} in C, ${ABI_LAYOUT.abi_version} in abi_layout.ts`,
    );
  }
  for (const [name, cs] of Object.entries(c.structs)) {
    const t = ts[name];
    if (!t) {
      out.push(`struct ${name} is not in abi_layout.ts`);
      continue;
    }
    if (t.size !== cs.size) {
      out.push(`sizeof(struct ${name}) is ${cs.size} in C, ${t.size} in TS`);
    }
    for (const [f, off] of Object.entries(cs.fields)) {
      if (!(f in t.fields)) {
        out.push(`${name}.${f} (C offset ${off}) not in TS`);
      } else if (t.fields[f] !== off) {
        out.push(`${name}.${f} is at ${off} in C, ${t.fields[f]} in TS`);
      }
    }
    for (const f of Object.keys(t.fields)) {
      if (!(f in cs.fields)) out.push(`${name}.${f} is in TS but not in C`);
    }
  }
  for (const name of Object.keys(ts)) {
    if (!(name in c.structs)) out.push(`struct ${name} is in TS but not in C`);
  }
  return out;
}

Deno.test("the TypeScript ABI layout table matches the C compiler's offsets and sizes", async () => {
  const diffs = layoutDifferences(await cLayout());
  if (diffs.length) {
    throw new Error(`ABI drift:\n  ${diffs.join("\n  ")}`);
  }
});

Deno.test("the layout check fails when one offset drifts", async () => {
  const c = await cLayout();
  c.structs.pr_rec_lost.fields.count += 8;
  c.structs.pr_proc_info.size -= 8;
  delete c.structs.pr_rec_comm.fields.comm;
  const diffs = layoutDifferences(c);
  const want = [
    "pr_rec_lost.count is at 56 in C, 48 in TS",
    "sizeof(struct pr_proc_info) is 136 in C, 144 in TS",
    "pr_rec_comm.comm is in TS but not in C",
  ];
  for (const w of want) {
    if (!diffs.includes(w)) {
      throw new Error(`expected "${w}" among ${JSON.stringify(diffs)}`);
    }
  }
});

/** Each C constant and the TypeScript value that stands for it. */
function tsConstants(): Record<string, number | undefined> {
  const m: Record<string, number | undefined> = {};
  for (const [k, v] of Object.entries(Kind)) m[`PR_REC_${k}`] = v;
  for (const [k, v] of Object.entries(Flag)) m[`PR_F_${k}`] = v;
  PROVENANCE.forEach((p, i) => m[`PR_PROV_${(p ?? "none").toUpperCase()}`] = i);
  LOST_REASONS.forEach((r, i) => {
    if (r) {
      m[`PR_LOST_${r === "bpf_reserve" ? "BPF_RESERVE" : r.toUpperCase()}`] = i;
    }
  });
  SOURCE_CODES.forEach((s, i) => m[`PR_SOURCE_${s.toUpperCase()}`] = i);
  m.PR_RF_CONTENT = RULE_FILE_CONTENT;
  m.PR_OPT_NO_SNAPSHOT = OPT_NO_SNAPSHOT;
  m.PR_OPT_NO_ENRICH = OPT_NO_ENRICH;
  m.PR_OPT_EXEC_RULES = OPT_EXEC_RULES;
  m.PR_RULE_DENY = RuleAction.deny;
  m.PR_RULE_AUDIT = RuleAction.audit;
  for (const [k, v] of Object.entries(RuleMatch)) m[`PR_RM_${k}`] = v;
  m.PR_RULES_MAX = RULES_MAX;
  m.PR_RULE_FILES_MAX = RULE_FILES_MAX;
  m.PR_RULE_GLOB = RULE_TEXT_MAX + 1;
  m.PR_OPT_NO_HASH = OPT_NO_HASH;
  HASH_STATUS.forEach((s, i) => {
    if (s) m[`PR_HASH_${s.toUpperCase()}`] = i;
  });
  for (const [k, v] of Object.entries(HashFlag)) m[`PR_H_${k}`] = v;
  for (const [k, v] of Object.entries(Control)) m[`PR_CTL_${k}`] = v;
  for (const [k, v] of Object.entries(Status)) {
    m[k === "OK" ? "PR_OK" : `PR_E_${k}`] = v;
  }
  return m;
}

/** C constants the TypeScript side does not use (none of its concern). */
const NOT_IN_TS = new Set(["PR_OPT_IMAGE_LOAD", "PR_CTL_BLOCK_RULES"]);

Deno.test("the TypeScript constants match procrec_abi.h's", async () => {
  const c = await cLayout();
  const ts = tsConstants();
  const diffs: string[] = [];
  for (const [name, v] of Object.entries(c.constants)) {
    if (NOT_IN_TS.has(name)) continue;
    if (!(name in ts)) diffs.push(`${name} (${v}) has no TypeScript value`);
    else if (ts[name] !== v) {
      diffs.push(`${name} is ${v} in C, ${ts[name]} in TS`);
    }
  }
  for (const name of Object.keys(ts)) {
    if (!(name in c.constants)) diffs.push(`${name} is in TS but not in C`);
  }
  if (diffs.length) throw new Error(`ABI drift:\n  ${diffs.join("\n  ")}`);
});

// ---- decodeRecords against the table ----

const S = ABI_LAYOUT.structs;
type Fields<K extends keyof typeof S> = keyof (typeof S)[K]["fields"];

/** A record under construction, written only through the table. */
class Rec {
  buf = new Uint8Array(4096);
  v = new DataView(this.buf.buffer);
  end: number;
  constructor(readonly fixed: number) {
    this.end = fixed;
  }
  u8(at: number, x: number) {
    this.v.setUint8(at, x);
  }
  u16(at: number, x: number) {
    this.v.setUint16(at, x, true);
  }
  u32(at: number, x: number) {
    this.v.setUint32(at, x, true);
  }
  u64(at: number, x: bigint) {
    this.v.setBigUint64(at, x, true);
  }
  str(at: number, s: string) {
    const b = new TextEncoder().encode(s);
    this.u32(at + S.pr_str.fields.off, this.end);
    this.u32(at + S.pr_str.fields.len, b.length);
    this.buf.set(b, this.end);
    this.end += b.length;
  }
  finish(kind: number, flags: number): Uint8Array {
    const H = S.pr_rec_header.fields;
    const size = Math.ceil(this.end / 8) * 8;
    this.u16(H.kind, kind);
    this.u16(H.flags, flags);
    this.u32(H.size, size);
    this.u64(H.seq, 77n);
    this.u64(H.mono_ns, 5_000n);
    this.u64(H.utc_ns, 9_000n);
    this.u32(H.pid, 4242);
    this.u32(H.tid, 4343);
    return this.buf.slice(0, size);
  }
}

/** Writes a pr_proc_info at `at` with every field set; returns what it must decode to. */
function writeInfo(r: Rec, at: number, used: Set<string>) {
  const I = S.pr_proc_info.fields;
  r.u32(at + I.uid, 1001);
  r.u32(at + I.gid, 1002);
  r.u8(at + I.prov_image, 1);
  r.u8(at + I.prov_argv, 2);
  r.u8(at + I.prov_comm, 1);
  r.u8(at + I.prov_cwd, 2);
  r.u8(at + I.prov_cred, 1);
  r.u32(at + I.argv_full_len, 99);
  r.u32(at + I.argc, 3);
  r.str(at + I.image, "/bin/img");
  r.str(at + I.argv, "a\0b\0\0");
  r.str(at + I.comm, "cm");
  r.str(at + I.cwd, "/w");
  r.u8(at + I.prov_file, 1);
  r.u8(at + I.prov_ns, 2);
  r.u8(at + I.prov_cgroup, 1);
  r.u32(at + I.euid, 0);
  r.u32(at + I.egid, 1003);
  r.u32(at + I.loginuid, 1004);
  r.u32(at + I.sessionid, 5);
  r.u32(at + I.image_flags, 3);
  r.u32(at + I.integrity, 0x80002000);
  r.u64(at + I.dev, 65024n);
  r.u64(at + I.ino, 1234n);
  r.u64(at + I.cgroup_id, 77n);
  r.u32(at + I.ns_pid, 11);
  r.u32(at + I.ns_mnt, 12);
  r.u32(at + I.ns_net, 13);
  r.u32(at + I.ns_user, 14);
  r.u32(at + I.ns_cgroup, 15);
  r.str(at + I.cgroup, "/cg");
  r.str(at + I.user, "S-1-5-21");
  for (
    const f of [
      "uid",
      "gid",
      "prov_image",
      "prov_argv",
      "prov_comm",
      "prov_cwd",
      "prov_cred",
      "argc",
      "image",
      "argv",
      "comm",
      "cwd",
      "prov_file",
      "prov_ns",
      "prov_cgroup",
      "euid",
      "egid",
      "loginuid",
      "sessionid",
      "image_flags",
      "integrity",
      "dev",
      "ino",
      "cgroup_id",
      "ns_pid",
      "ns_mnt",
      "ns_net",
      "ns_user",
      "ns_cgroup",
      "cgroup",
      "user",
    ]
  ) used.add(`pr_proc_info.${f}`);
  return {
    image: "/bin/img",
    argv: ["a", "b", ""],
    comm: "cm",
    cwd: "/w",
    uid: 1001,
    gid: 1002,
    euid: 0,
    egid: 1003,
    loginUid: 1004,
    sessionId: 5,
    integrityLevel: "Medium",
    user: "S-1-5-21",
    dev: 65024,
    ino: 1234,
    fileless: true,
    deletedImage: true,
    cgroupId: 77,
    cgroup: "/cg",
    ns: { pid: 11, mnt: 12, net: 13, user: 14, cgroup: 15 },
    argvTruncated: true,
    from: {
      image: "kernel",
      argv: "proc",
      comm: "kernel",
      cwd: "proc",
      cred: "kernel",
      file: "kernel",
      ns: "proc",
      cgroup: "kernel",
    },
  };
}

/** Fields the decoder does not read (each named, so a new field must be placed). */
const NOT_DECODED = new Set([
  "pr_rec_header.utc_ns", // the recording keeps its own clock offsets
  "pr_proc_info.reserved2",
  "pr_proc_info.argv_full_len",
  "pr_rec_process_create.status",
  "pr_rec_process_create.reserved",
  "pr_rec_exec.start_ns", // the analysis keeps the process's start
  "pr_rec_process_exit.reserved",
  "pr_rec_process_exit.start_ns",
  "pr_rec_thread_create.start_ns",
  "pr_rec_thread_exit.reserved",
  "pr_rec_snapshot.reserved",
  "pr_rec_exec_decision.argc", // argv holds what could be read; argvTruncated says when it is less
  "pr_rec_exec_decision.cgroup_id", // the path is kept
  "pr_rec_hash.start_ns", // the exec is found by pid and exec_ns
  "pr_rec_hash.reserved",
  "pr_rec_hash.dev", // checked by the worker; ino only tells that a file was opened
  "pr_rec_hash.mtime_ns",
  "pr_rec_hash.ctime_ns",
]);

/** JSON with object keys sorted, so key order does not matter. */
function canon(x: unknown): string {
  return JSON.stringify(
    x,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.entries(v).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
        )
        : v,
  );
}

function sameJson(got: unknown, want: unknown, what: string) {
  const g = canon(got), w = canon(want);
  if (g !== w) throw new Error(`${what}: decoded\n  ${g}\nexpected\n  ${w}`);
}

Deno.test("decodeRecords reads every field of every record kind where the layout table puts it", () => {
  const used = new Set<string>([
    "pr_rec_header.kind",
    "pr_rec_header.flags",
    "pr_rec_header.size",
    "pr_rec_header.seq",
    "pr_rec_header.mono_ns",
    "pr_rec_header.pid",
    "pr_rec_header.tid",
    "pr_str.off",
    "pr_str.len",
  ]);
  const mark = <K extends keyof typeof S>(s: K, ...f: Fields<K>[]) =>
    f.forEach((x) => used.add(`${s}.${String(x)}`));
  const base = { t: 4_000, pid: 4242, tid: 4343 };
  const check = (rec: Uint8Array, kind: number, want: ProcEvent) => {
    if (rec.length < FIXED_BYTES[kind]) {
      throw new Error(
        `kind ${kind}: FIXED_BYTES ${
          FIXED_BYTES[kind]
        } above the record's ${rec.length}`,
      );
    }
    const d = decodeRecords(rec, 1_000n);
    if (d.invalid || d.lastSeq !== 77n) {
      throw new Error(`kind ${kind}: invalid ${d.invalid}, seq ${d.lastSeq}`);
    }
    sameJson(d.events[0], want, `kind ${kind}`);
  };

  const F = S.pr_rec_process_create.fields;
  let r = new Rec(S.pr_rec_process_create.size);
  r.u32(F.parent_pid, 11);
  r.u32(F.parent_tid, 12);
  r.u32(F.creator_pid, 13);
  r.u32(F.creator_tid, 14);
  r.u64(F.start_ns, 3_000n);
  let info = writeInfo(r, F.info, used);
  mark(
    "pr_rec_process_create",
    "h",
    "parent_pid",
    "parent_tid",
    "creator_pid",
    "creator_tid",
    "start_ns",
    "info",
  );
  check(
    r.finish(Kind.PROCESS_CREATE, Flag.DENIED | Flag.ARGV_TRUNCATED),
    Kind.PROCESS_CREATE,
    {
      kind: "process_create",
      ...base,
      ppid: 11,
      ptid: 12,
      creatorPid: 13,
      creatorTid: 14,
      start: 2_000,
      info,
      denied: true,
    } as ProcEvent,
  );

  const E = S.pr_rec_exec.fields;
  r = new Rec(S.pr_rec_exec.size);
  info = writeInfo(r, E.info, used);
  mark("pr_rec_exec", "h", "info");
  check(r.finish(Kind.EXEC, Flag.ARGV_TRUNCATED), Kind.EXEC, {
    kind: "exec",
    ...base,
    info,
  } as ProcEvent);

  const PX = S.pr_rec_process_exit.fields;
  r = new Rec(S.pr_rec_process_exit.size);
  r.u32(PX.status, 0x0300);
  mark("pr_rec_process_exit", "h", "status");
  check(r.finish(Kind.PROCESS_EXIT, 0), Kind.PROCESS_EXIT, {
    kind: "process_exit",
    ...base,
    status: 0x0300,
  });

  const TC = S.pr_rec_thread_create.fields;
  r = new Rec(S.pr_rec_thread_create.size);
  r.u32(TC.creator_pid, 21);
  r.u32(TC.creator_tid, 22);
  mark("pr_rec_thread_create", "h", "creator_pid", "creator_tid");
  check(r.finish(Kind.THREAD_CREATE, 0), Kind.THREAD_CREATE, {
    kind: "thread_create",
    ...base,
    creatorPid: 21,
    creatorTid: 22,
    remote: false, // made by another process (21), not flagged PR_F_REMOTE
  });

  const TX = S.pr_rec_thread_exit.fields;
  r = new Rec(S.pr_rec_thread_exit.size);
  r.u32(TX.status, 9);
  mark("pr_rec_thread_exit", "h", "status");
  check(r.finish(Kind.THREAD_EXIT, Flag.PROCESS_EXITING), Kind.THREAD_EXIT, {
    kind: "thread_exit",
    ...base,
    status: 9,
    processExiting: true,
  });

  r = new Rec(S.pr_rec_comm.size);
  r.str(S.pr_rec_comm.fields.comm, "newname");
  mark("pr_rec_comm", "h", "comm");
  check(r.finish(Kind.COMM, 0), Kind.COMM, {
    kind: "comm",
    ...base,
    comm: "newname",
  });

  const L = S.pr_rec_lost.fields;
  r = new Rec(S.pr_rec_lost.size);
  r.u32(L.reason, 2);
  r.u32(L.cpu, 3);
  r.u64(L.count, 123n);
  mark("pr_rec_lost", "h", "reason", "cpu", "count");
  check(r.finish(Kind.LOST, Flag.COUNT_UNKNOWN), Kind.LOST, {
    kind: "lost",
    ...base,
    reason: "seq_gap",
    count: 123,
    countUnknown: true,
    cpu: 3,
  });

  const SN = S.pr_rec_snapshot.fields;
  r = new Rec(S.pr_rec_snapshot.size);
  r.u32(SN.parent_pid, 31);
  r.u64(SN.start_ns, 1_500n);
  info = writeInfo(r, SN.info, used);
  mark("pr_rec_snapshot", "h", "parent_pid", "start_ns", "info");
  check(r.finish(Kind.SNAPSHOT, Flag.ARGV_TRUNCATED), Kind.SNAPSHOT, {
    kind: "process_snapshot",
    ...base,
    ppid: 31,
    start: 500,
    info,
  } as ProcEvent);

  const IL = S.pr_rec_image_load.fields;
  r = new Rec(S.pr_rec_image_load.size);
  r.u64(IL.base, 0x7000n);
  r.u64(IL.size, 0x2000n);
  r.str(IL.image, "C:\\x.dll");
  mark("pr_rec_image_load", "h", "base", "size", "image");
  check(r.finish(Kind.IMAGE_LOAD, 0), Kind.IMAGE_LOAD, {
    kind: "image_load",
    ...base,
    image: "C:\\x.dll",
    base: 0x7000,
    size: 0x2000,
  });

  const XD = S.pr_rec_exec_decision.fields;
  r = new Rec(S.pr_rec_exec_decision.size);
  r.u32(XD.rule, 3);
  r.u32(XD.action, 1);
  r.u32(XD.ppid, 41);
  r.u32(XD.uid, 1000);
  r.u32(XD.euid, 0);
  r.u32(XD.argc, 2);
  r.u64(XD.dev, 0x803n);
  r.u64(XD.ino, 77n);
  r.str(XD.image, "/tmp/x");
  r.str(XD.argv, "x\0-y");
  r.str(XD.parent, "/usr/bin/bash");
  r.str(XD.cgroup, "/user.slice");
  mark(
    "pr_rec_exec_decision",
    "h",
    "rule",
    "action",
    "ppid",
    "uid",
    "euid",
    "dev",
    "ino",
    "image",
    "argv",
    "parent",
    "cgroup",
  );
  check(r.finish(Kind.EXEC_DECISION, Flag.ARGV_TRUNCATED), Kind.EXEC_DECISION, {
    kind: "exec_denied",
    ...base,
    rule: "#3",
    image: "/tmp/x",
    argv: ["x", "-y"],
    argvTruncated: true,
    ppid: 41,
    uid: 1000,
    euid: 0,
    parentImage: "/usr/bin/bash",
    dev: 0x803,
    ino: 77,
    cgroup: "/user.slice",
  });

  const HS = S.pr_rec_hash.fields;
  r = new Rec(S.pr_rec_hash.size);
  r.u64(HS.exec_ns, 1_700n);
  r.u32(HS.status, 1);
  r.u32(HS.hash_flags, HashFlag.CACHED | HashFlag.VIA_PATH);
  r.u64(HS.ino, 99n);
  r.u64(HS.size, 12_345n);
  for (let i = 0; i < 32; i++) r.buf[HS.sha256 + i] = i === 0 ? 0xab : i;
  mark(
    "pr_rec_hash",
    "h",
    "exec_ns",
    "status",
    "hash_flags",
    "ino",
    "size",
    "sha256",
  );
  check(r.finish(Kind.HASH, 0), Kind.HASH, {
    kind: "image_hash",
    ...base,
    execT: 700,
    status: "ok",
    sha256: "ab" +
      Array.from(
        { length: 31 },
        (_, i) => (i + 1).toString(16).padStart(2, "0"),
      )
        .join(""),
    cached: true,
    via: "path",
    size: 12_345,
  });
  r = new Rec(S.pr_rec_hash.size);
  r.u64(HS.exec_ns, 1_700n);
  r.u32(HS.status, 4);
  r.u32(HS.err, 13);
  mark("pr_rec_hash", "err");
  check(r.finish(Kind.HASH, 0), Kind.HASH, {
    kind: "image_hash",
    ...base,
    execT: 700,
    status: "error",
    reason: "EACCES",
  });

  // every field of every record struct is either checked above or named
  // in NOT_DECODED: a field added to the table must be placed
  const missing: string[] = [];
  for (const [name, s] of Object.entries(S)) {
    // not records: options, stats, and the rule set encodeRuleSet writes
    if (
      name === "procrec_options" || name === "procrec_stats" ||
      name.startsWith("pr_rule")
    ) continue;
    for (const f of Object.keys(s.fields)) {
      const k = `${name}.${f}`;
      if (!used.has(k) && !NOT_DECODED.has(k)) missing.push(k);
    }
  }
  if (missing.length) {
    throw new Error(
      `fields neither decoded nor listed in NOT_DECODED: ${missing.join(", ")}`,
    );
  }
  for (const [kind, size] of Object.entries(FIXED_BYTES)) {
    const name = Object.entries(Kind).find(([, v]) => v === Number(kind))?.[0];
    const struct = {
      PROCESS_CREATE: S.pr_rec_process_create,
      EXEC: S.pr_rec_exec,
      PROCESS_EXIT: S.pr_rec_process_exit,
      THREAD_CREATE: S.pr_rec_thread_create,
      THREAD_EXIT: S.pr_rec_thread_exit,
      COMM: S.pr_rec_comm,
      LOST: S.pr_rec_lost,
      SNAPSHOT: S.pr_rec_snapshot,
      IMAGE_LOAD: S.pr_rec_image_load,
      EXEC_DECISION: S.pr_rec_exec_decision,
      HASH: S.pr_rec_hash,
    }[name as string];
    if (!struct || struct.size !== size) {
      throw new Error(
        `FIXED_BYTES[${kind}] is ${size}, the struct is ${struct?.size}`,
      );
    }
  }
});

Deno.test("encodeOptions and the stats fields follow the layout table", () => {
  const o = encodeOptions({
    source: "ebpf",
    flags: 3,
    ringBytes: 5,
    rcvbufBytes: 6,
    bpfRingBytes: 7,
    maxString: 8,
  });
  const O = S.procrec_options;
  const v = new DataView(o.buffer);
  sameJson(
    [
      o.length,
      v.getUint32(O.fields.size, true),
      v.getUint32(O.fields.source, true),
      v.getUint32(O.fields.flags, true),
      v.getUint32(O.fields.ring_bytes, true),
      v.getUint32(O.fields.rcvbuf_bytes, true),
      v.getUint32(O.fields.bpf_ring_bytes, true),
      v.getUint32(O.fields.max_string, true),
    ],
    [O.size, O.size, 2, 3, 5, 6, 7, 8],
    "procrec_options",
  );
  const named = new Set(STATS_FIELDS.map(([, c]) => c));
  const unnamed = Object.keys(S.procrec_stats.fields).filter((f) =>
    f !== "reserved" && !named.has(f)
  );
  if (unnamed.length) {
    throw new Error(
      `procrec_stats fields EventSource.stats does not read: ${
        unnamed.join(", ")
      }`,
    );
  }
});
