/**
 * The diff never trusts a hash alone: two subtrees that a fast 64-bit mix
 * maps to the same value still differ in the diff. The two arguments below
 * were crafted to collide under the mix the diff used to skip "identical"
 * subtrees (FNV-1a and a murmur-style lane, both 32-bit); the test checks
 * that they do, then that the diff reports the difference they hide.
 */
import { analyze } from "../cli/analysis/mod.ts";
import { diffForests, renderDiff } from "../cli/diff/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";

/** The 64-bit mix diffForests hashed canonical subtrees with before. */
function oldMix(s: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") +
    (h2 >>> 0).toString(16).padStart(8, "0");
}

// found by a birthday search over two-character prefixes, then one last
// character each that cancels the remaining 16-bit difference of both lanes
const X: string = "\u58e0\u8565\u4e00";
const Y: string = "\u8b9a\u548d\ub04e";

/** A parent `sh` with one child `/usr/bin/tool ARG` (both exit 0). */
function run(arg: string, pidBase: number): ProcEvent[] {
  const parent = pidBase, child = pidBase + 1;
  return [
    {
      kind: "process_create",
      t: 1,
      pid: parent,
      tid: parent,
      ppid: 1,
      ptid: 1,
      creatorPid: 1,
      creatorTid: 1,
      start: 1,
      info: { image: "/bin/sh", argv: ["sh", "-c", "tool"], from: {} },
    },
    {
      kind: "process_create",
      t: 2,
      pid: child,
      tid: child,
      ppid: parent,
      ptid: parent,
      creatorPid: parent,
      creatorTid: parent,
      start: 2,
      info: { image: "/usr/bin/tool", argv: [arg], from: {} },
    },
    { kind: "process_exit", t: 3, pid: child, tid: child, status: 0 },
    { kind: "process_exit", t: 4, pid: parent, tid: parent, status: 0 },
  ];
}

Deno.test("the crafted arguments collide under the old 64-bit mix", () => {
  // the canonical text of a leaf: image NUL command, exit, threads, children
  const leaf = (arg: string) =>
    `/usr/bin/tool\u0000'${arg}'\u0001exit 0\u00011\u0001`;
  if (X === Y || oldMix(leaf(X)) !== oldMix(leaf(Y))) {
    throw new Error("the test arguments do not collide");
  }
});

Deno.test("diffForests() reports a child whose subtree collides with the other side's under a fast hash", async () => {
  const meta = { os: "linux" as const, bootId: "b" };
  const a = await analyze(run(X, 100), meta);
  const b = await analyze(run(Y, 200), meta);
  const d = diffForests(a, b);
  if (d.same) {
    throw new Error("the diff calls two different trees the same");
  }
  if (
    d.changed.length !== 1 || d.changed[0].changes[0].field !== "argv" ||
    d.changed[0].a.command !== `'${X}'` || d.changed[0].b.command !== `'${Y}'`
  ) {
    throw new Error(`unexpected diff:\n${renderDiff(d, "a", "b")}`);
  }
  if (!diffForests(a, await analyze(run(X, 300), meta)).same) {
    throw new Error("equal trees differ");
  }
});
