/**
 * The data a report page embeds: per recording, its metadata and its
 * processes as compact rows that point at each other by index (the tree is
 * the analysis's: parents and children are copied, not recomputed). Pure.
 */
import { commandText } from "../analysis/command_text.ts";
import {
  decisionNotes,
  identityOf,
  imageNotShown,
  isKernelThread,
  renderSummary,
  summarize,
  threadCount,
  userLabel,
} from "../analysis/mod.ts";
import type { ExitStatus, Forest, ProcessNode } from "../analysis/mod.ts";
import type { ReportInput, ReportRecording } from "./report_input.ts";
import { isoFromNs } from "../text/iso_from_ns.ts";
import { escapeEvidence, escapeText } from "../text/escape_text.ts";

/** Exit classes, the page colours them. */
export const EXIT_CLASS = {
  ok: 0,
  failed: 1,
  signal: 2,
  running: 3,
  unknown: 4,
} as const;

/**
 * One process: [pid, start, end|null, parent index|-1, image, command,
 * exit text, exit class, flags, threads, id, children indices, execs,
 * identity details ([label, value] pairs: user, ids, cwd, hash, container,
 * cgroup, namespaces, Sysmon guid), user, hashes (what search matches),
 * kernel thread (1) or not (0)].
 */
export type ProcessRow = [
  number,
  number,
  number | null,
  number,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  number[],
  string,
  [string, string][],
  string,
  string,
  number,
  string,
];

/** One recording as the page sees it. */
export interface RecordingData {
  name: string;
  meta: [string, string][];
  problems: string[];
  summary: string;
  timeBaseUtcNs: string;
  /** Times of the first and last event. */
  first: number;
  last: number;
  /**
   * The recording's end, when later than its last event (the trailer's end
   * time), else null: the timeline reaches it, and so do the bars of the
   * processes still running then (with null, they end at the last event).
   */
  end: number | null;
  roots: number[];
  lost: [number, number, string, number, boolean][];
  p: ProcessRow[];
}

/** The whole page's data. */
export interface PageData {
  title: string;
  bundle: [string, string][];
  recordings: RecordingData[];
}

/** Builds the page data. */
export function reportData(input: ReportInput): PageData {
  const bundle: [string, string][] = [];
  if (input.bundle) {
    const b = input.bundle;
    bundle.push(["bundle", b.name], ["created", b.created]);
    if (b.case.id !== undefined) bundle.push(["case", b.case.id]);
    if (b.case.examiner !== undefined) {
      bundle.push(["examiner", b.case.examiner]);
    }
    if (b.case.note !== undefined) bundle.push(["note", b.case.note]);
    bundle.push([
      "signature",
      b.signed ? "signed (check it with procrec verify --key)" : "unsigned",
    ]);
  }
  return {
    title: escapeText(input.title),
    bundle: escapedStrings(bundle),
    recordings: input.recordings.map((r) => {
      const d = recordingData(r);
      const shown = escapedStrings(d);
      // (the summary is a block of lines, as replay prints it; the keys
      // keep their order, which the page's pieces follow)
      shown.summary = escapeText(d.summary, "\n\t");
      // (the tool's own messages, which quote evidence as JSON: escaped as
      // summary.txt escapes them, not as evidence; found by review)
      shown.problems = d.problems.map((p) => escapeText(p));
      return shown;
    }),
  };
}

/**
 * `v` with every string in it as a terminal shows evidence (escapeEvidence):
 * a control, bidirectional or invisible character is written `\uXXXX` (and
 * a backslash of the evidence before `u` and four hex digits `\u005c`), so
 * that `sshd\u200b` does not read as `sshd` in the tree, a right-to-left
 * override cannot reorder a command line or an image path, and a newline in
 * an argument does not pass for a second argument. The page sets text
 * through textContent, where such characters would act, not show.
 */
function escapedStrings<T>(v: T): T {
  if (typeof v === "string") return escapeEvidence(v) as T;
  if (Array.isArray(v)) return v.map(escapedStrings) as T;
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = escapedStrings(x);
    return out as T;
  }
  return v;
}

function recordingData(r: ReportRecording): RecordingData {
  const f = r.forest;
  const h = r.header;
  const index = new Map<string, number>();
  f.processes.forEach((n, i) => index.set(n.id, i));
  // Sigma hits show among a process's flags (`sigma: TITLE (LEVEL)`): the
  // page marks such rows
  const sigma = new Map<string, string[]>();
  for (const d of r.detections ?? []) {
    const note = `sigma: ${d.rule.title}${
      d.rule.level ? ` (${d.rule.level})` : ""
    }`;
    const list = sigma.get(d.process) ?? [];
    if (!list.includes(note)) list.push(note);
    sigma.set(d.process, list);
  }
  const p: ProcessRow[] = f.processes.map((n) => {
    const details = identityDetails(n, f);
    return [
      n.pid,
      n.start,
      n.end ?? null,
      n.parentId !== undefined ? index.get(n.parentId) ?? -1 : -1,
      n.image ?? (n.comm !== undefined ? `[${n.comm}]` : ""),
      commandText(n),
      n.exit
        ? n.exit.text
        : n.end !== undefined
        ? "exit not seen"
        : n.endState ?? "running",
      n.endState !== undefined ? EXIT_CLASS.unknown : exitClass(n.exit, n.end),
      [
        ...identityOf(n, f.meta.os).flags,
        ...n.flags,
        ...(n.decisions?.some((d) => d.action === "denied")
          ? ["exec-denied"]
          : []),
        ...sigma.get(n.id) ?? [],
      ].join(", "),
      threadCount(n),
      n.id,
      n.children.map((c) => index.get(c)).filter((x) => x !== undefined),
      execChain(n),
      details,
      details.find(([k]) => k === "user")?.[1] ?? "",
      details.filter(([k]) => HASH_LABELS.has(k)).map(([, v]) => v).join(" "),
      f.meta.os === "linux" && isKernelThread(n) ? 1 : 0,
      imageNotShown(n, f.meta.os) ?? "",
    ];
  });
  const i = r.integrity;
  const counts = Object.entries(f.counts).map(([k, v]) => `${k} ${v}`).join(
    ", ",
  );
  const lostByReason = new Map<string, number>();
  let unknown = 0;
  for (const s of f.lost) {
    lostByReason.set(s.reason, (lostByReason.get(s.reason) ?? 0) + s.count);
    if (s.countUnknown) unknown++;
  }
  const lost = f.lost.length === 0
    ? "none"
    : [...lostByReason].map(([k, v]) => `${k} ${v}`).join(", ") +
      ` in ${f.lost.length} spans` +
      (unknown ? ` (${unknown} of unknown size)` : "");
  const meta: [string, string][] = [
    ["recording", r.name],
    ["host", h.host],
    ["os", h.os],
    ["kernel", h.kernel],
    ["boot id", h.bootId],
    ["started (UTC)", isoFromNs(BigInt(h.timeBaseUtcNs))],
    [
      "ended (UTC)",
      i.endUtcNs ? isoFromNs(BigInt(i.endUtcNs)) : "unknown (no trailer)",
    ],
    [
      "event source",
      `${h.source.name}${h.source.reason ? ` (${h.source.reason})` : ""}`,
    ],
    ["recorder", `${h.tool.name} ${h.tool.version}`],
    // the reader checks argv's shape; the page still never assumes it
    ...(Array.isArray(h.command?.argv)
      ? [["command", h.command.argv.join(" ")] as [string, string]]
      : []),
    ...(h.redaction ? [["redaction", h.redaction] as [string, string]] : []),
    ["events", `${f.events}${counts ? ` (${counts})` : ""}`],
    ["processes", String(f.processes.length)],
    ["lost", lost],
    ...(i.eventsMissing
      ? [[
        "events missing",
        `${i.eventsMissing} (in damaged or missing chunks${
          i.trailerEvents !== undefined
            ? `; the trailer counts ${i.trailerEvents} events`
            : ""
        })`,
      ] as [string, string]]
      : []),
    [
      "integrity",
      `${i.complete ? "complete" : "INCOMPLETE"}, ${
        i.chainIntact ? "chain intact" : "chain BROKEN"
      }`,
    ],
  ];
  return {
    name: r.name,
    meta,
    problems: [
      ...i.problems,
      ...f.problems.map((x) => `analysis: ${x.message}`),
    ],
    summary: renderSummary(summarize(f)),
    timeBaseUtcNs: h.timeBaseUtcNs,
    first: f.first ?? 0,
    last: f.last ?? 0,
    end: f.end !== undefined && f.end > (f.last ?? -Infinity) ? f.end : null,
    roots: f.roots.map((id) => index.get(id)).filter((x) => x !== undefined),
    lost: f.lost.map((s) => [s.from, s.to, s.reason, s.count, s.countUnknown]),
    p,
  };
}

/** The details that hold an image's hashes (search looks in them). */
const HASH_LABELS = new Set(["sha256", "hashes"]);

function exitClass(e: ExitStatus | undefined, end: number | undefined): number {
  if (!e) return end === undefined ? EXIT_CLASS.running : EXIT_CLASS.unknown;
  if (e.kind === "unknown") return EXIT_CLASS.unknown;
  if (e.success) return EXIT_CLASS.ok;
  if (e.kind === "signal" || e.kind === "ntstatus") return EXIT_CLASS.signal;
  return EXIT_CLASS.failed;
}

/** What the report's details show of who ran a process and where. */
function identityDetails(n: ProcessNode, f: Forest): [string, string][] {
  const id = identityOf(n, f.meta.os);
  const c = id.cred;
  const img = id.image;
  const out: [string, string][] = [];
  const user = userLabel(c, f.accounts);
  if (user !== undefined) out.push(["user", user]);
  if (c?.uid !== undefined) {
    const ids = [`uid ${c.uid}`, `euid ${c.euid ?? "?"}`];
    ids.push(`gid ${c.gid ?? "?"}`, `egid ${c.egid ?? "?"}`);
    if (c.loginUid !== undefined) ids.push(`loginuid ${c.loginUid}`);
    if (c.sessionId !== undefined) ids.push(`session ${c.sessionId}`);
    out.push(["ids", ids.join("  ")]);
  } else if (c?.sessionId !== undefined) {
    out.push(["session", String(c.sessionId)]);
  }
  if (c?.integrityLevel !== undefined) {
    out.push(["integrity", c.integrityLevel]);
  }
  if (c?.logonId !== undefined) out.push(["logon id", c.logonId]);
  const cwd = [...n.execs].reverse().find((e) => e.cwd !== undefined)?.cwd;
  if (cwd !== undefined) out.push(["cwd", cwd]);
  if (img?.dev !== undefined) {
    out.push(["file", `dev ${img.dev}  inode ${img.ino ?? "?"}`]);
  }
  if (img?.sha256 !== undefined) out.push(["sha256", img.sha256]);
  else if (img?.hashState !== undefined) {
    out.push([
      "sha256",
      img.hashState + (img.hashReason ? ` (${img.hashReason})` : ""),
    ]);
  }
  if (img?.hashes !== undefined) out.push(["hashes", img.hashes]);
  if (img?.originalFileName !== undefined) {
    out.push(["original file name", img.originalFileName]);
  }
  if (id.container) {
    const k = id.container;
    out.push([
      "container",
      `${k.runtime} ${k.id}${k.podUid ? ` (pod ${k.podUid})` : ""}`,
    ]);
  }
  const cg = [...n.execs].reverse().find((e) => e.cgroup !== undefined);
  if (cg) out.push(["cgroup", `${cg.cgroup} (id ${cg.cgroupId ?? "?"})`]);
  const ns = [...n.execs].reverse().find((e) => e.ns !== undefined)?.ns;
  if (ns) {
    out.push([
      "namespaces",
      Object.entries(ns).map(([k, v]) => `${k} ${v}`).join("  "),
    ]);
  }
  if (n.guid !== undefined) out.push(["process guid", n.guid]);
  for (const d of n.decisions ?? []) {
    out.push([
      d.action === "denied"
        ? "exec denied"
        : d.exempt
        ? "exec exempt"
        : "exec audited",
      `${d.image} (rule ${d.rule}${decisionNotes(d)})${
        d.argv ? `: ${d.argv.join(" ")}` : ""
      }`,
    ]);
  }
  return out;
}

function execChain(n: ProcessNode): string {
  const images = n.execs.map((e) => e.image ?? "?");
  return images.length > 1 ? images.join(" -> ") : "";
}
