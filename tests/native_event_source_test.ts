/**
 * The FFI binding in process: load errors, status errors, and (as root) a
 * real source read with `nonblocking: true` and decoded.
 */
import {
  AbiMismatchError,
  decodeRecords,
  EventSource,
  LibraryLoadError,
  NativeError,
  NotSupportedError,
  PrivilegeError,
  statusError,
  unloadLibraries,
} from "../cli/native/mod.ts";
import { sampleTimeBase } from "../cli/record/recording_header.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
} from "./_record_helpers.ts";

Deno.test("loadLibrary() names the missing library and `make build`, with the cause", () => {
  let err: unknown;
  try {
    EventSource.open({}, "/nonexistent/libprocrec.so");
  } catch (e) {
    err = e;
  }
  assert(err instanceof LibraryLoadError, String(err));
  assert(err.message.includes('"/nonexistent/libprocrec.so"'), err.message);
  assert(err.message.includes("make build"), err.message);
  assert(err.cause instanceof Error, "the load error is kept as the cause");
});

Deno.test("statusError() turns each C status into its typed error", () => {
  const perm = statusError(
    -2,
    "open the netlink event source",
    "bind: EPERM",
    "CAP_NET_ADMIN",
  );
  assert(perm instanceof PrivilegeError && perm.privilege === "CAP_NET_ADMIN");
  assert(
    perm.message.startsWith(
      "Cannot open the netlink event source: missing privilege CAP_NET_ADMIN",
    ),
  );
  assert(statusError(-3, "x", "") instanceof NotSupportedError);
  assert(statusError(-7, "x", "") instanceof AbiMismatchError);
  assert(statusError(-1, "x", "") instanceof RangeError);
  const io = statusError(-5, "read the event source", "recv: EIO");
  assert(
    io instanceof NativeError && io.status === -5 &&
      io.message.includes("PR_E_IO"),
    io.message,
  );
});

const why = await captureUnavailable();

for (const source of ["netlink", "auto"] as const) {
  captureTest(
    `EventSource (${source}) reads records without blocking and they decode into the events of a new process`,
    async () => {
      const base = sampleTimeBase().monoNs;
      const src = EventSource.open({ source });
      try {
        src.start();
        const info = src.info();
        assert(
          info.name === "netlink" || info.name === "ebpf",
          JSON.stringify(info),
        );
        if (source === "netlink") assertEquals(info.name, "netlink");
        const child = new Deno.Command("/bin/sleep", { args: ["0.2"] }).spawn();
        await child.status;
        const buf = new Uint8Array(1 << 20);
        let ticks = 0;
        const timer = setInterval(() => ticks++, 5);
        const seen = new Set<string>();
        let snapshots = 0;
        try {
          for (let i = 0; i < 1000 && !seen.has("process_exit"); i++) {
            const n = await src.read(buf, 100);
            const { events, unknown, invalid } = decodeRecords(
              buf.subarray(0, n),
              base,
            );
            assertEquals([unknown, invalid], [0, 0]);
            for (const e of events) {
              if (e.kind === "process_snapshot") snapshots++;
              if (e.pid === child.pid && e.kind !== "lost") seen.add(e.kind);
            }
          }
        } finally {
          clearInterval(timer);
        }
        assert(
          seen.has("process_create") && seen.has("exec") &&
            seen.has("process_exit"),
          [...seen].join(),
        );
        assert(
          snapshots > 0,
          "the processes already running come first, as snapshots",
        );
        const stats = src.stats();
        assert(
          stats.records > 0n && stats.bytes > 0n,
          JSON.stringify(
            stats,
            (_k, v) => typeof v === "bigint" ? Number(v) : v,
          ),
        );
        src.stop();
      } finally {
        await src.close();
        unloadLibraries();
      }
    },
    why,
  );
}
