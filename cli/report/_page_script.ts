/**
 * The report page's script: reads the embedded JSON and renders only the
 * rows in view (virtual scrolling), so the page stays usable with 100,000
 * processes. Plain ES2017; no network, no external code. Text goes into the
 * page through textContent only, never as HTML.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("procrec-data").textContent);
  var ROW = 22, OVERSCAN = 12;
  var $ = function (id) { return document.getElementById(id); };
  var vp = $("viewport"), spacer = $("spacer"), search = $("search");
  var searched = "";
  var R, P, n, expanded, depth, vis, pos, matchMark, matches, matchAt, sel, lowImg, lowCmd, tMin, tMax, lostBg;

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
    var m = Math.floor(ns / 60e9);
    return m + "m" + ((ns - m * 60e9) / 1e9).toFixed(3) + "s";
  }
  function utc(t) {
    var ms = Number(BigInt(R.timeBaseUtcNs) / 1000000n) + t / 1e6;
    var d = new Date(ms);
    return isNaN(d.getTime()) ? "?" : d.toISOString();
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
      if (/INCOMPLETE|BROKEN|unsigned/.test(kv[1])) dd.className = "bad";
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
      ll.appendChild(el("div", "", "lost " + (s[4] ? "an unknown number of" : s[3]) +
        " events (" + s[2] + ") between " + fmtT(s[0]) + " and " + fmtT(s[1])));
    });
    if (R.lost.length > 200) ll.appendChild(el("div", "", "... " + (R.lost.length - 200) + " more spans"));
  }

  function timelineSetup() {
    tMin = R.first; tMax = R.last;
    if (!(tMax > tMin)) tMax = tMin + 1;
    // lost spans: one gradient for every timeline cell (no extra DOM per row)
    var stops = [];
    R.lost.slice(0, 400).forEach(function (s) {
      var a = pct(s[0]), b = Math.max(pct(s[1]), a + 0.4);
      stops.push("transparent " + a + "%", "rgba(230,81,0,.28) " + a + "%", "rgba(230,81,0,.28) " + b + "%", "transparent " + b + "%");
    });
    lostBg = stops.length ? "linear-gradient(to right," + stops.join(",") + ")" : "";
    var ruler = $("ruler");
    ruler.textContent = "";
    ruler.style.backgroundImage = lostBg;
    [0, 25, 50, 75].forEach(function (q) {
      var b = el("b", "", fmtT(tMin + (tMax - tMin) * q / 100));
      b.style.left = q + "%";
      ruler.appendChild(b);
    });
  }

  function load(ri) {
    R = DATA.recordings[ri];
    P = R.p; n = P.length;
    expanded = new Uint8Array(n); depth = new Int32Array(n); matchMark = new Uint8Array(n);
    matches = []; matchAt = -1; sel = -1; lowImg = null; lowCmd = null;
    var stack = R.roots.slice().reverse(), d, seen = new Uint8Array(n);
    R.roots.forEach(function (r) { depth[r] = 0; });
    while (stack.length) {
      var i = stack.pop(), kids = P[i][11];
      if (seen[i]) continue; // never loop, whatever the data says
      seen[i] = 1;
      for (var k = kids.length - 1; k >= 0; k--) { depth[kids[k]] = depth[i] + 1; stack.push(kids[k]); }
    }
    for (d = 0; d < n; d++) expanded[d] = (n <= 60 || depth[d] === 0) ? 1 : 0;
    fillMeta();
    timelineSetup();
    search.value = "";
    searched = "";
    $("matches").textContent = "";
    $("details").textContent = "Click a process for its details.";
    rebuild();
    vp.scrollTop = 0;
  }

  function rebuild() {
    vis = []; pos = new Int32Array(n).fill(-1);
    var stack = R.roots.slice().reverse();
    while (stack.length) {
      var i = stack.pop();
      if (pos[i] >= 0) continue;
      pos[i] = vis.length; vis.push(i);
      if (expanded[i]) {
        var kids = P[i][11];
        for (var k = kids.length - 1; k >= 0; k--) stack.push(kids[k]);
      }
    }
    spacer.style.height = (vis.length * ROW) + "px";
    $("shown").textContent = vis.length + " of " + n + " processes shown";
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
    if (p[8].indexOf("in-lost-span") >= 0) row.className += " lostflag";
    var tree = el("span", "tree");
    tree.style.paddingLeft = (6 + depth[i] * 16) + "px";
    var kids = p[11].length;
    var tg = el("span", "toggle" + (kids ? "" : " leaf"), kids ? (expanded[i] ? "\u25BE" : "\u25B8") : "\u00B7");
    tree.appendChild(tg);
    var cmd = el("span", "cmd", p[5]);
    tree.appendChild(cmd);
    tree.title = p[5] + (p[4] ? "\nimage: " + p[4] : "") + (kids ? "\n" + kids + " children" : "");
    row.appendChild(tree);
    row.appendChild(el("span", "num", String(p[0])));
    row.appendChild(el("span", "num", fmtT(p[1])));
    row.appendChild(el("span", "num", p[2] === null ? "" : fmtDur(p[2] - p[1])));
    row.appendChild(el("span", "exit x" + p[7], p[6]));
    var tl = el("span", "tl");
    if (lostBg) tl.style.backgroundImage = lostBg;
    var bar = el("span", "bar c" + p[7]);
    var l = Math.min(pct(p[1]), 99.8), r = pct(p[2] === null ? tMax : p[2]);
    bar.style.left = l + "%";
    bar.style.width = Math.max(r - l, 0.2) + "%";
    bar.title = p[6] + ", " + fmtT(p[1]) + (p[2] === null ? " (still running)" : " to " + fmtT(p[2]));
    tl.appendChild(bar);
    row.appendChild(tl);
    return row;
  }

  function details(i) {
    var p = P[i], d = $("details");
    d.textContent = "";
    var lines = [
      ["command", p[5]], ["image", p[4] || "unknown"], ["pid", String(p[0])],
      ["parent", p[3] >= 0 ? P[p[3]][5] + " (pid " + P[p[3]][0] + ")" : "not in the recording"],
      ["start", fmtT(p[1]) + "  " + utc(p[1])],
      ["end", p[2] === null ? "not seen" : fmtT(p[2]) + "  " + utc(p[2]) + "  (" + fmtDur(p[2] - p[1]) + ")"],
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
    for (var q = P[i][3]; q >= 0; q = P[q][3]) expanded[q] = 1;
  }

  function doSearch() {
    var q = search.value.trim().toLowerCase();
    searched = q;
    matchMark = new Uint8Array(n); matches = []; matchAt = -1;
    if (!q) { $("matches").textContent = ""; rebuild(); return; }
    if (!lowImg) {
      lowImg = P.map(function (p) { return p[4].toLowerCase(); });
      lowCmd = P.map(function (p) { return p[5].toLowerCase(); });
    }
    for (var i = 0; i < n; i++) {
      if (lowImg[i].indexOf(q) >= 0 || lowCmd[i].indexOf(q) >= 0) { matchMark[i] = 1; matches.push(i); }
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
  window.addEventListener("resize", draw);
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
  var rs = $("recording");
  DATA.recordings.forEach(function (r, i) { var o = el("option", "", r.name); o.value = String(i); rs.appendChild(o); });
  rs.hidden = DATA.recordings.length < 2;
  rs.addEventListener("change", function () { load(Number(rs.value)); });
  if (DATA.recordings.length) load(0);
  else $("details").textContent = "This report holds no recording.";
  document.body.dataset.ready = "1";
})();
`;
