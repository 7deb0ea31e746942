/**
 * CPU time of another process, and of some of its threads, in nanoseconds,
 * for the benchmarks that measure a recorder over a window (the storm).
 *
 * Why not `/proc/PID/stat` (utime + stime): those count in clock ticks
 * (1/100 s here), so a recorder that uses 0.08 to 0.10 s on the storm was
 * measured to ±0.01 s at each end, ±20% on a ratio of two such figures.
 * Why not `/proc/PID/schedstat`: it is the thread group leader's alone (the
 * main thread), and summing `/proc/PID/task/* /schedstat` misses the threads
 * that ended within the window (Deno's blocking-pool threads come and go).
 *
 * The process's CPU clock (`clock_gettime` on `MAKE_PROCESS_CPUCLOCK(pid,
 * CPUCLOCK_SCHED)`, the clock `clock_getcpuclockid` gives) is the
 * scheduler's runtime of every thread of the group, the ended ones included
 * (kept in the group's signal struct), in nanoseconds, and readable at any
 * moment while the process runs: the figure the window needs. Its total over
 * a whole run is the one `wait4`'s rusage gives too (the kernel scales
 * the ticks' user/system split to that same runtime), so figures stay
 * comparable with the whole-run totals taken by the shell's `times`.
 *
 * A named thread that lives through the window (the hash worker) is read
 * from `/proc/PID/task/TID/schedstat`'s first field, the same runtime in
 * nanoseconds for that one thread.
 *
 * @example
 * ```ts
 * import { processCpu } from "./_process_cpu.ts";
 * const a = processCpu(Deno.pid);
 * let x = 0;
 * for (let i = 0; i < 1e6; i++) x += i;
 * const b = processCpu(Deno.pid);
 * if (!(b > a) || x <= 0) throw new Error("the CPU clock did not move");
 * ```
 *
 * @module
 */

/** The CPU time of every thread of process `pid` so far (ended threads included), seconds, to the nanosecond. */
export function processCpu(pid: number): number {
  const ts = new BigInt64Array(2);
  // opened and closed each time (cheap: libc is loaded already), so that no
  // handle outlives the caller
  const libc = Deno.dlopen("libc.so.6", {
    clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  });
  try {
    // CPUCLOCK_SCHED (2) of the process (not per-thread: bit 2 clear) ~pid
    const clock = (~pid << 3) | 2;
    if (libc.symbols.clock_gettime(clock, new Uint8Array(ts.buffer)) !== 0) {
      throw new Error(
        `read the CPU clock of process ${pid}: clock_gettime failed (the process ended?)`,
      );
    }
  } finally {
    libc.close();
  }
  return Number(ts[0]) + Number(ts[1]) / 1e9;
}

/** The CPU time of the threads of process `pid` named `name` (those alive now), seconds, to the nanosecond. */
export function threadCpu(pid: number, name: string): number {
  let ns = 0;
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${t.name}`;
      if (Deno.readTextFileSync(`${dir}/comm`).trim() !== name) continue;
      ns += Number(Deno.readTextFileSync(`${dir}/schedstat`).split(" ")[0]);
    } catch {
      // the thread ended
    }
  }
  return ns / 1e9;
}

/**
 * The CPU time of each live thread of process `pid` by thread name (threads
 * of one name summed, the main thread as `NAME(main)`), seconds, to the nanosecond: subtract two readings to
 * see where a window's CPU went (threads that ended in between are missed).
 */
export function cpuByThreadName(pid: number): Map<string, number> {
  const by = new Map<string, number>();
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${t.name}`;
      const comm = Deno.readTextFileSync(`${dir}/comm`).trim();
      // the main thread apart (library threads inherit its name)
      const name = t.name === String(pid) ? `${comm}(main)` : comm;
      const ns = Number(
        Deno.readTextFileSync(`${dir}/schedstat`).split(" ")[0],
      );
      by.set(name, (by.get(name) ?? 0) + ns / 1e9);
    } catch {
      // the thread ended
    }
  }
  return by;
}

/**
 * How many times the threads of process `pid` named `name` (those alive now)
 * were switched out: voluntary switches (a wait for work or I/O: a worker's
 * wake-ups) and involuntary ones (preempted), from `/proc/PID/task/TID/status`.
 */
export function threadSwitches(
  pid: number,
  name: string,
): { voluntary: number; involuntary: number } {
  const n = { voluntary: 0, involuntary: 0 };
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${t.name}`;
      if (Deno.readTextFileSync(`${dir}/comm`).trim() !== name) continue;
      const st = Deno.readTextFileSync(`${dir}/status`);
      n.voluntary += Number(
        /^voluntary_ctxt_switches:\s*(\d+)/m.exec(st)?.[1] ?? 0,
      );
      n.involuntary += Number(
        /^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(st)?.[1] ?? 0,
      );
    } catch {
      // the thread ended
    }
  }
  return n;
}
