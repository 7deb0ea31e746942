/**
 * The account tables a recording keeps: read at the start and again when
 * /etc/passwd or /etc/group change; replay names users from the recording,
 * not from the examiner's machine.
 */
import { AccountWatcher } from "../cli/record/account_watcher.ts";
import { analyze, renderTree } from "../cli/analysis/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { assert, assertEquals, withTempDir } from "./_record_helpers.ts";

Deno.test("AccountWatcher gives the tables at the first poll, nothing while unchanged, and new tables after a change", () =>
  withTempDir(async (dir) => {
    const files = { passwd: `${dir}/passwd`, group: `${dir}/group` };
    await Deno.writeTextFile(files.passwd, "root:x:0:0::/root:/bin/sh\n");
    await Deno.writeTextFile(files.group, "root:x:0:\nstaff:x:50:\n");
    const w = new AccountWatcher(files);
    const first = await w.poll(1);
    assertEquals(first?.users, [[0, "root"]], "users");
    assertEquals(first?.groups, [[0, "root"], [50, "staff"]], "groups");
    assertEquals(await w.poll(2), undefined, "unchanged");
    await Deno.writeTextFile(
      files.passwd,
      "root:x:0:0::/root:/bin/sh\nmallory:x:1001:1001::/home/m:/bin/sh\n",
    );
    const next = await w.poll(3);
    assertEquals(next?.t, 3, "time of the change");
    assertEquals(next?.users, [[0, "root"], [1001, "mallory"]], "new users");
  }));

Deno.test("the tree names users from the recording's accounts events, as they were at each exec", async () => {
  const exec = (
    t: number,
    pid: number,
    uid: number,
    euid: number,
  ): ProcEvent => ({
    kind: "exec",
    t,
    pid,
    tid: pid,
    info: {
      image: "/usr/bin/passwd",
      argv: ["passwd", String(pid)],
      uid,
      euid,
      gid: uid,
      egid: uid,
      from: { cred: "kernel" },
    },
  });
  const events: ProcEvent[] = [
    {
      kind: "accounts",
      t: 0,
      pid: 0,
      tid: 0,
      users: [[0, "root"], [4321, "ghost"]],
      groups: [[0, "root"]],
    },
    exec(1, 10, 4321, 0),
    {
      kind: "accounts",
      t: 2,
      pid: 0,
      tid: 0,
      users: [[0, "root"], [4321, "renamed"]],
      groups: [],
    },
    exec(3, 11, 4321, 4321),
  ];
  const tree = renderTree(
    await analyze(events, { os: "linux", bootId: "b" }),
  );
  assert(tree.includes("user ghost as root  {setuid"), tree);
  assert(tree.includes("passwd 11  [11]"), tree);
  assert(/passwd 11 .*user renamed/.test(tree), tree);
});
