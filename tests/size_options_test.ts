/**
 * The kernel buffer sizes of `record` (--rcvbuf-bytes, --bpf-ring-bytes): a
 * value the kernel would not take as it is stops the recorder with exit
 * status 2 and a message that names the option and the accepted range;
 * before, 1 byte of BPF ring ran with 16 KiB, 3 GiB with 1 GiB, and a 3 GiB
 * receive buffer with INT_MAX bytes (which the kernel lowered again), all
 * silently. Values in the range run.
 */
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrecRecord,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

const page = Number(
  new TextDecoder().decode(
    (await new Deno.Command("getconf", { args: ["PAGESIZE"] }).output())
      .stdout,
  ).trim(),
);
const rcvbufRange = "takes 4096 to 1073741823 bytes (4 KiB to 1 GiB - 1)";
// (a ring holds the largest exec record, about 26 KiB: 32 KiB at least)
const least = Math.max(page, 32768);
const ringRange = `takes a power of two from ${least} to 1073741824 bytes (${
  least / 1024
} KiB, to hold the largest exec record, to 1 GiB)`;

for (
  const [source, flag, value, message] of [
    [
      "netlink",
      "--rcvbuf-bytes",
      "3GiB",
      `rcvbuf_bytes 3221225472 is out of range: the proc connector's receive buffer ${rcvbufRange}`,
    ],
    [
      "netlink",
      "--rcvbuf-bytes",
      "1024",
      `rcvbuf_bytes 1024 is out of range: the proc connector's receive buffer ${rcvbufRange}`,
    ],
    [
      "ebpf",
      "--bpf-ring-bytes",
      "1",
      `bpf_ring_bytes 1 is out of range: the eBPF ring ${ringRange}`,
    ],
    [
      "ebpf",
      "--bpf-ring-bytes",
      "16KiB",
      `bpf_ring_bytes 16384 is out of range: the eBPF ring ${ringRange}`,
    ],
    [
      "ebpf",
      "--bpf-ring-bytes",
      "3GiB",
      `bpf_ring_bytes 3221225472 is out of range: the eBPF ring ${ringRange}`,
    ],
    [
      "ebpf",
      "--bpf-ring-bytes",
      "10MiB",
      `bpf_ring_bytes 10485760 is not a power of two: the eBPF ring ${ringRange}, such as 8388608 or 16777216`,
    ],
    // refused whichever source records: never ignored
    [
      "netlink",
      "--bpf-ring-bytes",
      "1",
      `bpf_ring_bytes 1 is out of range: the eBPF ring ${ringRange}`,
    ],
  ] as const
) {
  captureTest(
    `record --source ${source} ${flag} ${value} is refused, exit status 2, naming the option and its range`,
    async () => {
      await withTempDir(async (dir) => {
        const out = `${dir}/x.cbor`;
        const r = await procrecRecord(source, out, ["/bin/true"], {
          flags: [flag, value],
        });
        assertEquals(r.code, 2, r.stderr);
        assert(r.stderr.includes(message), r.stderr);
        assert(r.stderr.includes("invalid argument"), r.stderr);
      }, "procrec-size-options-");
    },
    why,
  );
}

for (
  const [source, flag, value] of [
    ["netlink", "--rcvbuf-bytes", "4KiB"],
    ["netlink", "--rcvbuf-bytes", "1073741823"],
    ["ebpf", "--bpf-ring-bytes", String(least)],
    ["ebpf", "--bpf-ring-bytes", "16MiB"],
  ] as const
) {
  captureTest(
    `record --source ${source} ${flag} ${value} runs`,
    async () => {
      await withTempDir(async (dir) => {
        const out = `${dir}/x.cbor`;
        const r = await procrecRecord(source, out, ["/bin/true"], {
          flags: [flag, value, "--only-command", "--no-image-hash"],
        });
        assertEquals(r.code, 0, r.stderr);
      }, "procrec-size-options-");
    },
    why,
  );
}
