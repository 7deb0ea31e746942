/**
 * procrec's man page (`procrec.1`, roff), generated from its command spec:
 * the same text as `--help`, so the two never drift.
 *
 * @module
 */
import type { CommandSpec } from "./command_spec.ts";
import { walkCommands } from "./_walk.ts";

/** What the man page's title line carries besides the spec. */
export interface ManPageInfo {
  version: string;
  /** The date in the title line, `YYYY-MM-DD`. */
  date: string;
}

/**
 * Renders the man page of a program as roff (`man -l procrec.1`).
 *
 * @example
 * ```ts
 * import { manPage } from "./man_page.ts";
 * const roff = manPage({ name: "procrec", description: "record", args: [],
 *   helpAfter: "", options: [], commands: [] },
 *   { version: "1.0", date: "2026-12-02" });
 * if (!roff.startsWith(".TH PROCREC 1")) throw new Error(roff);
 * ```
 */
export function manPage(program: CommandSpec, info: ManPageInfo): string {
  const prog = program.name;
  const out: string[] = [
    `.TH ${prog.toUpperCase()} 1 "${info.date}" "${prog} ${info.version}" "User Commands"`,
    ".SH NAME",
    `${prog} \\- ${
      text(firstLine(program.description).replace(/[:,.].*$/, ""))
    }`,
    ".SH SYNOPSIS",
    `.B ${prog}`,
    "\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]",
    ".SH DESCRIPTION",
    text(program.description.replace(/\n/g, " ")),
    ".PP",
    `Exit status: 0 ok; 1 different, tampered or incomplete where that applies; 2 error.`,
    ".SH COMMANDS",
  ];
  for (const { path, spec } of walkCommands(program)) {
    if (path.length === 0 || spec.commands.length > 0) continue;
    out.push(`.SS ${text([prog, ...path].join(" "))}`);
    out.push(
      `.B ${[prog, ...path].join(" ")}`,
      `${spec.options.length ? "[\\fIOPTIONS\\fR] " : ""}${
        spec.args.map((a) => `\\fI${text(a)}\\fR`).join(" ")
      }`,
      ".PP",
      text(spec.description),
    );
    for (const o of spec.options) {
      out.push(".TP", `.B ${text(o.flags)}`, text(o.description));
    }
    if (spec.helpAfter) {
      out.push(".PP", ".nf", ...spec.helpAfter.split("\n").map(text), ".fi");
    }
  }
  out.push(
    ".SH ENVIRONMENT",
    ".TP",
    ".B PROCREC_LIB",
    "The native event-source library to load instead of the built or installed one.",
    ".SH SEE ALSO",
    "The README of the procrec sources, and \\fBprocrec COMMAND \\-\\-help\\fR.",
  );
  return out.join("\n") + "\n";
}

/** Escapes text for roff: backslashes, hyphens, and leading dots/quotes. */
function text(s: string): string {
  const t = s.replaceAll("\\", "\\e").replaceAll("-", "\\-");
  return t.replace(/^([.'])/, "\\&$1");
}

function firstLine(s: string): string {
  return s.split("\n")[0];
}
