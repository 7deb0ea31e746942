/** The report page's style sheet. */
export const PAGE_CSS = `
*{box-sizing:border-box}
html,body{height:100%}
body{display:flex;flex-direction:column;margin:0;font:13px/1.35 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;background:#f6f7f9}
header{flex:none;max-height:45vh;overflow:auto;padding:10px 16px 4px;background:#fff;border-bottom:1px solid #dde1e7}
h1{font-size:17px;margin:0 0 6px}
.meta{display:flex;flex-wrap:wrap;gap:2px 18px;margin:0;padding:0}
.meta div{display:flex;gap:6px}
.meta dt{color:#66707f}
.meta dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.bad{color:#b3261e;font-weight:600}
details{margin:4px 0}
summary{cursor:pointer;color:#36516e}
pre{margin:4px 0;padding:6px 8px;background:#f3f5f8;border:1px solid #e2e6eb;max-height:240px;overflow:auto;font-size:12px}
.toolbar{flex:none;display:flex;flex-wrap:wrap;align-items:center;gap:8px;padding:6px 16px;background:#eef1f5;border-bottom:1px solid #dde1e7}
.toolbar input[type=search]{width:440px;padding:4px 6px;font:inherit}
.toolbar button,.toolbar select{font:inherit;padding:2px 8px}
#matches{color:#36516e;min-width:110px}
.legend{display:flex;gap:10px;margin-left:auto;color:#4a5563}
.legend i{display:inline-block;width:18px;height:9px;border-radius:2px;margin-right:4px;vertical-align:middle}
.cols,.row{display:grid;grid-template-columns:var(--cols,minmax(260px,1fr) 70px 90px 110px 90px 170px 26%);align-items:center}
/* the grid's ch is the container's: the same monospace font as the cells */
.cols,.row{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace}
.cols>span{font-weight:600}
.row.ctx{color:#8a94a3}
.row.ctx .bar{opacity:.35}
.row.kthread .cmd{color:#66707f}
.hidimg{color:#b03a2e}
.filters{flex:none;display:flex;flex-wrap:wrap;align-items:center;gap:6px;padding:4px 16px;background:#f3f5f8;border-bottom:1px solid #dde1e7}
.filters .label{color:#4a5563}
.filters select,.filters button{font:inherit;padding:1px 6px}
.chip{border:1px solid #b8c2cf;border-radius:12px;background:#fff;color:#36516e;margin-right:4px;cursor:pointer}
.chip.on{background:#36516e;color:#fff;border-color:#36516e}
#window{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#36516e}
#overview{flex:none;position:relative;height:64px;margin:0;background:#fff;border-bottom:1px solid #dde1e7;cursor:crosshair;user-select:none}
#hist{position:absolute;left:0;top:0;width:100%;height:46px}
#brush{display:none;position:absolute;top:0;height:46px;background:rgba(54,81,110,.18);border:1px solid #36516e;pointer-events:none}
#axis{position:absolute;left:0;right:0;top:46px;height:18px}
#axis b{position:absolute;font-weight:400;font-size:11px;color:#4a5563;padding-left:3px;border-left:1px solid #cdd3db}
.cols{position:sticky;top:0;z-index:2;background:#e4e8ee;border-bottom:1px solid #cdd3db;font-weight:600;height:24px}
.cols>span,.row>span{padding:0 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#viewport{flex:1 1 auto;min-height:160px;overflow:auto;background:#fff;position:relative}
#spacer{position:relative}
.row{position:absolute;left:0;right:0;height:22px;border-bottom:1px solid #f0f2f5;cursor:default}
.row:hover{background:#f2f6fc}
.row.sel{background:#dce9fb}
.row.match .cmd{background:#fff3b0}
.row.lostflag .tree::after{content:"\\26A0";color:#d35400;margin-left:4px}
.row.sigma .cmd::before{content:"sigma";background:#c0392b;color:#fff;border-radius:3px;padding:0 4px;margin-right:4px;font-size:85%}
table.detections{border-collapse:collapse;font-size:90%}
table.detections td,table.detections th{border-bottom:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
.tree{font-family:ui-monospace,Menlo,Consolas,monospace}
.deep{color:#8a6d3b;font-size:85%;margin-right:2px}
.toggle{display:inline-block;width:16px;text-align:center;color:#5a6678;cursor:pointer;user-select:none}
.toggle.leaf{cursor:default;color:#c2c8d0}
.num{text-align:right;font-variant-numeric:tabular-nums}
.tl{position:relative;height:22px;background-repeat:no-repeat}
.bar{position:absolute;top:6px;height:10px;min-width:2px;border-radius:2px}
.c0{background:#2e8540}.c1{background:#c62828}.c2{background:#7b1fa2}.c3{background:#8fa3b8}.c4{background:#b8b8b8}
.x1{color:#c62828}.x2{color:#7b1fa2}.x3{color:#66707f}
#details{flex:none;max-height:30vh;overflow:auto;display:flex;flex-wrap:wrap;gap:2px 18px;padding:6px 16px;background:#fff;border-top:1px solid #dde1e7;font-size:12px;min-height:40px}
#details code{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
#lostlist{color:#b3261e}
.ruler{position:relative;height:24px;padding:0!important}
.ruler b{position:absolute;top:5px;font-weight:400;font-size:11px;color:#4a5563}
`;
