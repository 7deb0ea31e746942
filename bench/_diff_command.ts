/**
 * `procrec diff A B` as a user runs it: the launcher (with its V8 flags) in a
 * process of its own, its wall time from spawn to exit and its peak RSS
 * (the kernel's high-water mark, `VmHWM`, read every 5 ms while it runs).
 * A benchmark helper, not a test.
 *
 * @module
 */

/** One run of the command. */
export interface DiffCommandFigures {
  /** Spawn to exit, milliseconds. */
  ms: number;
  /** The highest `VmHWM` read, bytes. */
  peakRss: number;
  /** `procrec diff`'s exit code: 0 the same, 1 different. */
  code: number;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** The process's `VmHWM` in bytes, or 0 once it has gone. */
function highWater(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs `procrec diff a b` (its text thrown away) and measures it; throws
 * when it fails (an exit code other than 0 or 1, or anything on stderr).
 */
export async function measureDiffCommand(
  a: string,
  b: string,
): Promise<DiffCommandFigures> {
  const t0 = performance.now();
  const child = new Deno.Command(`${ROOT}procrec`, {
    args: ["diff", a, b],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let peakRss = 0;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, highWater(child.pid));
  }, 5);
  try {
    const [status, err] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    const ms = performance.now() - t0;
    // (a diff prints nothing on stderr: anything there, or another code,
    // is a failure, as is a run too short to be read once)
    if ((status.code !== 0 && status.code !== 1) || err.trim() !== "") {
      throw new Error(
        `procrec diff ${a} ${b} exited with ${status.code}: ${err.trim()}`,
      );
    }
    if (peakRss === 0) {
      throw new Error(`procrec diff ${a} ${b}: its RSS was never read`);
    }
    return { ms, peakRss, code: status.code };
  } finally {
    clearInterval(timer);
  }
}
