/**
 * The HTML report: one self-contained page (inline style, script and data;
 * no network, no external resource) with the recording's metadata, the
 * process tree (kernel threads folded, the recording's activity open),
 * filter chips (failed, signal, existing before, in a lost span, fileless,
 * setuid), a timeline of process starts to brush a window on (it filters
 * the tree and zooms the lifetime bars), search by image, argv, pid, user,
 * hash or exit status, lifetimes coloured by exit status, and lost spans
 * (damaged chunks among them) with their UTC bounds. The page renders only
 * the rows in view, so it stays usable with 100,000 processes. Pure:
 * returns a string, or its pieces ({@link reportPieces}: the page of a big
 * recording is more than a string holds).
 *
 * @module
 */
import { PAGE_CSS } from "./_page_css.ts";
import { PAGE_SCRIPT } from "./_page_script.ts";
import { type PageData, reportData } from "./_report_data.ts";
import type { ReportInput } from "./report_input.ts";
import { escapeEvidence, escapeText } from "../text/escape_text.ts";

/**
 * Renders the report page.
 *
 * @example
 * ```ts
 * import { analyze } from "../analysis/mod.ts";
 * import { renderReport } from "./render_report.ts";
 * const forest = await analyze([
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 0,
 *     info: { image: "/bin/sh", argv: ["sh", "-c", "</script>"], from: {} } },
 * ], { os: "linux", bootId: "b" });
 * const html = renderReport({ title: "t", recordings: [{
 *   name: "a.cbor", forest,
 *   header: { host: "h", os: "linux", kernel: "6", bootId: "b", timeBaseUtcNs: "0",
 *     source: { name: "test", reason: "" }, tool: { name: "procrec", version: "0" } },
 *   integrity: { complete: true, chainIntact: true, problems: [] },
 * }] });
 * if (!html.startsWith("<!DOCTYPE html>") || html.includes("</script>\"")) throw new Error();
 * if (/(src|href)=["']?(https?:)?\/\//.test(html)) throw new Error("network");
 * ```
 */
export function renderReport(input: ReportInput): string {
  return [...reportPieces(input)].join("");
}

/**
 * The most characters of data a page can hold: the page reads its data as
 * one string (`textContent`, then `JSON.parse`), and a string in Chromium
 * (V8) holds at most 2^29 - 24 characters.
 */
export const MAX_PAGE_DATA_CHARS = 2 ** 29 - 24;

/** The report's data is more than a page can read ({@link reportPieces}). */
export class ReportTooBigError extends Error {
  constructor(
    /** The processes of the report. */
    readonly processes: number,
    /** The characters of data made when the limit was passed. */
    readonly chars: number,
    /** The limit, characters. */
    readonly max: number,
  ) {
    super(
      `the report of ${
        processes.toLocaleString("en-US")
      } processes has more data than a browser can read into one page: more than ${
        max.toLocaleString("en-US")
      } characters (a browser's longest string)`,
    );
    this.name = "ReportTooBigError";
  }
}

/**
 * The report page ({@link renderReport}) in pieces, each far shorter than
 * the whole: the page of a big recording is more than one string holds.
 * Throws {@link ReportTooBigError}, having yielded part of the page, once
 * its data passes `maxDataChars` (default {@link MAX_PAGE_DATA_CHARS}).
 *
 * @example
 * ```ts
 * import { analyze } from "../analysis/mod.ts";
 * import { reportPieces, ReportTooBigError } from "./render_report.ts";
 * const forest = await analyze([
 *   { kind: "process_create", t: 0, pid: 5, tid: 5, ppid: 1, ptid: 1,
 *     creatorPid: 1, creatorTid: 1, start: 0 },
 * ], { os: "linux", bootId: "b" });
 * const input = { title: "t", recordings: [{
 *   name: "a.cbor", forest,
 *   header: { host: "h", os: "linux" as const, kernel: "6", bootId: "b", timeBaseUtcNs: "0",
 *     source: { name: "test", reason: "" }, tool: { name: "procrec", version: "0" } },
 *   integrity: { complete: true, chainIntact: true, problems: [] },
 * }] };
 * if (![...reportPieces(input)].join("").endsWith("</html>\n")) throw new Error();
 * try {
 *   [...reportPieces(input, { maxDataChars: 100 })];
 *   throw new Error("no limit");
 * } catch (e) {
 *   if (!(e instanceof ReportTooBigError) || e.processes !== 1) throw e;
 * }
 * ```
 */
export function* reportPieces(
  input: ReportInput,
  limits: { maxDataChars?: number } = {},
): Generator<string> {
  const data = reportData(input);
  const title = escapeHtml(escapeText(input.title));
  yield `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="procrec">
<title>${title}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<dl class="meta" id="meta"></dl>
<details><summary>Summary</summary><pre id="summarytext"></pre></details>
<details><summary>Problems (<span id="problemcount">0</span>)</summary><pre id="problems"></pre></details>
<details><summary>Lost spans</summary><div id="lostlist"></div></details>${
    detectionsSection(input)
  }
</header>
<div class="toolbar">
<select id="recording" aria-label="recording"></select>
<input type="search" id="search" placeholder="Search: image, argv, pid, user, hash, exit (pid:N user:U hash:H exit:X)" aria-label="search">
<button id="prev" title="previous match">&#9650;</button><button id="next" title="next match">&#9660;</button>
<span id="matches"></span>
<button id="expandall">Expand all</button><button id="collapseall">Collapse all</button>
<span id="shown"></span>
<span class="legend"><span><i class="c0"></i>exit 0</span><span><i class="c1"></i>failed</span><span><i class="c2"></i>signal / crash</span><span><i class="c3"></i>running</span><span><i class="c4"></i>unknown</span><span><i style="background:rgba(230,81,0,.35)"></i>events lost</span><span style="color:#d35400">&#9888; overlaps a loss</span></span>
</div>
<div class="filters">
<span class="label">Show only:</span><span id="chips"></span>
<span class="label">Time window:</span>
<select id="winmode" aria-label="window selects"><option value="started">started in it</option><option value="alive">alive in it</option></select>
<span id="window">drag on the timeline to select a window</span>
<button id="resetwin" disabled>All time</button>
</div>
<div id="overview" title="drag to select a time window; click to clear it"><canvas id="hist"></canvas><div id="brush"></div><div id="axis"></div></div>
<div id="viewport">
<div class="cols"><span>process</span><span class="num">pid</span><span>user</span><span class="num">start (UTC)</span><span class="num">duration</span><span>exit</span><span class="ruler" id="ruler"></span></div>
<div id="spacer"></div>
</div>
<div id="details"></div>
<script type="application/json" id="procrec-data">`;
  const max = limits.maxDataChars ?? MAX_PAGE_DATA_CHARS;
  let chars = 0;
  for (const piece of dataPieces(data)) {
    chars += piece.length;
    if (chars > max) {
      throw new ReportTooBigError(
        data.recordings.reduce((n, r) => n + r.p.length, 0),
        chars,
        max,
      );
    }
    yield piece;
  }
  yield `</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** Rows joined into one piece of about this many characters. */
const PIECE_CHARS = 1 << 15;

/**
 * `JSON.stringify(data)` in pieces (a row at most per call), made safe
 * inside `<script>`: "<" never appears raw, so no "</script>" can end it,
 * and U+2028 / U+2029 are escaped.
 */
function* dataPieces(data: PageData): Generator<string> {
  const { recordings, ...top } = data;
  // (the keys in the order JSON.stringify(data) writes them: recordings
  // last, and p last of each recording)
  yield safeJson(`${JSON.stringify(top).slice(0, -1)},"recordings":[`);
  for (let i = 0; i < recordings.length; i++) {
    const { p, ...rest } = recordings[i];
    yield safeJson(
      `${i > 0 ? "," : ""}${JSON.stringify(rest).slice(0, -1)},"p":[`,
    );
    let block = "";
    for (let j = 0; j < p.length; j++) {
      block += j > 0 ? "," + JSON.stringify(p[j]) : JSON.stringify(p[j]);
      if (block.length >= PIECE_CHARS) {
        yield safeJson(block);
        block = "";
      }
    }
    yield safeJson(block + "]}");
  }
  yield "]}";
}

function safeJson(json: string): string {
  return json.replace(/</g, "\\u003c").replace(
    /\u2028|\u2029/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}

/**
 * The Detections section (Sigma hits, `report --rules`): one row per hit,
 * highest level first; "" when the report was made without rules.
 */
function detectionsSection(input: ReportInput): string {
  const withRules = input.recordings.filter((r) => r.detections !== undefined);
  if (withRules.length === 0) return "";
  const order = ["critical", "high", "medium", "low", "informational"];
  const rank = (l?: string) => l === undefined ? 9 : order.indexOf(l);
  const rows = withRules.flatMap((r) =>
    r.detections!.map((d) => ({ r: r.name, d }))
  ).sort((a, b) =>
    rank(a.d.rule.level) - rank(b.d.rule.level) ||
    (a.d.time < b.d.time ? -1 : a.d.time > b.d.time ? 1 : 0)
  );
  const cell = (s: string | number | undefined) =>
    `<td>${escapeHtml(escapeEvidence(String(s ?? "")))}</td>`;
  // (the hits an attacker can multiply, by starting matching processes:
  // the first MAX_DETECTION_ROWS, then how many more; found by review, a
  // table of 100,000 rows took the page 35 s to load)
  const body = rows.slice(0, MAX_DETECTION_ROWS).map(({ r, d }) =>
    `<tr>${cell(d.rule.level ?? "-")}${cell(d.rule.title)}${cell(d.rule.id)}${
      cell(r)
    }${cell(d.pid)}${cell(d.time)}${cell(d.image)}${cell(d.cmdline)}</tr>`
  ).join("\n");
  const more = rows.length - MAX_DETECTION_ROWS;
  return `\n<details id="detections" open><summary>Detections (${rows.length})</summary>${
    rows.length
      ? `<table class="detections"><tr><th>level</th><th>rule</th><th>id</th><th>recording</th><th>pid</th><th>time (UTC)</th><th>image</th><th>command line</th></tr>\n${body}</table>${
        more > 0
          ? `<p id="moredetections">${more} more hits, not listed here (the highest levels, then the earliest, are above): <code>procrec hunt --rules</code> lists them all; the tree marks each process with its hits.</p>`
          : ""
      }`
      : "<p>No Sigma rule matched.</p>"
  }</details>`;
}

/** The Detections section lists at most this many hits. */
export const MAX_DETECTION_ROWS = 1000;

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ]!,
  );
}
