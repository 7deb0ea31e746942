/**
 * `procrec service unit|install|uninstall|status`: procrec as a systemd
 * flight recorder. `install`/`uninstall` need root (`--allow-write`,
 * `--allow-run=systemctl`); `status` needs `--allow-read` of the directory
 * and of `/proc`.
 *
 * @module
 */
import { type Command, Option } from "commander";
import {
  type NotRootOnly,
  pathNotRootOnly,
  systemdUnit,
  treeNotRootOnly,
  type UnitOptions,
} from "../service/mod.ts";
import { renderServiceStatus } from "../service/mod.ts";
import { CliError } from "../errors.ts";
import { action, print, printErr } from "./_run.ts";
import { readServiceStatus } from "./_service_status.ts";
import { parseRetention, parseRotation } from "../record/parse_rotation.ts";
import { readInputBytes } from "../io/mod.ts";

const DEFAULT_DIR = "/var/lib/procrec";
const UNIT_NAME = "procrec.service";
/** The unit's cache directory (`CacheDirectory=`): the Deno cache. */
const CACHE_DIR = "/var/cache/procrec";
/** The Debian package's environment file (`PROCREC_DIR=...`). */
const DEFAULT_CONFIG = "/etc/default/procrec";

const HELP = `
Always on, in three lines:
  sudo procrec service install --dir /var/lib/procrec --rotate 1h --keep 7d
  procrec service status                       # newest segment, age, losses, writer
  procrec replay /var/lib/procrec/ --from 2026-12-02T10:14:00Z

The unit starts early in boot, restarts the recorder whenever it stops, and
is hardened: read-only file system (/proc and /sys too) but the directory,
no new privileges, only the capabilities the source needs (netlink:
CAP_NET_ADMIN; ebpf: CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE; both:
CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_SYS_NICE), no device but the pseudo
ones, no new namespaces, no ptrace, mount, kernel module, log, clock or host
name changes; the kernel kills it last when memory runs out. No start limit:
a recorder that fails to start is started again every 2 s. install refuses a
launcher, installation or segment directory (or a directory above them)
that another user than root can change. An option in
PROCREC_ARGS may need more: --group (CAP_CHOWN), --rules (CAP_SYS_ADMIN for
fanotify); add them with a drop-in (systemctl edit procrec). 'systemctl reload procrec' rotates the segment
now (SIGHUP); stopping closes it cleanly (SIGTERM).
`;

interface UnitFlags {
  dir: string;
  rotate: string;
  keep: string;
  source: UnitOptions["source"];
  config?: string;
  exec?: string;
}

/** Adds `service` and its subcommands to the program. */
export function register(program: Command): void {
  const service = program
    .command("service")
    .description(
      "run procrec as a systemd flight recorder (unit, install, status)",
    )
    .addHelpText("after", HELP);

  unitOptions(
    service.command("unit")
      .description(
        "print the systemd unit (procrec.service) without installing it",
      )
      .option(
        "--config <file>",
        "read PROCREC_DIR, PROCREC_ROTATE, PROCREC_KEEP, PROCREC_SOURCE, PROCREC_ARGS from this environment file at each start",
      ),
  ).action(action(async (flags: UnitFlags) => {
    await print(systemdUnit(await unitOf(flags)));
    return 0;
  }));

  unitOptions(
    service.command("install")
      .description(
        "write procrec.service, create the directory (0700), enable and start it",
      )
      .option(
        "--unit-dir <dir>",
        "where to write the unit",
        "/etc/systemd/system",
      )
      .option("--no-enable", "only write the unit; do not enable or start it"),
  ).action(
    action(async (flags: UnitFlags & { unitDir: string; enable: boolean }) => {
      const opts = await unitOf(flags);
      const unit = systemdUnit(opts);
      await refuseForeignCode(opts.exec);
      await refuseForeignDir(opts.dir);
      // a new directory is the recorder's own (0700); an existing one keeps
      // its mode (it may be shared), with a note when others can read it
      const st = await Deno.stat(flags.dir).catch(() => undefined);
      const existed = st ? st.mode ?? 0 : undefined;
      if (existed === undefined) {
        await Deno.mkdir(flags.dir, { recursive: true, mode: 0o700 });
        await Deno.chmod(flags.dir, 0o700);
      } else if ((existed & 0o077) !== 0) {
        printErr(
          `procrec: note: "${flags.dir}" exists with mode ${
            (existed & 0o7777).toString(8)
          }: others can read what is recorded there (left as it is)\n`,
        );
      }
      const path = `${flags.unitDir}/${UNIT_NAME}`;
      const tmp = `${path}.tmp-${Deno.pid}`;
      await Deno.writeTextFile(tmp, unit, { mode: 0o644, createNew: true });
      await Deno.rename(tmp, path);
      await print(`wrote ${path}\n`);
      if (flags.enable) {
        const running = await systemdRunning();
        if (running) await systemctl("daemon-reload");
        await systemctl("enable", UNIT_NAME);
        // (restart, not start: a recorder running the unit before this
        // install takes its new settings)
        if (running) await systemctl("restart", UNIT_NAME);
        await print(
          running
            ? "enabled and (re)started procrec.service\n"
            : "enabled procrec.service (systemd is not running here: it starts at the next boot)\n",
        );
      }
      return 0;
    }),
  );

  service.command("uninstall")
    .description(
      "stop and disable procrec.service and remove the unit (recordings stay)",
    )
    .option("--unit-dir <dir>", "where the unit is", "/etc/systemd/system")
    .action(action(async (flags: { unitDir: string }) => {
      const path = `${flags.unitDir}/${UNIT_NAME}`;
      // (no unit there, e.g. a mistyped --unit-dir: the running service is
      // left alone)
      if (!(await Deno.lstat(path).then(() => true, () => false))) {
        throw new CliError(`Cannot uninstall: there is no unit at "${path}"`);
      }
      if (await systemdRunning()) {
        await systemctl("disable", "--now", UNIT_NAME).catch((e) =>
          printErr(`procrec: ${(e as Error).message}\n`)
        );
      } else {
        await systemctl("disable", UNIT_NAME).catch(() => {});
      }
      try {
        await Deno.remove(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        throw new CliError(`Cannot uninstall: there is no unit at "${path}"`);
      }
      if (await systemdRunning()) await systemctl("daemon-reload");
      await print(`removed ${path}; the recordings were left in place\n`);
      return 0;
    }));

  service.command("status")
    .description(
      "the segment directory: newest segment, its age, events, losses, disk use, writer alive and writing (exit 1 if not)",
    )
    .option(
      "--dir <dir>",
      `the service's segment directory (default: PROCREC_DIR of the --config file, else ${DEFAULT_DIR})`,
    )
    .option(
      "--config <file>",
      "the service's environment file",
      DEFAULT_CONFIG,
    )
    .option("--json", "print the status as JSON")
    .action(action(
      async (flags: { dir?: string; config: string; json?: boolean }) => {
        const dir = flags.dir ?? await configuredDir(flags.config) ??
          DEFAULT_DIR;
        const status = await readServiceStatus(dir);
        const { text, healthy } = renderServiceStatus(status);
        await print(
          flags.json
            ? JSON.stringify({ ...status, healthy }, null, 2) + "\n"
            : text,
        );
        return healthy ? 0 : 1;
      },
    ));
}

function unitOptions(cmd: Command): Command {
  return cmd
    .option("--dir <dir>", "segment directory", DEFAULT_DIR)
    .option(
      "--rotate <size|time>",
      "start a new segment after this (e.g. 1h, 64MiB)",
      "1h",
    )
    .option(
      "--keep <size|age|count>",
      "retention of closed segments (e.g. 7d, 20GiB, 100)",
      "7d",
    )
    .addOption(
      new Option("--source <source>", "event source").choices([
        "auto",
        "ebpf",
        "netlink",
      ])
        .default("auto"),
    )
    .option(
      "--exec <path>",
      "the procrec launcher the unit runs (default: this installation's)",
    );
}

async function unitOf(flags: UnitFlags): Promise<UnitOptions> {
  const dir = flags.dir.startsWith("/")
    ? flags.dir
    : `${Deno.cwd()}/${flags.dir}`;
  if (/^\/(var\/)?tmp(\/|$)/.test(dir)) {
    printErr(
      `procrec: warning: --dir "${dir}" is under /tmp or /var/tmp, which a reboot or systemd-tmpfiles empties: its recordings would go; choose a directory of its own, e.g. /var/lib/procrec\n`,
    );
  }
  // what record would refuse at every start (the unit then never runs)
  for (
    const [value, parse] of [
      flags.rotate,
      flags.keep,
    ].map((v, i) => [v, i === 0 ? parseRotation : parseRetention] as const)
  ) {
    try {
      parse(value);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  return {
    exec: flags.exec ?? await defaultExec(),
    dir,
    rotate: flags.rotate,
    keep: flags.keep,
    source: flags.source,
    config: flags.config,
  };
}

/**
 * Refuses a unit that would run, as root, code another user can change:
 * the launcher, every directory the kernel looks in to reach it, the
 * installation it belongs to (its directory, when that holds
 * `cli/main.ts`: the launcher runs the Deno, the sources and the library
 * there) and the unit's Deno cache (compiled code). Found by review: a
 * launcher owned by nobody was installed without a word, and that user would
 * have run code as root at every boot.
 */
async function refuseForeignCode(exec: string): Promise<void> {
  const real = await Deno.realPath(exec).catch(() => undefined);
  if (real === undefined) {
    throw new CliError(
      `Cannot install: the launcher "${exec}" (--exec) is not there`,
    );
  }
  const found = await pathNotRootOnly(exec);
  const home = real.replace(/\/[^/]*$/, "") || "/";
  const tree = await Deno.lstat(`${home}/cli/main.ts`).then(
    () => home,
    () => undefined,
  );
  let cut = false;
  for (const t of tree !== undefined ? [tree, CACHE_DIR] : [CACHE_DIR]) {
    if (!(await Deno.lstat(t).then(() => true, () => false))) continue;
    const inTree = await treeNotRootOnly(t);
    found.push(...await pathNotRootOnly(t), ...inTree.found);
    cut ||= inTree.cut;
  }
  if (found.length === 0 && !cut) return;
  const fix = tree !== undefined
    ? `chown -R root:root ${tree} && chmod -R go-w ${tree}`
    : `chown root:root ${real} && chmod go-w ${real}`;
  throw new CliError(
    `Cannot install: the service would run as root what another user than root can change (that user would run code as root at every start): ${
      found.length ? listed(found) : `${tree} has too many entries to look at`
    }. Make each root's and writable by root only (${fix}; a directory above: chown root:root DIR && chmod go-w DIR; ${CACHE_DIR}: chown -R root:root ${CACHE_DIR} && chmod 0700 ${CACHE_DIR}), or install the Debian package`,
  );
}

/**
 * Refuses a segment directory another user than root can write (or a
 * directory above it: it could be replaced): that user can delete or alter
 * what is recorded, or make a writer.lock and hold it, which kept every
 * recorder out while the unit restarted it forever (found by review).
 */
async function refuseForeignDir(dir: string): Promise<void> {
  const found = await pathNotRootOnly(dir);
  if (found.length === 0) return;
  throw new CliError(
    `Cannot install: another user than root can write the segment directory "${dir}" or a directory above it (${
      listed(found)
    }): that user can delete or alter what is recorded, or make and hold a writer.lock that keeps the recorder out. Make it root's (chown root:root ${dir} && chmod 0700 ${dir}; chmod go-w for a directory above), or choose another --dir`,
  );
}

/** `PATH: why; ...`, the first five and how many more. */
function listed(found: NotRootOnly[]): string {
  const shown = found.slice(0, 5).map((f) => `${f.path}: ${f.why}`).join("; ");
  return found.length > 5 ? `${shown}; and ${found.length - 5} more` : shown;
}

/** `/usr/bin/procrec` when it is this installation, else this launcher. */
async function defaultExec(): Promise<string> {
  const home = Deno.env.get("PROCREC_HOME") ??
    decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(
      /\/$/,
      "",
    );
  const launcher = `${home}/procrec`;
  try {
    if (
      await Deno.realPath("/usr/bin/procrec") === await Deno.realPath(launcher)
    ) {
      return "/usr/bin/procrec";
    }
  } catch { /* not installed system-wide */ }
  return launcher;
}

/**
 * `PROCREC_DIR` of an environment file (`NAME=VALUE` lines, `#` comments,
 * quotes taken off), if the file is there and sets it.
 */
async function configuredDir(file: string): Promise<string | undefined> {
  const text = await readSmallText(file, "service environment file");
  if (text === undefined) return undefined;
  let dir: string | undefined;
  for (const line of text.split("\n")) {
    const m = /^\s*PROCREC_DIR=(.*)$/.exec(line);
    if (m) dir = m[1].trim().replace(/^(["'])(.*)\1$/, "$2");
  }
  return dir === "" ? undefined : dir;
}

/** The text of `file`, if it is there (at most 64 KiB: it may be anything). */
async function readSmallText(
  file: string,
  what: string,
): Promise<string | undefined> {
  if (!(await Deno.lstat(file).then(() => true, () => false))) {
    return undefined;
  }
  try {
    return new TextDecoder().decode(
      await readInputBytes(file, { what, maxBytes: 64 * 1024 }),
    );
  } catch (e) {
    throw new CliError((e as Error).message, 2, { cause: e });
  }
}

/** Where `service install` and the Debian package put the unit. */
const UNIT_FILES = [
  `/etc/systemd/system/${UNIT_NAME}`,
  `/lib/systemd/system/${UNIT_NAME}`,
];

/**
 * The segment directories of the service on this host, for `doctor`: the
 * `PROCREC_DIR` of the environment file `config` (the Debian package's
 * /etc/default/procrec), and of each unit file of `units` that is there the
 * directory it may write (`ReadWritePaths=`) and the `PROCREC_DIR` of its
 * `EnvironmentFile=`; absolute paths only. Files that are not there are
 * passed over; one that cannot be read is an error that names it.
 *
 * @example
 * ```ts
 * import { serviceDirs } from "./service.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/env`, 'PROCREC_DIR="/srv/rec"\n');
 * await Deno.writeTextFile(
 *   `${dir}/procrec.service`,
 *   `[Service]\nEnvironmentFile=-${dir}/env\nReadWritePaths=/var/lib/x\n`,
 * );
 * const dirs = await serviceDirs(`${dir}/none`, [`${dir}/procrec.service`]);
 * await Deno.remove(dir, { recursive: true });
 * if (dirs.join(" ") !== "/srv/rec /var/lib/x") throw new Error(dirs.join());
 * ```
 */
export async function serviceDirs(
  config = DEFAULT_CONFIG,
  units = UNIT_FILES,
): Promise<string[]> {
  const dirs: (string | undefined)[] = [await configuredDir(config)];
  for (const unit of units) {
    const text = await readSmallText(unit, "systemd unit");
    for (const line of text?.split("\n") ?? []) {
      const m = /^\s*(ReadWritePaths|EnvironmentFile)=(.*)$/.exec(line);
      if (!m) continue;
      const value = m[2].trim().replace(/^-/, "");
      if (m[1] === "EnvironmentFile") dirs.push(await configuredDir(value));
      else dirs.push(...value.split(/\s+/).map((d) => d.replace(/^-/, "")));
    }
  }
  return [
    ...new Set(dirs.filter((d): d is string => d?.startsWith("/") ?? false)),
  ];
}

async function systemdRunning(): Promise<boolean> {
  try {
    return (await Deno.stat("/run/systemd/system")).isDirectory;
  } catch {
    return false;
  }
}

async function systemctl(...args: string[]): Promise<void> {
  const out = await new Deno.Command("systemctl", {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new CliError(
      `Cannot run "systemctl ${args.join(" ")}": ${
        new TextDecoder().decode(out.stderr).trim()
      }`,
    );
  }
}
