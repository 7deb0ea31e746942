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
 * `--hash-cache` without image hashing is a usage error. A recorder saves
 * the file while it runs, so that a recorder started meanwhile finds what it
 * hashed.
 */
import type { ImageHash, ProcEvent } from "../cli/events/types.ts";
import { HASH_CACHE_SAVE_ENV } from "../cli/commands/record.ts";
import { readRecording } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  exists,
  PROCREC,
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

/**
 * A copy of /bin/sleep in `dir` that the cache may keep (older than the 2 s
 * rule: a file changed more recently is never cached), and its SHA-256.
 */
async function builtSleep(dir: string): Promise<{ bin: string; want: string }> {
  const bin = `${dir}/built-sleep`;
  await Deno.copyFile("/bin/sleep", bin);
  await Deno.chmod(bin, 0o755);
  await new Promise((r) => setTimeout(r, 2200));
  return { bin, want: await sha256sum(bin) };
}

captureTest(
  "record --hash-cache: a second run takes an unchanged binary's hash from the first run's file (cached, not read); a modified one is read again",
  async () => {
    await withTempDir(async (dir) => {
      const { bin, want } = await builtSleep(dir);
      const cache = `${dir}/cache/image-hashes`;
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

/** Whether the bytes of `file` hold the SHA-256 given in hex (a cache entry's). */
async function holdsHash(file: string, hex: string): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch {
    return false;
  }
  const want = hex.match(/../g)!.map((h) => parseInt(h, 16));
  outer: for (let i = 0; i + want.length <= bytes.length; i++) {
    for (let j = 0; j < want.length; j++) {
      if (bytes[i + j] !== want[j]) continue outer;
    }
    return true;
  }
  return false;
}

captureTest(
  "record --hash-cache: a running recorder saves its cache while it records; a recorder started meanwhile takes the hash it read from there (cached)",
  async () => {
    await withTempDir(async (dir) => {
      const { bin, want } = await builtSleep(dir);
      const cache = `${dir}/cache/image-hashes`;
      // the long recorder: its command runs the binary, then waits for a
      // line on stdin; it saves its cache every 200 ms when it read images
      const long = new Deno.Command(PROCREC, {
        args: [
          "record",
          "--source",
          "auto",
          "--only-command",
          "-q",
          "--hash-cache",
          cache,
          "-o",
          `${dir}/long.cbor`,
          "--",
          "sh",
          "-c",
          '"$0" 0.05; read line',
          bin,
        ],
        env: { [HASH_CACHE_SAVE_ENV]: "200" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stdin = long.stdin.getWriter();
      let ended: Deno.CommandOutput | undefined;
      const end = async () => {
        if (ended) return ended;
        await stdin.write(new TextEncoder().encode("\n"));
        await stdin.close();
        return ended = await long.output();
      };
      try {
        let saved = false;
        for (let i = 0; i < 150 && !saved; i++) {
          await new Promise((r) => setTimeout(r, 100));
          saved = await holdsHash(cache, want);
        }
        assert(saved, "the cache file holds the binary's hash while it runs");
        // another recorder of the boot, while the long one still runs
        const other = await recordOnce(dir, "other", bin, [
          "--hash-cache",
          cache,
        ]);
        assert(
          await exists(`/proc/${long.pid}`),
          "the long recorder still runs",
        );
        assertEquals(other.hash?.status, "ok", JSON.stringify(other.hash));
        assertEquals(other.hash?.sha256, want, "sha256sum's hash");
        assertEquals(
          other.hash?.cached,
          true,
          "from the file the running recorder saved",
        );
        assertEquals(other.stderr, "");
      } finally {
        await end();
      }
      const out = await end();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      const { events } = await readRecording(`${dir}/long.cbor`);
      const first = hashOf(events, bin);
      assertEquals(first?.sha256, want);
      assert(!first?.cached, "the long recorder read it");
    });
  },
  unavailable,
);
