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
 * The sandbox beyond the file system's: what each line takes away, and why
 * no source needs it. The sources need bpf() (eBPF: tp_btf programs, which
 * attach with bpf() alone, no perf_event_open), the proc connector's netlink
 * socket (netlink: the initial network namespace's, so no PrivateNetwork=),
 * reads of /proc, /sys/kernel/btf and every exec'd file (the snapshot, the
 * enrichment, the hash worker), SCHED_FIFO for the netlink thread (so no
 * RestrictRealtime=: it would fall back to nice -10 and lose /proc reads),
 * writable and executable memory (V8's JIT: so no MemoryDenyWriteExecute=);
 * exec rules (a drop-in adds CAP_SYS_ADMIN) fanotify marks on every file
 * system and reads of /proc/PID/mem (open and pread, no ptrace()). Nothing
 * writes /proc or /sys, opens a device but /dev/null and /dev/urandom,
 * makes or joins a namespace, or mounts. Found by review: with
 * CAP_SYS_PTRACE and uid 0 the recorder could write /proc/sys (core_pattern:
 * a program run as full root), other processes' memory (through ptrace(),
 * process_vm_writev or /proc/PID/mem) and raw disks.
 */
const SANDBOX = [
  // /proc/sys, /sys read-only (/sys/kernel/btf is only read)
  "ProtectKernelTunables=yes",
  "ProtectKernelModules=yes",
  "ProtectKernelLogs=yes",
  "ProtectClock=yes",
  "ProtectHostname=yes",
  "ProtectControlGroups=yes",
  // /proc/PID/mem, oom_score_adj... of other processes not writable: the
  // recorder only reads /proc
  "ReadOnlyPaths=/proc",
  // no raw disks (uid 0 owns them), only the pseudo devices; not
  // PrivateDevices=, whose private /dev hides the host's /dev/shm from the
  // hash worker, as a private /tmp hides /tmp: the image of a process that
  // ended before it was hashed is read by its path, and one run from there
  // was recorded as gone ("path-missing", its file still there)
  "DevicePolicy=closed",
  // mounts made in the unit stay there; the host's still reach it (exec
  // rules mark new file systems as they come)
  "PrivateMounts=yes",
  "RestrictNamespaces=yes",
  // the proc connector (AF_NETLINK), --publish (AF_INET, AF_INET6), local
  // sockets; no AF_PACKET
  "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6",
  "RestrictSUIDSGID=yes",
  "LockPersonality=yes",
  // (the calls of the recorder itself: exec rules still read the argv of
  // an ia32 process, from /proc)
  "SystemCallArchitectures=native",
  // @debug: ptrace() and perf_event_open; process_vm_writev is in @ipc
  "SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap process_vm_writev",
];

/**
 * Renders `procrec.service`: started early in boot (before `sysinit.target`,
 * once local file systems are mounted), restarted whenever it stops, and
 * hardened: the whole file system read-only but the segment directory (and
 * its cache directory, /var/cache/procrec: the Deno cache and the image
 * hash cache kept between restarts), no new privileges, only the
 * capabilities the source needs, and {@link SANDBOX}; /tmp is the host's,
 * read-only (a private one hid the images run from there from the hash
 * worker).
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
NoNewPrivileges=yes
${SANDBOX.join("\n")}
# the last process the kernel kills for memory (not never: a runaway
# recorder must not take the host down)
OOMScoreAdjust=-900
CapabilityBoundingSet=${[...caps, ...COMMON_CAPABILITIES].join(" ")}

[Install]
WantedBy=sysinit.target
`;
}
