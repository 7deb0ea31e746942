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
  const hi = Math.floor(v / 0x100000000) >>> 0;
  const lo = (v - Math.floor(v / 0x100000000) * 0x100000000) >>> 0;
  // the 38 characters written into one buffer, made into one string
  const c = ID_CHARS;
  const b = bootHash(bootId);
  c[0] = 0x7b; // {
  for (let i = 0; i < 8; i++) c[1 + i] = b.charCodeAt(i);
  for (const at of DASHES) c[at] = 0x2d; // -
  // S: hi then lo, 16 hex digits as 4-4-4-4
  hexInto(c, 10, hi >>> 16, 4);
  hexInto(c, 15, hi & 0xffff, 4);
  hexInto(c, 20, lo >>> 16, 4);
  hexInto(c, 25, lo & 0xffff, 4);
  // P: the pid, 8 hex digits
  const p = pid >>> 0;
  hexInto(c, 29, p >>> 16, 4);
  hexInto(c, 33, p & 0xffff, 4);
  c[37] = 0x7d; // }
  // (38 arguments written out: `apply` over the array costs about six times
  // as much per id)
  // deno-fmt-ignore
  return String.fromCharCode(
    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11],
    c[12], c[13], c[14], c[15], c[16], c[17], c[18], c[19], c[20], c[21], c[22],
    c[23], c[24], c[25], c[26], c[27], c[28], c[29], c[30], c[31], c[32], c[33],
    c[34], c[35], c[36], c[37],
  );
}

/** The characters of an id, reused (ids are made one at a time). */
const ID_CHARS = new Uint16Array(38);

const HEX = "0123456789abcdef";

/** Where the dashes go. */
const DASHES = [9, 14, 19, 24];

/** Writes `digits` lowercase hex digits of `n` at `at`. */
function hexInto(c: Uint16Array, at: number, n: number, digits: number): void {
  for (let i = digits - 1; i >= 0; i--) {
    c[at + i] = HEX.charCodeAt(n & 15);
    n >>>= 4;
  }
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
