/**
 * The process filters `replay` and `record --follow` share (--pid, --image,
 * --cmdline, --user, --failed, --signal, --flag, --hash, --container,
 * --exclude-kthreads): their options and the {@link TreeFilter} they make.
 * Bad values are usage errors (exit 2) that name the option.
 *
 * @module
 */
import { type Command, Option } from "commander";
import {
  FILTER_FLAGS,
  type FilterFlag,
  hashPrefix,
  signalNumber,
  type TreeFilter,
} from "../analysis/select_processes.ts"; // not mod.ts: record loads this
import { UsageError } from "../errors.ts";

/** The values of the shared process filter options. */
export interface ProcessFilterFlags {
  pid?: string;
  image?: string[];
  cmdline?: string[];
  user?: string[];
  failed?: boolean;
  signal?: string[];
  excludeKthreads?: boolean;
  flag?: string[];
  hash?: string[];
  container?: string[];
}

/** Runs `f`, turning its Error into a usage error (exit 2). */
export function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A repeatable option's values, in order. */
export const collect = (v: string, prev: string[] | undefined): string[] => [
  ...(prev ?? []),
  v,
];

/** Adds the shared process filter options to a command. */
export function addProcessFilterOptions(cmd: Command): Command {
  return cmd
    .option("--pid <pid>", "only processes with this pid")
    .option(
      "--image <substr>",
      "only processes whose command as printed (or image) contains this, any case (repeat: any of them)",
      collect,
    )
    .option(
      "--cmdline <regex>",
      "only processes whose command line matches this regular expression (repeat: any of them)",
      collect,
    )
    .option(
      "--user <name|uid>",
      "only processes that ran as this user, real or effective (repeat: any of them)",
      collect,
    )
    .option(
      "--failed",
      "only processes that ended with a failure (exit code not 0, signal, error status)",
    )
    .addOption(
      new Option(
        "--signal [N|NAME]",
        "only processes killed by a signal (this one: 9, KILL or SIGKILL; repeat: any of them)",
      ).preset("any").argParser(collect),
    )
    .option(
      "--flag <flag>",
      "only processes with this flag: existing-before-recording, reparented, in-lost-span, fileless, setuid, no-exec, argv-truncated, ... (repeat: any of them)",
      collect,
    )
    .option(
      "--hash <prefix>",
      "only processes that ran an image whose SHA-256 (or Sysmon hash) starts with this, 4+ hex digits (repeat: any of them)",
      collect,
    )
    .option(
      "--container <id|name>",
      "only processes in this container: id or its start, pod uid, or nspawn machine name (repeat: any of them)",
      collect,
    )
    .option(
      "--exclude-kthreads",
      "leave out Linux kernel threads (kthreadd and its children)",
    );
}

/** The filter the shared options ask for; throws a UsageError for bad values. */
export function processFilter(flags: ProcessFilterFlags): TreeFilter {
  const filter: TreeFilter = {};
  if (flags.pid !== undefined) {
    if (!/^\d+$/.test(flags.pid)) {
      throw new UsageError(`--pid "${flags.pid}" is not a process id`);
    }
    filter.pid = Number(flags.pid);
  }
  if (flags.image !== undefined) filter.image = flags.image;
  if (flags.cmdline !== undefined) {
    filter.cmdline = flags.cmdline.map((r) =>
      usage(() => {
        try {
          return new RegExp(r);
        } catch (e) {
          throw new Error(
            `--cmdline "${r}" is not a regular expression: ${
              (e as Error).message
            }`,
          );
        }
      })
    );
  }
  if (flags.user !== undefined) filter.user = flags.user;
  if (flags.failed) filter.failed = true;
  if (flags.signal !== undefined) {
    const given = flags.signal.filter((v) => v !== "any");
    usage(() => given.forEach((v) => signalNumber(v)));
    // any signal, or (OR) these: any signal
    filter.signal = given.length < flags.signal.length ? [] : given;
  }
  if (flags.excludeKthreads) filter.excludeKthreads = true;
  if (flags.flag !== undefined) {
    for (const f of flags.flag) {
      if (!(FILTER_FLAGS as readonly string[]).includes(f)) {
        throw new UsageError(
          `--flag "${f}" is not a flag (one of ${FILTER_FLAGS.join(", ")})`,
        );
      }
    }
    filter.flag = flags.flag as FilterFlag[];
  }
  if (flags.hash !== undefined) {
    filter.hash = flags.hash.map((h) => usage(() => hashPrefix(h)));
  }
  if (flags.container !== undefined) {
    for (const c of flags.container) {
      if (c.trim() === "") throw new UsageError("--container needs a value");
    }
    filter.container = flags.container.map((c) => c.trim());
  }
  return filter;
}
