import { windowsProgramName } from "../interop/split_windows_command_line.ts";
import { commandOf, formatDuration, labelOf, oneLine } from "./_format.ts";
import { formatTime, type TimeStyle } from "./format_time.ts";
import { style } from "../text/style.ts";
import {
  decisionNotes,
  type Forest,
  type ProcessNode,
  threadCount,
} from "./forest.ts";
import { identityOf, userLabel } from "./process_identity.ts";
import {
  isFiltering,
  selectProcesses,
  type TreeFilter,
} from "./select_processes.ts";

/** Deeper processes are not indented further; their depth is printed. */
export const MAX_INDENT = 64;

/** Options of {@link renderTree}. */
export interface RenderTreeOptions {
  /** Show only matching processes (with their ancestors, for context). */
  filter?: TreeFilter;
  /** Print each process's stable id. */
  ids?: boolean;
  /** Longest command shown before it is cut (default 200 characters). */
  maxCommand?: number;
  /** Also show each image's SHA-256 and the container, commands uncut (`--wide`). */
  wide?: boolean;
  /** How start times print (default: relative, `+1.234s`). */
  time?: TimeStyle;
  /** Mark failures (red), flags (yellow) and matches (bold) with `style()`. */
  color?: boolean;
  /** Notes printed at the end of a process's line, `{note; note}`, by process id (e.g. `sigma: TITLE`). */
  notes?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Renders the forest as an indented tree, one process per line: command
 * (argv, else command line, else image), pid, start, duration, exit status,
 * thread count, exec rule decisions (`EXEC DENIED /tmp/x (rule r)`, `exec
 * audited ...`, `(rule r, a copy by content)` when a `file` rule matched
 * a copy), user (`nobody as root` when the effective user differs) and
 * flags (among them `setuid`, `setgid`, `fileless`, `deleted-image`,
 * `argv-truncated`, `no-exec`, `not-utf8`); with `wide`, the image's SHA-256 and the
 * container. Children follow their parent in start order. With
 * a filter, matched processes are marked `*` and shown with their ancestors.
 * Lost spans show as the `in-lost-span` flag of the processes they overlap;
 * the summary counts them (one process per line, so line counts stay
 * process counts).
 *
 * @example
 * ```ts
 * import { analyze } from "./analyze.ts";
 * import { renderTree } from "./render_tree.ts";
 * const f = await analyze([
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 0,
 *     info: { image: "/bin/sh", argv: ["sh", "-c", "ls"], from: {} } },
 *   { kind: "process_exit", t: 2_000_000, pid: 5, tid: 5, status: 0 },
 * ], { os: "linux", bootId: "b" });
 * const text = renderTree(f);
 * if (!text.includes("sh -c ls  [5]  +0.000s  2ms  exit 0  threads 1")) {
 *   throw new Error(text);
 * }
 * ```
 */
export function renderTree(
  forest: Forest,
  options: RenderTreeOptions = {},
): string {
  return renderTreeLines(forest, options).join("\n") + "\n";
}

/**
 * The lines of {@link renderTree} (without their newlines), for output too
 * big for one string: a recording of millions of processes.
 */
export function renderTreeLines(
  forest: Forest,
  options: RenderTreeOptions = {},
): string[] {
  const filtering = isFiltering(options.filter);
  const sel = filtering ? selectProcesses(forest, options.filter!) : undefined;
  const out: string[] = [];
  const max = options.maxCommand ?? (options.wide ? Infinity : 200);
  // iterative: recording trees can be deeper than the call stack
  const stack: {
    id: string;
    prefix: string;
    childPrefix: string;
    depth: number;
  }[] = [];
  const roots = forest.roots.filter((r) => !sel || sel.shown.has(r));
  for (let i = roots.length - 1; i >= 0; i--) {
    stack.push({ id: roots[i], prefix: "", childPrefix: "", depth: 0 });
  }
  while (stack.length > 0) {
    const { id, prefix, childPrefix, depth } = stack.pop()!;
    const n = forest.byId.get(id);
    if (!n) continue;
    const mark = sel?.matched.has(n.id)
      ? style("bold", "*", options.color) + " "
      : "";
    const deep = depth > MAX_INDENT ? `(depth ${depth}) ` : "";
    out.push(
      prefix + deep + mark +
        describeProcess(
          forest,
          n,
          options.ids === true,
          max,
          options.wide,
          options.time,
          options.color,
        ) + noteText(options.notes?.get(n.id)),
    );
    const kids = n.children.filter((c) => !sel || sel.shown.has(c));
    for (let i = kids.length - 1; i >= 0; i--) {
      const lastKid = i === kids.length - 1;
      stack.push({
        id: kids[i],
        prefix: childPrefix + (lastKid ? "└─ " : "├─ "),
        // past MAX_INDENT the indentation stops growing; the depth is printed
        childPrefix: depth >= MAX_INDENT
          ? childPrefix
          : childPrefix + (lastKid ? "   " : "│  "),
        depth: depth + 1,
      });
    }
  }
  if (out.length === 0) {
    out.push(filtering ? "(no process matches)" : "(no processes)");
  }
  return out;
}

/** One line about a process, without tree prefix. */
export function describeProcess(
  forest: Forest,
  n: ProcessNode,
  ids = false,
  maxCommand = 200,
  wide = false,
  time?: TimeStyle,
  color = false,
): string {
  let cmd = oneLine(commandOf(n));
  if (cmd.length > maxCommand) cmd = cmd.slice(0, maxCommand - 3) + "...";
  const parts = [cmd, `[${n.pid}]`, formatTime(n.start, time)];
  if (n.end !== undefined) parts.push(formatDuration(n.end - n.start));
  else parts.push(n.endState ?? "running");
  if (n.exit) {
    const failed = !n.exit.success && n.exit.kind !== "unknown";
    parts.push(style("red", n.exit.text, color && failed));
  }
  // (an ended process of a forest that counted its threads: the counts)
  const remote = n.endedThreads?.remote ??
    n.threads.filter((t) => t.remote).length;
  parts.push(
    `threads ${threadCount(n)}${remote ? ` (${remote} remote)` : ""}`,
  );
  const images = n.execs.filter((e) => e.via === "exec").map((e) =>
    e.image ?? "?"
  );
  if (images.length > 1) parts.push(`execs ${oneLine(images.join(" -> "))}`);
  const hidden = imageNotShown(n, forest.meta.os);
  if (hidden !== undefined) parts.push(`image ${oneLine(hidden)}`);
  for (const d of n.decisions ?? []) {
    parts.push(
      `${
        d.action === "denied"
          ? "EXEC DENIED"
          : d.exempt
          ? "exec exempt"
          : "exec audited"
      } ${oneLine(d.image)} (rule ${oneLine(d.rule)}${decisionNotes(d)})`,
    );
  }
  const identity = identityOf(n, forest.meta.os);
  const user = userLabel(identity.cred, forest.accounts);
  if (user !== undefined) parts.push(`user ${oneLine(user)}`);
  if (wide) {
    const img = identity.image;
    // (both from the recording: escaped as all evidence text is; found by
    // review, a newline in either forged a line of the tree)
    if (img?.sha256 !== undefined) parts.push(`sha256 ${oneLine(img.sha256)}`);
    else if (img?.hashState !== undefined) {
      parts.push(
        `sha256 ${oneLine(img.hashState)}${
          img.hashReason ? ` (${oneLine(img.hashReason)})` : ""
        }`,
      );
    }
    const c = identity.container;
    if (c) {
      parts.push(
        // (the id comes from a cgroup path a process can name: escaped;
        // found by review, a machine name of tabs and colour marks)
        `container ${c.runtime}:${oneLine(c.id.slice(0, 12))}${
          c.podUid ? ` pod ${oneLine(c.podUid)}` : ""
        }`,
      );
    }
  }
  const flags: string[] = [...identity.flags];
  flags.push(...n.flags.map((f) => {
    if (f === "parent-differs-from-creator") {
      const c = n.creatorId ? forest.byId.get(n.creatorId) : undefined;
      return `created by ${
        c ? oneLine(labelOf(c)) : `pid ${n.creatorPid}`
      }, parent pid ${n.ppid}`;
    }
    return f;
  }));
  if (n.parentId === undefined && !n.flags.includes("seen-without-create")) {
    flags.unshift(`ppid ${n.ppid}`);
  }
  if (flags.length) parts.push(style("yellow", `{${flags.join("; ")}}`, color));
  if (ids) parts.push(n.id);
  return parts.join("  ");
}

/** `  {a; b}` for notes, "" for none; each note on one line. */
function noteText(notes: readonly string[] | undefined): string {
  if (!notes || notes.length === 0) return "";
  return `  {${notes.map((x) => oneLine(x)).join("; ")}}`;
}

/**
 * The directories whose programs a bare name in argv[0] shows (Linux): the
 * system's binary directories and, below any depth, its library ones
 * (`cc1` of /usr/lib/gcc/...), all writable by root alone.
 */
const SYSTEM_BIN_DIR =
  /^(\/usr(\/local)?)?\/s?bin\/[^/]+$|^(\/usr)?\/(lib|libexec)(32|64)?\//;

/**
 * The same for Windows (lower case, backslashes): the Windows directory
 * itself, System32 and SysWOW64 below any depth, Program Files.
 */
const WINDOWS_SYSTEM_DIR =
  /^[a-z]:\\(windows\\([^\\]+$|system32\\|syswow64\\)|program files( \(x86\))?\\)/;

/**
 * The image of `n` when the command it shows does not show it
 * ({@link imageHidden}: a process named as another program, `exec -a
 * '[kworker/0:2]' /tmp/.x/miner`), else undefined: what the tree and the
 * report's row add as `image …`.
 *
 * @example
 * ```ts
 * import { imageNotShown } from "./render_tree.ts";
 * const n = { image: "/tmp/.x/miner", argv: ["[kworker/0:2]"] };
 * if (imageNotShown(n, "linux") !== "/tmp/.x/miner") throw new Error();
 * if (imageNotShown({ image: "/usr/bin/ls", argv: ["ls"] }, "linux")) throw new Error();
 * ```
 */
export function imageNotShown(
  n: Pick<ProcessNode, "image" | "argv" | "cmdline">,
  os: string,
): string | undefined {
  // (the command's first word: argv[0], or a Windows command line's)
  const first = n.argv !== undefined && n.argv.length > 0
    ? n.argv[0]
    : n.cmdline !== undefined && os === "windows"
    ? windowsProgramName(n.cmdline)
    : undefined;
  return n.image && first !== undefined && imageHidden(n.image, first, os)
    ? n.image
    : undefined;
}

/**
 * Whether the command `argv0` starts with does not show the image: another
 * file name (exactly: `/tmp/evil-sshd` is not `sshd`), or, on Linux, an
 * absolute path that is not the image's (`exec -a /usr/sbin/sshd
 * /tmp/x/sshd`), but for the merged `/usr` (`/bin/ls` is `/usr/bin/ls`),
 * or a bare name of a file outside the system's directories (`sshd` run
 * from /dev/shm). Windows names are compared without case: a full path
 * (`X:\\...`) whole, else by file name, and a bare name shows only a file
 * of the Windows directory, System32 or SysWOW64.
 *
 * @example
 * ```ts
 * import { imageHidden } from "./render_tree.ts";
 * if (!imageHidden("/tmp/evil-sshd", "sshd", "linux")) throw new Error();
 * if (!imageHidden("/dev/shm/.x/sshd", "sshd", "linux")) throw new Error();
 * if (imageHidden("/usr/bin/ls", "/bin/ls", "linux")) throw new Error();
 * ```
 */
export function imageHidden(
  image: string,
  argv0: string,
  os: string,
): boolean {
  // (a backslash separates only on Windows: on Linux `/tmp/evil\sshd` is a
  // file of that name, not sshd; found by review)
  const base = (p: string) =>
    os === "windows" ? p.replace(/^.*[\\/]/, "") : p.replace(/^.*\//, "");
  if (os === "windows") {
    // (without case; a full path, X:\..., compared whole)
    const low = (p: string) => p.replaceAll("/", "\\").toLowerCase();
    if (/^[A-Za-z]:[\\/]/.test(argv0)) return low(argv0) !== low(image);
    // (a name without an extension runs NAME.exe, .com...: `ping`)
    const named = base(argv0).toLowerCase();
    const file = base(image).toLowerCase();
    if (
      named.includes(".")
        ? file !== named
        : file.replace(/\.[^.]*$/, "") !== named
    ) return true;
    // a bare name tells the file only from the system's own directories:
    // `svchost.exe -k` run from C:\Users\Public is not the system's
    // (found by review)
    return !/[\\/]/.test(argv0) && !WINDOWS_SYSTEM_DIR.test(low(image));
  }
  if (base(image) !== base(argv0)) return true;
  // a bare name, as a shell finds it in PATH, tells the file only from the
  // system's binary directories: `sshd -D` run from /dev/shm/.x/sshd reads
  // as the real sshd (found by review)
  if (!argv0.includes("/")) return !SYSTEM_BIN_DIR.test(image);
  if (!argv0.startsWith("/")) return false;
  const merged = (p: string) =>
    p.replace(/^\/(bin|sbin|lib|lib64)\//, "/usr/$1/");
  return merged(argv0) !== merged(image);
}
