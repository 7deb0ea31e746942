/**
 * The container a cgroup v2 path names, as container runtimes name their
 * cgroups. Pure.
 *
 * @module
 */

/** A container found in a cgroup path. */
export interface ContainerRef {
  /** `docker`, `containerd`, `cri-o`, `podman`, `systemd-nspawn`. */
  runtime: string;
  /** The container id (64 hex digits for OCI runtimes; the machine name for nspawn). */
  id: string;
  /** Kubernetes pod uid, when the path is under `kubepods`. */
  podUid?: string;
}

const HEX64 = "([0-9a-f]{64})";
const POD =
  /(?:^|\/)kubepods[^/]*(?:\/[^/]*)*?[-/]pod([0-9a-f_-]{36})(?:\.slice)?(?:\/|$)/;

/** Last-component patterns, most specific first: [regexp, runtime]. */
const LEAF: [RegExp, string][] = [
  [new RegExp(`^docker-${HEX64}\\.scope$`), "docker"],
  [new RegExp(`^cri-containerd-${HEX64}\\.scope$`), "containerd"],
  [new RegExp(`^crio-${HEX64}\\.scope$`), "cri-o"],
  [new RegExp(`^libpod-${HEX64}\\.scope$`), "podman"],
  [new RegExp(`^libpod-conmon-${HEX64}\\.scope$`), "podman"],
];

/**
 * Finds the container of a cgroup v2 path: Docker (`/docker/ID`,
 * `docker-ID.scope`), containerd and CRI-O under Kubernetes
 * (`kubepods.slice/...-podUID.slice/cri-containerd-ID.scope`,
 * `/kubepods/burstable/podUID/ID`), Podman (`libpod-ID.scope`,
 * `/libpod_parent/libpod-ID`) and systemd-nspawn (`machine-NAME.scope`).
 * A path below the container's own cgroup (a nested cgroup inside it) names
 * the same container. Undefined when the path names none.
 *
 * @example
 * ```ts
 * import { containerOf } from "./container_of.ts";
 * const id = "a".repeat(64);
 * const d = containerOf(`/system.slice/docker-${id}.scope`);
 * if (d?.runtime !== "docker" || d.id !== id) throw new Error();
 * const k = containerOf(
 *   `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b.slice/cri-containerd-${id}.scope`,
 * );
 * if (k?.podUid !== "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b") throw new Error();
 * if (containerOf("/user.slice/user-0.slice/session-1.scope")) throw new Error();
 * ```
 */
export function containerOf(cgroup: string): ContainerRef | undefined {
  const parts = cgroup.split("/").filter((p) => p !== "");
  const pod = POD.exec(cgroup)?.[1]?.replaceAll("_", "-");
  const withPod = (r: ContainerRef): ContainerRef =>
    pod !== undefined ? { ...r, podUid: pod } : r;
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i];
    for (const [re, runtime] of LEAF) {
      const m = re.exec(p);
      if (m) return withPod({ runtime, id: m[1] });
    }
    const prev = parts[i - 1];
    if (/^[0-9a-f]{64}$/.test(p)) {
      // cgroupfs drivers: /docker/ID, /kubepods/QOS/podUID/ID, /libpod_parent/libpod-ID
      if (prev === "docker") return { runtime: "docker", id: p };
      if (pod !== undefined) return withPod({ runtime: "containerd", id: p });
    }
    const lp = /^libpod-([0-9a-f]{64})$/.exec(p);
    if (lp && prev === "libpod_parent") return { runtime: "podman", id: lp[1] };
    const nspawn = /^machine-(.+)\.scope$/.exec(p);
    if (nspawn) {
      return {
        runtime: "systemd-nspawn",
        id: nspawn[1].replaceAll("\\x2d", "-"),
      };
    }
  }
  return undefined;
}
