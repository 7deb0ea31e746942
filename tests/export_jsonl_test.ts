import { assert, assertEquals } from "./import_assert.ts";
import { LSASS, procrec, withTempDir } from "./import_helpers.ts";
import {
  EVERY_KIND,
  lines,
  LINUX_HEADER,
  readRecording,
  writeRecording,
} from "./export_helpers.ts";
import { ROOT } from "./import_helpers.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { RecordingReader, RecordingWriter } from "../cli/log/mod.ts";

Deno.test("export --format jsonl then import jsonl round-trips every kind of event exactly", async () => {
  await withTempDir(async (dir) => {
    await writeRecording(`${dir}/a.cbor`, EVERY_KIND);
    const exp = await procrec([
      "export",
      `${dir}/a.cbor`,
      "--format",
      "jsonl",
      "-o",
      `${dir}/a.jsonl`,
    ]);
    assertEquals(exp.code, 0, exp.stderr);
    const text = await Deno.readTextFile(`${dir}/a.jsonl`);
    assertEquals(
      lines(text).length,
      2 + EVERY_KIND.length,
      "a header line, then one event per line, then the end line",
    );
    assert(
      text.includes('"utcNs":{"$bigint":"1763776800123456789"}'),
      "big integers kept exactly",
    );
    const imp = await procrec([
      "import",
      "jsonl",
      `${dir}/a.jsonl`,
      "-o",
      `${dir}/b.cbor`,
    ]);
    assertEquals(imp.code, 0, imp.stderr);
    const a = await readRecording(`${dir}/a.cbor`);
    const b = await readRecording(`${dir}/b.cbor`);
    assertEquals(b.events, a.events);
    assertEquals(a.events, EVERY_KIND);
    const { source, import: imported, ...rest } = b.header;
    const { source: origSource, import: _, ...origRest } = a.header;
    assertEquals(rest, origRest);
    assertEquals(source.name, "import");
    assert(source.reason.includes(origSource.name), source.reason);
    assertEquals(imported?.format, "jsonl");
    assertEquals(imported?.files[0].name, "a.jsonl");
    const sha = new Uint8Array(
      await crypto.subtle.digest(
        "SHA-256",
        await Deno.readFile(`${dir}/a.jsonl`),
      ),
    );
    assertEquals(
      imported?.files[0].sha256,
      [...sha].map((x) => x.toString(16).padStart(2, "0")).join(""),
    );
    // stdout is the same text as -o
    const out = await procrec(["export", `${dir}/a.cbor`]);
    assertEquals(out.stdout, text);
  });
});

Deno.test("an imported Sysmon recording round-trips through JSON lines", async () => {
  await withTempDir(async (dir) => {
    assertEquals(
      (await procrec(["import", "sysmon", LSASS, "-o", `${dir}/s.cbor`])).code,
      0,
    );
    assertEquals(
      (await procrec(["export", `${dir}/s.cbor`, "-o", `${dir}/s.jsonl`])).code,
      0,
    );
    const imp = await procrec([
      "import",
      "jsonl",
      `${dir}/s.jsonl`,
      "-o",
      `${dir}/t.cbor`,
    ]);
    assertEquals(imp.code, 0, imp.stderr);
    const a = await readRecording(`${dir}/s.cbor`);
    const b = await readRecording(`${dir}/t.cbor`);
    assertEquals(b.events.length, 534);
    assertEquals(b.events, a.events);
    assertEquals(b.header.timeBase, a.header.timeBase);
  });
});

Deno.test("export jsonl says when a line is longer than import jsonl reads (a command line of backslashes doubles in JSON; found by review)", async () => {
  await withTempDir(async (dir) => {
    const rec = `${dir}/a.cbor`;
    const events: ProcEvent[] = [
      {
        kind: "process_create",
        t: 1,
        pid: 5,
        tid: 5,
        ppid: 1,
        ptid: 1,
        creatorPid: 1,
        creatorTid: 1,
        start: 1,
      },
      {
        kind: "exec",
        t: 2,
        pid: 5,
        tid: 5,
        info: {
          image: "/bin/x",
          argv: ["x", "\\".repeat(9_000_000)],
          from: {},
        },
      },
      {
        kind: "exec",
        t: 3,
        pid: 5,
        tid: 5,
        info: { image: "/bin/y", argv: ["y"], from: {} },
      },
    ];
    await writeRecording(rec, events);
    const r = await procrec(["export", rec, "-o", `${dir}/a.jsonl`]);
    assertEquals(r.code, 0, r.stderr);
    assert(
      r.stderr.includes(
        "warning: 1 line is longer than the 16777216 characters a line import jsonl reads (line 3)",
      ),
      r.stderr,
    );
    // short lines say nothing
    await writeRecording(`${dir}/b.cbor`, [events[0], events[2]]);
    const ok = await procrec([
      "export",
      `${dir}/b.cbor`,
      "-o",
      `${dir}/b.jsonl`,
    ]);
    assertEquals(ok.code, 0, ok.stderr);
    assert(!ok.stderr.includes("longer than"), ok.stderr);
  });
});

Deno.test("import jsonl refuses malformed lines with file, line and field", async () => {
  await withTempDir(async (dir) => {
    await writeRecording(`${dir}/a.cbor`, EVERY_KIND.slice(0, 3));
    await procrec(["export", `${dir}/a.cbor`, "-o", `${dir}/a.jsonl`]);
    const good = lines(await Deno.readTextFile(`${dir}/a.jsonl`));
    const cases: [string, string[], RegExp][] = [
      [
        "nohead.jsonl",
        good.slice(1),
        /"nohead\.jsonl": line 1: field "procrec" is missing/,
      ],
      ["kind.jsonl", [
        good[0],
        good[1],
        '{"kind":"boom","t":1,"pid":1,"tid":1}',
      ], /"kind\.jsonl": line 3: field "kind" is "boom"/],
      [
        "pid.jsonl",
        [good[0], good[1].replace(/"pid":\d+/, '"pid":-4')],
        /"pid\.jsonl": line 2: .*"pid"/,
      ],
      ["json.jsonl", [good[0], "{nope"], /"json\.jsonl": line 2: is not JSON/],
      ["version.jsonl", [
        good[0].replace('"version":2,"header"', '"version":9,"header"'),
        good[1],
      ], /line 1: field "version" is 9, expected 1 or 2/],
      // (the end line counts the event lines: one removed shows)
      [
        "removed.jsonl",
        [good[0], good[1], good[3], good[4]],
        /"removed\.jsonl": line 4: field "events" of the end line is 3, but 2 event lines precede it/,
      ],
      [
        "after.jsonl",
        [good[0], good[1], good[2], good[3], good[4], good[1]],
        /"after\.jsonl": line 6: follows the end line/,
      ],
    ];
    for (const [name, text, message] of cases) {
      await Deno.writeTextFile(`${dir}/${name}`, text.join("\n") + "\n");
      const run = await procrec([
        "import",
        "jsonl",
        `${dir}/${name}`,
        "-o",
        `${dir}/${name}.cbor`,
      ]);
      assertEquals(run.code, 2, `${name}: ${run.stderr}`);
      assert(message.test(run.stderr), `${name}: ${run.stderr}`);
      assert(!/\n\s+at /.test(run.stderr), `${name}: no stack trace`);
      const left = [...Deno.readDirSync(dir)].filter((e) =>
        e.name.startsWith(`${name}.cbor`)
      );
      assertEquals(left, [], `${name}: no recording left`);
    }
  });
});

Deno.test("export streams: 100 000 events export in every format with a 24 MB heap", async () => {
  await withTempDir(async (dir) => {
    function* many(): Generator<ProcEvent> {
      for (let i = 0; i < 50_000; i++) {
        const pid = 1000 + (i % 30_000);
        yield {
          kind: "process_create",
          t: 2 * i,
          pid,
          tid: pid,
          ppid: 1,
          ptid: 1,
          creatorPid: 1,
          creatorTid: 1,
          start: 2 * i,
          info: {
            image: `/usr/bin/tool-${i}`,
            argv: [`tool-${i}`, "--flag", String(i)],
            from: { image: "kernel", argv: "kernel" },
          },
        } as const;
        yield {
          kind: "process_exit",
          t: 2 * i + 1,
          pid,
          tid: pid,
          status: (i % 3) << 8,
        } as const;
      }
    }
    await writeRecording(`${dir}/big.cbor`, many(), LINUX_HEADER);
    for (const format of ["jsonl", "ecs", "ocsf"]) {
      const out = await new Deno.Command(`${ROOT}node_modules/.bin/deno`, {
        args: [
          "run",
          "--quiet",
          "--allow-all",
          "--v8-flags=--max-old-space-size=24",
          `${ROOT}cli/main.ts`,
          "export",
          `${dir}/big.cbor`,
          "--format",
          format,
          "-o",
          `${dir}/big.${format}`,
        ],
        env: { CBOR_NATIVE_ACCELERATION_DISABLED: "true" },
        stdout: "piped",
        stderr: "piped",
        cwd: ROOT,
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, `${format}: ${stderr}`);
      // more bytes than the heap could hold, and every event mapped
      const size = (await Deno.stat(`${dir}/big.${format}`)).size;
      if (format !== "jsonl") {
        assert(size > 24 << 20, `${format}: ${size} bytes`);
      }
      assert(
        stderr.includes(`100000 ${format} lines from 100000 events`),
        stderr,
      );
    }
  });
});

Deno.test("a JSON lines round trip keeps the recording's end time and what its reader found: a damaged recording's import says so, a cut export too (found by review)", async () => {
  await withTempDir(async (dir) => {
    // a recording whose end (its trailer's) is 4 s after its last event
    const rec = `${dir}/a.cbor`;
    const w = await RecordingWriter.create(rec, LINUX_HEADER, {
      flushIntervalMs: 0,
    });
    for (const e of EVERY_KIND.slice(0, 3)) w.write(e);
    const endUtcNs = LINUX_HEADER.timeBase.utcNs + 4_000_000_000n;
    await w.close({ endUtcNs });
    const run = async (args: string[]) => {
      const r = await procrec(args);
      assertEquals(r.code, 0, `${args}: ${r.stderr}`);
      return r;
    };
    await run(["export", rec, "-o", `${dir}/a.jsonl`]);
    await run(["import", "jsonl", `${dir}/a.jsonl`, "-o", `${dir}/b.cbor`]);
    const b = await RecordingReader.open(`${dir}/b.cbor`);
    await Array.fromAsync(b.chunks());
    assertEquals(b.report.trailer?.endUtcNs, endUtcNs, "the end time kept");
    assertEquals(b.header.import?.integrity, {
      complete: true,
      chainIntact: true,
      problems: [],
    });
    const v = await run(["verify", `${dir}/b.cbor`]);
    assert(!v.stdout.includes("imported from an export"), v.stdout);
    // a damaged recording: its export's import is whole, and says what it
    // was made from
    const bytes = await Deno.readFile(`${ROOT}fixtures/${DAMAGED_FROM}`);
    const at = bytes.length >> 1;
    for (let i = 0; i < 8; i++) bytes[at + i] ^= 0xff;
    await Deno.writeFile(`${dir}/d.cbor`, bytes);
    await run(["export", `${dir}/d.cbor`, "-o", `${dir}/d.jsonl`]);
    await run(["import", "jsonl", `${dir}/d.jsonl`, "-o", `${dir}/e.cbor`]);
    const e = await RecordingReader.open(`${dir}/e.cbor`);
    assertEquals(e.header.import?.integrity?.complete, false);
    assert(e.header.import!.integrity!.problems.length > 0, "its problems");
    const ve = await run(["verify", `${dir}/e.cbor`]);
    assert(
      ve.stdout.includes(
        "note: imported from an export of a recording that was incomplete",
      ),
      ve.stdout,
    );
    // the report says it whole (found by review: one problem a character)
    await run(["report", `${dir}/e.cbor`, "-o", `${dir}/e.html`]);
    const html = await Deno.readTextFile(`${dir}/e.html`);
    assert(
      html.includes(
        '"imported from an export of a recording that was incomplete',
      ),
      "the report's problems",
    );
    // an import redacted keeps it (found by review: the redacted header
    // lost it, and the import read as whole again)
    await Deno.writeTextFile(
      `${dir}/rules.json`,
      '{"rules":[{"name":"pw","flag":"-p"}]}',
    );
    await run(["keygen", "--redact", "-o", `${dir}/k`]);
    await run([
      "import",
      "jsonl",
      `${dir}/d.jsonl`,
      "-o",
      `${dir}/r.cbor`,
      "--redact",
      `${dir}/rules.json`,
      "--redact-key",
      `${dir}/k`,
    ]);
    const vr = await run(["verify", `${dir}/r.cbor`]);
    assert(
      vr.stdout.includes("imported from an export of a recording that was"),
      vr.stdout,
    );
    // an export of a span ends where the span does (found by review: it
    // gave the whole recording's end)
    await run(["export", rec, "--to", "1s", "-o", `${dir}/span.jsonl`]);
    const spanEnd = JSON.parse(
      lines(await Deno.readTextFile(`${dir}/span.jsonl`)).at(-1)!,
    );
    assertEquals(
      BigInt(spanEnd.endUtcNs.$bigint),
      LINUX_HEADER.timeBase.utcNs + 1_000_000_000n,
    );
    // an export cut short (its end line gone) is imported as such
    const cut = lines(await Deno.readTextFile(`${dir}/a.jsonl`)).slice(0, -2);
    await Deno.writeTextFile(`${dir}/cut.jsonl`, cut.join("\n") + "\n");
    await run(["import", "jsonl", `${dir}/cut.jsonl`, "-o", `${dir}/c.cbor`]);
    const vc = await run(["verify", `${dir}/c.cbor`]);
    assert(vc.stdout.includes("it was cut short"), vc.stdout);
  });
});

/** A fixture of several chunks, damaged in the middle by the test above. */
const DAMAGED_FROM = "failing.cbor";
