/**
 * `record --follow` on the real kernel: in a pseudo-terminal (script(1)) a
 * spawned process's line appears within a second, filters choose the lines
 * but not what is recorded; `--json` makes JSON lines; the filters without
 * --follow are a usage error.
 */
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  PROCREC,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const unavailable = await captureUnavailable();

/** Waits until `ok()` holds or `ms` pass; whether it held. */
async function waitFor(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return ok();
}

captureTest(
  "record --follow in a pseudo-terminal prints a spawned process's line within a second; the recording keeps everything",
  async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/follow.cbor`;
      const tag = `follow${crypto.randomUUID().slice(0, 8)}`;
      const cmd =
        `${PROCREC} record --follow --cmdline ${tag} --duration 120s -o ${out}`;
      const term = new Deno.Command("script", {
        args: ["-qfec", cmd, "/dev/null"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let text = "";
      const dec = new TextDecoder();
      const reading = (async () => {
        for await (const c of term.stdout) text += dec.decode(c);
      })();
      const stderr = new Response(term.stderr).text();
      const stdin = term.stdin.getWriter();
      try {
        // the recorder is attached once a probe's line shows
        let ready = false;
        for (let i = 0; i < 150 && !ready; i++) {
          await new Deno.Command("/bin/sh", {
            args: ["-c", ":", `${tag}-ready-${i}`],
          }).output();
          ready = await waitFor(() => text.includes(`${tag}-ready-${i}`), 200);
        }
        assert(ready, `no probe line in 30 s:\n${text}`);

        const target = new Deno.Command("/bin/sh", {
          args: ["-c", "sleep 0.3; exit 7", `${tag}-target`],
        }).spawn();
        const pid = target.pid;
        const execLine = new RegExp(
          `exec +pid ${pid} +ppid ${Deno.pid} +root +/bin/sh -c 'sleep 0\\.3; exit 7' ${tag}-target`,
        );
        assert(
          await waitFor(() => execLine.test(text), 1000),
          `no exec line of pid ${pid} within a second:\n${text}`,
        );
        assertEquals((await target.status).code, 7);
        const exitLine = new RegExp(
          `exit +pid ${pid} +ppid ${Deno.pid} +root +exit 7`,
        );
        assert(
          await waitFor(() => exitLine.test(text), 5000),
          `no exit line of pid ${pid}:\n${text}`,
        );
        // sleep ran under it, without the tag: filtered out of the lines
        assert(!/ sleep 0\.3\r?\n/.test(text), text);
      } finally {
        // Ctrl-C through the terminal stops the recorder cleanly
        await stdin.write(new TextEncoder().encode("\x03"));
        const stopped = await Promise.race([
          term.status.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
        ]);
        if (!stopped) term.kill("SIGTERM");
        await stdin.close().catch(() => {});
        await term.status;
        await reading;
      }
      const err = await stderr;
      // the UTC time, flushed line by line as it happened (the terminal
      // also shows the summary, from stderr)
      const lines = text.split(/\r?\n/).filter((l) =>
        / (start|exec|exit) +pid \d+ /.test(l)
      );
      assert(lines.length >= 3, text);
      assert(
        lines.every((l) =>
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z {2}/.test(l)
        ),
        lines.join("\n"),
      );
      // the recording is whole: what the filter left out is in it too
      const tree = await procrec(["replay", out, "--cmdline", `${tag}-target`]);
      assertEquals(tree.code, 0, `${tree.stderr}\n${err}\n${text}`);
      assert(tree.stdout.includes("exit 7"), tree.stdout);
      assert(
        tree.stdout.includes(`* /bin/sh -c 'sleep 0.3; exit 7' ${tag}-target`),
        tree.stdout,
      );
      const sleep = await procrec(["replay", out, "--image", "sleep 0.3"]);
      assert(sleep.stdout.includes("* sleep 0.3"), sleep.stdout);
    });
  },
  unavailable,
);

captureTest(
  "record --follow --json prints JSON lines of the recorded command's processes",
  async () => {
    await withTempDir(async (dir) => {
      const tag = `json${crypto.randomUUID().slice(0, 8)}`;
      const r = await procrec([
        "record",
        "--follow",
        "--json",
        "--quiet",
        "--only-command",
        "-o",
        `${dir}/j.cbor`,
        "--",
        "/bin/sh",
        "-c",
        "/bin/sh -c 'exit 3' inner; true",
        tag,
      ]);
      assertEquals(r.code, 0, r.stderr);
      const rows = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
      const inner = rows.filter((x) =>
        x.command?.includes("inner") || x.status === "exit 3"
      );
      assert(
        inner.some((x) =>
          x.event === "exec" && x.command === "/bin/sh -c 'exit 3' inner"
        ),
        r.stdout,
      );
      const exit = rows.find((x) =>
        x.event === "exit" && x.status === "exit 3"
      );
      assert(exit !== undefined, r.stdout);
      assertEquals(typeof exit.time, "string");
      assertEquals(typeof exit.t, "number");
      assertEquals(exit.user, "root");
      // the replay of the recording gives the same timeline
      const ev = await procrec([
        "replay",
        `${dir}/j.cbor`,
        "--events",
        "--json",
      ]);
      const replayed = ev.stdout.trimEnd().split("\n").map((l) =>
        JSON.parse(l)
      );
      // (whole rows, start rows too: they once had the creation event's
      // time and the parent's command live, the start time and "?" on
      // replay)
      const key = (x: object) => JSON.stringify(x);
      assertEquals(rows.map(key).sort(), replayed.map(key).sort());
      assert(
        rows.some((x) =>
          x.event === "start" &&
          x.command ===
            `/bin/sh -c '/bin/sh -c '\\''exit 3'\\'' inner; true' ${tag}`
        ),
        r.stdout,
      );
    });
  },
  unavailable,
);

Deno.test("record's filters, --json and --time without --follow are usage errors", async () => {
  for (
    const args of [
      ["--image", "x"],
      ["--json"],
      ["--time", "utc"],
      ["--failed"],
    ]
  ) {
    const r = await procrec(["record", ...args, "--duration", "1s"]);
    assertEquals(r.code, 2, args.join(" "));
    assert(r.stderr.includes("go with --follow"), r.stderr);
  }
  const t = await procrec(["record", "--follow", "--time", "gmt"]);
  assertEquals(t.code, 2);
  assert(t.stderr.includes('--time "gmt"'), t.stderr);
});
