/**
 * doctor's BPF LSM and exec rules checks: active or not from the kernel's
 * LSM list (what to do names the lsm= boot parameter), unreadable securityfs
 * says how to mount it, and the exec rules check as root says they can be
 * enforced.
 */
import {
  checkBpfLsm,
  checkBpfLsmLoad,
  checkHost,
} from "../cli/record/check_host.ts";
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

Deno.test("checkBpfLsmLoad names the kernel's answer to a minimal lsm/ program", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/lockdown`,
      "none [integrity] confidentiality\n",
    );
    const refused = checkBpfLsmLoad(
      () => ({
        loaded: false,
        hook: "bprm_check_security",
        btfId: 64471,
        errno: 1,
        log: "",
      }),
      `${dir}/lockdown`,
      true,
    );
    assert(refused.ok && refused.warn, "a warning, not a failure");
    assertEquals(
      refused.detail,
      "refused: BPF_PROG_LOAD of a minimal lsm/bprm_check_security program (BTF id 64471) fails with EPERM (Operation not permitted), verifier log empty; kernel lockdown: integrity",
    );
    assert(refused.fix?.includes("before its verifier ran"), refused.fix);
    const user = checkBpfLsmLoad(
      () => ({
        loaded: false,
        hook: "bprm_check_security",
        btfId: 64471,
        errno: 1,
        log: "",
      }),
      `${dir}/lockdown`,
      false,
    );
    assert(user.fix?.startsWith("run doctor as root"), user.fix);
    const verifier = checkBpfLsmLoad(() => ({
      loaded: false,
      hook: "bprm_check_security",
      btfId: 7,
      errno: 22,
      log: "0: R1=ctx\ninvalid attach",
    }), `${dir}/none`);
    assert(
      verifier.detail.includes(
        'EINVAL (Invalid argument), verifier log "0: R1=ctx invalid attach"',
      ) &&
        verifier.detail.endsWith(
          "kernel lockdown: unknown (securityfs not mounted)",
        ),
      verifier.detail,
    );
    const loads = checkBpfLsmLoad(() => ({
      loaded: true,
      hook: "bprm_check_security",
      btfId: 7,
    }));
    assertEquals([loads.ok, loads.warn], [true, undefined]);
    const none = checkBpfLsmLoad(() => ({
      loaded: false,
      hook: "bprm_check_security",
      unavailable: "libbpf.so.1 cannot be loaded: x",
    }));
    assert(none.warn && none.detail.startsWith("cannot tell"), none.detail);
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
    // the kernel's own answer to loading a minimal lsm/ program
    const load = r.checks.find((c) => c.name === "BPF LSM programs");
    assert(
      load !== undefined &&
        /^(a minimal lsm\/bprm_check_security program loads|refused: )/.test(
          load.detail,
        ),
      JSON.stringify(load),
    );
  },
  await captureUnavailable(),
);
