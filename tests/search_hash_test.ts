/**
 * `procrec search --hash` and `--user` on what a Linux recording keeps in
 * events of their own: an image's SHA-256 comes in an `image_hash` event
 * after its exec (joined by pid and `execT`), and user names in `accounts`
 * events (an exec names only the uid). Found by review: search read only the
 * exec's own description, so `--hash` never matched a Linux recording (while
 * `replay --hash` did) and `--user root` matched nothing. The hash rule is
 * replay's: the start (4 or more hex digits) of the recorded SHA-256 or of
 * any of Sysmon's Hashes, any case; anything else is a usage error.
 */
import type { ImageHash } from "../cli/events/types.ts";
import { readRecording } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  procrecRecord,
  ROOT,
  sha256sum,
  withTempDir,
} from "./_record_helpers.ts";
import type { SearchHit } from "../cli/fleet/search_recording.ts";

const unavailable = await captureUnavailable();
const LSASS =
  "fixtures/sysmon/otrf_lsass_campaign_01_logonpasswords_sysmon_eid1_eid5.jsonl";

/** `procrec search ARGS --json`: its exit status and hits. */
async function search(
  args: string[],
): Promise<{ code: number; hits: SearchHit[]; stderr: string }> {
  const r = await procrec(["search", ...args, "--json"]);
  const hits = r.stdout.split("\n").filter((l) => l !== "").map((l) =>
    JSON.parse(l) as SearchHit
  );
  return { code: r.code, hits, stderr: r.stderr };
}

/**
 * Records `sh -c 'IMPLANT 0.2; /bin/true'` on the real kernel, IMPLANT a
 * copy of /bin/sleep (a hash no other file here has); its path, hash and
 * the recording.
 */
async function recordImplant(
  dir: string,
): Promise<{ implant: string; want: string; rec: string }> {
  const implant = `${dir}/implant`;
  await Deno.copyFile("/bin/sleep", implant);
  await Deno.chmod(implant, 0o755);
  const rec = `${dir}/run.cbor`;
  const r = await procrecRecord(
    "auto",
    rec,
    ["/bin/sh", "-c", `${implant} 0.2; /bin/true`],
    { flags: ["--only-command", "-q", "--no-hash-cache"] },
  );
  assertEquals(r.code, 0, r.stderr);
  return { implant, want: await sha256sum(implant), rec };
}

captureTest(
  "search --hash finds a Linux exec by the hash its image_hash event gives: full, prefix, any case, as replay --hash",
  async () => {
    await withTempDir(async (dir) => {
      const { implant, want, rec } = await recordImplant(dir);
      // the premise: the exec names no hash, its image_hash event does
      const { events } = await readRecording(rec);
      const execs = events.filter((e) =>
        e.kind === "exec" && e.info.image === implant
      );
      assertEquals(execs.length, 1, "one exec of the implant");
      const exec = execs[0];
      assert(exec.kind === "exec" && exec.info.sha256 === undefined);
      const hashed = events.find((e): e is ImageHash =>
        e.kind === "image_hash" && e.pid === exec.pid && e.execT === exec.t
      );
      assertEquals(hashed?.sha256, want, JSON.stringify(hashed));

      for (
        const h of [want, want.slice(0, 8), `sha256:${want.toUpperCase()}`]
      ) {
        const r = await search([rec, "--hash", h]);
        assertEquals(r.code, 1, `--hash ${h}: ${r.stderr}`);
        assertEquals(
          r.hits.map((x) => [x.event, x.image, x.pid]),
          [["exec", implant, exec.pid]],
          `--hash ${h}`,
        );
      }
      // the same process replay --hash marks
      const replay = await procrec(["replay", rec, "--hash", want.slice(0, 8)]);
      assertEquals(replay.code, 0, replay.stderr);
      const marked = replay.stdout.split("\n").filter((l) => l.includes("* "));
      assertEquals(marked.length, 1, replay.stdout);
      assert(marked[0].includes(`[${exec.pid}]`), replay.stdout);

      // with the time window and other criteria: AND
      const t = await search([rec, "--hash", want, "--image", "implant"]);
      assertEquals(t.hits.length, 1, t.stderr);
      const other = await search([rec, "--hash", want, "--image", "true"]);
      assertEquals([other.code, other.hits.length], [0, 0], other.stderr);
      const late = await search([
        rec,
        "--hash",
        want,
        "--from",
        "2100-01-01T00:00:00Z",
      ]);
      assertEquals([late.code, late.hits.length], [0, 0], late.stderr);
      // a hash is matched from its start, not anywhere in it
      const inner = await search([rec, "--hash", want.slice(1, 12)]);
      assertEquals([inner.code, inner.hits.length], [0, 0], inner.stderr);

      // the hash is the exec's image's, not the process's: the shell's
      // hash hits its exec of the shell, not what else it exec'd
      const sh = events.find((e) =>
        e.kind === "exec" && e.info.argv?.[0] === "/bin/sh"
      );
      assert(sh && sh.kind === "exec", "the shell's exec");
      const shHash = events.find((e): e is ImageHash =>
        e.kind === "image_hash" && e.pid === sh.pid && e.execT === sh.t
      )?.sha256;
      assert(shHash !== undefined, "the shell's hash");
      const bySh = await search([rec, "--hash", shHash]);
      assert(bySh.hits.length >= 1, bySh.stderr);
      for (const h of bySh.hits) {
        assertEquals([h.event, h.image], ["exec", sh.info.image]);
      }
    });
  },
  unavailable,
);

captureTest(
  "search --user finds a Linux exec by the name the accounts event gives its uid, and the hit names it",
  async () => {
    await withTempDir(async (dir) => {
      const { implant, rec } = await recordImplant(dir);
      const uid = Deno.uid();
      const name = (await Deno.readTextFile("/etc/passwd")).split("\n")
        .map((l) => l.split(":")).find((f) => f[2] === String(uid))?.[0];
      assert(name !== undefined, `uid ${uid} has a name in /etc/passwd`);
      const { events } = await readRecording(rec);
      assert(
        events.some((e) => e.kind === "accounts"),
        "the recording names users in an accounts event",
      );
      for (const who of [name, name.toUpperCase(), String(uid)]) {
        const r = await search([rec, "--user", who, "--image", "implant"]);
        assertEquals(r.code, 1, `--user ${who}: ${r.stderr}`);
        assertEquals(
          r.hits.map((h) => [h.image, h.uid, h.user]),
          [[implant, uid, name]],
          `--user ${who}`,
        );
      }
      const text = await procrec(["search", rec, "--image", "implant"]);
      assert(text.stdout.includes(`  user ${name}\n`), text.stdout);
      const nobody = await search([rec, "--user", "no-such-user-here"]);
      assertEquals([nobody.code, nobody.hits.length], [0, 0], nobody.stderr);
    });
  },
  unavailable,
);

Deno.test("search --hash on a Sysmon import: any of Hashes (SHA256, SHA1, MD5, IMPHASH) by its start, any case", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/lsass.cbor`;
    const im = await procrec(["import", "sysmon", LSASS, "-o", rec]);
    assertEquals(im.code, 0, im.stderr);
    // every process create of msedge.exe gives these Hashes
    const creates = (await Deno.readTextFile(`${ROOT}${LSASS}`)).split("\n")
      .filter((l) =>
        l.includes('"EventID":1,') &&
        l.includes(
          "Hashes: SHA1=FA9E8B7FB10473A01B8925C4C5B0888924A1147C,MD5=AD8536C7440638D40156E883AC25086E,SHA256=73D84D249F16B943D1D3F9DD9E516FADD323E70939C29B4A640693EB8818EE9A,IMPHASH=3A3DE7172D7A4E00C1867DD2F13AD959",
        )
      ).length;
    assert(creates > 1, `${creates} creates`);
    const bySha = await search([
      rec,
      "--hash",
      "73D84D249F16B943D1D3F9DD9E516FADD323E70939C29B4A640693EB8818EE9A",
    ]);
    assertEquals(bySha.code, 1, bySha.stderr);
    assertEquals(bySha.hits.length, creates);
    assert(bySha.hits.every((h) => h.image?.endsWith("\\msedge.exe")));
    const pids = bySha.hits.map((h) => h.process);
    for (
      const h of [
        "73d84d249f16",
        "fa9e8b7fb104", // SHA1
        "AD8536C7440638D4", // MD5
        "ad8536c7440638d40156e883ac25086e",
        "3a3de7172d7a", // IMPHASH
      ]
    ) {
      const r = await search([rec, "--hash", h]);
      assertEquals(r.hits.map((x) => x.process), pids, `--hash ${h}`);
    }
  });
});

Deno.test("search --hash that is not a hash prefix exits 2 naming it", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/lsass.cbor`;
    const im = await procrec(["import", "sysmon", LSASS, "-o", rec]);
    assertEquals(im.code, 0, im.stderr);
    for (const bad of ["xyz123", "4ad", "73d8 4d24"]) {
      const r = await procrec(["search", rec, "--hash", bad]);
      assertEquals(r.code, 2, `--hash ${bad}: ${r.stdout}`);
      assert(
        r.stderr.includes("--hash") && r.stderr.includes(`"${bad}"`) &&
          r.stderr.includes("not a hash prefix"),
        r.stderr,
      );
    }
  });
});
