/**
 * The image hash cache kept between runs (issue 16), end to end through
 * `procrec record --hash-cache FILE` on the real kernel: a binary the test
 * builds is read and hashed by the first run; a second run, given the file
 * the first one saved, records it `cached` with sha256sum's hash (not read:
 * the library's byte counter says so); after the binary is modified, a third
 * run reads it again and records the new hash. A cache file opened to group
 * and others is ignored with one warning naming it (and rewritten 0600 at
 * the stop); in a directory its group may write, it is neither used nor
 * written, with one warning; `--no-hash-cache` reads and writes none;
 * `--hash-cache` without image hashing is a usage error.
 */
import type { ImageHash, ProcEvent } from "../cli/events/types.ts";
import { readRecording } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  exists,
  procrec,
  procrecRecord,
  sha256sum,
  withTempDir,
} from "./_record_helpers.ts";

const unavailable = await captureUnavailable();

/** The hash event of the one exec of `image`. */
function hashOf(events: ProcEvent[], image: string): ImageHash | undefined {
  const execs = events.filter((e) =>
    e.kind === "exec" && e.info.image === image
  );
  assertEquals(execs.length, 1, `one exec of ${image}`);
  return events.find((e): e is ImageHash =>
    e.kind === "image_hash" && e.pid === execs[0].pid && e.execT === execs[0].t
  );
}

interface Run {
  hash: ImageHash | undefined;
  option: unknown;
  stderr: string;
  hashBytes: number;
}

/** Records `bin 0.05` with `flags`; the binary's hash event and the header's option. */
async function recordOnce(
  dir: string,
  name: string,
  bin: string,
  flags: string[],
): Promise<Run> {
  const out = `${dir}/${name}.cbor`, stats = `${dir}/${name}.json`;
  const r = await procrecRecord("auto", out, [bin, "0.05"], {
    flags: ["--only-command", "-q", ...flags],
    statsOut: stats,
  });
  assertEquals(r.code, 0, r.stderr);
  const { header, events } = await readRecording(out);
  const options = header.options as Record<string, unknown>;
  return {
    hash: hashOf(events, bin),
    option: options.hashCache,
    stderr: r.stderr,
    hashBytes: JSON.parse(await Deno.readTextFile(stats)).hashBytes,
  };
}

captureTest(
  "record --hash-cache: a second run takes an unchanged binary's hash from the first run's file (cached, not read); a modified one is read again",
  async () => {
    await withTempDir(async (dir) => {
      const bin = `${dir}/built-sleep`;
      const cache = `${dir}/cache/image-hashes`;
      await Deno.copyFile("/bin/sleep", bin);
      await Deno.chmod(bin, 0o755);
      // the 2 s rule: a file changed more recently is never cached
      await new Promise((r) => setTimeout(r, 2200));
      const want = await sha256sum(bin);
      const flags = ["--hash-cache", cache];

      const first = await recordOnce(dir, "first", bin, flags);
      assertEquals(first.hash?.status, "ok", JSON.stringify(first.hash));
      assertEquals(first.hash?.sha256, want);
      assert(!first.hash?.cached, "the first run reads it");
      assertEquals(first.option, { path: cache, loaded: 0 });
      const st = await Deno.stat(cache);
      assertEquals(st.mode! & 0o7777, 0o600, "the cache file is 0600");
      assertEquals(first.stderr, "", "no warning: there was no file yet");

      const second = await recordOnce(dir, "second", bin, flags);
      assertEquals(second.hash?.status, "ok", JSON.stringify(second.hash));
      assertEquals(
        second.hash?.sha256,
        want,
        "sha256sum's hash, from the file",
      );
      assertEquals(second.hash?.cached, true, JSON.stringify(second.hash));
      const opt = second.option as { path: string; loaded: number };
      assertEquals(opt.path, cache);
      assert(opt.loaded >= 1, `entries loaded: ${opt.loaded}`);
      assertEquals(second.stderr, "");

      // modified: another ctime, another key: read again, its new hash
      await Deno.writeFile(bin, new Uint8Array([0]), { append: true });
      const changed = await sha256sum(bin);
      assert(changed !== want);
      const third = await recordOnce(dir, "third", bin, flags);
      assertEquals(third.hash?.status, "ok", JSON.stringify(third.hash));
      assertEquals(third.hash?.sha256, changed, "the modified file's hash");
      assert(!third.hash?.cached, "the modified binary is read again");
      assert(third.hashBytes >= (await Deno.stat(bin)).size, "its bytes read");

      // a file others could have written is not trusted
      await Deno.chmod(cache, 0o644);
      const open = await recordOnce(dir, "open", bin, flags);
      const warnings = open.stderr.split("\n").filter((l) => l.includes(cache));
      assertEquals(warnings.length, 1, open.stderr);
      assert(
        /^procrec: warning: Cannot use the image hash cache ".*": it is mode 0644, expected 0600/
          .test(warnings[0]),
        warnings[0],
      );
      assertEquals(open.hash?.sha256, changed);
      assert(!open.hash?.cached, "read: the refused file gave nothing");
      assertEquals(
        (open.option as { loaded: number; refused: string }).loaded,
        0,
      );
      // ... and is replaced at the stop by a file of the recorder's own
      const healed = await Deno.stat(cache);
      assertEquals(healed.mode! & 0o7777, 0o600, "rewritten 0600");

      // a directory others may write: neither used nor written, one warning
      await Deno.chmod(`${dir}/cache`, 0o770);
      const shared = await recordOnce(dir, "shared", bin, flags);
      const lines = shared.stderr.split("\n").filter((l) => l.includes(cache));
      assertEquals(lines.length, 1, shared.stderr);
      assert(
        lines[0].includes("is writable by its group (mode 0770)") &&
          lines[0].includes("neither used nor written"),
        lines[0],
      );
      assert(!shared.hash?.cached, "read: the directory is not trusted");
      const after = await Deno.stat(cache);
      assertEquals(
        [after.ino, after.mtime?.getTime()],
        [healed.ino, healed.mtime?.getTime()],
        "not written into a directory others may write",
      );
    });
  },
  unavailable,
);

captureTest(
  "record --no-hash-cache reads and writes no cache file; --hash-cache needs image hashing",
  async () => {
    await withTempDir(async (dir) => {
      const cache = `${dir}/image-hashes`;
      const sleep = await Deno.realPath("/bin/sleep");
      const none = await recordOnce(dir, "none", sleep, [
        "--hash-cache",
        cache,
        "--no-hash-cache",
      ]);
      assertEquals(none.option, undefined);
      assert(!(await exists(cache)), "no file written");
      const bad = await procrec([
        "record",
        "--no-image-hash",
        "--hash-cache",
        cache,
        "-o",
        `${dir}/x.cbor`,
        "--",
        "/bin/true",
      ]);
      assertEquals(bad.code, 2, bad.stderr);
      assert(
        bad.stderr.includes("--hash-cache needs image hashing"),
        bad.stderr,
      );
    });
  },
  unavailable,
);
