/**
 * The report page's script: reads the embedded JSON and renders only the
 * rows in view (virtual scrolling), so the page stays usable with 100,000
 * processes. Plain ES2017; no network, no external code. Text goes into the
 * page through textContent only, never as HTML.
 *
 * What it offers: the tree opens with kernel threads folded and the paths to
 * the latest processes open; chips keep the processes of a kind (AND across
 * chips), a window brushed on the timeline keeps those started (or alive)
 * in it and zooms the lifetime bars to it, both showing ancestors for
 * context; search matches image, command line, user, hash and exit text,
 * a number matches a pid, and `pid:` `ppid:` `user:` `hash:` `exit:` narrow
 * it to one field.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("procrec-data").textContent);
  var ROW = 22, OVERSCAN = 12, OPEN_BUDGET = 400, BINS = 240, DEEP = 16, ROW_CHARS = 2000;
  var $ = function (id) { return document.getElementById(id); };
  var vp = $("viewport"), spacer = $("spacer"), search = $("search");
  var searched = "";
  var R, P, n, expanded, depth, vis, pos, matchMark, matches, matchAt, sel, low,
    tMin, tMax, tFirst, tLast, lostBg, baseMs, firstDay, chipMask, pass, shownSet, win, unfiltered;
  var CHIPS = [
    ["failed", "ended with a failure: a non-zero code, a signal, an error status",
      function (p) { return p[7] === 1 || p[7] === 2; }],
    ["signal", "killed by a signal or crashed", function (p) { return p[7] === 2; }],
    ["existing-before", "running before the recording began", flag("existing-before-recording")],
    ["in-lost-span", "its lifetime overlaps a span where events were lost", flag("in-lost-span")],
    ["fileless", "its image was not a file on disk", flag("fileless")],
    ["setuid", "ran with another effective user than its real one", flag("setuid")]
  ];
  var chipOn = CHIPS.map(function () { return false; });
  function flag(f) {
    var re = new RegExp("(^|, )" + f + "(,|$)");
    return function (p) { return re.test(p[8]); };
  }

  // a text's first ROW_CHARS characters, and how many more there are
  function cut(t) {
    return t.length <= ROW_CHARS ? t : t.slice(0, ROW_CHARS) + "\u2026 (" + (t.length - ROW_CHARS) + " more characters: see the details)";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmtT(t) { return (t < 0 ? "-" : "+") + (Math.abs(t) / 1e9).toFixed(3) + "s"; }
  function fmtDur(ns) {
    if (ns < 1e6) return (ns / 1e3).toFixed(0) + "us";
    if (ns < 1e9) return (ns / 1e6).toFixed(0) + "ms";
    if (ns < 60e9) return (ns / 1e9).toFixed(3) + "s";
    if (ns < 3600e9) {
      var m = Math.floor(ns / 60e9);
      return m + "m" + ((ns - m * 60e9) / 1e9).toFixed(3) + "s";
    }
    var h = Math.floor(ns / 3600e9);
    if (h < 48) return h + "h" + Math.floor((ns - h * 3600e9) / 60e9) + "m";
    return Math.floor(h / 24) + "d" + (h % 24) + "h";
  }
  function iso(t) {
    var d = new Date(baseMs + t / 1e6);
    return isNaN(d.getTime()) ? "?" : d.toISOString();
  }
  function utc(t) { return iso(t); }
  // the start column: the clock time on the recording's first day, a date before it
  function fmtStart(t) {
    var s = iso(t);
    if (s === "?") return fmtT(t);
    return s.slice(0, 10) === firstDay ? s.slice(11, 23) : s.slice(0, 10) + " " + s.slice(11, 19);
  }
  // a tick on a time axis: clock time, with the date when the axis spans days
  function fmtTick(t, span) {
    var s = iso(t);
    if (s === "?") return fmtT(t);
    return span > 86400e9 ? s.slice(0, 10) + " " + s.slice(11, 16) : s.slice(11, 23);
  }
  function pct(t) {
    var x = (t - tMin) / (tMax - tMin);
    return Math.max(0, Math.min(1, x)) * 100;
  }

  function fillMeta() {
    var m = $("meta");
    m.textContent = "";
    var pairs = DATA.bundle.concat(R.meta);
    pairs.forEach(function (kv) {
      var d = el("div");
      d.appendChild(el("dt", "", kv[0]));
      var dd = el("dd", "", kv[1]);
      if (/INCOMPLETE|BROKEN|unsigned/.test(kv[1]) || kv[0] === "events missing") dd.className = "bad";
      d.appendChild(dd);
      m.appendChild(d);
    });
    $("summarytext").textContent = R.summary;
    var pr = $("problems");
    pr.textContent = R.problems.length ? R.problems.join("\n") : "none";
    $("problemcount").textContent = String(R.problems.length);
    var ll = $("lostlist");
    ll.textContent = "";
    if (R.lost.length === 0) ll.textContent = "no events lost";
    R.lost.slice(0, 200).forEach(function (s) {
      var what = s[2] === "recording" ? "in damaged or missing chunks of the recording" : "(" + s[2] + ")";
      ll.appendChild(el("div", "", "lost " + (s[4] ? "an unknown number of" : s[3]) +
        " events " + what + " between " + utc(s[0]) + " and " + utc(s[1]) +
        " (" + fmtT(s[0]) + " to " + fmtT(s[1]) + ")"));
    });
    if (R.lost.length > 200) ll.appendChild(el("div", "", "... " + (R.lost.length - 200) + " more spans"));
  }

  // --- the lifetime bars' scale: the whole recording, or the brushed window
  function scaleSetup() {
    tMin = win ? win[0] : tFirst; tMax = win ? win[1] : tLast;
    if (!(tMax > tMin)) tMax = tMin + 1;
    // lost spans: one gradient for every timeline cell (no extra DOM per row)
    var stops = [];
    R.lost.slice(0, 400).forEach(function (s) {
      if (s[1] < tMin || s[0] > tMax) return;
      var a = pct(s[0]), b = Math.max(pct(s[1]), a + 0.4);
      stops.push("transparent " + a + "%", "rgba(230,81,0,.28) " + a + "%", "rgba(230,81,0,.28) " + b + "%", "transparent " + b + "%");
    });
    lostBg = stops.length ? "linear-gradient(to right," + stops.join(",") + ")" : "";
    var ruler = $("ruler");
    ruler.textContent = "";
    ruler.style.backgroundImage = lostBg;
    [0, 50].forEach(function (q) {
      var b = el("b", "", fmtTick(tMin + (tMax - tMin) * q / 100, tMax - tMin));
      b.style.left = q + "%";
      ruler.appendChild(b);
    });
  }

  // --- the overview: process starts per bin, lost spans, the brush
  var ov = $("overview"), hist = $("hist"), brush = $("brush");
  function ovX(t) { return (t - tFirst) / (tLast - tFirst); }
  function ovT(x) { return tFirst + Math.max(0, Math.min(1, x)) * (tLast - tFirst); }
  function drawOverview() {
    var w = ov.clientWidth || 800, h = hist.clientHeight || 48;
    hist.width = w; hist.height = h;
    var g = hist.getContext && hist.getContext("2d");
    var bins = new Float64Array(BINS), bad = new Float64Array(BINS), top = 0, i, b;
    for (i = 0; i < n; i++) {
      var t = P[i][1];
      if (t < tFirst || t > tLast) continue;
      b = Math.min(BINS - 1, Math.floor(ovX(t) * BINS));
      bins[b]++;
      if (P[i][7] === 1 || P[i][7] === 2) bad[b]++;
    }
    for (b = 0; b < BINS; b++) top = Math.max(top, bins[b]);
    var axis = $("axis");
    axis.textContent = "";
    [0, 25, 50, 75].forEach(function (q) {
      var s = el("b", "", fmtTick(ovT(q / 100), tLast - tFirst));
      s.style.left = q + "%";
      axis.appendChild(s);
    });
    if (!g) return;
    g.clearRect(0, 0, w, h);
    g.fillStyle = "rgba(230,81,0,.28)";
    R.lost.slice(0, 2000).forEach(function (s) {
      var a = ovX(s[0]) * w, z = ovX(s[1]) * w;
      g.fillRect(a, 0, Math.max(z - a, 2), h);
    });
    var bw = w / BINS;
    for (b = 0; b < BINS; b++) {
      if (!bins[b]) continue;
      var bh = Math.max(2, Math.sqrt(bins[b] / top) * (h - 4));
      g.fillStyle = "#5b7fa6";
      g.fillRect(b * bw + 0.5, h - bh, Math.max(bw - 1, 1), bh);
      if (bad[b]) {
        g.fillStyle = "#c62828";
        g.fillRect(b * bw + 0.5, h - bh, Math.max(bw - 1, 1), Math.max(2, bh * bad[b] / bins[b]));
      }
    }
  }
  function showBrush(a, z) {
    if (a === null) { brush.style.display = "none"; return; }
    var l = Math.min(a, z), r = Math.max(a, z);
    brush.style.display = "block";
    brush.style.left = (l * 100) + "%";
    brush.style.width = Math.max((r - l) * 100, 0.2) + "%";
  }
  var drag = null;
  function fracOf(ev) {
    var r = ov.getBoundingClientRect();
    return Math.max(0, Math.min(1, (ev.clientX - r.left) / (r.width || 1)));
  }
  ov.addEventListener("mousedown", function (ev) {
    if (ev.button !== 0) return;
    ev.preventDefault();
    drag = { a: fracOf(ev), px: ev.clientX };
    showBrush(drag.a, drag.a);
  });
  window.addEventListener("mousemove", function (ev) {
    if (drag) showBrush(drag.a, fracOf(ev));
  });
  window.addEventListener("mouseup", function (ev) {
    if (!drag) return;
    var d = drag;
    drag = null;
    if (Math.abs(ev.clientX - d.px) < 3) { setWindow(null); return; }
    var z = fracOf(ev);
    setWindow([ovT(Math.min(d.a, z)), ovT(Math.max(d.a, z))]);
  });
  function setWindow(w) {
    win = w;
    $("resetwin").disabled = !w;
    $("window").textContent = w
      ? iso(w[0]) + " to " + iso(w[1]) + " (" + fmtDur(w[1] - w[0]) + ")"
      : "drag on the timeline to select a window";
    if (w) showBrush(ovX(w[0]), ovX(w[1])); else showBrush(null);
    scaleSetup();
    applyFilters();
  }

  // --- chips and window: which processes pass, and their ancestors for context
  function fillChips() {
    var c = $("chips");
    c.textContent = "";
    CHIPS.forEach(function (ch, k) {
      var count = 0;
      for (var i = 0; i < n; i++) if (chipMask[i] & (1 << k)) count++;
      var b = el("button", "chip" + (chipOn[k] ? " on" : ""), ch[0] + " (" + count + ")");
      b.title = ch[1];
      b.dataset.chip = ch[0];
      b.setAttribute("aria-pressed", chipOn[k] ? "true" : "false");
      b.addEventListener("click", function () {
        chipOn[k] = !chipOn[k];
        b.className = "chip" + (chipOn[k] ? " on" : "");
        b.setAttribute("aria-pressed", chipOn[k] ? "true" : "false");
        applyFilters();
      });
      c.appendChild(b);
    });
  }
  function applyFilters() {
    var want = 0;
    chipOn.forEach(function (on, k) { if (on) want |= 1 << k; });
    // a filter is a view: what was open before it comes back when it ends
    if (!want && !win) {
      pass = null; shownSet = null;
      if (unfiltered) { expanded = unfiltered; unfiltered = null; }
    } else {
      if (!unfiltered) unfiltered = expanded.slice();
      expanded = unfiltered.slice();
      pass = new Uint8Array(n); shownSet = new Uint8Array(n);
      var alive = $("winmode").value === "alive";
      for (var i = 0; i < n; i++) {
        var p = P[i];
        if ((chipMask[i] & want) !== want) continue;
        if (win) {
          if (alive) {
            if (p[1] > win[1] || (p[2] !== null && p[2] < win[0])) continue;
          } else if (p[1] < win[0] || p[1] > win[1]) continue;
        }
        pass[i] = 1;
        shownSet[i] = 1;
        // ancestors shown and opened; each chain is walked once
        for (var u = p[3]; u >= 0 && !shownSet[u]; u = P[u][3]) { shownSet[u] = 1; expanded[u] = 1; }
        if (p[3] >= 0) expanded[p[3]] = 1;
      }
    }
    if (searched) doSearch(); else rebuild();
  }

  // --- column widths from the longest value of each column
  function sizeColumns() {
    var lp = 3, lu = 4, ls = 5, ld = 8, le = 4;
    for (var i = 0; i < n; i++) {
      var p = P[i];
      lp = Math.max(lp, String(p[0]).length);
      lu = Math.max(lu, p[14].length);
      ld = Math.max(ld, p[2] === null ? 0 : fmtDur(p[2] - p[1]).length);
      le = Math.max(le, p[6].length);
      // clock times are 12 characters; a date makes 19 (only before the first day)
      if (p[1] < tFirst && ls < 19) ls = Math.max(ls, fmtStart(p[1]).length);
    }
    ls = Math.max(ls, fmtStart(tLast).length, 12);
    var cols = "minmax(260px,1fr) calc(" + lp + "ch + 14px) calc(" + Math.min(lu, 24) + "ch + 14px) calc(" +
      ls + "ch + 14px) calc(" + ld + "ch + 14px) calc(" + Math.min(le, 40) + "ch + 14px) minmax(160px,26%)";
    vp.style.setProperty("--cols", cols);
  }

  function load(ri) {
    R = DATA.recordings[ri];
    P = R.p; n = P.length;
    baseMs = Number(BigInt(R.timeBaseUtcNs) / 1000000n);
    // (the timeline runs to the recording's end when it is known: a process
    // still running lived until then, its bar reaches it; ended at the last
    // event, a quiet host's daemon looked as short-lived as its last job)
    tFirst = R.first; tLast = R.end !== null ? R.end : R.last;
    if (!(tLast > tFirst)) tLast = tFirst + 1;
    firstDay = iso(tFirst).slice(0, 10);
    win = null;
    expanded = new Uint8Array(n); depth = new Int32Array(n); matchMark = new Uint8Array(n);
    chipMask = new Uint8Array(n);
    for (var i = 0; i < n; i++) {
      var m = 0;
      for (var k = 0; k < CHIPS.length; k++) if (CHIPS[k][2](P[i])) m |= 1 << k;
      chipMask[i] = m;
    }
    matches = []; matchAt = -1; sel = -1; low = null; pass = null; shownSet = null; unfiltered = null;
    chipOn = CHIPS.map(function () { return false; });
    var stack = R.roots.slice().reverse(), d, seen = new Uint8Array(n);
    R.roots.forEach(function (r) { depth[r] = 0; });
    while (stack.length) {
      var j = stack.pop(), kids = P[j][11];
      if (seen[j]) continue; // never loop, whatever the data says
      seen[j] = 1;
      for (var q = kids.length - 1; q >= 0; q--) { depth[kids[q]] = depth[j] + 1; stack.push(kids[q]); }
    }
    if (n <= 60) for (d = 0; d < n; d++) expanded[d] = P[d][16] && P[d][11].length > 8 ? 0 : 1;
    else openRecent();
    fillMeta();
    fillChips();
    sizeColumns();
    setWindowQuiet();
    search.value = "";
    searched = "";
    $("matches").textContent = "";
    $("details").textContent = "Click a process for its details.";
    rebuild();
    vp.scrollTop = 0;
  }
  function setWindowQuiet() {
    $("resetwin").disabled = true;
    $("window").textContent = "drag on the timeline to select a window";
    showBrush(null);
    scaleSetup();
    drawOverview();
  }

  // the latest processes first: open the path to each until the tree shows
  // about OPEN_BUDGET rows; kernel threads and what ran before stay folded,
  // but for the path to a process that is neither (a program a kernel
  // thread started, as a usermode helper does: it was hidden under a folded
  // kthreadd; found by review)
  function openRecent() {
    var shown = R.roots.length;
    for (var i = n - 1; i >= 0 && shown < OPEN_BUDGET; i--) {
      var p = P[i];
      if (p[16] || /(^|, )existing-before-recording(,|$)/.test(p[8])) continue;
      for (var u = p[3]; u >= 0 && !expanded[u]; u = P[u][3]) {
        expanded[u] = 1;
        shown += P[u][11].length;
      }
    }
  }

  function rebuild() {
    vis = []; pos = new Int32Array(n).fill(-1);
    var stack = R.roots.slice().reverse();
    while (stack.length) {
      var i = stack.pop();
      if (pos[i] >= 0 || (shownSet && !shownSet[i])) continue;
      pos[i] = vis.length; vis.push(i);
      if (expanded[i]) {
        var kids = P[i][11];
        for (var k = kids.length - 1; k >= 0; k--) stack.push(kids[k]);
      }
    }
    spacer.style.height = (vis.length * ROW) + "px";
    var passing = 0;
    if (pass) for (var q = 0; q < n; q++) passing += pass[q];
    $("shown").textContent = vis.length + " of " + n + " processes shown" +
      (pass ? ", " + passing + " pass the filters" : "");
    draw();
  }

  function draw() {
    var top = vp.scrollTop, h = vp.clientHeight || 600;
    var a = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    var b = Math.min(vis.length, Math.ceil((top + h) / ROW) + OVERSCAN);
    spacer.textContent = "";
    var frag = document.createDocumentFragment();
    for (var v = a; v < b; v++) frag.appendChild(rowFor(vis[v], v));
    spacer.appendChild(frag);
  }

  function rowFor(i, v) {
    var p = P[i];
    var row = el("div", "row");
    row.style.top = (v * ROW) + "px";
    row.dataset.i = String(i);
    if (matchMark[i]) row.className += " match";
    if (i === sel) row.className += " sel";
    if (pass && !pass[i]) row.className += " ctx";
    if (p[16]) row.className += " kthread";
    if (/(^|, )in-lost-span(,|$)/.test(p[8])) row.className += " lostflag";
    if (p[8].indexOf("sigma: ") >= 0) row.className += " sigma";
    var tree = el("span", "tree");
    // (indented up to DEEP levels, then marked with the depth: deeper, the
    // command was pushed out of its column; found by review)
    tree.style.paddingLeft = (6 + Math.min(depth[i], DEEP) * 16) + "px";
    var kids = p[11].length;
    var tg = el("span", "toggle" + (kids ? "" : " leaf"), kids ? (expanded[i] ? "\u25BE" : "\u25B8") : "\u00B7");
    tree.appendChild(tg);
    if (depth[i] > DEEP) tree.appendChild(el("span", "deep", "depth " + depth[i] + " "));
    // (a row holds the start of a long command; the details, all of it:
    // whole, megabytes of commands made every scroll redraw them)
    tree.appendChild(el("span", "cmd", cut(p[5])));
    // (the image, when the command names another program: a miner run as
    // '[kworker/0:2]' showed as a kernel thread; the tree says it too)
    if (p[17]) tree.appendChild(el("span", "hidimg", " image " + cut(p[17])));
    tree.title = cut(p[5]) + (p[4] ? "\nimage: " + cut(p[4]) : "") + (kids ? "\n" + kids + " children" : "");
    row.appendChild(tree);
    row.appendChild(el("span", "num pid", String(p[0])));
    row.appendChild(el("span", "user", p[14]));
    var st = el("span", "num start", fmtStart(p[1]));
    st.title = utc(p[1]) + "  (" + fmtT(p[1]) + ")";
    row.appendChild(st);
    row.appendChild(el("span", "num dur", p[2] === null ? "" : fmtDur(p[2] - p[1])));
    var ex = el("span", "exit x" + p[7], p[6]);
    ex.title = p[6];
    row.appendChild(ex);
    var tl = el("span", "tl");
    if (lostBg) tl.style.backgroundImage = lostBg;
    var end = p[2] === null ? tLast : p[2];
    if (end >= tMin && p[1] <= tMax) {
      var bar = el("span", "bar c" + p[7]);
      var l = Math.min(pct(p[1]), 99.8), r = pct(end);
      bar.style.left = l + "%";
      bar.style.width = Math.max(r - l, 0.2) + "%";
      bar.title = p[6] + ", " + utc(p[1]) + (p[2] !== null ? " to " + utc(p[2]) : " (" + runningTo(p) + ")");
      tl.appendChild(bar);
    }
    row.appendChild(tl);
    return row;
  }

  // what a process without an end seen ran until: the recording's end, or
  // the last event when no later end is known (a recording cut short)
  function runningTo(p) {
    if (p[6] !== "running") return p[6];
    return R.end !== null
      ? "running at the recording's end, " + utc(R.end) + ": lived " + fmtDur(R.end - p[1]) + "+"
      : "running at the last event, " + utc(R.last) + ": no later end is known";
  }

  function details(i) {
    var p = P[i], d = $("details");
    d.textContent = "";
    var lines = [
      ["command", p[5]], ["image", p[4] || "unknown"], ["pid", String(p[0])],
      ["parent", p[3] >= 0 ? P[p[3]][5] + " (pid " + P[p[3]][0] + ")" : "not in the recording"],
      ["start", utc(p[1]) + "  (" + fmtT(p[1]) + ")"],
      ["end", p[2] === null ? (p[6] === "running" ? "not seen (" + runningTo(p) + ")" : p[6]) : utc(p[2]) + "  (" + fmtT(p[2]) + ", lived " + fmtDur(p[2] - p[1]) + ")"],
      ["exit", p[6]], ["threads", String(p[9])], ["children", String(p[11].length)],
      ["flags", p[8] || "none"], ["execs", p[12] || "one image"], ["id", p[10]]
    ].concat(p[13] || []);
    lines.forEach(function (kv) {
      var div = el("span");
      div.appendChild(el("b", "", kv[0] + ": "));
      div.appendChild(el("code", "", kv[1]));
      d.appendChild(div);
    });
  }

  function toggle(i) {
    if (!P[i][11].length) return;
    expanded[i] = expanded[i] ? 0 : 1;
    rebuild();
  }

  function expandTo(i) {
    // (bounded by the number of processes: a parent chain that loops, in
    // hostile input, must not hang the page)
    for (var q = P[i][3], n = 0; q >= 0 && n < P.length; q = P[q][3], n++) {
      expanded[q] = 1;
    }
  }

  // a query: "pid:N", "ppid:N", "user:U", "hash:H", "exit:X", or words that
  // match the image, command, user, hashes or exit text (a number: a pid too)
  function matcherOf(q) {
    var m = /^(pid|ppid|user|hash|exit):\s*(.*)$/.exec(q), num;
    if (!low) {
      low = P.map(function (p) {
        return [p[4].toLowerCase(), p[5].toLowerCase(), p[14].toLowerCase(), p[15].toLowerCase(), p[6].toLowerCase()];
      });
    }
    if (m) {
      var v = m[2];
      if (m[1] === "pid") { num = Number(v); return function (i) { return P[i][0] === num; }; }
      if (m[1] === "ppid") {
        num = Number(v);
        return function (i) { return P[i][3] >= 0 && P[P[i][3]][0] === num; };
      }
      if (m[1] === "exit") {
        var re = new RegExp("(^|[^0-9a-z_])" + v.replace(/[.*+?^$\x7b\x7d()|[\]\\]/g, "\\$&") + "($|[^0-9a-z_])");
        return function (i) { return re.test(low[i][4]); };
      }
      var f = m[1] === "user" ? 2 : 3;
      return function (i) { return low[i][f].indexOf(v) >= 0; };
    }
    num = /^[0-9]+$/.test(q) ? Number(q) : -1;
    var hashToo = q.length >= 8;
    return function (i) {
      var l = low[i];
      return P[i][0] === num || l[0].indexOf(q) >= 0 || l[1].indexOf(q) >= 0 ||
        l[2].indexOf(q) >= 0 || l[4].indexOf(q) >= 0 || (hashToo && l[3].indexOf(q) >= 0);
    };
  }

  function doSearch() {
    var q = search.value.trim().toLowerCase();
    searched = q;
    matchMark = new Uint8Array(n); matches = []; matchAt = -1;
    if (!q) { $("matches").textContent = ""; rebuild(); return; }
    var hit = matcherOf(q);
    for (var i = 0; i < n; i++) {
      if (shownSet && !shownSet[i]) continue;
      if (hit(i)) { matchMark[i] = 1; matches.push(i); }
    }
    // reveal every match: expand ancestors (each ancestor chain is walked once)
    var seen = new Uint8Array(n);
    for (var k = 0; k < matches.length; k++) {
      for (var u = P[matches[k]][3]; u >= 0 && !seen[u]; u = P[u][3]) { seen[u] = 1; expanded[u] = 1; }
    }
    rebuild();
    $("matches").textContent = matches.length ? matches.length + " match" + (matches.length === 1 ? "" : "es") : "no match";
    if (matches.length) go(0);
  }

  function go(k) {
    if (!matches.length) return;
    matchAt = (k + matches.length) % matches.length;
    var i = matches[matchAt];
    expandTo(i);
    if (pos[i] < 0) rebuild();
    sel = i;
    details(i); // first: the details pane takes room from the viewport
    vp.scrollTop = Math.max(0, pos[i] * ROW - vp.clientHeight / 3);
    $("matches").textContent = (matchAt + 1) + " / " + matches.length + " matches";
    draw();
  }

  var pending = false;
  vp.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; draw(); });
  });
  window.addEventListener("resize", function () { draw(); if (R) drawOverview(); });
  spacer.addEventListener("click", function (ev) {
    var t = ev.target, row = t.closest(".row");
    if (!row) return;
    var i = Number(row.dataset.i);
    if (t.classList.contains("toggle")) { toggle(i); return; }
    sel = i; details(i); draw();
  });
  spacer.addEventListener("dblclick", function (ev) {
    var row = ev.target.closest(".row");
    if (row) toggle(Number(row.dataset.i));
  });
  var timer = 0;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(doSearch, 200); });
  search.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    clearTimeout(timer);
    if (search.value.trim().toLowerCase() !== searched) doSearch();
    else go(matchAt + (ev.shiftKey ? -1 : 1));
  });
  $("next").addEventListener("click", function () { go(matchAt + 1); });
  $("prev").addEventListener("click", function () { go(matchAt - 1); });
  $("expandall").addEventListener("click", function () { expanded.fill(1); rebuild(); });
  $("collapseall").addEventListener("click", function () { expanded.fill(0); rebuild(); });
  $("resetwin").addEventListener("click", function () { setWindow(null); });
  $("winmode").addEventListener("change", function () { if (win) applyFilters(); });
  var rs = $("recording");
  DATA.recordings.forEach(function (r, i) { var o = el("option", "", r.name); o.value = String(i); rs.appendChild(o); });
  rs.hidden = DATA.recordings.length < 2;
  rs.addEventListener("change", function () { load(Number(rs.value)); });
  if (DATA.recordings.length) load(0);
  else $("details").textContent = "This report holds no recording.";
  document.body.dataset.ready = "1";
})();
`;
