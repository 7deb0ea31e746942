/**
 * The diff's canonical trees find each process's (image, command) key by
 * numbers (the image's and each argument's) and make its texts once per
 * distinct key (issue 16). They equal the trees made the plain way, with
 * every command made as text (no argument numbered), on every fixture and on
 * commands made to meet the edge cases: arguments left out by
 * `--ignore-argv`, arguments that need quoting, a command line equal to an
 * argv's text, a process with no image, and numbering that stops part way.
 */
import { analyze, type Forest } from "../cli/analysis/mod.ts";
import {
  canonicalize,
  type CNode,
  NormalizeMemo,
  Shapes,
} from "../cli/diff/_canonical_tree.ts";
import type { DiffOptions } from "../cli/diff/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader } from "../cli/log/mod.ts";
import { fixtureFiles } from "./_frame_by_frame.ts";
import { assertEquals } from "./_record_helpers.ts";

/** A canonical tree as plain data (what matching and reporting read). */
function plain(roots: CNode[]): unknown[] {
  const out: unknown[] = [];
  const walk = (c: CNode, depth: number) => {
    out.push([
      depth,
      c.key,
      c.nimage,
      c.cmd,
      c.rank,
      c.keyId,
      c.exit,
      c.threads,
      c.start,
      c.pid,
      c.id,
      c.shape,
      c.children.length,
    ]);
    for (const k of c.children) walk(k, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

/** Both sides' trees, with at most `maxArgTexts` argument texts numbered. */
function trees(a: Forest, b: Forest, options: DiffOptions, max?: number) {
  const memo = new NormalizeMemo(options, max);
  const shapes = new Shapes();
  return [
    plain(canonicalize(a, memo, shapes)),
    plain(canonicalize(b, memo, shapes)),
  ];
}

const OPTIONS: DiffOptions[] = [
  {},
  { volatile: false },
  { ignoreArgv: [/^--seed=.*$/, /\.o$/] },
];

async function forestOf(path: string): Promise<Forest> {
  const r = await RecordingReader.open(path);
  return await analyze(r.events(), {
    os: r.header.os,
    bootId: r.header.bootId,
  });
}

Deno.test("canonical trees by numbered keys equal the trees of commands made as text, on every fixture", async () => {
  const forests = await Promise.all((await fixtureFiles()).map(forestOf));
  for (let i = 0; i < forests.length; i++) {
    const a = forests[i], b = forests[(i + 1) % forests.length];
    for (const options of OPTIONS) {
      const want = trees(a, b, options, 0);
      assertEquals(trees(a, b, options), want, `fixture ${i}`);
      assertEquals(trees(a, b, options, 5), want, `fixture ${i}, 5 numbered`);
    }
  }
});

Deno.test("canonical trees by numbered keys equal the text-made ones where arguments are left out, quoted or equal to a command line", async () => {
  const events: ProcEvent[] = [];
  let pid = 10, t = 0;
  const run = (info: Record<string, unknown>) => {
    const p = pid++;
    t += 10;
    events.push({
      kind: "process_create",
      t,
      pid: p,
      tid: p,
      ppid: 1,
      ptid: 1,
      creatorPid: 1,
      creatorTid: 1,
      start: t,
      info: { from: {}, ...info },
    } as ProcEvent);
    events.push({ kind: "process_exit", t: t + 1, pid: p, tid: p, status: 0 });
  };
  const argvs = [
    ["cc", "-c", "a.c", "-o", "a.o"],
    ["cc", "-c", "a.c"], // the same once a.o is ignored whole
    ["cc", "--seed=12345", "-c", "a.c"],
    ["sh", "-c", "echo 'a b'"],
    ["sh", "-c", "echo", "'a", "b'"],
    ["<ignored>", "x"],
    [],
    ["--seed=1"],
  ];
  for (const argv of argvs) {
    run({ image: "/usr/bin/cc", argv });
    run({ image: "/usr/bin/cc", argv: [...argv] });
  }
  run({ image: "/usr/bin/cc", cmdline: "cc -c a.c" }); // the text of an argv
  run({ image: "/usr/bin/cc", cmdline: "" });
  run({ image: "/usr/bin/cc" });
  run({ comm: "kworker/0:1", argv: ["x"] });
  run({ argv: ["x"] });
  const a = await analyze(events, { os: "linux", bootId: "a" });
  const b = await analyze(events.slice(4), { os: "windows", bootId: "b" });
  for (const options of OPTIONS) {
    const want = trees(a, b, options, 0);
    assertEquals(trees(a, b, options), want);
    for (const max of [1, 2, 3, 7]) {
      assertEquals(trees(a, b, options, max), want, `${max} numbered`);
    }
  }
});
