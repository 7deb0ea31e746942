import { deepStrictEqual, ok as assert } from "node:assert";
import { decodeEvent, encodeEvent } from "../cli/log/schema.ts";
import {
  RecordingFormatError,
  RecordingReader,
  RecordingWriter,
} from "../cli/log/mod.ts";
import { newDecoder, newEncoder, Tag } from "../cli/log/_cbor.ts";
import { scanItem } from "../cli/log/_cbor_scan.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { testHeader, workload, writeRecording } from "./_recording_helpers.ts";
import { withTempDir } from "./_record_helpers.ts";

function assertEquals(actual: unknown, expected: unknown, msg?: string) {
  deepStrictEqual(actual, expected, msg);
}

async function readAll(path: string) {
  const r = await RecordingReader.open(path);
  const events = await Array.fromAsync(r.events());
  return { r, events };
}

const everyKind: ProcEvent[] = [
  {
    kind: "process_create",
    t: 1,
    pid: 10,
    tid: 10,
    ppid: 1,
    ptid: 2,
    creatorPid: 3,
    creatorTid: 4,
    start: -5,
    info: {
      image: "C:\\Windows\\System32\\cmd.exe",
      cmdline: "cmd /c echo",
      user: "NT AUTHORITY\\SYSTEM",
      from: { image: "kernel", argv: "kernel" },
    },
    denied: true,
    guid: "{a}",
    parentGuid: "{b}",
  },
  {
    kind: "process_snapshot",
    t: 0,
    pid: 1,
    tid: 1,
    ppid: 0,
    start: -99,
    info: { comm: "init", from: { comm: "proc", image: "denied" } },
  },
  {
    kind: "exec",
    t: 2,
    pid: 10,
    tid: 10,
    info: {
      image: "/bin/sh",
      argv: ["sh", "-c", "x"],
      comm: "sh",
      cwd: "/",
      uid: 0,
      gid: 0,
      argvTruncated: true,
      from: { image: "kernel", argv: "gone", cwd: "proc", cred: "proc" },
    },
  },
  {
    kind: "thread_create",
    t: 3,
    pid: 10,
    tid: 11,
    creatorPid: 10,
    creatorTid: 10,
  },
  {
    kind: "thread_exit",
    t: 4,
    pid: 10,
    tid: 11,
    status: 0,
    processExiting: false,
  },
  { kind: "comm", t: 5, pid: 10, tid: 10, comm: "worker" },
  {
    kind: "image_load",
    t: 6,
    pid: 10,
    tid: 10,
    image: "x.dll",
    base: 4096,
    size: 8192,
  },
  { kind: "lost", t: 7, pid: 0, tid: 0, reason: "seq_gap", count: 3, cpu: 1 },
  {
    kind: "lost",
    t: 8,
    pid: 0,
    tid: 0,
    reason: "enobufs",
    count: 0,
    countUnknown: true,
  },
  {
    kind: "process_exit",
    t: 9,
    pid: 10,
    tid: 10,
    status: 0xc0000005,
    guid: "{a}",
  },
];

Deno.test("encodeEvent() and decodeEvent() round-trip every kind", () => {
  for (const e of everyKind) {
    const back = decodeEvent(
      newDecoder().decode(newEncoder().encode(encodeEvent(e))),
    );
    assertEquals(back, e, e.kind);
  }
});

Deno.test("an exec event encodes in under 40 bytes of CBOR without strings", () => {
  const e: ProcEvent = {
    kind: "process_exit",
    t: 123_456_789,
    pid: 123456,
    tid: 123456,
    status: 256,
  };
  const n = newEncoder().encode(encodeEvent(e)).length;
  assert(n < 40, `process_exit is ${n} bytes`);
});

Deno.test("decodeEvent() names the field and what was expected", () => {
  const bad = [3, 1, "x", 1, 0];
  try {
    decodeEvent(bad);
    throw new Error("no error");
  } catch (e) {
    assert(e instanceof SyntaxError, String(e));
    assert(
      /process_exit event field "pid" is the string "x", expected an unsigned integer/
        .test(e.message),
      e.message,
    );
  }
  try {
    decodeEvent([99, 0, 0, 0]);
    throw new Error("no error");
  } catch (e) {
    assert(
      e instanceof SyntaxError && /code 99 is unknown/.test(e.message),
      String(e),
    );
  }
});

Deno.test("a recording round-trips and its trailer matches its chunks", async () => {
  await withTempDir(async (dir) => {
    const events = workload(200);
    await writeRecording(`${dir}/a.cbor`, events);
    const { r, events: back } = await readAll(`${dir}/a.cbor`);
    assertEquals(back, events);
    assert(
      r.report.complete && r.report.chainIntact,
      JSON.stringify(r.report.problems),
    );
    assertEquals(r.report.trailer?.events, 600);
    assertEquals(r.report.trailer?.counts, {
      process_create: 200,
      exec: 200,
      process_exit: 200,
    });
    assertEquals(r.header.bootId, testHeader().bootId);
    assertEquals(typeof r.header.timeBase.utcNs, "bigint");
  });
});

Deno.test("every chunk decodes alone with a fresh decoder", async () => {
  await withTempDir(async (dir) => {
    const bytes = await writeRecording(`${dir}/a.cbor`, workload(50), 10);
    let pos = scanItem(bytes, 0);
    let chunks = 0;
    while (pos < bytes.length) {
      const end = scanItem(bytes, pos);
      const item = newDecoder().decode(bytes.subarray(pos, end));
      if (item[0] === "chunk") {
        const events = newDecoder().decode(item[5]);
        for (const e of events) decodeEvent(e); // throws on a raw tag
        chunks++;
      }
      pos = end;
    }
    assertEquals(chunks, 15);
  });
});

Deno.test("a crashed writer leaves .incomplete with every flushed chunk readable", async () => {
  await withTempDir(async (dir) => {
    const w = await RecordingWriter.create(`${dir}/a.cbor`, testHeader(), {
      chunkEvents: 10,
      flushIntervalMs: 0,
    });
    for (const e of workload(20)) w.write(e); // 60 events: 6 chunks
    w.abandon();
    const { r, events } = await readAll(`${dir}/a.cbor.incomplete`);
    assertEquals(events.length, 60);
    assert(!r.report.complete);
    assertEquals(r.report.problems.map((p) => p.type), ["truncated"]);
    assertEquals(
      r.report.truncatedAt,
      (await Deno.stat(`${dir}/a.cbor.incomplete`)).size,
    );
  });
});

Deno.test("the writer flushes a chunk within 250 ms while events arrive", async () => {
  await withTempDir(async (dir) => {
    const w = await RecordingWriter.create(`${dir}/a.cbor`, testHeader());
    const before = (await Deno.stat(`${dir}/a.cbor.incomplete`)).size;
    w.write(workload(1)[0]);
    await new Promise((r) => setTimeout(r, 600));
    const after = (await Deno.stat(`${dir}/a.cbor.incomplete`)).size;
    await w.close();
    assert(after > before, `nothing flushed: ${before} -> ${after}`);
  });
});

Deno.test("cutting a recording at every offset gives its complete chunks or a clean truncation", async () => {
  await withTempDir(async (dir) => {
    const events = workload(12);
    const bytes = await writeRecording(`${dir}/a.cbor`, events, 8);
    let headerErrors = 0;
    for (let cut = 0; cut < bytes.length; cut++) {
      await Deno.writeFile(`${dir}/c.cbor`, bytes.subarray(0, cut));
      let r: RecordingReader;
      try {
        r = await RecordingReader.open(`${dir}/c.cbor`);
      } catch (e) {
        assert(e instanceof RecordingFormatError, `cut ${cut}: ${e}`);
        headerErrors++;
        continue;
      }
      const got = await Array.fromAsync(r.events());
      assertEquals(got, events.slice(0, got.length), `cut ${cut}`);
      assertEquals(got.length % 8 === 0 || got.length === events.length, true);
      const types = r.report.problems.map((p) => p.type);
      assertEquals(types, ["truncated"], `cut ${cut}`);
      assert(/^truncated at offset \d+/.test(r.report.problems[0].reason));
    }
    assert(
      headerErrors > 0 && headerErrors < 400,
      `header errors: ${headerErrors}`,
    );
  });
});

Deno.test("a damaged chunk is skipped, counted as lost, and the rest is read", async () => {
  await withTempDir(async (dir) => {
    const events = workload(30); // 90 events, chunks of 10
    const bytes = await writeRecording(`${dir}/a.cbor`, events, 10);
    // find chunk 3 and flip a byte in its body
    let pos = scanItem(bytes, 0);
    for (let i = 0; i < 3; i++) pos = scanItem(bytes, pos);
    const end = scanItem(bytes, pos);
    const damaged = bytes.slice();
    damaged[end - 3] ^= 0x40;
    await Deno.writeFile(`${dir}/d.cbor`, damaged);
    const { r, events: got } = await readAll(`${dir}/d.cbor`);
    const lost = got.filter((e) => e.kind === "lost");
    assertEquals(lost.length, 1);
    assertEquals(lost[0].kind === "lost" && lost[0].count, 10);
    assertEquals(got.length, 81);
    assert(!r.report.complete);
    const damagedReport = r.report.problems.find((p) => p.type === "damaged");
    assertEquals(damagedReport?.chunk, 3);
    assertEquals(damagedReport?.offset, pos);
  });
});

Deno.test("a wrong version or a file that is not a recording gives one clear error", async () => {
  await withTempDir(async (dir) => {
    const enc = newEncoder();
    await Deno.writeFile(
      `${dir}/v10.cbor`,
      enc.encode(
        new Tag({ ...testHeader(), format: "procrec", version: 10 }, 55799),
      ),
    );
    await Deno.writeTextFile(`${dir}/text.cbor`, "hello, world\n");
    await Deno.mkdir(`${dir}/dir.cbor`);
    for (
      const [name, re] of [
        [
          "v10.cbor",
          /v10\.cbor": header version is 10, expected 1 or 2 or 3 or 4 or 5/,
        ],
        ["text.cbor", /text\.cbor": not a procrec recording/],
        ["missing.cbor", /missing\.cbor"/],
        ["dir.cbor", /dir\.cbor": it is a directory/],
      ] as const
    ) {
      try {
        await RecordingReader.open(`${dir}/${name}`);
        throw new Error(`no error for ${name}`);
      } catch (e) {
        assert(e instanceof RecordingFormatError, `${name}: ${e}`);
        assert(re.test(e.message), e.message);
      }
    }
  });
});

Deno.test("scanItem() rejects reserved and over-long items without reading them", () => {
  for (
    const bad of [[0x1c], [
      0x5b,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
    ], [0xff]]
  ) {
    let threw = false;
    try {
      scanItem(new Uint8Array(bad), 0, 1024);
    } catch (e) {
      threw = e instanceof SyntaxError || e instanceof RangeError;
    }
    assert(threw, `accepted ${bad}`);
  }
  // 100 nested arrays exceed the depth limit
  const deep = new Uint8Array(101).fill(0x81);
  deep[100] = 0;
  let threw = false;
  try {
    scanItem(deep, 0);
  } catch (e) {
    threw = e instanceof SyntaxError;
  }
  assert(threw, "deep nesting accepted");
});

Deno.test("close() that cannot rename says so and leaves the complete recording in NAME.incomplete", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/x.cbor`;
    const w = await RecordingWriter.create(path, testHeader());
    for (const e of everyKind) w.write(e);
    await Deno.mkdir(`${path}/occupied`, { recursive: true }); // rename target
    let message = "";
    await w.close().catch((e) => (message = (e as Error).message));
    assert(
      message.includes(`Cannot rename recording "${path}.incomplete"`),
      message,
    );
    assert(
      message.includes(`the complete recording is in "${path}.incomplete"`),
      message,
    );
    const { r, events } = await readAll(`${path}.incomplete`);
    assert(r.report.complete, JSON.stringify(r.report.problems));
    assertEquals(events.length, everyKind.length);
  }, "procrec-rename-");
});

Deno.test("encodeEvent() and decodeEvent() round-trip the version 2 identity fields of info", () => {
  const info = {
    from: {
      image: "kernel",
      cred: "kernel",
      file: "kernel",
      ns: "proc",
      cgroup: "kernel",
    },
    image: "/memfd:x (deleted)",
    uid: 65534,
    gid: 65534,
    euid: 0,
    egid: 65534,
    loginUid: 1000,
    sessionId: 2,
    dev: 1,
    ino: 99,
    fileless: true,
    cgroupId: 7,
    cgroup: "/docker/abc",
    ns: { pid: 1, mnt: 2, net: 3, user: 4, cgroup: 5 },
    integrityLevel: "High",
    sha256: "ab".repeat(32),
    hashes: "SHA256=AB,MD5=CD",
    originalFileName: "cmd.exe",
    description: "d",
    product: "p",
    company: "c",
    logonId: "0x3e7",
    logonGuid: "{g}",
  } as const;
  const e = { kind: "exec", t: 1, pid: 2, tid: 2, info } as const;
  const back = decodeEvent(encodeEvent(e as unknown as ProcEvent));
  assertEquals(back, e);
});
