/**
 * Without the privilege to load BPF (root, minus CAP_BPF, CAP_PERFMON and
 * CAP_SYS_ADMIN; CAP_NET_ADMIN kept): `--source auto` records with the proc
 * connector and the header says why eBPF was not used; `--source ebpf` fails
 * with a clear message and exit status 2. With it, `--source auto` records
 * with eBPF and the header says why too.
 */
import { RecordingReader } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrecRecord,
  withTempDir,
} from "./_record_helpers.ts";

const NO_BPF = [
  "setpriv",
  "--bounding-set=-bpf,-perfmon,-sys_admin",
  "--inh-caps=-bpf,-perfmon,-sys_admin",
];

const why = await captureUnavailable();

function test(name: string, fn: (dir: string) => Promise<void>) {
  captureTest(name, () => withTempDir(fn, "procrec-nobpf-"), why);
}

test("record --source auto without CAP_BPF falls back to the proc connector and says why", async (dir) => {
  const out = `${dir}/x.cbor`;
  const r = await procrecRecord("auto", out, ["true"], { prefix: NO_BPF });
  assertEquals(r.code, 0, `exit status (stderr: ${r.stderr})`);
  const reader = await RecordingReader.open(out);
  const source = reader.header.source;
  await Array.fromAsync(reader.events()); // reads to the end (and closes the file)
  assertEquals(source.name, "netlink", "header.source.name");
  assert(
    /eBPF unavailable: .*not allowed to load BPF/.test(source.reason),
    `header.source.reason does not say why: ${source.reason}`,
  );
  assert(r.stderr.includes("not allowed to load BPF"), `stderr: ${r.stderr}`);
});

test("record --source ebpf without CAP_BPF fails with a clear message, exit status 2", async (dir) => {
  const out = `${dir}/x.cbor`;
  const r = await procrecRecord("ebpf", out, ["true"], { prefix: NO_BPF });
  assertEquals(r.code, 2, `exit status (stderr: ${r.stderr})`);
  assert(
    /CAP_BPF/.test(r.stderr),
    `stderr does not name the privilege: ${r.stderr}`,
  );
  assertEquals(
    [...Deno.readDirSync(dir)].map((e) => e.name),
    [],
    "files left behind",
  );
});

test("record --source auto with CAP_BPF records with eBPF and the header says why", async (dir) => {
  const out = `${dir}/x.cbor`;
  const r = await procrecRecord("auto", out, ["true"]);
  assertEquals(r.code, 0, `exit status (stderr: ${r.stderr})`);
  const reader = await RecordingReader.open(out);
  const source = reader.header.source;
  await Array.fromAsync(reader.events());
  let btf = true;
  try {
    await Deno.stat("/sys/kernel/btf/vmlinux");
  } catch {
    btf = false;
  }
  if (btf) {
    assertEquals(source.name, "ebpf", `header.source: ${source.reason}`);
    assertEquals(
      source.reason,
      "chosen automatically: kernel BTF present at /sys/kernel/btf/vmlinux, BPF programs loaded and attached",
    );
  } else {
    assertEquals(source.name, "netlink");
    assert(source.reason.includes("no BTF"), source.reason);
  }
});
