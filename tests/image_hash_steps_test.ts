/**
 * Which exec step an `image_hash` event goes to: found through the
 * processes that held its pid (latest first), the first answer standing,
 * never a fork's step nor a creation's that names no image, however late it
 * comes.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { analyze } from "../cli/analysis/mod.ts";
import { assertEquals } from "./_record_helpers.ts";
import { processCreate } from "./_recording_helpers.ts";

const LINUX = { os: "linux", bootId: "b" } as const;

const exec = (t: number, pid: number, image: string): ProcEvent => ({
  kind: "exec",
  t,
  pid,
  tid: pid,
  info: { image, argv: [image], from: { image: "kernel", argv: "kernel" } },
});
const hash = (
  t: number,
  pid: number,
  execT: number,
  status: "ok" | "changed",
  sha?: string,
): ProcEvent =>
  ({
    kind: "image_hash",
    t,
    pid,
    tid: pid,
    execT,
    status,
    ...(sha ? { sha256: sha } : {}),
    ...(status === "changed" ? { reason: "ctime-after-exec" } : {}),
  }) as ProcEvent;
const exit = (t: number, pid: number): ProcEvent => ({
  kind: "process_exit",
  t,
  pid,
  tid: pid,
  status: 0,
});
const A = "a".repeat(64), B = "b".repeat(64);

/** Each process's steps as `via image sha256|hashState`. */
async function steps(events: ProcEvent[]): Promise<string[][]> {
  const f = await analyze(events, LINUX);
  return f.processes.map((p) =>
    p.execs.map((s) =>
      `${s.via} ${s.image} ${s.sha256?.slice(0, 1) ?? s.hashState ?? "-"}`
    )
  );
}

Deno.test("an image hash goes to its exec's step even when the pid was taken again before it came, and to no other", async () => {
  assertEquals(
    await steps([
      processCreate(1, 100, 1),
      exec(2, 100, "/bin/old"),
      exit(3, 100),
      processCreate(4, 100, 1),
      exec(5, 100, "/bin/new"),
      // the old exec's hash comes after the new holder's exec
      hash(6, 100, 2, "ok", A),
      hash(7, 100, 5, "ok", B),
      // about no step: an exec time that is not one, another pid
      hash(8, 100, 3, "ok", A),
      hash(9, 555, 5, "ok", A),
    ]),
    [["exec /bin/old a"], ["exec /bin/new b"]],
  );
});

Deno.test("the first image hash of a step stands: a later one for the same exec changes nothing", async () => {
  assertEquals(
    await steps([
      processCreate(1, 100, 1),
      exec(2, 100, "/bin/a"),
      hash(3, 100, 2, "ok", A),
      hash(4, 100, 2, "changed"),
      hash(5, 100, 2, "ok", B),
      processCreate(6, 200, 1),
      exec(7, 200, "/bin/b"),
      hash(8, 200, 7, "changed"),
      hash(9, 200, 7, "ok", A),
    ]),
    [["exec /bin/a a"], ["exec /bin/b changed"]],
  );
});

Deno.test("a fork's step and a creation's that names no image take no hash; a hash after 100,000 other execs still finds its step", async () => {
  const events: ProcEvent[] = [
    processCreate(1, 100, 1),
    exec(2, 100, "/bin/sh"),
    // a fork of the shell: its step is the parent's image, at its creation
    processCreate(3, 101, 100),
    hash(4, 101, 3, "ok", A),
    // a creation with a description but no image
    processCreate(5, 102, 1, {
      info: { argv: ["x"], from: { argv: "kernel" } },
    } as Partial<ProcEvent>),
    hash(6, 102, 5, "ok", A),
  ];
  for (let i = 0; i < 100_000; i++) {
    events.push(exec(10 + i, 1000 + (i % 50), "/bin/x"));
  }
  events.push(hash(200_000, 100, 2, "ok", B));
  const f = await analyze(events, LINUX);
  const byPid = (pid: number) => f.processes.find((p) => p.pid === pid)!;
  assertEquals(byPid(100).execs.map((s) => s.sha256?.[0]), ["b"]);
  assertEquals(
    byPid(101).execs.map((s) => [s.via, s.sha256]),
    [["fork", undefined]],
  );
  assertEquals(
    byPid(102).execs.map((s) => [s.via, s.sha256]),
    [["create", undefined]],
  );
});

Deno.test("a step's first image hash stands even when it carries no hash, and a step that names a hash in its description still takes the recorder's", async () => {
  const f = await analyze([
    processCreate(1, 100, 1),
    exec(2, 100, "/bin/a"),
    // ok without a sha256 (a recording may hold one): nothing to set, but
    // the answer is given
    { ...hash(3, 100, 2, "ok"), cached: true } as ProcEvent,
    hash(4, 100, 2, "ok", B),
    processCreate(5, 200, 1),
    {
      kind: "exec",
      t: 6,
      pid: 200,
      tid: 200,
      info: {
        image: "/bin/b",
        argv: ["b"],
        sha256: A,
        from: { image: "import", argv: "import" },
      },
    },
    { ...hash(7, 200, 6, "ok", B), cached: true } as ProcEvent,
  ], LINUX);
  const step = (pid: number) =>
    f.processes.find((p) => p.pid === pid)!.execs.at(-1)!;
  assertEquals([step(100).sha256, step(100).hashCached], [
    undefined,
    undefined,
  ]);
  assertEquals([step(200).sha256, step(200).hashCached], [B, true]);
});

Deno.test("an image hash finds its exec after its pid was taken again 20 times", async () => {
  const events: ProcEvent[] = [processCreate(1, 100, 1), exec(2, 100, "/a")];
  let t = 3;
  for (let i = 0; i < 20; i++) {
    events.push(exit(t++, 100), processCreate(t++, 100, 1));
  }
  events.push(hash(t, 100, 2, "ok", A));
  const f = await analyze(events, LINUX);
  assertEquals(f.processes[0].execs.map((s) => s.sha256?.[0]), ["a"]);
});
