/**
 * `replay --events` shows on each row who the process was at that moment:
 * a process that ran setpriv as root, dropped to nobody and exec'd a setuid
 * root program shows "root" on its start and setpriv rows and "nobody as
 * root" only from the setuid exec on (found by review: every row showed the
 * process's final user). A fork shows its parent's user at the fork; a
 * process whose parent is not in the recording, its first exec's.
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { processCreate, writeRecording } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const S = 1_000_000_000;

function run(
  t: number,
  pid: number,
  argv: string[],
  uid: number,
  euid: number,
): ProcEvent {
  return {
    kind: "exec",
    t,
    pid,
    tid: pid,
    info: {
      image: `/usr/bin/${argv[0]}`,
      argv,
      uid,
      euid,
      gid: uid,
      egid: uid,
      from: { image: "proc", argv: "proc" },
    },
  };
}

const EVENTS: ProcEvent[] = [
  {
    kind: "accounts",
    t: 0,
    pid: 0,
    tid: 0,
    users: [[0, "root"], [65534, "nobody"]],
    groups: [[0, "root"], [65534, "nogroup"]],
  },
  processCreate(1 * S, 200, 1),
  run(1 * S + 10, 200, ["sh", "-c", "setpriv ..."], 0, 0),
  processCreate(2 * S, 201, 200),
  run(2.1 * S, 201, ["setpriv", "--reuid=65534", "--", "passwd", "-S"], 0, 0),
  run(2.2 * S, 201, ["passwd", "-S"], 65534, 0),
  { kind: "process_exit", t: 3 * S, pid: 201, tid: 201, status: 0 },
  { kind: "process_exit", t: 4 * S, pid: 200, tid: 200, status: 0 },
];

/** pid 201's rows: event and user, in order. */
const WANT = [
  ["start", "root"],
  ["exec", "root"],
  ["exec", "nobody as root"],
  ["exit", "nobody as root"],
];

Deno.test("replay --events shows each row's user at that moment: root before the setuid exec, nobody as root from it on", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/setuid.cbor`;
    await writeRecording(rec, EVENTS);
    const text = await procrec(["replay", rec, "--events", "--pid", "201"]);
    assertEquals(text.code, 0, text.stderr);
    const rows = text.stdout.trim().split("\n").map((l) => {
      const m = / {2}(start|exec|exit) +pid 201 {2}ppid 200 {2}(.*?) {2}/.exec(
        l,
      );
      assert(m, l);
      return [m[1], m[2]];
    });
    assertEquals(rows, WANT, text.stdout);
    const json = await procrec([
      "replay",
      rec,
      "--events",
      "--json",
      "--pid",
      "201",
    ]);
    assertEquals(json.code, 0, json.stderr);
    const got = json.stdout.trim().split("\n").map((l) => JSON.parse(l)).map((
      r,
    ) => [r.event, r.user]);
    assertEquals(got, WANT, json.stdout);
    // the parent's start (no parent in the recording): no user known by
    // then, so none (not its later exec's: found by review), then its exec's
    const parent = await procrec(["replay", rec, "--events", "--pid", "200"]);
    assert(
      /start {2}pid 200 {2}ppid 1 {2}- {2}/.test(parent.stdout),
      parent.stdout,
    );
    assert(
      /exec {3}pid 200 {2}ppid 1 {2}root {2}/.test(parent.stdout),
      parent.stdout,
    );
  }, "procrec-events-identity-");
});
