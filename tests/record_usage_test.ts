import { assert, assertEquals, procrec } from "./_record_helpers.ts";

for (
  const [args, message] of [
    [["--ring-bytes", "lots"], '--ring-bytes "lots" is not a byte count'],
    [["--rcvbuf-bytes", "8GiB"], "--rcvbuf-bytes 8GiB is above 4 GiB"],
    [["--ring-bytes", "0"], "--ring-bytes 0 is not a size"],
    [["--duration", "soon"], 'Cannot parse duration "soon"'],
    [["--only-command"], "--only-command needs a command after --"],
    [["--source", "dtrace"], "argument 'dtrace' is invalid"],
  ] as const
) {
  Deno.test(`record ${args.join(" ")} is a usage error naming the problem, exit status 2`, async () => {
    const r = await procrec(["record", ...args, "-o", "/nonexistent/x.cbor"]);
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes(message), r.stderr);
  });
}

Deno.test("record --help explains the command with examples", async () => {
  const r = await procrec(["record", "--help"]);
  assertEquals(r.code, 0);
  for (
    const s of [
      "--only-command",
      "--source",
      "Examples:",
      "exit status",
      "procrec doctor",
    ]
  ) {
    assert(r.stdout.includes(s), `help lacks ${s}`);
  }
});
