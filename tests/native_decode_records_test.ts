import { decodeRecords, splitArgv } from "../cli/native/decode_records.ts";

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}
function eq(a: unknown, b: unknown) {
  const ja = JSON.stringify(a), jb = JSON.stringify(b);
  if (ja !== jb) throw new Error(`expected ${jb}\n     got ${ja}`);
}

interface Hdr {
  kind: number;
  flags?: number;
  seq?: bigint;
  mono: bigint;
  pid: number;
  tid: number;
}
interface Info {
  uid?: number;
  gid?: number;
  prov: [number, number, number, number, number];
  argc?: number;
  image?: string;
  argv?: string;
  comm?: string;
  cwd?: string;
}

/** Builds one C record per procrec_abi.h: fixed part, then strings, padded to 8. */
function record(
  h: Hdr,
  fixed: number,
  fill: (v: DataView, str: (at: number, s: string) => void) => void,
): Uint8Array {
  const strings: [number, Uint8Array][] = [];
  const buf = new Uint8Array(fixed + 8192);
  const v = new DataView(buf.buffer);
  let end = fixed;
  const str = (at: number, s: string) =>
    strings.push([at, new TextEncoder().encode(s)]);
  fill(v, str);
  for (const [at, bytes] of strings) {
    v.setUint32(at, end, true);
    v.setUint32(at + 4, bytes.length, true);
    buf.set(bytes, end);
    end += bytes.length;
  }
  const size = Math.ceil(end / 8) * 8;
  v.setUint16(0, h.kind, true);
  v.setUint16(2, h.flags ?? 0, true);
  v.setUint32(4, size, true);
  v.setBigUint64(8, h.seq ?? 0n, true);
  v.setBigUint64(16, h.mono, true);
  v.setBigUint64(24, h.mono + 1_000_000n, true);
  v.setUint32(32, h.pid, true);
  v.setUint32(36, h.tid, true);
  return buf.slice(0, size);
}

function info(
  v: DataView,
  at: number,
  i: Info,
  str: (at: number, s: string) => void,
) {
  v.setUint32(at, i.uid ?? 0, true);
  v.setUint32(at + 4, i.gid ?? 0, true);
  // ABI 2: effective ids as the real ones, audit ids unset
  v.setUint32(at + 56, i.uid ?? 0, true);
  v.setUint32(at + 60, i.gid ?? 0, true);
  v.setUint32(at + 64, 0xffffffff, true);
  v.setUint32(at + 68, 0xffffffff, true);
  i.prov.forEach((p, j) => v.setUint8(at + 8 + j, p));
  v.setUint32(at + 16, i.argv?.length ?? 0, true);
  v.setUint32(at + 20, i.argc ?? 0, true);
  if (i.image !== undefined) str(at + 24, i.image);
  if (i.argv !== undefined) str(at + 32, i.argv);
  if (i.comm !== undefined) str(at + 40, i.comm);
  if (i.cwd !== undefined) str(at + 48, i.cwd);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
}

const BASE = 1_000_000_000n;

Deno.test("decodeRecords() decodes a process create with its kernel parent and info", () => {
  const r = record(
    { kind: 1, mono: BASE + 500n, pid: 42, tid: 42 },
    216,
    (v, str) => {
      v.setUint32(40, 7, true);
      v.setUint32(44, 8, true);
      v.setUint32(48, 7, true);
      v.setUint32(52, 8, true);
      v.setBigUint64(56, BASE + 400n, true);
      info(v, 72, { prov: [0, 0, 1, 0, 0], comm: "bash" }, str);
    },
  );
  const { events, unknown, invalid } = decodeRecords(r, BASE);
  eq([unknown, invalid], [0, 0]);
  eq(events, [{
    kind: "process_create",
    t: 500,
    pid: 42,
    tid: 42,
    ppid: 7,
    ptid: 8,
    creatorPid: 7,
    creatorTid: 8,
    start: 400,
    info: { from: { comm: "kernel" }, comm: "bash" },
  }]);
});

Deno.test("decodeRecords() splits argv on NUL and keeps provenance and credentials", () => {
  const r = record(
    { kind: 2, mono: BASE + 10n, pid: 5, tid: 5, flags: 0x1 },
    192,
    (v, str) => {
      info(v, 48, {
        uid: 1000,
        gid: 100,
        prov: [2, 2, 1, 2, 2],
        argc: 3,
        image: "/usr/bin/ls",
        argv: "ls\0-l\0/tmp é",
        comm: "ls",
        cwd: "/home",
      }, str);
    },
  );
  const e = decodeRecords(r, BASE).events[0];
  eq(e, {
    kind: "exec",
    t: 10,
    pid: 5,
    tid: 5,
    info: {
      from: {
        image: "proc",
        argv: "proc",
        comm: "kernel",
        cwd: "proc",
        cred: "proc",
      },
      image: "/usr/bin/ls",
      argv: ["ls", "-l", "/tmp é"],
      comm: "ls",
      cwd: "/home",
      uid: 1000,
      gid: 100,
      euid: 1000,
      egid: 100,
      argvTruncated: true,
    },
  });
});

Deno.test("decodeRecords() never keeps a value whose provenance is gone or denied", () => {
  const r = record({ kind: 2, mono: BASE, pid: 5, tid: 5 }, 192, (v, str) => {
    info(v, 48, {
      prov: [3, 4, 1, 3, 3],
      uid: 9,
      image: "/wrong",
      argv: "x",
      comm: "c",
    }, str);
  });
  const e = decodeRecords(r, BASE).events[0];
  assert(e.kind === "exec");
  eq(e.info, {
    from: {
      image: "gone",
      argv: "denied",
      comm: "kernel",
      cwd: "gone",
      cred: "gone",
    },
    comm: "c",
  });
});

Deno.test("decodeRecords() maps PR_F_CMDLINE to one command line (Windows)", () => {
  const r = record(
    { kind: 2, mono: BASE, pid: 5, tid: 5, flags: 0x20 },
    192,
    (v, str) => {
      info(v, 48, {
        prov: [1, 1, 0, 0, 0],
        image: "C:\\x.exe",
        argv: 'x.exe "a b"',
      }, str);
    },
  );
  const e = decodeRecords(r, BASE).events[0];
  assert(e.kind === "exec");
  eq(e.info.cmdline, 'x.exe "a b"');
  eq(e.info.argv, undefined);
});

Deno.test("decodeRecords() decodes exits, threads, comm, lost, snapshot and image loads", () => {
  const buf = concat(
    record(
      { kind: 3, mono: BASE + 1n, pid: 9, tid: 9 },
      56,
      (v) => v.setUint32(40, 0x0300, true),
    ),
    record({ kind: 4, mono: BASE + 2n, pid: 9, tid: 10 }, 56, (v) => {
      v.setUint32(40, 9, true);
      v.setUint32(44, 9, true);
    }),
    record(
      { kind: 5, mono: BASE + 3n, pid: 9, tid: 10, flags: 0x4 },
      48,
      (v) => v.setUint32(40, 9, true),
    ),
    record(
      { kind: 6, mono: BASE + 4n, pid: 9, tid: 9 },
      48,
      (_v, str) => str(40, "worker"),
    ),
    record({ kind: 7, mono: BASE + 5n, pid: 0, tid: 0 }, 56, (v) => {
      v.setUint32(40, 2, true);
      v.setUint32(44, 1, true);
      v.setBigUint64(48, 17n, true);
    }),
    record(
      { kind: 7, mono: BASE + 6n, pid: 0, tid: 0, flags: 0x10 },
      56,
      (v) => {
        v.setUint32(40, 1, true);
        v.setUint32(44, 0xffffffff, true);
      },
    ),
    record({ kind: 8, mono: BASE, pid: 1, tid: 1 }, 200, (v, str) => {
      v.setBigUint64(48, 1_000n, true);
      info(v, 56, {
        prov: [2, 2, 2, 0, 0],
        argc: 1,
        image: "/sbin/init",
        argv: "/sbin/init\0",
        comm: "init",
      }, str);
    }),
    record({ kind: 9, mono: BASE + 7n, pid: 9, tid: 9 }, 64, (v, str) => {
      v.setBigUint64(40, 0x7f00n, true);
      v.setBigUint64(48, 4096n, true);
      str(56, "C:\\k.dll");
    }),
  );
  const { events } = decodeRecords(buf, BASE);
  eq(events, [
    { kind: "process_exit", t: 1, pid: 9, tid: 9, status: 0x300 },
    {
      kind: "thread_create",
      t: 2,
      pid: 9,
      tid: 10,
      creatorPid: 9,
      creatorTid: 9,
    },
    {
      kind: "thread_exit",
      t: 3,
      pid: 9,
      tid: 10,
      status: 9,
      processExiting: true,
    },
    { kind: "comm", t: 4, pid: 9, tid: 9, comm: "worker" },
    {
      kind: "lost",
      t: 5,
      pid: 0,
      tid: 0,
      reason: "seq_gap",
      count: 17,
      cpu: 1,
    },
    {
      kind: "lost",
      t: 6,
      pid: 0,
      tid: 0,
      reason: "enobufs",
      count: 0,
      countUnknown: true,
    },
    {
      kind: "process_snapshot",
      t: 0,
      pid: 1,
      tid: 1,
      ppid: 0,
      start: Number(1_000n - BASE),
      info: {
        from: { image: "proc", argv: "proc", comm: "proc" },
        image: "/sbin/init",
        argv: ["/sbin/init"],
        comm: "init",
      },
    },
    {
      kind: "image_load",
      t: 7,
      pid: 9,
      tid: 9,
      image: "C:\\k.dll",
      base: 0x7f00,
      size: 4096,
    },
  ]);
});

Deno.test("decodeRecords() takes a thread's remote verdict from PR_F_REMOTE when another process made it", () => {
  const thread = (flags: number, pid: number, creator: number) =>
    record({ kind: 4, flags, mono: BASE + 1n, pid, tid: pid + 4 }, 56, (v) => {
      v.setUint32(40, creator, true);
      v.setUint32(44, creator + 1, true);
    });
  const { events } = decodeRecords(
    concat(
      thread(0x0080, 500, 700), // a remote creation
      thread(0, 600, 700), // a first thread, made by its creator
      thread(0, 800, 800), // made in its own process: no verdict needed
    ),
    BASE,
  );
  eq(events.map((e) => e.kind === "thread_create" ? e.remote : "?"), [
    true,
    false,
    undefined,
  ]);
});

Deno.test("decodeRecords() skips unknown kinds by size and counts them", () => {
  const buf = concat(
    record({ kind: 99, mono: BASE, pid: 1, tid: 1 }, 72, () => {}),
    record({ kind: 3, mono: BASE + 1n, pid: 2, tid: 2 }, 56, () => {}),
  );
  const r = decodeRecords(buf, BASE);
  eq(r.unknown, 1);
  eq(r.events.map((e) => e.kind), ["process_exit"]);
});

Deno.test("decodeRecords() turns a record with an out-of-bounds string into a decode loss", () => {
  const r = record(
    { kind: 6, mono: BASE, pid: 1, tid: 1 },
    48,
    (_v, str) => str(40, "abc"),
  );
  new DataView(r.buffer).setUint32(44, 4096, true); // length beyond the record
  const d = decodeRecords(r, BASE);
  eq(d.invalid, 1);
  eq(d.events, [{
    kind: "lost",
    t: 0,
    pid: 0,
    tid: 0,
    reason: "decode",
    count: 1,
  }]);
});

Deno.test("decodeRecords() refuses a record shorter than its kind", () => {
  const r = record({ kind: 1, mono: BASE, pid: 1, tid: 1 }, 56, () => {});
  eq(decodeRecords(r, BASE).invalid, 1);
});

Deno.test("decodeRecords() throws a RangeError when a size cannot frame the buffer", () => {
  const good = record({ kind: 3, mono: BASE, pid: 1, tid: 1 }, 56, () => {});
  for (const size of [0, 12, 44, 64]) {
    const b = good.slice();
    new DataView(b.buffer).setUint32(4, size, true);
    let err: unknown;
    try {
      decodeRecords(b, BASE);
    } catch (e) {
      err = e;
    }
    assert(err instanceof RangeError, `size ${size}: ${err}`);
    assert(/offset 0/.test((err as Error).message));
  }
  let err: unknown;
  try {
    decodeRecords(good.subarray(0, 20), BASE);
  } catch (e) {
    err = e;
  }
  assert(err instanceof RangeError);
});

Deno.test("decodeRecords() reads records from a subarray at any byte offset", () => {
  const rec = record(
    { kind: 6, mono: BASE + 3n, pid: 1, tid: 1 },
    48,
    (_v, str) => str(40, "x"),
  );
  const big = new Uint8Array(rec.length + 16);
  big.set(rec, 16);
  eq(decodeRecords(big.subarray(16), BASE).events[0], {
    kind: "comm",
    t: 3,
    pid: 1,
    tid: 1,
    comm: "x",
  });
});

Deno.test("splitArgv() keeps empty arguments that argc counts", () => {
  eq(splitArgv("a\0\0b", 3), ["a", "", "b"]);
  eq(splitArgv("a\0b\0", 0), ["a", "b"]);
  eq(splitArgv("", 0), []);
});

Deno.test("decodeRecords() gives exact times on either side of 2^53 ns and the last sequence number", () => {
  const cases: [bigint, bigint][] = [
    [BASE, BASE + 123_456_789n],
    [BASE + 5n, BASE], // before the time base: negative
    [2n ** 53n - 10n, 2n ** 53n + 7n], // the event beyond 2^53
    [2n ** 53n + 1n, 2n ** 53n + 4_000_000_001n], // both beyond
    [2n ** 60n, 2n ** 60n - 3n],
  ];
  for (const [base, mono] of cases) {
    const buf = concat(
      record({ kind: 5, mono, pid: 1, tid: 2, seq: 41n }, 48, () => {}),
      record({ kind: 99, mono, pid: 1, tid: 2, seq: 42n }, 48, () => {}),
    );
    const r = decodeRecords(buf, base);
    eq(r.events[0].t, Number(mono - base));
    assert(r.lastSeq === 42n, `lastSeq ${r.lastSeq}`);
  }
});

Deno.test("decodeRecords() reads the ABI 2 identity fields: effective and audit ids, file, marks, cgroup, namespaces, Windows token", () => {
  const r = record({ kind: 2, mono: BASE, pid: 5, tid: 5 }, 192, (v, str) => {
    info(v, 48, { prov: [1, 1, 1, 0, 1], uid: 65534, gid: 65534 }, str);
    [1, 1, 1].forEach((p, j) => v.setUint8(48 + 13 + j, p)); // file, ns, cgroup
    v.setUint32(48 + 56, 0, true); // euid
    v.setUint32(48 + 64, 1000, true); // loginuid
    v.setUint32(48 + 68, 3, true); // sessionid
    v.setUint32(48 + 72, 0x1, true); // PR_I_FILELESS
    v.setUint32(48 + 76, 0x80000000 | 0x3000, true); // integrity High
    v.setBigUint64(48 + 80, 65024n, true);
    v.setBigUint64(48 + 88, 260715n, true);
    v.setBigUint64(48 + 96, 4242n, true);
    [11, 12, 13, 14, 15].forEach((x, j) =>
      v.setUint32(48 + 104 + 4 * j, x, true)
    );
    str(48 + 128, "/system.slice/x.scope");
    str(48 + 136, "S-1-5-18");
  });
  const e = decodeRecords(r, BASE).events[0];
  assert(e.kind === "exec");
  eq(e.info, {
    from: {
      image: "kernel",
      argv: "kernel",
      comm: "kernel",
      cred: "kernel",
      file: "kernel",
      ns: "kernel",
      cgroup: "kernel",
    },
    uid: 65534,
    gid: 65534,
    euid: 0,
    egid: 65534,
    loginUid: 1000,
    sessionId: 3,
    integrityLevel: "High",
    user: "S-1-5-18",
    dev: 65024,
    ino: 260715,
    fileless: true,
    cgroupId: 4242,
    cgroup: "/system.slice/x.scope",
    ns: { pid: 11, mnt: 12, net: 13, user: 14, cgroup: 15 },
  });
});
