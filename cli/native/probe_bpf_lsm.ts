/**
 * Whether this kernel loads a BPF LSM program at all (`procrec doctor`): a
 * two-instruction `lsm/bprm_check_security` program (`return 0`) is loaded
 * with libbpf (`bpf_prog_load`, `BPF_PROG_TYPE_LSM`, `BPF_LSM_MAC`, the hook's
 * BTF id from the kernel's BTF) and closed at once; it is never attached, so
 * it decides nothing. The kernel's answer (a descriptor, or an errno and the
 * verifier's log) is the exact reason exec rules cannot use the BPF LSM here.
 *
 * @module
 */

/** What loading the probe program gave. */
export type BpfLsmProbe =
  | { loaded: true; hook: string; btfId: number }
  | {
    loaded: false;
    hook: string;
    /** The hook's BTF id (negative: libbpf's -errno finding it). */
    btfId: number;
    /** errno of BPF_PROG_LOAD (or of the BTF lookup). */
    errno: number;
    /** The verifier's log ("" when the kernel refused before verifying). */
    log: string;
  }
  | { loaded: false; hook: string; unavailable: string };

/** The hook the probe attaches to (by BTF name, `bpf_lsm_` + this). */
export const PROBE_HOOK = "bprm_check_security";

const BPF_PROG_TYPE_LSM = 29;
const BPF_LSM_MAC = 27;
/** `struct bpf_prog_load_opts` of libbpf 1.x (x86_64/aarch64): its size and the offsets used. */
const OPTS_SIZE = 104;
const OPT = {
  expectedAttachType: 12,
  attachBtfId: 32,
  logLevel: 88,
  logSize: 92,
  logBuf: 96,
};
const ERRNO: Record<number, string> = {
  1: "EPERM (Operation not permitted)",
  2: "ENOENT (No such file or directory)",
  13: "EACCES (Permission denied)",
  22: "EINVAL (Invalid argument)",
  95: "EOPNOTSUPP (Operation not supported)",
  524: "ENOTSUPP (Operation not supported)",
};

/**
 * An errno as "EPERM (Operation not permitted)" (its number when unknown).
 *
 * @example
 * ```ts
 * import { errnoName } from "./probe_bpf_lsm.ts";
 * if (errnoName(1) !== "EPERM (Operation not permitted)") throw new Error();
 * if (errnoName(4242) !== "errno 4242") throw new Error();
 * ```
 */
export function errnoName(e: number): string {
  return ERRNO[e] ?? `errno ${e}`;
}

/**
 * Loads the probe program once (root, Linux); never throws.
 *
 * ```ts ignore
 * const p = probeBpfLsm();
 * if (!p.loaded && "errno" in p) console.log(errnoName(p.errno));
 * ```
 */
export function probeBpfLsm(): BpfLsmProbe {
  const hook = PROBE_HOOK;
  if (Deno.build.os !== "linux") {
    return { loaded: false, hook, unavailable: "not Linux" };
  }
  let lib;
  try {
    lib = Deno.dlopen("libbpf.so.1", {
      libbpf_find_vmlinux_btf_id: {
        parameters: ["buffer", "i32"],
        result: "i32",
      },
      bpf_prog_load: {
        parameters: ["i32", "buffer", "buffer", "buffer", "usize", "buffer"],
        result: "i32",
      },
    });
  } catch (e) {
    return {
      loaded: false,
      hook,
      unavailable: `libbpf.so.1 cannot be loaded: ${(e as Error).message}`,
    };
  }
  const libc = Deno.dlopen("libc.so.6", {
    close: { parameters: ["i32"], result: "i32" },
  });
  try {
    const z = (s: string) => new TextEncoder().encode(s + "\0");
    const btfId = lib.symbols.libbpf_find_vmlinux_btf_id(z(hook), BPF_LSM_MAC);
    if (btfId < 0) {
      return { loaded: false, hook, btfId, errno: -btfId, log: "" };
    }
    // r0 = 0; exit
    const insns = new Uint8Array([
      0xb7,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0x95,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    const log = new Uint8Array(64 * 1024);
    const opts = new Uint8Array(OPTS_SIZE);
    const v = new DataView(opts.buffer);
    v.setBigUint64(0, BigInt(OPTS_SIZE), true);
    v.setUint32(OPT.expectedAttachType, BPF_LSM_MAC, true);
    v.setUint32(OPT.attachBtfId, btfId, true);
    v.setUint32(OPT.logLevel, 1, true);
    v.setUint32(OPT.logSize, log.length, true);
    v.setBigUint64(
      OPT.logBuf,
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(log))),
      true,
    );
    const fd = lib.symbols.bpf_prog_load(
      BPF_PROG_TYPE_LSM,
      z("pr_lsm_probe"),
      z("GPL"),
      insns,
      2n,
      opts,
    );
    if (fd >= 0) {
      libc.symbols.close(fd);
      return { loaded: true, hook, btfId };
    }
    const end = log.indexOf(0);
    return {
      loaded: false,
      hook,
      btfId,
      errno: -fd,
      log: new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end))
        .trim(),
    };
  } finally {
    lib.close();
    libc.close();
  }
}
