/**
 * The systemd unit of the procrec flight recorder, as text (pure).
 *
 * @module
 */
import { DEFAULT_HASH_CACHE } from "../record/hash_cache_path.ts";

/** What the unit runs. */
export interface UnitOptions {
  /** The procrec launcher that `ExecStart` runs (absolute path). */
  exec: string;
  /** Segment directory (absolute); the unit may write only there. */
  dir: string;
  /** `--rotate` value, e.g. `1h`. */
  rotate: string;
  /** `--keep` value, e.g. `7d`. */
  keep: string;
  /** `--source`: `auto`, `ebpf` or `netlink`. */
  source: "auto" | "ebpf" | "netlink";
  /**
   * An environment file whose `PROCREC_DIR`, `PROCREC_ROTATE`, `PROCREC_KEEP`,
   * `PROCREC_SOURCE` and `PROCREC_ARGS` override the values above at each
   * start (the Debian package's `/etc/default/procrec`). Without it the
   * values are fixed in the unit. The unit may write only to `dir`
   * (`ReadWritePaths=`): another `PROCREC_DIR` needs a drop-in that allows it.
   */
  config?: string;
}

/**
 * The capabilities each source needs, and only those: the proc connector
 * needs CAP_NET_ADMIN (and SO_RCVBUFFORCE); eBPF needs CAP_BPF and
 * CAP_PERFMON (tracepoints), CAP_SYS_RESOURCE for the locked memory of older
 * kernels; both read other users' `/proc/PID/{exe,cmdline,status}`
 * (CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH) and raise their threads' priority
 * (CAP_SYS_NICE).
 */
export const SOURCE_CAPABILITIES: Record<UnitOptions["source"], string[]> = {
  netlink: ["CAP_NET_ADMIN"],
  ebpf: ["CAP_BPF", "CAP_PERFMON", "CAP_SYS_RESOURCE"],
  auto: ["CAP_NET_ADMIN", "CAP_BPF", "CAP_PERFMON", "CAP_SYS_RESOURCE"],
};
const COMMON_CAPABILITIES = [
  "CAP_SYS_PTRACE",
  "CAP_DAC_READ_SEARCH",
  "CAP_SYS_NICE",
];

/**
 * Renders `procrec.service`: started early in boot (before `sysinit.target`,
 * once local file systems are mounted), restarted whenever it stops, and
 * hardened: the whole file system read-only but the segment directory (and
 * its cache directory, /var/cache/procrec: the Deno cache and the image
 * hash cache kept between restarts), no new privileges, only the
 * capabilities the source needs, a private /tmp.
 * SIGHUP (`systemctl reload`) rotates the segment; SIGTERM closes it.
 *
 * @example
 * ```ts
 * import { systemdUnit } from "./systemd_unit.ts";
 * const unit = systemdUnit({ exec: "/usr/bin/procrec", dir: "/var/lib/procrec",
 *   rotate: "1h", keep: "7d", source: "netlink" });
 * if (!unit.includes("CapabilityBoundingSet=CAP_NET_ADMIN ")) throw new Error(unit);
 * if (unit.includes("CAP_BPF")) throw new Error(unit);
 * ```
 */
export function systemdUnit(o: UnitOptions): string {
  for (
    const [name, value] of [
      ["exec", o.exec],
      ["dir", o.dir],
      ...(o.config !== undefined ? [["config", o.config]] : []),
    ]
  ) {
    if (!value.startsWith("/") || /[\s"'\\$%;]/.test(value)) {
      throw new RangeError(
        `Cannot write the unit: ${name} "${value}" must be an absolute path without spaces, quotes, '$', '%' or ';'`,
      );
    }
  }
  for (const [name, value] of [["rotate", o.rotate], ["keep", o.keep]]) {
    if (!/^[0-9A-Za-z.]+$/.test(value)) {
      throw new RangeError(
        `Cannot write the unit: --${name} "${value}" is not a size, duration or count`,
      );
    }
  }
  const dir = o.dir.replace(/\/+$/, "") || "/";
  // (ReadWritePaths=/ would undo ProtectSystem)
  if (dir === "/") {
    throw new RangeError(
      `Cannot write the unit: --dir "${o.dir}" is the root directory (the unit could write anywhere); choose a directory of its own, e.g. /var/lib/procrec`,
    );
  }
  const caps = o.config
    ? SOURCE_CAPABILITIES.auto
    : SOURCE_CAPABILITIES[o.source];
  const env = o.config
    ? [
      `Environment=PROCREC_DIR=${dir} PROCREC_ROTATE=${o.rotate} PROCREC_KEEP=${o.keep} PROCREC_SOURCE=${o.source} PROCREC_ARGS=`,
      `EnvironmentFile=-${o.config}`,
    ]
    : [];
  // the image hashes of the last run in this boot: a restart does not read
  // every running image again (the cache directory is the unit's own)
  const exec = o.config
    ? `${o.exec} record -o \${PROCREC_DIR}/ --rotate \${PROCREC_ROTATE} --keep \${PROCREC_KEEP} --source \${PROCREC_SOURCE} --hash-cache ${DEFAULT_HASH_CACHE} $PROCREC_ARGS`
    : `${o.exec} record -o ${dir}/ --rotate ${o.rotate} --keep ${o.keep} --source ${o.source} --hash-cache ${DEFAULT_HASH_CACHE}`;
  return `# procrec flight recorder; written by 'procrec service'.
[Unit]
Description=procrec flight recorder of process lifecycles
Documentation=man:procrec(1)
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target shutdown.target
Conflicts=shutdown.target
RequiresMountsFor=${dir}
# restarted however often it stops: no start limit leaves it down
StartLimitIntervalSec=0

[Service]
Type=simple
${env.join("\n")}${
    env.length ? "\n" : ""
  }Environment=DENO_DIR=/var/cache/procrec NO_COLOR=1
# the directory made again if it went (ReadWritePaths= of a missing path
# fails the start); "+": outside the sandbox, which would refuse it
ExecStartPre=+/bin/mkdir -p -m 0700 ${o.config ? "${PROCREC_DIR}" : dir}
ExecStart=${exec}
ExecReload=/bin/kill -HUP $MAINPID
KillSignal=SIGTERM
TimeoutStopSec=30
Restart=always
RestartSec=2
UMask=0077
CacheDirectory=procrec
CacheDirectoryMode=0700
ProtectSystem=strict
ReadWritePaths=${dir}
ProtectHome=read-only
PrivateTmp=yes
NoNewPrivileges=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectClock=yes
ProtectHostname=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
# the last process the kernel kills for memory (not never: a runaway
# recorder must not take the host down)
OOMScoreAdjust=-900
CapabilityBoundingSet=${[...caps, ...COMMON_CAPABILITIES].join(" ")}

[Install]
WantedBy=sysinit.target
`;
}
