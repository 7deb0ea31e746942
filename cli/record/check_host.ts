/**
 * Whether this host can record, and what to do when it cannot: privilege,
 * kernel support, the native library. Needs `--allow-read` (/proc, /sys, the
 * library), `--allow-ffi` and `--allow-env`.
 *
 * @module
 */
import {
  libraryPath,
  loadLibrary,
  PrivilegeError,
  processPrivilege,
  PROCREC_ABI_VERSION,
  readKernelFile,
  SOURCE_PRIVILEGE,
} from "../native/ffi.ts";
import {
  EventSource,
  OPT_EXEC_RULES,
  OPT_NO_ENRICH,
  OPT_NO_SNAPSHOT,
  type SourceName,
} from "../native/event_source.ts";
import {
  type BpfLsmProbe,
  errnoName,
  probeBpfLsm,
} from "../native/probe_bpf_lsm.ts";

/** One check's outcome. */
export interface HostCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when not ok, or about a warning. */
  fix?: string;
  /** Not a failure (recording works) but something to fix (`ok` stays true). */
  warn?: boolean;
}

/** The whole answer of {@link checkHost}. */
export interface HostReport {
  /** At least one event source opens: `procrec record` will work. */
  canRecord: boolean;
  /** The source `--source auto` picks, and why. */
  autoSource?: { name: string; reason: string };
  checks: HostCheck[];
}

/** Capability bits of `linux/capability.h`. */
export const CAPS = {
  CAP_NET_ADMIN: 12,
  CAP_SYS_ADMIN: 21,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
} as const;

/**
 * Names the capabilities of {@link CAPS} set in an effective capability mask.
 *
 * @example
 * ```ts
 * import { capabilityNames } from "./check_host.ts";
 * const c = capabilityNames(0x1000n);
 * if (!c.has("CAP_NET_ADMIN") || c.has("CAP_BPF")) throw new Error();
 * ```
 */
export function capabilityNames(capEff: bigint): Set<string> {
  const caps = new Set<string>();
  for (const [name, bit] of Object.entries(CAPS)) {
    if ((capEff >> BigInt(bit)) & 1n) caps.add(name);
  }
  return caps;
}

const BTF_PATH = "/sys/kernel/btf/vmlinux";

/** Checks this host (Linux). */
export async function checkHost(): Promise<HostReport> {
  const checks: HostCheck[] = [];
  const status = capturePrivilege();
  const { net: hasNet, bpf: hasBpf } = status;
  checks.push({
    name: "privilege",
    ok: hasNet || hasBpf,
    detail: `euid ${status.euid}; effective capabilities: ${
      [...status.caps].sort().join(", ") ||
      "none of CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON"
    }`,
    fix:
      "run as root (sudo ./procrec record ...), or grant CAP_NET_ADMIN (proc connector) " +
      "or CAP_BPF and CAP_PERFMON (eBPF)",
  });

  let btf = false;
  try {
    btf = (await Deno.stat(BTF_PATH)).isFile;
  } catch { /* absent */ }
  checks.push({
    name: "kernel BTF (eBPF source)",
    ok: btf,
    detail: btf ? `${BTF_PATH} present` : `${BTF_PATH} absent`,
    fix:
      "use a kernel built with CONFIG_DEBUG_INFO_BTF=y for the eBPF source; " +
      "the proc connector source works without it",
  });

  const path = libraryPath();
  let present = false;
  try {
    present = (await Deno.stat(path)).isFile;
  } catch { /* absent */ }
  checks.push({
    name: "library present",
    ok: present,
    detail: path,
    fix:
      "run `make build` in the repository root (or set PROCREC_LIB to the library)",
  });
  let loaded = false;
  if (present) {
    try {
      loadLibrary(path);
      loaded = true;
      checks.push({
        name: "library loadable, ABI version",
        ok: true,
        detail: `ABI version ${PROCREC_ABI_VERSION}`,
      });
    } catch (e) {
      checks.push({
        name: "library loadable, ABI version",
        ok: false,
        detail: (e as Error).message,
        fix:
          "rebuild it with `make build` (libbpf.so.1 must be installed: `make setup`)",
      });
    }
  }

  let canRecord = false;
  let autoSource: HostReport["autoSource"];
  if (loaded) {
    for (const source of ["netlink", "ebpf", "auto"] as SourceName[]) {
      const label = source === "netlink"
        ? "proc connector source (netlink)"
        : source === "ebpf"
        ? "eBPF source"
        : "auto source";
      try {
        // open and start (no snapshot, no /proc reads): where privilege is checked
        const src = EventSource.open({
          source,
          flags: OPT_NO_SNAPSHOT | OPT_NO_ENRICH,
        });
        let info;
        try {
          src.start();
          info = src.info();
          src.stop();
        } finally {
          await src.close();
        }
        if (source === "auto") autoSource = info;
        canRecord = true;
        checks.push({
          name: label,
          ok: true,
          detail: source === "auto"
            ? `picks ${info.name}: ${info.reason}`
            : "opens and starts",
        });
      } catch (e) {
        checks.push({
          name: label,
          ok: false,
          detail: (e as Error).message,
          fix: source === "netlink"
            ? "needs CAP_NET_ADMIN and a kernel with CONFIG_PROC_EVENTS"
            : source === "ebpf"
            ? "needs CAP_BPF and CAP_PERFMON, kernel BTF and libbpf.so.1"
            : undefined,
        });
      }
    }
  }
  checks.push(checkBpfLsm());
  if (Deno.build.os === "linux") checks.push(checkBpfLsmLoad());
  if (loaded) checks.push(await checkExecRules());
  return { canRecord, autoSource, checks };
}

/** Where the kernel lists its active LSMs (securityfs). */
export const LSM_FILE = "/sys/kernel/security/lsm";

/**
 * Whether the kernel runs the BPF LSM (`bpf` in {@link LSM_FILE}); a warning,
 * never a failure: recording does not need it, and `record --rules` enforces
 * through fanotify permission events (see {@link checkExecRules}).
 */
export function checkBpfLsm(file = LSM_FILE): HostCheck {
  const name = "BPF LSM";
  let list: string;
  try {
    // through libc: Deno refuses securityfs to readTextFile without --allow-all
    list = readKernelFile(file).trim();
  } catch (e) {
    return {
      name,
      ok: true,
      warn: true,
      detail: `cannot tell: ${file}: ${(e as Error).message}`,
      fix:
        "mount securityfs to see the kernel's LSMs: mount -t securityfs securityfs /sys/kernel/security",
    };
  }
  const active = list.split(",").includes("bpf");
  return {
    name,
    ok: true,
    ...(active ? {} : { warn: true }),
    detail: `${active ? "active" : "not active"} (the kernel's LSMs: ${list})`,
    ...(active ? {} : {
      fix:
        `add bpf to the lsm= boot parameter (e.g. lsm=${list},bpf; needs CONFIG_BPF_LSM=y) and reboot; procrec's exec rules do not need it (fanotify)`,
    }),
  };
}

/** Where the kernel says its lockdown mode (securityfs). */
export const LOCKDOWN_FILE = "/sys/kernel/security/lockdown";

/**
 * Whether this kernel loads a BPF LSM program (a two-instruction
 * `lsm/bprm_check_security`, never attached): the exact reason, when it
 * refuses, that exec rules use fanotify here (the errno, the verifier's log,
 * the kernel lockdown mode). A warning, never a failure.
 */
export function checkBpfLsmLoad(
  probe: () => BpfLsmProbe = probeBpfLsm,
  lockdownFile = LOCKDOWN_FILE,
  root = Deno.uid() === 0,
): HostCheck {
  const name = "BPF LSM programs";
  const p = probe();
  if (p.loaded) {
    return {
      name,
      ok: true,
      detail:
        `a minimal lsm/${p.hook} program loads (BTF id ${p.btfId}); procrec enforces exec rules with fanotify all the same`,
    };
  }
  if ("unavailable" in p) {
    return {
      name,
      ok: true,
      warn: true,
      detail: `cannot tell: ${p.unavailable}`,
      fix: "install libbpf1 (Debian) to let doctor try",
    };
  }
  let lockdown = "unknown (securityfs not mounted)";
  try {
    const m = /\[(\w+)\]/.exec(readKernelFile(lockdownFile));
    if (m) lockdown = m[1];
  } catch { /* stays unknown */ }
  const what = p.btfId < 0
    ? `the kernel's BTF has no bpf_lsm_${p.hook} (${errnoName(p.errno)})`
    : `BPF_PROG_LOAD of a minimal lsm/${p.hook} program (BTF id ${p.btfId}) fails with ${
      errnoName(p.errno)
    }, verifier log ${
      p.log ? `"${p.log.split("\n").slice(-2).join(" ")}"` : "empty"
    }`;
  return {
    name,
    ok: true,
    warn: true,
    detail: `refused: ${what}; kernel lockdown: ${lockdown}`,
    fix: p.errno === 1 && !root
      ? "run doctor as root: loading BPF programs needs CAP_BPF and CAP_PERFMON"
      : p.errno === 1 && !p.log
      ? "the kernel refused it before its verifier ran (no log): a kernel build or policy matter, not a setting procrec can change; procrec's exec rules do not need it (fanotify)"
      : "procrec's exec rules do not need it (fanotify)",
  };
}

/** Whether `record --rules FILE` can enforce here (fanotify permission events). */
async function checkExecRules(): Promise<HostCheck> {
  const name = "exec rules (record --rules)";
  try {
    const src = EventSource.open({
      source: "netlink",
      flags: OPT_EXEC_RULES | OPT_NO_SNAPSHOT | OPT_NO_ENRICH,
    });
    await src.close();
    return {
      name,
      ok: true,
      detail:
        "can be enforced: fanotify permission events (FAN_OPEN_EXEC_PERM) are available",
    };
  } catch (e) {
    return {
      name,
      ok: true,
      warn: true,
      detail: `cannot be enforced: ${(e as Error).message}`,
      fix:
        "needs root (CAP_SYS_ADMIN) and a kernel with CONFIG_FANOTIFY_ACCESS_PERMISSIONS=y",
    };
  }
}

/** This process's capture privilege: which sources it may open. */
function capturePrivilege(): {
  euid: number;
  caps: Set<string>;
  /** May open the proc connector. */
  net: boolean;
  /** May load and attach BPF programs. */
  bpf: boolean;
} {
  const { euid, capEff } = processPrivilege();
  const caps = capabilityNames(capEff);
  return {
    euid,
    caps,
    net: caps.has("CAP_NET_ADMIN"),
    bpf: (caps.has("CAP_BPF") && caps.has("CAP_PERFMON")) ||
      caps.has("CAP_SYS_ADMIN"),
  };
}

/**
 * Throws a {@link PrivilegeError} naming the missing privilege when this
 * process cannot record from `source` (checked before the library is asked,
 * so the message is the same whatever the library reports).
 */
export function requirePrivilege(source: SourceName): void {
  if (Deno.build.os !== "linux") return;
  const { euid, caps, net, bpf } = capturePrivilege();
  const ok = source === "netlink" ? net : source === "ebpf" ? bpf : net || bpf;
  if (ok) return;
  const need = SOURCE_PRIVILEGE[source];
  throw new PrivilegeError(
    `Cannot record: missing privilege ${need} (running as uid ${euid} with ${
      [...caps].sort().join(", ") || "no capture capability"
    }); run as root, e.g. sudo ./procrec record ...`,
    need,
  );
}
