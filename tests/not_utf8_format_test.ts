/**
 * Format 7's `notUtf8`: a field whose text had bytes that are not UTF-8 has 8
 * added to its provenance code in `info.from`. The writer's encoding, the
 * generic decoder and the fast chunk decoder agree on it, other codes are
 * refused with the field named, and a recording carries it through replay's
 * analysis to the tree's `{not-utf8}` flag. (The library's encoder against
 * the TypeScript path: chunk_encoder_test.ts; the kernel's names:
 * not_utf8_capture_test.ts.)
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { newEncoder } from "../cli/log/_cbor.ts";
import { decodeRecords } from "../cli/native/decode_records.ts";
import { decodeEventBody } from "../cli/log/decode_event_body.ts";
import {
  decodeEvent,
  encodeEvent,
  FORMAT_VERSION,
  READABLE_VERSIONS,
} from "../cli/log/mod.ts";
import { analyze, renderTree } from "../cli/analysis/mod.ts";
import {
  procrecEventLine,
  procrecHeaderLine,
} from "../cli/interop/procrec_json.ts";
import { readProcrecJsonLines } from "../cli/interop/read_procrec_json_lines.ts";
import { Redactor } from "../cli/redact/redactor.ts";
import { parseRedactionRules } from "../cli/redact/redaction_rules.ts";
import { assert, assertEquals } from "./_record_helpers.ts";
import { processCreate } from "./_recording_helpers.ts";

/** An exec (its info's `from` first, as the decoders make it). */
const exec = (
  { from, ...rest }: Record<string, unknown>,
  pid = 7,
): ProcEvent =>
  ({
    kind: "exec",
    t: 2,
    pid,
    tid: pid,
    info: { from, ...rest },
  }) as unknown as ProcEvent;

/** The message of what `f` throws, or "" when it returns. */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

Deno.test("notUtf8 is 8 added to the field's provenance code, read back by both decoders", () => {
  assert(FORMAT_VERSION >= 8, "notUtf8 came with version 8");
  assert(
    READABLE_VERSIONS.includes(6) && READABLE_VERSIONS.includes(7) &&
      READABLE_VERSIONS.includes(8),
    "versions 6 to 8 are still read",
  );
  const cases: [Record<string, unknown>, number[]][] = [
    [
      {
        image: "/tmp/\uFFFD-x",
        argv: ["\uFFFD-x"],
        comm: "\uFFFD-x",
        from: { image: "kernel", argv: "kernel", comm: "kernel" },
        notUtf8: ["image", "argv", "comm"],
      },
      [9, 9, 9, 0, 0],
    ],
    // no provenance said, and the cgroup past the fifth code
    [
      {
        cwd: "/\uFFFD",
        cgroup: "/a\uFFFD",
        from: { cgroup: "proc" },
        notUtf8: ["cwd", "cgroup"],
      },
      [0, 0, 0, 8, 0, 0, 0, 10],
    ],
    // the Windows user (cred) and a command line (argv)
    [
      {
        cmdline: "x \uFFFD",
        user: "\uFFFD",
        from: { argv: "kernel", cred: "kernel" },
        notUtf8: ["argv", "cred"],
      },
      [0, 9, 0, 0, 9],
    ],
  ];
  for (const [info, codes] of cases) {
    const e = exec(info);
    const array = encodeEvent(e) as unknown[];
    assertEquals((array[4] as unknown[])[6], codes, JSON.stringify(info));
    assertEquals(decodeEvent(array), e);
    // the fast decoder of a chunk body gives up on it, or gives the same
    const body = newEncoder().encode([array, encodeEvent(exec(info))]);
    const fast = decodeEventBody(body);
    if (fast !== undefined) assertEquals(fast, [e, e]);
  }
  // a text that was UTF-8 says nothing
  const plain = exec({ image: "/bin/ls", from: { image: "kernel" } });
  assertEquals(decodeEvent(encodeEvent(plain)), plain);
  assertEquals(
    ((encodeEvent(plain) as unknown[])[4] as unknown[])[6],
    [1, 0, 0, 0, 0],
  );
});

Deno.test("a provenance code that is neither 0-5 nor, for a text with a value, that plus 8 is refused, naming the field", () => {
  // bad codes at argv's place; 8 added where there is no text (file, ns)
  // or no value (gone 3, denied 4)
  const cases: [unknown[], number][] = [
    ...[6, 7, 14, 15, 16, 1.5, -1, "1", 11, 12].map((bad) =>
      [[1, bad], 1] as [unknown[], number]
    ),
    [[1, 0, 0, 0, 0, 9], 5],
    [[1, 0, 0, 0, 0, 0, 10], 6],
    [[1, 0, 0, 0, 0, 0, 0, 12], 7],
  ];
  for (const [from, at] of cases) {
    const array = encodeEvent(
      exec({ image: "/x", from: { image: "kernel" } }),
    ) as unknown[];
    (array[4] as unknown[])[6] = from;
    const message = errorOf(() => decodeEvent(array));
    assert(
      message.includes(`"info.from[${at}]"`) &&
        message.includes("expected a provenance code 0-5 (plus 8"),
      `${from}: ${message}`,
    );
  }
  // 8 on a text field, with its value told or imported: read
  for (const code of [8, 9, 10, 13]) {
    const array = encodeEvent(
      exec({ image: "/x", cgroup: "/a\ufffd", from: { image: "kernel" } }),
    ) as unknown[];
    (array[4] as unknown[])[6] = [1, 0, 0, 0, 0, 0, 0, code];
    const e = decodeEvent(array);
    assert(e.kind === "exec" && e.info.notUtf8?.join() === "cgroup");
  }
});

Deno.test("a provenance code that says a text was not UTF-8 when the info has no such text is refused, naming the field and the text", () => {
  // the argv's flag is read with a command line for the text too
  const cmdline = encodeEvent(
    exec({ image: "/x", cmdline: "x \ufffd", from: { image: "kernel" } }),
  ) as unknown[];
  (cmdline[4] as unknown[])[6] = [1, 9];
  const read = decodeEvent(cmdline);
  assert(read.kind === "exec" && read.info.notUtf8?.join() === "argv");
  const cases: [number, string][] = [
    [1, "info.argv or info.cmdline"],
    [2, "info.comm"],
    [3, "info.cwd"],
    [4, "info.user"],
    [7, "info.cgroup"],
  ];
  for (const [at, text] of cases) {
    const array = encodeEvent(
      exec({ image: "/x", from: { image: "kernel" } }),
    ) as unknown[];
    const from = [1, 0, 0, 0, 0, 0, 0, 0];
    from[at] = 9;
    (array[4] as unknown[])[6] = from;
    const message = errorOf(() => decodeEvent(array));
    assert(
      message.includes(`"info.from[${at}]"`) &&
        message.includes(`expected ${text} (absent)`),
      `${at}: ${message}`,
    );
  }
  // the image's own: an exec whose image is absent
  const array = encodeEvent(exec({ argv: ["x"], from: {} })) as unknown[];
  (array[4] as unknown[])[6] = [9];
  assert(errorOf(() => decodeEvent(array)).includes("expected info.image"));
});

Deno.test("the analysis keeps notUtf8 on the exec step, a fork copies it, a comm event's flags its process, and the tree shows each", async () => {
  const events: ProcEvent[] = [
    processCreate(0, 10, 1),
    exec({
      image: "/tmp/\uFFFD",
      argv: ["/tmp/\uFFFD"],
      from: { image: "kernel", argv: "kernel" },
      notUtf8: ["image", "argv"],
    }, 10),
    // a fork that never execs: its step is its parent's image
    processCreate(3, 11, 10),
    processCreate(4, 7, 1),
    exec({ image: "/bin/ls", argv: ["ls"], from: { image: "kernel" } }, 7),
    // a command name a process gave itself
    { kind: "comm", t: 5, pid: 7, tid: 7, comm: "\uFFFDx", notUtf8: true },
  ];
  const forest = await analyze(events, { os: "linux", bootId: "b" });
  const p10 = forest.processes.find((p) => p.pid === 10)!;
  assertEquals(p10.execs.at(-1)?.notUtf8, ["image", "argv"]);
  const p11 = forest.processes.find((p) => p.pid === 11)!;
  assertEquals(p11.execs.map((s) => s.via), ["fork"]);
  assertEquals(p11.execs[0].notUtf8, ["image", "argv"]);
  // pid 7's exec (ls) was UTF-8: no identity flag, but the comm it took
  const p7 = forest.processes.find((p) => p.pid === 7)!;
  assertEquals(p7.execs.at(-1)?.notUtf8, undefined);
  assertEquals(p7.flags, ["comm-not-utf8"]);
  assertEquals(p10.flags, []);
  const lines = renderTree(forest).split("\n");
  for (const pid of [10, 11]) {
    const l = lines.find((x) => x.includes(`[${pid}]`));
    assert(l?.includes("not-utf8"), lines.join("\n"));
  }
  const l7 = lines.find((x) => x.includes("[7]")) ?? "";
  assert(
    l7.includes("comm-not-utf8") && !/[{ ]not-utf8/.test(l7),
    lines.join("\n"),
  );
});

Deno.test("import jsonl refuses a notUtf8 that is not a list of distinct text fields, naming the line and field", async () => {
  const header = {
    format: "procrec",
    version: 7,
    host: "h",
    os: "linux",
    kernel: "6",
    bootId: "b",
    timeBase: { monoNs: 0n, utcNs: 1n },
    clock: { source: "s", monoToUtcNs: 1n },
    tool: { name: "procrec", version: "0" },
    source: { name: "t", reason: "test" },
    options: {},
  } as const;
  const line = (notUtf8: unknown) =>
    procrecEventLine(
      exec({ image: "/x", argv: ["x"], from: { image: "kernel" }, notUtf8 }),
    );
  for (
    const bad of ["imagecwd", ["bogus"], ["file"], [], ["image", "image"], 5]
  ) {
    const text = procrecHeaderLine(header) + "\n" + line(bad) + "\n";
    const input = readProcrecJsonLines(
      [new TextEncoder().encode(text)],
      "x.jsonl",
    );
    let message = "";
    try {
      await Array.fromAsync(input.events);
    } catch (e) {
      message = (e as Error).message;
    }
    assert(
      message.includes("x.jsonl") && message.includes("line 2") &&
        message.includes("info.notUtf8"),
      `${JSON.stringify(bad)}: ${message}`,
    );
  }
  // a good one is kept
  const ok = readProcrecJsonLines([
    new TextEncoder().encode(
      procrecHeaderLine(header) + "\n" + line(["image", "argv"]) + "\n",
    ),
  ], "x.jsonl");
  const [e] = await Array.fromAsync(ok.events);
  assertEquals(e.kind === "exec" ? e.info.notUtf8 : undefined, [
    "image",
    "argv",
  ]);
});

Deno.test("redaction keeps notUtf8: field names, not text from the host", () => {
  const r = new Redactor(
    parseRedactionRules(
      JSON.stringify({ rules: [{ name: "all", match: ".+" }] }),
      "rules.json",
    ),
    new Uint8Array(32).fill(3),
  );
  const e = r.event(exec({
    image: "/tmp/\uFFFD",
    comm: "\uFFFD",
    from: { image: "kernel", comm: "kernel" },
    notUtf8: ["image", "comm"],
  }));
  assert(e.kind === "exec" && e.info.image?.startsWith("[redacted:all:"));
  assertEquals(e.kind === "exec" ? e.info.notUtf8 : undefined, [
    "image",
    "comm",
  ]);
});

Deno.test("comm-not-utf8: not for the rename an exec makes (eBPF reports it as a comm event, before or after the exec), and a fork that runs under the name has it too, until its exec renames it", async () => {
  const bad = "\uFFFD-sleep";
  const comm = (pid: number, t: number, c: string): ProcEvent => ({
    kind: "comm",
    t,
    pid,
    tid: pid,
    comm: c,
    notUtf8: true,
  });
  const execAt = (pid: number, t: number): ProcEvent => ({
    kind: "exec",
    t,
    pid,
    tid: pid,
    info: {
      from: { image: "kernel", comm: "kernel" },
      image: `/tmp/${bad}`,
      comm: bad,
      notUtf8: ["image", "comm"],
    },
  });
  const forest = await analyze([
    // the exec's rename, told before the exec and after it
    processCreate(0, 20, 1),
    comm(20, 1, bad),
    execAt(20, 1),
    processCreate(2, 21, 1),
    execAt(21, 3),
    comm(21, 3, bad),
    // a name a process gives itself, then a fork that runs under it
    processCreate(4, 22, 1),
    exec({ image: "/usr/bin/python3", argv: ["python3"], from: {} }, 22),
    comm(22, 5, "\uFFFDkworker"),
    processCreate(6, 23, 22),
    // another fork, which execs at once: renamed by its exec
    processCreate(7, 24, 22),
    exec({ image: "/bin/cp", argv: ["cp"], comm: "cp", from: {} }, 24),
  ], { os: "linux", bootId: "b" });
  const flags = (pid: number) =>
    forest.processes.find((p) => p.pid === pid)!.flags;
  assertEquals(flags(20), []);
  assertEquals(flags(21), []);
  assertEquals(flags(22), ["comm-not-utf8"]);
  assertEquals(flags(23), ["comm-not-utf8"]);
  assertEquals(flags(24), []);
});

Deno.test("a comm event's notUtf8 is true or absent: false is refused", () => {
  const array = encodeEvent({
    kind: "comm",
    t: 1,
    pid: 2,
    tid: 2,
    comm: "x",
    notUtf8: true,
  }) as unknown[];
  assertEquals(array.at(-1), true);
  array[array.length - 1] = false;
  const message = errorOf(() => decodeEvent(array));
  assert(message.includes('"notUtf8" is false'), message);
  const body = newEncoder().encode([array]);
  const fast = errorOf(() => decodeEventBody(body));
  // (the fast decoder gives the body up, or refuses it the same way)
  assert(fast === "" || fast.includes("notUtf8"), fast);
});

/** An exec rule's decision, as the enforcer reports one. */
const decision = (
  kind: "exec_denied" | "exec_audited",
  extra: Record<string, unknown>,
) =>
  ({
    kind,
    t: 5,
    pid: 7,
    tid: 7,
    rule: "r",
    image: "/tmp/\uFFFD",
    ppid: 1,
    uid: 0,
    euid: 0,
    ...extra,
  }) as unknown as ProcEvent;

Deno.test("a decision's notUtf8 (format 8) is its last field, read back by both decoders; a list that is not some of image, argv, parentImage, cgroup in order is refused", () => {
  for (const kind of ["exec_denied", "exec_audited"] as const) {
    const e = decision(kind, {
      argv: ["\uFFFD"],
      parentImage: "/p\uFFFD",
      cgroup: "/c\uFFFD",
      notUtf8: ["image", "argv", "parentImage", "cgroup"],
    });
    const array = encodeEvent(e) as unknown[];
    // after byContent (and, audited, exempt), nulls between
    assertEquals(array.length, kind === "exec_denied" ? 17 : 18);
    assertEquals(array.at(-1), ["image", "argv", "parentImage", "cgroup"]);
    assertEquals(decodeEvent(array), e);
    const body = newEncoder().encode([array, array]);
    const fast = decodeEventBody(body);
    if (fast !== undefined) assertEquals(fast, [e, e]);
    // without it, the array ends where it did (a version 7 decision)
    const plain = decision(kind, { image: "/tmp/x", byContent: true });
    assertEquals(
      (encodeEvent(plain) as unknown[]).length,
      kind === "exec_denied" ? 16 : 17,
    );
    assertEquals(decodeEvent(encodeEvent(plain)), plain);
    for (
      const bad of [
        [],
        ["argv", "image"],
        ["image", "image"],
        ["comm"],
        ["image", 3],
        "image",
      ]
    ) {
      const a = [...array];
      a[a.length - 1] = bad;
      const message = errorOf(() => decodeEvent(a));
      assert(
        message.includes(`${kind} event field "notUtf8"`),
        `${JSON.stringify(bad)}: ${message}`,
      );
      const fastMessage = errorOf(() =>
        decodeEventBody(newEncoder().encode([a]))
      );
      // (the fast decoder gives the body up, or refuses it the same way)
      assert(fastMessage === "" || fastMessage.includes("notUtf8"));
      assertEquals(
        decodeEventBody(newEncoder().encode([a])),
        undefined,
        `the fast decoder takes ${JSON.stringify(bad)}`,
      );
    }
  }
});

Deno.test("a decision's notUtf8 that names a text the decision does not have is refused, naming it", () => {
  for (
    const [extra, missing] of [
      [{ notUtf8: ["image", "argv"] }, "argv"],
      [{ argv: ["a"], notUtf8: ["parentImage"] }, "parentImage"],
      [{ parentImage: "/p", notUtf8: ["cgroup"] }, "cgroup"],
    ] as const
  ) {
    const array = encodeEvent(decision("exec_denied", extra)) as unknown[];
    const message = errorOf(() => decodeEvent(array));
    assert(
      message.includes(`"notUtf8" names "${missing}"`),
      `${missing}: ${message}`,
    );
    assertEquals(decodeEventBody(newEncoder().encode([array])), undefined);
  }
});

Deno.test("the analysis keeps a decision's notUtf8, and the tree says which texts were not UTF-8", async () => {
  const events: ProcEvent[] = [
    processCreate(1, 7, 1),
    decision("exec_denied", {
      t: 9,
      argv: ["x"],
      byContent: true,
      notUtf8: ["image"],
    }),
    decision("exec_audited", { t: 10, image: "/bin/echo", argv: ["echo"] }),
  ];
  const f = await analyze(events, { os: "linux", bootId: "b" });
  const d = f.processes[0].decisions ?? [];
  assertEquals(d.map((x) => x.notUtf8), [["image"], undefined]);
  const tree = renderTree(f);
  assert(
    tree.includes(
      "EXEC DENIED /tmp/\uFFFD (rule r, a copy by content, not UTF-8: image)",
    ) && tree.includes("exec audited /bin/echo (rule r)"),
    tree,
  );
});

/** A `pr_rec_image_load` (procrec_abi.h) whose name is `name`'s bytes. */
function imageLoadRecord(name: Uint8Array, mono: bigint): Uint8Array {
  const size = Math.ceil((64 + name.length) / 8) * 8;
  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  v.setUint16(0, 9, true);
  v.setUint32(4, size, true);
  v.setBigUint64(16, mono, true);
  v.setBigUint64(24, mono, true);
  v.setUint32(32, 9, true);
  v.setUint32(36, 9, true);
  v.setBigUint64(40, 0x7f00n, true);
  v.setBigUint64(48, 4096n, true);
  v.setUint32(56, 64, true);
  v.setUint32(60, name.length, true);
  buf.set(name, 64);
  return buf;
}

Deno.test("an image load whose name was not UTF-16 (a lone surrogate's WTF-8) says so: notUtf8 true (format 8), read back by both decoders, false refused", () => {
  const enc = new TextEncoder();
  const wtf8 = new Uint8Array([
    ...enc.encode("C:\\x"),
    0xed,
    0xb0,
    0x80,
    ...enc.encode(".dll"),
  ]);
  const a = imageLoadRecord(wtf8, 1_000n),
    b = imageLoadRecord(
      enc.encode("C:\\é.dll"),
      2_000n,
    );
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  const { events } = decodeRecords(both, 0n);
  assertEquals(events.map((e) => e.kind === "image_load" && e.notUtf8), [
    true,
    undefined,
  ]);
  const [bad] = events;
  assert(bad.kind === "image_load");
  assertEquals(bad.image, "C:\\x\ufffd\ufffd\ufffd.dll");
  const array = encodeEvent(bad) as unknown[];
  assertEquals(array.length, 8);
  assertEquals(decodeEvent(array), bad);
  const fast = decodeEventBody(newEncoder().encode([array]));
  if (fast !== undefined) assertEquals(fast, [bad]);
  array[7] = false;
  const message = errorOf(() => decodeEvent(array));
  assert(
    message.includes('image_load event field "notUtf8" is false'),
    message,
  );
  assertEquals(
    decodeEventBody(newEncoder().encode([array])),
    undefined,
    "the fast decoder takes false",
  );
});
