/** Helpers of the recording tests: run procrec, find tools, skip loudly. */
export const ROOT = new URL("../", import.meta.url).pathname;
export const PROCREC = `${ROOT}procrec`;
export const LIB = Deno.env.get("PROCREC_LIB") ??
  `${ROOT}driver/linux/build/libprocrec.so`;

/** Output of a finished procrec run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `./procrec ARGS` to completion (stdin empty), optionally in `cwd`,
 * with extra `env`, or behind a `prefix` command (e.g. setpriv).
 */
export async function procrec(
  args: string[],
  opts: { env?: Record<string, string>; prefix?: string[]; cwd?: string } = {},
): Promise<Run> {
  const argv = [...(opts.prefix ?? []), PROCREC, ...args];
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: opts.env,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return {
    code: out.code,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
  };
}

/**
 * `procrec record --source SOURCE ...flags -o OUT [--stats-out STATS] --
 * ...command`, run as {@link procrec} runs it (`env`, `prefix`).
 */
export function procrecRecord(
  source: string,
  out: string,
  command: string[],
  opts: {
    flags?: string[];
    statsOut?: string;
    env?: Record<string, string>;
    prefix?: string[];
    cwd?: string;
  } = {},
): Promise<Run> {
  return procrec([
    "record",
    "--source",
    source,
    ...(opts.flags ?? []),
    "-o",
    out,
    ...(opts.statsOut !== undefined ? ["--stats-out", opts.statsOut] : []),
    "--",
    ...command,
  ], { env: opts.env, prefix: opts.prefix, cwd: opts.cwd });
}

/**
 * Builds the C program `src` (a path below the checkout) with gcc
 * (`-O2 -Wall -Wextra -Werror -pthread`) into `out`; returns `out`.
 */
export async function buildC(src: string, out: string): Promise<string> {
  const r = await new Deno.Command("gcc", {
    args: [
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-pthread",
      "-o",
      out,
      `${ROOT}${src}`,
    ],
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(`gcc failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  return out;
}

/** The SHA-256 of a file as `sha256sum` (coreutils) prints it, in hex. */
export async function sha256sum(path: string): Promise<string> {
  const out = await new Deno.Command("sha256sum", { args: [path] }).output();
  assertEquals(out.code, 0, `sha256sum ${path}`);
  return new TextDecoder().decode(out.stdout).split(" ")[0];
}

/** Makes a temp dir (named `prefix`...), runs `fn` in it, removes it. */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
  prefix?: string,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `fn` with a tmpfs of `size` (mount's `size=`, e.g. `"64k"`) mounted
 * at the directory `dir`, unmounted after (root only): a small disk to fill.
 */
export async function withTmpfs<T>(
  dir: string,
  size: string,
  fn: () => Promise<T>,
): Promise<T> {
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
  }).output();
  assertEquals(mount.code, 0, new TextDecoder().decode(mount.stderr));
  try {
    return await fn();
  } finally {
    await new Deno.Command("umount", { args: [dir] }).output();
  }
}

/**
 * `record` arguments for segment mode into the directory `out` (netlink,
 * the command's own processes, rotated hourly) running `script` under `sh`.
 */
export function segmentRecordArgs(out: string, script: string): string[] {
  return [
    "record",
    "--source",
    "netlink",
    "--only-command",
    "-o",
    `${out}/`,
    "--rotate",
    "1h",
    "--",
    "sh",
    "-c",
    script,
  ];
}

/** Fills the file system `path` is on, with zeros written to `path`. */
export async function fillDisk(path: string): Promise<void> {
  await new Deno.Command("sh", {
    args: ["-c", `cat /dev/zero > "${path}" 2>/dev/null; true`],
  }).output();
}

/** Whether `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls until `path` exists: at most `tries` times, `intervalMs` apart, and
 * no longer once `child` (when given) has exited. Returns whether it appeared.
 */
export async function waitForPath(
  path: string,
  opts: { child?: Deno.ChildProcess; tries?: number; intervalMs?: number } = {},
): Promise<boolean> {
  const { child, tries = 400, intervalMs = 25 } = opts;
  let exited = false;
  child?.status.then(() => exited = true);
  for (let i = 0; i < tries && !exited; i++) {
    if (await exists(path)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

/** Why a capture test cannot run here, or undefined when it can. */
export async function captureUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "capture tests need Linux";
  if (Deno.uid() !== 0) return "capture tests need root (CI runs them as root)";
  try {
    await Deno.stat(LIB);
  } catch {
    // as root the library must be there: a missing build is a failure, not a skip
    throw new Error(`the native library ${LIB} is missing: run \`make build\``);
  }
  return undefined;
}

/** Registers a test that prints why it skips instead of running. */
export function captureTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
  unavailable: string | undefined,
): void {
  if (unavailable) {
    if (mustNotSkip()) {
      Deno.test(name, () => {
        throw new Error(`CI must run this capture test, but: ${unavailable}`);
      });
      return;
    }
    Deno.test({ name, ignore: true, fn });
    console.error(`skipping "${name}": ${unavailable}`);
    return;
  }
  Deno.test({ name, fn, sanitizeResources: false, sanitizeOps: false });
}

export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

export function assertEquals(
  actual: unknown,
  expected: unknown,
  msg = "",
): void {
  const a = JSON.stringify(actual, bigints),
    e = JSON.stringify(expected, bigints);
  if (a !== e) throw new Error(`${msg}\nexpected ${e}\n     got ${a}`);
}

function bigints(_k: string, v: unknown) {
  return typeof v === "bigint" ? v.toString() : v;
}

/**
 * How to run procrec without capture privilege: as user nobody (setpriv),
 * or, when nobody cannot read this checkout (a clone under /root), as root
 * with every capability dropped. Says which on stderr.
 */
export async function unprivilegedPrefix(): Promise<
  { prefix: string[]; uid: number }
> {
  const nobody = [
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--inh-caps=-all",
  ];
  const probe = await new Deno.Command(nobody[0], {
    args: [
      ...nobody.slice(1),
      "/bin/sh",
      "-c",
      `test -x "$1" && test -r "$2"`,
      "sh",
      PROCREC,
      `${ROOT}cli/main.ts`,
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  if (probe.success) return { prefix: nobody, uid: 65534 };
  console.error(
    `user nobody cannot read ${ROOT}: testing as root without capabilities instead`,
  );
  return {
    prefix: ["setpriv", "--inh-caps=-all", "--bounding-set=-all"],
    uid: 0,
  };
}

/** CI (CI=true) runs every capture test: a reason to skip fails there. */
export function mustNotSkip(): boolean {
  return Deno.env.get("CI") === "true";
}
