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
 * returns a string.
 *
 * @module
 */
import { PAGE_CSS } from "./_page_css.ts";
import { PAGE_SCRIPT } from "./_page_script.ts";
import { reportData } from "./_report_data.ts";
import type { ReportInput } from "./report_input.ts";

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
  const data = reportData(input);
  // JSON inside <script>: "<" never appears raw, so no "</script>" can end it
  const json = JSON.stringify(data).replace(/</g, "\\u003c").replace(
    /\u2028|\u2029/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
  const title = escapeHtml(input.title);
  return `<!DOCTYPE html>
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
<script type="application/json" id="procrec-data">${json}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
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
    `<td>${escapeHtml(String(s ?? ""))}</td>`;
  const body = rows.map(({ r, d }) =>
    `<tr>${cell(d.rule.level ?? "-")}${cell(d.rule.title)}${cell(d.rule.id)}${
      cell(r)
    }${cell(d.pid)}${cell(d.time)}${cell(d.image)}${cell(d.cmdline)}</tr>`
  ).join("\n");
  return `\n<details id="detections" open><summary>Detections (${rows.length})</summary>${
    rows.length
      ? `<table class="detections"><tr><th>level</th><th>rule</th><th>id</th><th>recording</th><th>pid</th><th>time (UTC)</th><th>image</th><th>command line</th></tr>\n${body}</table>`
      : "<p>No Sigma rule matched.</p>"
  }</details>`;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ]!,
  );
}
