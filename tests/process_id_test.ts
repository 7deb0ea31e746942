/**
 * processId() (written digit by digit into one buffer since issue 16) gives
 * the documented form: `{BBBBBBBB-SSSS-SSSS-SSSS-SSSSPPPPPPPP}`, the start as
 * 64-bit two's complement and the pid as 32 bits, checked against an
 * independent BigInt rendering on edge and random values.
 */
import { processId } from "../cli/analysis/process_id.ts";
import { assertEquals } from "./_record_helpers.ts";

/** The reference: the same id from BigInt arithmetic. */
function reference(bootHash: string, pid: number, start: number): string {
  const s = BigInt.asUintN(64, BigInt(Math.trunc(start))).toString(16)
    .padStart(16, "0");
  const p = (pid >>> 0).toString(16).padStart(8, "0");
  return `{${bootHash}-${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}-${
    s.slice(12, 16)
  }${p}}`;
}

Deno.test("processId() renders start and pid as the BigInt reference does, at the edges and at random", () => {
  const boot = processId("boot-a", 0, 0).slice(1, 9);
  const starts = [
    0,
    1,
    -1,
    1.9,
    -1.9,
    2 ** 31,
    -(2 ** 31),
    2 ** 32 - 1,
    2 ** 32,
    -(2 ** 32),
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    1_700_000_000_000_000_000 / 1000,
  ];
  const pids = [0, 1, 0xffff, 0x10000, 2 ** 22, 2 ** 32 - 1, -1];
  for (const s of starts) {
    for (const p of pids) {
      assertEquals(processId("boot-a", p, s), reference(boot, p, s));
    }
  }
  let x = 12345;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < 50_000; i++) {
    const s = Math.floor((rnd() - 0.5) * 2 ** 53);
    const p = Math.floor(rnd() * 2 ** 32);
    assertEquals(processId("boot-a", p, s), reference(boot, p, s));
  }
  // the boot hash differs between boots
  if (processId("boot-b", 1, 1) === processId("boot-a", 1, 1)) {
    throw new Error("boot ids not told apart");
  }
});
