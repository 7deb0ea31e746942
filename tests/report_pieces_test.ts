/**
 * The report page written in pieces (a big recording's page is more than
 * one string holds): its data is `JSON.stringify` of the page data, made
 * safe inside `<script>`, whatever the pieces; past the data a browser can
 * read, the page is refused with the processes named, and nothing is
 * written.
 */
import {
  analyze,
  renderSummary,
  renderTree,
  summarize,
} from "../cli/analysis/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import {
  renderReport,
  type ReportInput,
  reportPieces,
  ReportTooBigError,
  textSummaryPieces,
} from "../cli/report/mod.ts";
import { reportData } from "../cli/report/_report_data.ts";
import { MAX_DETECTION_ROWS } from "../cli/report/render_report.ts";
import { reportInputFor } from "../cli/commands/_report_input.ts";
import { writeTextOutput } from "../cli/commands/_output.ts";
import { CliError } from "../cli/errors.ts";
import { assert, assertEquals, ROOT, withTempDir } from "./_record_helpers.ts";

const OPEN = '<script type="application/json" id="procrec-data">';

/** The page's data text: between its script tag and the next `</script>`. */
function dataText(html: string): string {
  const at = html.indexOf(OPEN) + OPEN.length;
  return html.slice(at, html.indexOf("</script>", at));
}

/** A recording of `n` processes whose arguments hold what JSON and HTML must escape. */
async function hostileInput(n: number): Promise<ReportInput> {
  const events: ProcEvent[] = [];
  const odd = ["</script><b>", "a\u2028b\u2029c", "é😀\u0007", '"\\', "x"];
  for (let i = 0; i < n; i++) {
    events.push({
      kind: "process_create",
      t: i,
      pid: 100 + i,
      tid: 100 + i,
      ppid: 1,
      ptid: 1,
      creatorPid: 1,
      creatorTid: 1,
      start: i,
      info: {
        image: `/usr/bin/tool${i % 7}`,
        argv: ["tool", odd[i % odd.length], `--n=${i}`],
        from: {},
      },
    });
  }
  const forest = await analyze(events, { os: "linux", bootId: "b" });
  return {
    title: "t </script> \u2028",
    recordings: [{
      name: "a.cbor",
      forest,
      header: {
        host: "h",
        os: "linux",
        kernel: "6",
        bootId: "b",
        timeBaseUtcNs: "0",
        source: { name: "test", reason: "" },
        tool: { name: "procrec", version: "0" },
      },
      integrity: { complete: true, chainIntact: true, problems: [] },
    }],
  };
}

/** What the data text must be: the whole JSON at once, escaped. */
function expectedData(input: ReportInput): string {
  return JSON.stringify(reportData(input)).replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028").replaceAll("\u2029", "\\u2029");
}

Deno.test("report pieces: the data is the whole JSON, escaped, across many pieces", async () => {
  const input = await hostileInput(3000);
  const pieces = [...reportPieces(input)];
  // (3,000 rows of over 100 characters: the rows span several pieces)
  assert(pieces.length > 5, `${pieces.length} pieces`);
  const html = pieces.join("");
  const data = dataText(html);
  assertEquals(data, expectedData(input));
  assert(!/[<\u2028\u2029]/.test(data), "raw < or line separator in the data");
  assertEquals(JSON.parse(data), JSON.parse(JSON.stringify(reportData(input))));
  assert(html.endsWith("</html>\n"));
});

Deno.test("report pieces: the fixtures' pages hold their whole data", async () => {
  for (
    const f of ["make.cbor", "failing.cbor", "identity.cbor", "orphans.cbor"]
  ) {
    const input = await reportInputFor(`${ROOT}fixtures/${f}`);
    assertEquals(
      dataText([...reportPieces(input)].join("")),
      expectedData(input),
      f,
    );
  }
});

Deno.test("report data: evidence text is escaped as the terminal shows it, the summary keeps its lines", async () => {
  const input = await hostileInput(2);
  const r = input.recordings[0];
  r.header.host = "web\u202e01";
  r.forest.processes[0].image = "/usr/sbin/ssh\u200bd";
  input.title = "a\x1b[2Jb.cbor";
  const data = reportData(input);
  assertEquals(data.title, "a\\u001b[2Jb.cbor");
  const rec = data.recordings[0];
  assertEquals(rec.meta.find(([k]) => k === "host")?.[1], "web\\u202e01");
  assertEquals(rec.p[0][4], "/usr/sbin/ssh\\u200bd");
  assert(rec.p[1][5].includes("a\\u2028b\\u2029c"), rec.p[1][5]);
  assert(rec.summary.includes("\n"), "the summary keeps its newlines");
  const html = [...reportPieces(input)].join("");
  assert(html.includes("<title>a\\u001b[2Jb.cbor</title>"), "title escaped");
  assert(
    // deno-lint-ignore no-control-regex
    !/[\u0000-\u0008\u000b-\u001f\u200b\u202e]/.test(html),
    "no raw control, bidirectional or invisible character in the page",
  );
});

Deno.test("report: the Detections section lists the first MAX_DETECTION_ROWS hits, highest level first, and says how many more (found by review: 100,000 rows took the page 35 s)", async () => {
  const input = await hostileInput(2);
  const hit = (i: number, level: string) => ({
    process: input.recordings[0].forest.processes[0].id,
    pid: 100,
    time: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
    rule: { id: `r${i}`, title: `rule ${i}`, level },
    image: "/usr/bin/tool0",
    cmdline: "tool",
  });
  input.recordings[0].detections = [
    ...Array.from(
      { length: MAX_DETECTION_ROWS + 200 },
      (_, i) => hit(i, "low"),
    ),
    hit(99999, "critical"),
  ];
  const html = [...reportPieces(input)].join("");
  const table = html.slice(
    html.indexOf('<table class="detections">'),
    html.indexOf("</table>", html.indexOf('<table class="detections">')),
  );
  assertEquals(table.split("<tr>").length - 2, MAX_DETECTION_ROWS);
  assert(table.includes("<td>critical</td><td>rule 99999</td>"), "first");
  assert(
    html.includes(`Detections (${MAX_DETECTION_ROWS + 201})`),
    "the count is of every hit",
  );
  assert(
    html.includes('<p id="moredetections">201 more hits, not listed here'),
    "says how many more",
  );
});

Deno.test("report pieces: past the data a page can hold, the report is refused with its processes named", async () => {
  const input = await hostileInput(3000);
  const whole = expectedData(input).length;
  let yielded = 0;
  try {
    for (const p of reportPieces(input, { maxDataChars: whole - 1 })) {
      yielded += p.length;
    }
    throw new Error("no limit");
  } catch (e) {
    if (!(e instanceof ReportTooBigError)) throw e;
    assertEquals(e.processes, 3000);
    assertEquals(e.max, whole - 1);
    assert(e.chars > whole - 1, `${e.chars}`);
    assert(e.message.includes("3,000 processes"), e.message);
  }
  assert(yielded > 0 && yielded < whole + 20_000, `${yielded}`);
  // exactly at the limit, the page is made
  assertEquals(
    dataText([...reportPieces(input, { maxDataChars: whole })].join("")),
    expectedData(input),
  );
});

Deno.test("writeTextOutput: pieces whose making fails leave no file and the one replaced untouched", async () => {
  await withTempDir(async (dir) => {
    const input = await hostileInput(3000);
    const path = `${dir}/r.html`;
    await Deno.writeTextFile(path, "earlier");
    let thrown: unknown;
    try {
      await writeTextOutput(path, reportPieces(input, { maxDataChars: 1000 }), {
        force: true,
        what: "report",
      });
    } catch (e) {
      thrown = e;
    }
    // (the maker's error as it is, for the command to explain)
    assert(thrown instanceof ReportTooBigError, String(thrown));
    assertEquals(await Deno.readTextFile(path), "earlier");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["r.html"]);
    // a page that fits is written whole, its bytes counted
    const bytes = await writeTextOutput(path, reportPieces(input), {
      force: true,
      what: "report",
    });
    const written = await Deno.readFile(path);
    assertEquals(bytes, written.length);
    assertEquals(new TextDecoder().decode(written), renderReport(input));
    // a character whose two halves end and begin two pieces is written whole
    await writeTextOutput(path, ["a\ud83d", "\ude00b", "\ud83d", "\ude00"], {
      force: true,
      what: "report",
    });
    assertEquals(await Deno.readTextFile(path), "a😀b😀");
    // an output that cannot be written is the command's error (exit 2)
    let denied: unknown;
    try {
      await writeTextOutput(`${dir}/no/such/dir/r.html`, ["x"], {
        what: "report",
      });
    } catch (e) {
      denied = e;
    }
    assert(denied instanceof CliError && denied.exitCode === 2, String(denied));
  }, "procrec-report-pieces-");
});

Deno.test("text summary pieces: the summary and the whole tree as replay renders them, a line at a time", async () => {
  for (const input of [await hostileInput(3000), await hostileInput(0)]) {
    const pieces = [...textSummaryPieces(input)];
    const n = input.recordings[0].forest.processes.length;
    assert(pieces.length > n, `${pieces.length} pieces, ${n} processes`);
    assert(pieces.every((p) => p.endsWith("\n")));
    const text = pieces.join("");
    const forest = input.recordings[0].forest;
    const summary = renderSummary(summarize(forest)).trimEnd();
    const at = text.indexOf("\n-- summary --\n");
    assert(at > 0, text.slice(0, 500));
    const tree = "\n\n-- process tree --\n";
    assertEquals(
      text.slice(at + "\n-- summary --\n".length),
      `${summary}${tree}${renderTree(forest).trimEnd()}\n`,
    );
  }
});
