/**
 * Runs `./procrec ARGS` under `/usr/bin/time` with a time limit, for the
 * hostile-input tests: each says how long and how much memory a command may
 * take on its input (generous, finite limits), and fails when it takes more
 * or does not end.
 */
import { PROCREC } from "./_record_helpers.ts";

/** A finished, measured procrec run. */
export interface BoundedRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the process, in MiB. */
  maxRssMiB: number;
  seconds: number;
}

/** Limits of {@link procrecBounded}. */
export interface Bounds {
  /** Killed (and the test fails) after this long. */
  timeoutMs: number;
  /** The test fails when the peak resident memory is above this. */
  maxRssMiB: number;
  cwd?: string;
  /** Text on stdin (default: none). */
  stdin?: string;
  /** A shell prefix, e.g. "umask 000;" (runs `sh -c`). */
  shellPrefix?: string;
}

/** Runs procrec with `args` under the bounds; throws when one is exceeded. */
export async function procrecBounded(
  args: string[],
  bounds: Bounds,
): Promise<BoundedRun> {
  const stats = await Deno.makeTempFile({ prefix: "procrec-time-" });
  try {
    const quoted = [PROCREC, ...args].map((a) =>
      `'${a.replace(/'/g, `'\\''`)}'`
    )
      .join(" ");
    // timeout(1) kills procrec itself (the launcher execs deno), so a hung
    // command ends and /usr/bin/time still reports on it
    const limitS = Math.max(1, Math.ceil(bounds.timeoutMs / 1000));
    const script = `${
      bounds.shellPrefix ?? ""
    } exec /usr/bin/time -f '%M %e' -o '${stats}' timeout -s KILL ${limitS} ${quoted}`;
    const started = Date.now();
    const child = new Deno.Command("sh", {
      args: ["-c", script],
      cwd: bounds.cwd,
      stdin: bounds.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (bounds.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(bounds.stdin)).catch(() => {});
      await w.close().catch(() => {});
    }
    const out = await child.output();
    const d = new TextDecoder();
    const stderr = d.decode(out.stderr);
    if (out.code === 137) {
      throw new Error(
        `procrec ${
          args.join(" ")
        } did not end within ${bounds.timeoutMs} ms; stderr: ${
          stderr.slice(0, 2000)
        }`,
      );
    }
    const [kib, secs] = (await Deno.readTextFile(stats)).trim().split(/\s+/)
      .slice(-2).map(Number);
    const run: BoundedRun = {
      code: out.code,
      stdout: d.decode(out.stdout),
      stderr,
      maxRssMiB: kib / 1024,
      seconds: Number.isFinite(secs) ? secs : (Date.now() - started) / 1000,
    };
    if (!(run.maxRssMiB <= bounds.maxRssMiB)) {
      throw new Error(
        `procrec ${args.join(" ")} took ${
          run.maxRssMiB.toFixed(0)
        } MiB, more than ${bounds.maxRssMiB} MiB`,
      );
    }
    return run;
  } finally {
    await Deno.remove(stats).catch(() => {});
  }
}
