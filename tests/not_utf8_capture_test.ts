/**
 * Names whose bytes are not UTF-8, from the real kernel under both Linux
 * sources: a copy of sleep at a path with the bytes ff fe, run by that path.
 * Its image, arguments and comm read with U+FFFD, and the recording says so
 * (`notUtf8`, format 7): `replay --json` carries it, the tree flags the
 * process `{not-utf8}` and `--flag not-utf8` selects it. The hash is still
 * sha256sum's (the hash worker opens the exact path).
 */
import { readCompleteEvents } from "./_recording_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  procrecRecord,
  sha256sum,
  withTempDir,
} from "./_record_helpers.ts";

const unavailable = await captureUnavailable();

for (const source of ["ebpf", "netlink"]) {
  captureTest(
    `${source}: an image and arguments whose bytes are not UTF-8 are recorded as such (notUtf8), flagged in the tree, and hashed`,
    async () => {
      await withTempDir(async (dir) => {
        const out = `${dir}/u.cbor`;
        // (bash writes the bytes: a JavaScript string cannot hold them)
        const bin = `$'${dir}/\\xff\\xfe-sleep'`;
        // UTF-8, but 18 bytes: the kernel cuts its comm at 15, inside a
        // character (not a name that is not UTF-8)
        const accented = `${dir}/${"é".repeat(9)}`;
        const r = await procrecRecord(source, out, [
          "bash",
          "-c",
          // (run 0.1 s after the copy: an image written within 20 ms of its
          // exec, whose process ends before the hash worker gets to it, is
          // not hashed: it may have been written after the exec)
          // (a process may name itself with any bytes: its comm)
          `printf '\\xff\\xfeself' > /proc/$$/comm && cp /bin/sleep ${bin} && /bin/sleep 0.1 && ${bin} 0.05 && cp /bin/sleep ${accented} && ${accented} 0.01`,
        ], { flags: ["--only-command", "--no-hash-cache"] });
        assertEquals(r.code, 0, r.stderr);
        const shown = `${dir}/\uFFFD\uFFFD-sleep`;
        const events = await readCompleteEvents(out);
        const exec = events.find((e) =>
          e.kind === "exec" && e.info.image === shown
        );
        assert(
          exec?.kind === "exec",
          JSON.stringify(events.filter((e) => e.kind === "exec")),
        );
        assertEquals(exec.info.argv, [shown, "0.05"]);
        assertEquals(exec.info.notUtf8, ["image", "argv", "comm"]);
        const renamed = events.find((e) =>
          e.kind === "comm" && e.comm === "\uFFFD\uFFFDself"
        );
        assert(
          renamed?.kind === "comm",
          JSON.stringify(events.filter((e) => e.kind === "comm")),
        );
        assertEquals(renamed.notUtf8, true);
        // (eBPF also reports the comm an exec sets: the copy's name is not
        // UTF-8; the accented one was cut by the kernel, and is not flagged)
        for (const e of events) {
          if (e.kind === "comm") {
            assertEquals(
              e.notUtf8,
              e.comm.includes("\uFFFD") && !e.comm.startsWith("é")
                ? true
                : undefined,
              JSON.stringify(e),
            );
          }
        }
        const cut = events.find((e) =>
          e.kind === "exec" && e.info.image === accented
        );
        assert(cut?.kind === "exec", JSON.stringify(events));
        assertEquals(cut.info.comm, "é".repeat(7) + "\uFFFD");
        assertEquals(cut.info.notUtf8, undefined);
        // the other execs: cp's arguments name the copy (not UTF-8), every
        // other name is UTF-8
        for (const e of events) {
          if (e.kind === "exec" && e !== exec) {
            assertEquals(
              e.info.notUtf8,
              e.info.argv?.some((a) => a.includes("\uFFFD"))
                ? ["argv"]
                : undefined,
              JSON.stringify(e),
            );
          }
        }
        const hash = events.find((e) =>
          e.kind === "image_hash" && e.pid === exec.pid && e.execT === exec.t
        );
        assertEquals(
          hash?.kind === "image_hash" ? hash.sha256 : undefined,
          await sha256sum("/bin/sleep"),
          JSON.stringify(hash),
        );

        const json = await procrec(["replay", out, "--json"]);
        assertEquals(json.code, 0, json.stderr);
        const forest = JSON.parse(json.stdout);
        const p = forest.processes.find((x: { image?: string }) =>
          x.image === shown
        );
        assertEquals(p?.execs.at(-1).notUtf8, ["image", "argv", "comm"]);

        const tree = await procrec(["replay", out]);
        assertEquals(tree.code, 0, tree.stderr);
        const line = tree.stdout.split("\n").find((l) => l.includes(shown));
        assert(line?.includes("not-utf8"), tree.stdout);
        // (flagged: the copy and cp, whose arguments name it; no other)
        for (const l of tree.stdout.split("\n")) {
          assertEquals(/[{ ]not-utf8/.test(l), l.includes("\uFFFD"), l);
        }
        // the shell that named itself with those bytes, which then ran the
        // accented copy; not the copy at the path that is not UTF-8 (eBPF
        // reports the rename its exec made as a comm event: not a name it
        // gave itself)
        const renamedLines = tree.stdout.split("\n").filter((l) =>
          l.includes("comm-not-utf8")
        );
        assertEquals(renamedLines.length, 1, tree.stdout);
        assert(renamedLines[0].includes(accented), tree.stdout);
        const only = await procrec(["replay", out, "--flag", "not-utf8"]);
        assertEquals(only.code, 0, only.stderr);
        assert(
          only.stdout.split("\n").some((l) =>
            l.includes(shown) && /^(\W*─ )?\* /.test(l)
          ),
          only.stdout,
        );
      });
    },
    unavailable,
  );
}
