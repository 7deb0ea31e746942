/**
 * A process's stable id from (boot id, pid, start), rendered like Sysmon's
 * ProcessGuid: `{BBBBBBBB-SSSS-SSSS-SSSS-SSSSPPPPPPPP}` with B a hash of the
 * boot id, S the start (ns, 64-bit two's complement) and P the pid. Two
 * processes that share a pid never share an id unless they also share their
 * start.
 *
 * @example
 * ```ts
 * import { processId } from "./process_id.ts";
 * const a = processId("boot", 42, 1000);
 * if (a !== processId("boot", 42, 1000)) throw new Error("not stable");
 * if (a === processId("boot", 42, 1001)) throw new Error("pid reuse merged");
 * if (!/^\{[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\}$/.test(a)) throw new Error(a);
 * ```
 */
export function processId(bootId: string, pid: number, start: number): string {
  // 64-bit two's complement in two 32-bit halves (exact for safe integers)
  const v = Math.trunc(start);
  const hi = Math.floor(v / 0x100000000);
  const lo = v - hi * 0x100000000;
  const s = hex8(hi >>> 0) + hex8(lo >>> 0);
  const p = (pid >>> 0).toString(16).padStart(8, "0");
  return `{${bootHash(bootId)}-${s.slice(0, 4)}-${s.slice(4, 8)}-${
    s.slice(8, 12)
  }-${s.slice(12, 16)}${p}}`;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

const cache = new Map<string, string>();

function bootHash(bootId: string): string {
  let h = cache.get(bootId);
  if (h === undefined) {
    let x = 0x811c9dc5;
    for (let i = 0; i < bootId.length; i++) {
      x ^= bootId.charCodeAt(i);
      x = Math.imul(x, 0x01000193);
    }
    h = (x >>> 0).toString(16).padStart(8, "0");
    if (cache.size > 64) cache.clear();
    cache.set(bootId, h);
  }
  return h;
}
