/**
 * A process still running when the recording ended lived until the
 * recording's end (its trailer's end time), not only until the last event:
 * the summary's longest-lived figure (`replay --summary`, the recorder's
 * closing summary, the report's) and the report's lifetime bar reach it. A
 * recording of a quiet host ends long after its last event; one without a
 * trailer (cut short) ends with its last event (the report says so).
 */
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader, RecordingWriter } from "../cli/log/mod.ts";
import { recordingSummary } from "../cli/record/recording_summary.ts";
import { exec, processCreate, testHeader } from "./_recording_helpers.ts";
import { unzip } from "./_bundle_helpers.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";
import { type BrowserContext, chromium, type Page } from "playwright-core";

const BASE = testHeader().timeBase.utcNs;
const META = { os: "linux", bootId: testHeader().bootId } as const;
const S = 1_000_000_000;

/** A daemon (300) that runs on from 1s, a job (301) from 1.5s to 2s: the last event. */
const EVENTS: ProcEvent[] = [
  processCreate(1 * S, 300, 1),
  exec(1 * S + 10, 300, "/usr/sbin/daemon", ["daemon"]),
  processCreate(1.5 * S, 301, 1),
  exec(1.5 * S + 10, 301, "/usr/bin/job", ["job"]),
  { kind: "process_exit", t: 2 * S, pid: 301, tid: 301, status: 0 },
];

/**
 * Writes EVENTS to `path`: closed ten minutes after the last event (the
 * trailer's end at 602s), or (`cut`) without a trailer, as a crash leaves
 * it; returns the path written.
 */
async function writeQuiet(path: string, cut = false): Promise<string> {
  const w = await RecordingWriter.create(path, testHeader(), {
    flushIntervalMs: 0,
  });
  for (const e of EVENTS) w.write(e);
  if (cut) {
    w.abandon();
    return `${path}.incomplete`;
  }
  return await w.close({ endUtcNs: BASE + 602n * BigInt(S) });
}

async function replaySummary(args: string[]): Promise<string> {
  const r = await procrec(["replay", "--summary", ...args]);
  assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

Deno.test("replay --summary and the closing summary count a process still running until the trailer's end, ten minutes after the last event; cut short, until the last event", async () => {
  await withTempDir(async (dir) => {
    const rec = await writeQuiet(`${dir}/quiet.cbor`);
    const text = await replaySummary([rec]);
    assert(
      text.includes(
        "longest-lived (running ones until the recording's end, +602.000s):\n" +
          "  10m01.000s+ (running)  pid 300  daemon\n" +
          "  500ms  pid 301  job\n",
      ),
      text,
    );
    const json = JSON.parse(await replaySummary([rec, "--json"]));
    assertEquals(json.end, 602 * S);
    assertEquals(json.last, 2 * S);
    assertEquals(
      json.longestLived.map((
        p: { pid: number; duration: number; running: boolean },
      ) => [p.pid, p.duration, p.running]),
      [[300, 601 * S, true], [301, S / 2, false]],
    );
    // a filtered summary too (the daemon alone)
    assert(
      (await replaySummary([rec, "--pid", "300"])).includes(
        "  10m01.000s+ (running)  pid 300  daemon\n",
      ),
      "--pid 300",
    );
    // the recorder's closing summary (of the library's path: the recording
    // read back once closed) is the replay summary
    assertEquals(await recordingSummary(rec, META), text);

    // the control: cut short (no trailer), the recording ends with its last
    // event, and so does the daemon's figure
    const cut = await writeQuiet(`${dir}/cut.cbor`, true);
    const cutText = await replaySummary([cut]);
    assert(
      cutText.includes(
        "longest-lived:\n  1.000s+ (running)  pid 300  daemon\n",
      ),
      cutText,
    );
    assertEquals(
      JSON.parse(await replaySummary([cut, "--json"])).end,
      undefined,
    );
    assertEquals(await recordingSummary(cut, META), cutText);
  }, "procrec-running-to-end-");
});

/** Opens `html` in a headless Debian Chromium (never a downloaded browser). */
async function withPage(
  html: string,
  fn: (page: Page) => Promise<void>,
): Promise<void> {
  const profile = await Deno.makeTempDir({ prefix: "procrec-chromium-" });
  let ctx: BrowserContext | undefined;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      viewport: { width: 1400, height: 800 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    });
    const page = ctx.pages()[0] ?? await ctx.newPage();
    page.setDefaultTimeout(120_000); // a loaded machine is slow, not wrong
    await page.goto(`file://${html}`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 120_000 });
    await fn(page);
  } finally {
    await ctx?.close();
    await Deno.remove(profile, { recursive: true });
  }
}

/** Where the lifetime bar of the row of `command` starts and ends, in % of the timeline. */
async function bar(page: Page, command: string): Promise<[number, number]> {
  const row = page.locator(".row", {
    has: page.locator(".cmd", { hasText: command }),
  });
  const style = (await row.locator(".bar").getAttribute("style"))!;
  const left = parseFloat(/left: ([\d.]+)%/.exec(style)![1]);
  const width = parseFloat(/width: ([\d.]+)%/.exec(style)![1]);
  return [left, left + width];
}

/** The details' `end:` line of the row of `command`, once clicked. */
async function endDetail(page: Page, command: string): Promise<string> {
  await page.locator(".row .cmd", { hasText: command }).click();
  const d = (await page.textContent("#details"))!;
  return /end: (.*?)exit: /.exec(d)![1];
}

Deno.test("the report's lifetime bar of a process still running reaches the recording's end (the trailer's), its summary counts until then; cut short, the last event", async () => {
  await withTempDir(async (dir) => {
    const rec = await writeQuiet(`${dir}/quiet.cbor`);
    const cut = await writeQuiet(`${dir}/cut.cbor`, true);
    for (const [input, html] of [[rec, "quiet.html"], [cut, "cut.html"]]) {
      const r = await procrec(["report", input, "-o", `${dir}/${html}`]);
      assertEquals(r.code, 0, r.stderr);
    }
    await withPage(`${dir}/quiet.html`, async (page) => {
      // the timeline is the recording's ten minutes: the daemon's bar runs
      // to its end, the job's (1.5s to 2s) is a sliver at its start
      const [, daemonEnd] = await bar(page, "daemon");
      const [jobStart, jobEnd] = await bar(page, "job");
      assert(daemonEnd > 99.9, `the daemon's bar ends at ${daemonEnd}%`);
      assert(jobEnd < 1, `the job's bar is ${jobStart}% to ${jobEnd}%`);
      const summary = (await page.textContent("#summarytext"))!;
      assert(summary.includes("10m01.000s+ (running)  pid 300"), summary);
      const end = await endDetail(page, "daemon");
      assert(
        end.includes("running at the recording's end") &&
          end.includes("lived 10m1.000s+"),
        end,
      );
    });
    await withPage(`${dir}/cut.html`, async (page) => {
      // no trailer: the timeline ends with the last event, the job's exit
      const [, daemonEnd] = await bar(page, "daemon");
      const [jobStart] = await bar(page, "job");
      assert(daemonEnd > 99.9, `the daemon's bar ends at ${daemonEnd}%`);
      assert(jobStart > 45, `the job's bar starts at ${jobStart}%`);
      const summary = (await page.textContent("#summarytext"))!;
      assert(summary.includes("1.000s+ (running)  pid 300"), summary);
      const end = await endDetail(page, "daemon");
      assert(end.includes("no later end is known"), end);
    });
  }, "procrec-running-to-end-");
});

/**
 * Records `sh -c 'sleep 5 & sleep 0.2'` (sleep 5 still running when the
 * recording ends, with `env`: the recorder's path) and checks that the
 * closing summary and `replay --summary` count sleep 5 until the trailer's
 * end.
 */
async function realRecording(env: Record<string, string>): Promise<void> {
  await withTempDir(async (dir) => {
    const out = `${dir}/r.cbor`;
    const run = await procrec([
      "record",
      "--only-command",
      "-o",
      out,
      "--",
      "sh",
      "-c",
      "sleep 5 & sleep 0.2",
    ], { env });
    assertEquals(run.code, 0, run.stderr);
    const json = JSON.parse(await replaySummary([out, "--json"]));
    const sleep = json.longestLived.find((p: { command?: string }) =>
      p.command === "sleep 5"
    );
    assert(sleep, JSON.stringify(json.longestLived));
    try {
      const reader = await RecordingReader.open(out);
      for await (const _ of reader.chunks()) { /* to the trailer */ }
      const end = Number(
        reader.report.trailer!.endUtcNs - reader.header.timeBase.utcNs,
      );
      assert(end > json.last, `the trailer ends at ${end}, ${json.last}`);
      assertEquals(json.end, end);
      assertEquals([sleep.running, sleep.duration], [true, end - sleep.start]);
      // the closing summary (stderr, last) is the replay summary
      const text = await replaySummary([out]);
      assert(text.includes("(running ones until the recording's end"), text);
      assert(
        run.stderr.endsWith(text),
        `closing summary:\n${run.stderr}\n---\nreplay summary:\n${text}`,
      );
    } finally {
      try {
        Deno.kill(sleep.pid, "SIGKILL");
      } catch { /* it ended */ }
    }
  }, "procrec-running-to-end-");
}

const why = await captureUnavailable();

captureTest(
  "a real recording: the closing summary and replay --summary count a process still running until the trailer's end",
  () => realRecording({}),
  why,
);

captureTest(
  "a real recording on the TypeScript path (--follow, --redact, --rules): the closing summary counts a process still running until the trailer's end, as replay --summary does",
  () => realRecording({ PROCREC_TEST_JS_RECORD_PATH: "1" }),
  why,
);

Deno.test("a bundle's summary.txt counts a process still running until the recording's end, as its report.html does", async () => {
  await withTempDir(async (dir) => {
    const rec = await writeQuiet(`${dir}/quiet.cbor`);
    const b = await procrec(["bundle", "create", rec, "-o", `${dir}/b.zip`]);
    assertEquals(b.code, 0, b.stderr);
    const files = await unzip(`${dir}/b.zip`);
    const summary = new TextDecoder().decode(files.get("summary.txt"));
    assert(
      summary.includes("  10m01.000s+ (running)  pid 300  daemon\n"),
      summary,
    );
    const html = new TextDecoder().decode(files.get("report.html"));
    assert(html.includes("10m01.000s+ (running)"), "report.html");
  }, "procrec-running-to-end-");
});
