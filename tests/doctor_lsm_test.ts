/**
 * doctor's BPF LSM and exec rules checks: active or not from the kernel's
 * LSM list (what to do names the lsm= boot parameter), unreadable securityfs
 * says how to mount it, and the exec rules check as root says they can be
 * enforced.
 */
import { checkBpfLsm, checkHost } from "../cli/record/check_host.ts";
import { unloadLibraries } from "../cli/native/ffi.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  withTempDir,
} from "./_record_helpers.ts";

Deno.test("checkBpfLsm says active, or not active with the lsm= boot parameter to set", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/on`, "lockdown,capability,landlock,bpf\n");
    const on = checkBpfLsm(`${dir}/on`);
    assertEquals([on.ok, on.warn, on.detail], [
      true,
      undefined,
      "active (the kernel's LSMs: lockdown,capability,landlock,bpf)",
    ]);
    await Deno.writeTextFile(`${dir}/off`, "lockdown,capability,bpfx\n");
    const off = checkBpfLsm(`${dir}/off`);
    assert(off.ok && off.warn, "a warning, not a failure");
    assert(off.detail.startsWith("not active"), off.detail);
    assert(off.fix?.includes("lsm=lockdown,capability,bpfx,bpf"), off.fix);
    const none = checkBpfLsm(`${dir}/missing`);
    assert(none.warn && none.detail.startsWith("cannot tell"), none.detail);
    assert(none.fix?.includes("mount -t securityfs"), none.fix);
  }).finally(unloadLibraries);
});

captureTest(
  "doctor as root says exec rules can be enforced",
  async () => {
    const r = await checkHost();
    const c = r.checks.find((c) => c.name === "exec rules (record --rules)");
    assert(c?.ok && !c.warn, JSON.stringify(c));
    assert(
      r.checks.some((c) => c.name === "BPF LSM"),
      "the BPF LSM check is there",
    );
  },
  await captureUnavailable(),
);
