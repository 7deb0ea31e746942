/**
 * A header field of another shape than the schema's (`segment` a string, a
 * `segment.startUtcNs` that is text, a `command` without `argv`, a
 * `redaction` of the wrong types, an `os` other than linux or windows...) is
 * refused where a header is read, with the file and the field named: by the
 * recording reader (so by replay, export, report, diff and verify, which said
 * "Cannot convert undefined to a BigInt" or printed "undefined") and by
 * `import jsonl` (which wrote recordings nothing could read). An imported
 * event's `info` of another shape is refused the same way. Valid headers
 * (segments, redacted copies, commands, imports, the fixtures) still read.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import {
  type HeaderInit,
  RecordingFormatError,
  RecordingReader,
  RecordingWriter,
} from "../cli/log/mod.ts";
import { SegmentWriter } from "../cli/record/segment_writer.ts";
import { ImportInputError } from "../cli/interop/sysmon_input_error.ts";
import {
  procrecEventLine,
  procrecHeaderLine,
  toJson,
} from "../cli/interop/procrec_json.ts";
import { readProcrecJsonLines } from "../cli/interop/read_procrec_json_lines.ts";
import { ocsfMapper } from "../cli/interop/ocsf_mapper.ts";
import { describeRedaction } from "../cli/redact/describe_redaction.ts";
import type { RedactionInfo } from "../cli/log/schema.ts";
import { processCreate, testHeader } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

const SEGMENT = {
  id: "a".repeat(32),
  run: "r".repeat(32),
  index: 0,
  startUtcNs: 1_790_000_000_000_000_000n,
  alive: [],
};
const HASH = new Uint8Array(32).fill(7);
const REDACTION: RedactionInfo = {
  hmac: "HMAC-SHA-256",
  keyId: "0123456789abcdef",
  marker: "[redacted:RULE:HMAC-SHA-256 hex]",
  rules: [{ name: "pw", flag: ["-p"] }],
};

/** Header fields of another shape, each with the field the error names. */
const BAD: [what: string, fields: Record<string, unknown>, field: string][] = [
  ["segment a string", { segment: "x" }, "segment"],
  ["segment a number", { segment: 5 }, "segment"],
  ["segment an array", { segment: [1, "a"] }, "segment"],
  ["segment null", { segment: null }, "segment"],
  ["segment an empty map", { segment: {} }, "segment.id"],
  [
    "segment.startUtcNs text",
    { segment: { ...SEGMENT, startUtcNs: "x" } },
    "segment.startUtcNs",
  ],
  [
    "segment.startUtcNs missing",
    { segment: { ...SEGMENT, startUtcNs: undefined } },
    "segment.startUtcNs",
  ],
  [
    "segment.startUtcNs a fraction",
    { segment: { ...SEGMENT, startUtcNs: 1.5 } },
    "segment.startUtcNs",
  ],
  [
    "segment.index negative",
    { segment: { ...SEGMENT, index: -1 } },
    "segment.index",
  ],
  [
    "segment.alive text",
    { segment: { ...SEGMENT, alive: "x" } },
    "segment.alive",
  ],
  [
    "segment.previous text",
    { segment: { ...SEGMENT, previous: "x" } },
    "segment.previous",
  ],
  [
    "segment.previous.finalHash text",
    {
      segment: {
        ...SEGMENT,
        previous: { name: "a.cbor", id: "b", finalHash: "zz", closed: true },
      },
    },
    "segment.previous.finalHash",
  ],
  [
    "segment.previous.closed text",
    {
      segment: {
        ...SEGMENT,
        previous: { name: "a.cbor", id: "b", finalHash: HASH, closed: "yes" },
      },
    },
    "segment.previous.closed",
  ],
  [
    "segment.deleted text",
    { segment: { ...SEGMENT, deleted: "x" } },
    "segment.deleted",
  ],
  [
    "segment.deleted[0].events text",
    {
      segment: {
        ...SEGMENT,
        deleted: [{
          name: "a.cbor",
          id: "b",
          finalHash: HASH,
          startUtcNs: 1n,
          endUtcNs: 2n,
          events: "many",
        }],
      },
    },
    "segment.deleted[0].events",
  ],
  ["command a string", { command: "x" }, "command"],
  ["command without argv", { command: { pid: 5 } }, "command.argv"],
  [
    "command.argv of numbers",
    { command: { argv: [null, 5] } },
    "command.argv",
  ],
  [
    "command.pid text",
    { command: { argv: ["sh"], pid: "p" } },
    "command.pid",
  ],
  ["import a string", { import: "x" }, "import"],
  [
    "import.files text",
    { import: { format: "sysmon", files: "x" } },
    "import.files",
  ],
  [
    "import.files[0].sha256 missing",
    { import: { format: "sysmon", files: [{ name: "a.jsonl" }] } },
    "import.files[0].sha256",
  ],
  ["redaction a string", { redaction: "x" }, "redaction"],
  [
    "redaction.hmac a number",
    { redaction: { ...REDACTION, hmac: 5 } },
    "redaction.hmac",
  ],
  [
    "redaction.rules text",
    { redaction: { ...REDACTION, rules: "x" } },
    "redaction.rules",
  ],
  [
    "redaction.rules[1].name a number",
    { redaction: { ...REDACTION, rules: [{ name: "a" }, { name: 5 }] } },
    "redaction.rules[1].name",
  ],
  [
    "redaction.source.bytes text",
    {
      redaction: {
        ...REDACTION,
        source: {
          path: "a.cbor",
          sha256: "ab",
          bytes: "x",
          complete: true,
          host: "h",
          bootId: "b",
          startUtcNs: 0n,
        },
      },
    },
    "redaction.source.bytes",
  ],
  ["os darwin", { os: "darwin" }, "os"],
  ["os empty", { os: "" }, "os"],
  ["tool a string", { tool: "x" }, "tool"],
  ["source a number", { source: 5 }, "source"],
  ["options an array", { options: [1] }, "options"],
  [
    "timeBase.utcNs text",
    { timeBase: { monoNs: 0n, utcNs: "123" } },
    "timeBase.utcNs",
  ],
  // (found by review: verified INTACT, then every export failed with
  // "Invalid time value")
  [
    "timeBase.utcNs 10^30",
    { timeBase: { monoNs: 0n, utcNs: 10n ** 30n } },
    "timeBase.utcNs",
  ],
  [
    "timeBase.utcNs -10^25",
    { timeBase: { monoNs: 0n, utcNs: -(10n ** 25n) } },
    "timeBase.utcNs",
  ],
];

function badHeader(fields: Record<string, unknown>): HeaderInit {
  return { ...testHeader(), ...fields } as unknown as HeaderInit;
}

async function writeWith(path: string, header: HeaderInit): Promise<void> {
  const w = await RecordingWriter.create(path, header, { flushIntervalMs: 0 });
  w.write(processCreate(5, 100, 1));
  w.write({ kind: "process_exit", t: 9, pid: 100, tid: 100, status: 0 });
  await w.close();
}

async function refusal(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("not refused");
}

Deno.test("the recording reader refuses each header field of another shape, naming the file and the field", async () => {
  await withTempDir(async (dir) => {
    for (const [what, fields, field] of BAD) {
      const path = `${dir}/bad.cbor`;
      await writeWith(path, badHeader(fields));
      const e = await refusal(() => RecordingReader.open(path));
      assert(e instanceof RecordingFormatError, `${what}: ${e}`);
      assert(
        e.message.startsWith(`Cannot read recording "${path}": `) &&
          e.message.includes(`header field "${field}" `) &&
          e.message.includes("expected"),
        `${what}: ${e.message}`,
      );
      await Deno.remove(path);
    }
  });
});

Deno.test("import jsonl refuses each header field of another shape, naming the file, line 1 and the field", async () => {
  for (const [what, fields, field] of BAD) {
    const line = procrecHeaderLine(
      { format: "procrec", version: 6, ...badHeader(fields) },
    );
    const input = readProcrecJsonLines(
      [new TextEncoder().encode(line + "\n")],
      "bad.jsonl",
    );
    const e = await refusal(() => input.header());
    assert(e instanceof ImportInputError, `${what}: ${e}`);
    assert(
      e.message.startsWith('Cannot import "bad.jsonl": line 1: ') &&
        e.message.includes(`field "header.${field}" `) &&
        e.message.includes("expected"),
      `${what}: ${e.message}`,
    );
  }
});

Deno.test("replay, export, report, diff and verify refuse a malformed segment, command or redaction with the field named (exit 2), never a JavaScript error", async () => {
  await withTempDir(async (dir) => {
    const all = (p: string) => [
      ["replay", p],
      ["replay", p, "--json"],
      ["replay", p, "--events"],
      ["replay", p, "--summary"],
      ["export", p, "--format", "ocsf", "-o", `${dir}/o.jsonl`],
      ["export", p, "--format", "ecs", "-o", `${dir}/e.jsonl`],
      ["export", p, "--format", "jsonl", "-o", `${dir}/j.jsonl`],
      ["report", p, "-o", `${dir}/r.html`, "-f"],
      ["diff", p, `${ROOT}fixtures/make.cbor`],
      ["verify", p],
    ];
    const cases: [string, Record<string, unknown>, string, string[][]][] = [
      ["segment", { segment: "x" }, "segment", all(`${dir}/segment.cbor`)],
      [
        "start",
        { segment: { ...SEGMENT, startUtcNs: "x" } },
        "segment.startUtcNs",
        [["replay", `${dir}/start.cbor`]],
      ],
      [
        "command",
        { command: "x" },
        "command",
        [["report", `${dir}/command.cbor`, "-o", `${dir}/r.html`, "-f"]],
      ],
      [
        "redaction",
        { redaction: { ...REDACTION, hmac: 5, keyId: null } },
        "redaction.hmac",
        [["verify", `${dir}/redaction.cbor`], [
          "diff",
          `${dir}/redaction.cbor`,
          `${ROOT}fixtures/make.cbor`,
        ]],
      ],
      [
        "os",
        { os: "darwin" },
        "os",
        [["export", `${dir}/os.cbor`, "--format", "ocsf"], [
          "replay",
          `${dir}/os.cbor`,
        ]],
      ],
    ];
    for (const [name, fields, field, runs] of cases) {
      const path = `${dir}/${name}.cbor`;
      await writeWith(path, badHeader(fields));
      for (const args of runs) {
        const r = await procrec(args);
        const what = `${args.join(" ")}: ${r.stderr}`;
        assertEquals(r.code, 2, what);
        assert(
          r.stderr.includes(`Cannot read recording "${path}"`) &&
            r.stderr.includes(`header field "${field}"`),
          what,
        );
        assert(!/undefined|BigInt|Cannot read properties/.test(r.stderr), what);
        assert(!r.stdout.includes("undefined"), `${what}\n${r.stdout}`);
      }
    }
  });
});

Deno.test("import jsonl refuses a header it cannot write a readable recording of (segment a number), and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const jsonl = `${dir}/seg.jsonl`;
    await Deno.writeTextFile(
      jsonl,
      procrecHeaderLine(
        { format: "procrec", version: 6, ...badHeader({ segment: 5 }) },
      ) + "\n" + procrecEventLine(processCreate(5, 100, 1)) + "\n",
    );
    const r = await procrec([
      "import",
      "jsonl",
      jsonl,
      "-o",
      `${dir}/out.cbor`,
    ]);
    assertEquals(r.code, 2, r.stderr);
    assert(
      r.stderr.includes(
        'Cannot import "seg.jsonl": line 1: field ' +
          '"header.segment" is number 5, expected a map',
      ),
      r.stderr,
    );
    const left = await Array.fromAsync(Deno.readDir(dir));
    assertEquals(left.map((e) => e.name), ["seg.jsonl"]);
  });
});

Deno.test("import jsonl refuses an event whose info is not an object, or lacks from, naming the line and the field", async () => {
  const header = procrecHeaderLine(
    { format: "procrec", version: 6, ...testHeader() },
  );
  const cases: [unknown, string][] = [
    ["x", "info"],
    [[1], "info"],
    [5, "info"],
    [true, "info"],
    [null, "info"],
    [{}, "info.from"],
    [{ from: "proc" }, "info.from"],
    [{ from: { image: "elsewhere" } }, "info.from.image"],
    [{ from: {}, ns: null }, "info.ns"],
    [2n ** 70n, "info"],
  ];
  for (const kind of ["exec", "process_snapshot", "process_create"]) {
    for (const [info, field] of cases) {
      const event = { ...processCreate(5, 100, 1), kind, info };
      const text = header + "\n" +
        procrecEventLine(processCreate(1, 100, 1)) + "\n" + toJson(event) +
        "\n";
      const input = readProcrecJsonLines(
        [new TextEncoder().encode(text)],
        "ev.jsonl",
      );
      const e = await refusal(() => Array.fromAsync(input.events));
      const what = `${kind} info ${toJson(info)}: ${e.message}`;
      assert(e instanceof ImportInputError, what);
      assert(
        e.message.startsWith(
          `Cannot import "ev.jsonl": line 3: field "${field}" `,
        ) && e.message.includes("expected"),
        what,
      );
    }
  }
});

Deno.test("valid optional header fields read, and survive export jsonl then import: command, import, a redacted copy of a redacted copy", async () => {
  await withTempDir(async (dir) => {
    const fields = {
      command: { argv: ["make", "-j2"], pid: 4000, onlyCommand: true },
      import: {
        format: "sysmon",
        files: [{ name: "a.jsonl", sha256: "ab".repeat(32) }],
      },
      redaction: {
        ...REDACTION,
        source: {
          path: "b.zip#b.cbor",
          sha256: "cd".repeat(32),
          bytes: 1234,
          finalHash: "ef".repeat(32),
          complete: true,
          host: "h",
          bootId: "b",
          startUtcNs: 1_790_000_000_000_000_000n,
          redaction: {
            ...REDACTION,
            source: {
              path: "c.cbor",
              sha256: "01".repeat(32),
              bytes: 99,
              complete: false,
              host: "h",
              bootId: "b",
              startUtcNs: 5n,
            },
          },
        },
      },
    };
    const path = `${dir}/ok.cbor`;
    await writeWith(path, badHeader(fields));
    const r = await RecordingReader.open(path);
    const h = r.header as unknown as Record<string, unknown>;
    assertEquals(toJson(h.command), toJson(fields.command));
    assertEquals(toJson(h.import), toJson(fields.import));
    assertEquals(toJson(h.redaction), toJson(fields.redaction));
    await Array.fromAsync(r.events()); // read to the end: the file closed
    const line = describeRedaction(r.header.redaction!);
    assert(
      line.includes("rules pw") && line.includes("b.zip#b.cbor") &&
        !line.includes("undefined"),
      line,
    );
    // through the JSON lines of export and back
    const input = readProcrecJsonLines(
      [new TextEncoder().encode(procrecHeaderLine(r.header) + "\n")],
      "ok.jsonl",
    );
    const back = await input.header() as unknown as Record<string, unknown>;
    assertEquals(toJson(back.redaction), toJson(fields.redaction));
    assertEquals(toJson(back.command), toJson(fields.command));
    const v = await procrec(["verify", path]);
    assertEquals(v.code, 0, v.stdout + v.stderr);
    assert(v.stdout.includes("redacted: rules pw"), v.stdout);
  });
});

Deno.test("the segments of a directory read with their links, and a later segment's header (previous, final hash as bytes) survives export jsonl then import", async () => {
  await withTempDir(async (dir) => {
    const base = testHeader().timeBase.utcNs;
    let now = base;
    const w = await SegmentWriter.open(testHeader(), {
      dir,
      writer: { flushIntervalMs: 0 },
      nowUtcNs: () => now,
    });
    for (let k = 0; k < 3; k++) {
      if (k > 0) {
        now = base + BigInt(k) * 10_000_000_000n;
        await w.rotateNow();
      }
      w.write(processCreate(k * 10_000_000_000 + 5, 3000 + k, 1));
    }
    now = base + 40_000_000_000n;
    await w.close();
    const names = (await Array.fromAsync(Deno.readDir(dir)))
      .map((e) => e.name).sort();
    assertEquals(names.length, 3);
    const second = await RecordingReader.open(`${dir}/${names[1]}`);
    const seg = second.header.segment!;
    assertEquals(seg.index, 1);
    assertEquals(typeof seg.startUtcNs, "bigint");
    assert(seg.previous?.finalHash instanceof Uint8Array);
    const events: ProcEvent[] = await Array.fromAsync(second.events());
    assert(events.some((e) => e.pid === 3001), JSON.stringify(events));
    const input = readProcrecJsonLines(
      [new TextEncoder().encode(procrecHeaderLine(second.header) + "\n")],
      "seg.jsonl",
    );
    const back = (await input.header()).segment!;
    assertEquals(back.startUtcNs, seg.startUtcNs);
    assertEquals(
      [...back.previous!.finalHash],
      [...seg.previous!.finalHash],
    );
    const r = await procrec(["replay", dir]);
    assertEquals(r.code, 0, r.stderr);
    for (const pid of [3000, 3001, 3002]) {
      assert(r.stdout.includes(`[${pid}]`), r.stdout);
    }
  });
});

Deno.test("a later segment exported and imported, or redacted, replays as the segment does: the processes alive at its start once, not twice", async () => {
  await withTempDir(async (dir) => {
    const base = testHeader().timeBase.utcNs;
    let now = base;
    const segs = `${dir}/segs`;
    await Deno.mkdir(segs);
    const w = await SegmentWriter.open(testHeader(), {
      dir: segs,
      writer: { flushIntervalMs: 0 },
      nowUtcNs: () => now,
    });
    // three processes that live on into the second segment
    for (let pid = 3000; pid < 3003; pid++) {
      w.write(processCreate(pid - 2000, pid, 1));
    }
    now = base + 10_000_000_000n;
    await w.rotateNow();
    w.write(processCreate(10_000_000_005, 4000, 3000));
    now = base + 20_000_000_000n;
    await w.close();
    const names = (await Array.fromAsync(Deno.readDir(segs)))
      .map((e) => e.name).sort();
    assertEquals(names.length, 2);
    const second = `${segs}/${names[1]}`;
    const want = await procrec(["replay", "--summary", second]);
    assertEquals(want.code, 0, want.stderr);
    assert(
      want.stdout.includes("3 running before the recording"),
      want.stdout,
    );
    const ex = await procrec(["export", second, "-o", `${dir}/s.jsonl`]);
    assertEquals(ex.code, 0, ex.stderr);
    const im = await procrec([
      "import",
      "jsonl",
      `${dir}/s.jsonl`,
      "-o",
      `${dir}/s.cbor`,
    ]);
    assertEquals(im.code, 0, im.stderr);
    const got = await procrec(["replay", "--summary", `${dir}/s.cbor`]);
    assertEquals(got.code, 0, got.stderr);
    assertEquals(got.stdout, want.stdout);
    const r = await RecordingReader.open(`${dir}/s.cbor`);
    assertEquals(r.header.segment, undefined);
    assert(
      r.header.source.reason?.includes("export of segment 1 ("),
      r.header.source.reason,
    );
    // procrec redact of the segment, and of its copy: the same summary
    await Deno.writeTextFile(
      `${dir}/rules.json`,
      '{"rules":[{"name":"pw","flag":"-p","separate":false}]}',
    );
    const k = await procrec(["keygen", "--redact", "-o", `${dir}/k`]);
    assertEquals(k.code, 0, k.stderr);
    const redact = ["--rules", `${dir}/rules.json`, "--redact-key", `${dir}/k`];
    let from = second;
    for (const to of [`${dir}/r1.cbor`, `${dir}/r2.cbor`]) {
      const rd = await procrec(["redact", from, "-o", to, ...redact]);
      assertEquals(rd.code, 0, rd.stderr);
      const again = await procrec(["replay", "--summary", to]);
      assertEquals(again.code, 0, again.stderr);
      assertEquals(again.stdout, want.stdout, `redacted into ${to}`);
      from = to;
    }
  });
});

Deno.test("every fixture recording's header still reads", async () => {
  const paths: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else if (e.name.endsWith(".cbor")) paths.push(`${d}/${e.name}`);
    }
  };
  await walk(`${ROOT}fixtures`);
  assert(paths.length >= 10, paths.join());
  for (const p of paths) {
    const r = await RecordingReader.open(p);
    assert(r.header.os === "linux" || r.header.os === "windows", p);
    await Array.fromAsync(r.events());
  }
});

Deno.test("ocsfMapper() maps an os outside the format to OCSF's Other, never throws", () => {
  const toOcsf = ocsfMapper({
    host: "h",
    os: "darwin" as "linux",
    bootId: "b",
    timeBase: { monoNs: 0n, utcNs: 5_000_000n },
  });
  const out = toOcsf(processCreate(5, 100, 1)) as unknown as {
    device: { os: { name: string; type_id: number; type: string } };
  };
  assertEquals(out.device.os, { name: "darwin", type_id: 99, type: "Other" });
});

Deno.test("describeRedaction() shows a field of another shape as ?, never undefined", () => {
  const line = describeRedaction({
    hmac: 5,
    keyId: null,
    rules: [null, { name: 5, flag: "x" }],
    source: "x",
  } as unknown as RedactionInfo);
  assert(!line.includes("undefined"), line);
  assert(line.startsWith("redacted: rules ?, ? (?, key ?)"), line);
});
