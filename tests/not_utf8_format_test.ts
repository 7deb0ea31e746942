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
import { decodeEventBody } from "../cli/log/decode_event_body.ts";
import {
  decodeEvent,
  encodeEvent,
  FORMAT_VERSION,
  READABLE_VERSIONS,
} from "../cli/log/mod.ts";
import { analyze, renderTree } from "../cli/analysis/mod.ts";
import { assert, assertEquals } from "./_record_helpers.ts";

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

Deno.test("notUtf8 is 8 added to the field's provenance code, read back by both decoders", () => {
  assertEquals(FORMAT_VERSION, 7);
  assert(READABLE_VERSIONS.includes(6), "version 6 is still read");
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

Deno.test("a provenance code that is neither 0-5 nor that plus 8 is refused, naming the field", () => {
  for (const bad of [6, 7, 14, 15, 16, 1.5, -1, "1"]) {
    const array = encodeEvent(
      exec({ image: "/x", from: { image: "kernel" } }),
    ) as unknown[];
    (array[4] as unknown[])[6] = [1, bad];
    let message = "";
    try {
      decodeEvent(array);
    } catch (e) {
      message = (e as Error).message;
    }
    assert(
      message.includes('"info.from[1]"') &&
        message.includes("expected a provenance code 0-5 (plus 8"),
      `${bad}: ${message}`,
    );
  }
});

Deno.test("the analysis keeps notUtf8 on the exec step, a fork copies it, and the tree flags both", async () => {
  const create = (pid: number, ppid: number, t: number): ProcEvent => ({
    kind: "process_create",
    t,
    pid,
    tid: pid,
    ppid,
    ptid: ppid,
    creatorPid: ppid,
    creatorTid: ppid,
    start: t,
  });
  const events: ProcEvent[] = [
    create(10, 1, 0),
    exec({
      image: "/tmp/\uFFFD",
      argv: ["/tmp/\uFFFD"],
      from: { image: "kernel", argv: "kernel" },
      notUtf8: ["image", "argv"],
    }, 10),
    // a fork that never execs: its step is its parent's image
    create(11, 10, 3),
    create(7, 1, 4),
    exec({ image: "/bin/ls", argv: ["ls"], from: { image: "kernel" } }, 7),
  ];
  const forest = await analyze(events, { os: "linux", bootId: "b" });
  const p10 = forest.processes.find((p) => p.pid === 10)!;
  assertEquals(p10.execs.at(-1)?.notUtf8, ["image", "argv"]);
  const p11 = forest.processes.find((p) => p.pid === 11)!;
  assertEquals(p11.execs.map((s) => s.via), ["fork"]);
  assertEquals(p11.execs[0].notUtf8, ["image", "argv"]);
  // pid 7's exec (ls) was UTF-8: no flag
  const p7 = forest.processes.find((p) => p.pid === 7)!;
  assertEquals(p7.execs.at(-1)?.notUtf8, undefined);
  const lines = renderTree(forest).split("\n");
  for (const pid of [10, 11]) {
    const l = lines.find((x) => x.includes(`[${pid}]`));
    assert(l?.includes("not-utf8"), lines.join("\n"));
  }
  assert(
    !lines.find((x) => x.includes("[7]"))?.includes("not-utf8"),
    lines.join("\n"),
  );
});
