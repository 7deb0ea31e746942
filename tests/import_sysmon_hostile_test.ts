/**
 * Sysmon input that imported wrongly (found by review): character
 * references to no character and JSON escapes of half a surrogate pair
 * (bytes that are no UTF-8 in the recording), an `<Event>` inside a comment
 * (imported as real), a field given twice (the last taken silently), the
 * same process GUID with and without braces (two processes), a leap second
 * (refused).
 */
import { assert, assertEquals } from "./import_assert.ts";
import { parseSysmonXml } from "../cli/interop/mod.ts";
import { parseSysmonJsonLines } from "../cli/interop/parse_sysmon_json_lines.ts";
import { ImportInputError } from "../cli/interop/sysmon_input_error.ts";
import { parseSysmonUtcTime } from "../cli/interop/utc_time.ts";
import { sysmonProcessRecord } from "../cli/interop/sysmon_process_record.ts";
import { procrec, withTempDir } from "./import_helpers.ts";
import { readRecording } from "./_recording_helpers.ts";

/** One `<Event>` of Event ID 1 with these Data fields. */
function event(data: [string, string][]): string {
  return `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1</EventID><Computer>H1</Computer></System><EventData>${
    data.map(([k, v]) => `<Data Name='${k}'>${v}</Data>`).join("")
  }</EventData></Event>`;
}

const BASE: [string, string][] = [
  ["UtcTime", "2024-01-01 10:00:00.000"],
  ["ProcessGuid", "{22222222-2222-2222-2222-222222222222}"],
  ["ProcessId", "100"],
  ["Image", "C:\\a.exe"],
];

/**
 * The records of `xml`, read in pieces of `size` characters, each checked
 * as the import checks the ones it takes (it throws what makes one unfit).
 */
async function records(xml: string, size = 1 << 20) {
  const bytes = new TextEncoder().encode(xml);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    pieces.push(bytes.slice(i, i + size));
  }
  const rs = await Array.fromAsync(parseSysmonXml(pieces, "x.xml"));
  for (const r of rs) sysmonProcessRecord(r);
  return rs;
}

/** The error `f` throws. */
async function refusal(f: () => Promise<unknown>): Promise<ImportInputError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof ImportInputError) return e;
    throw e;
  }
  throw new Error("not refused");
}

Deno.test("import sysmon: a character reference to no XML character is refused, naming the field", async () => {
  for (const ref of ["&#xD800;", "&#xdfff;", "&#0;", "&#x1B;", "&#xFFFE;"]) {
    const e = await refusal(() =>
      records(event([...BASE, ["CommandLine", `a${ref}b`]]))
    );
    assert(e.message.includes('field "CommandLine"'), e.message);
    assert(e.message.includes("no character XML allows"), e.message);
  }
  // what XML allows still reads: tab, newline, and a character past U+FFFF
  const [r] = await records(
    event([...BASE, ["CommandLine", "a&#9;b&#xA;c&#x1F600;"]]),
  );
  assertEquals(r.data.CommandLine, "a\tb\nc\u{1F600}");
});

Deno.test("import sysmon: a JSON escape of half a surrogate pair is refused, naming the field", async () => {
  const line = JSON.stringify({
    EventID: 1,
    Hostname: "H1",
    UtcTime: "2024-01-01 10:00:00.000",
    ProcessId: "100",
    Image: "C:\\a.exe",
  }).replace('"C:\\\\a.exe"', '"C:\\\\a\\ud800.exe"');
  const e = await refusal(async () => {
    for (
      const r of await Array.fromAsync(
        parseSysmonJsonLines(
          [new TextEncoder().encode(line + "\n")],
          "x.jsonl",
        ),
      )
    ) sysmonProcessRecord(r);
  });
  assert(e.message.includes('field "Image"'), e.message);
  assert(e.message.includes("half a surrogate pair (\\ud800)"), e.message);
});

Deno.test("import sysmon: an <Event> inside a comment is no event, wherever the pieces of the input split it", async () => {
  const xml = `<Events>${event(BASE)}<!-- ${
    event([...BASE.slice(0, 2), ["ProcessId", "300"], ["Image", "C:\\x.exe"]])
  } -->\n${
    event([
      ["UtcTime", "2024-01-01 10:00:01.000"],
      ["ProcessGuid", "{33333333-3333-3333-3333-333333333333}"],
      ["ProcessId", "200"],
      [
        "Image",
        "C:\\b.exe",
      ],
    ])
  }</Events>`;
  for (const size of [1 << 20, 7, 3, 1]) {
    const rs = await records(xml, size);
    assertEquals(rs.map((r) => r.data.ProcessId), ["100", "200"], `${size}`);
    assertEquals(rs[1].line, 2, "the line after the comment");
  }
  const open = await refusal(() => records(`<Events><!-- ${event(BASE)}`));
  assert(open.message.includes("comment (<!--) is not closed"), open.message);
});

Deno.test("import sysmon: a field given twice in one event is refused", async () => {
  const e = await refusal(() =>
    records(event([...BASE, ["ProcessId", "999"]]))
  );
  assert(e.message.includes('field "ProcessId" is given twice'), e.message);
});

Deno.test("import sysmon: a process GUID with and without braces is one process; a leap second reads", async () => {
  assertEquals(
    parseSysmonUtcTime("2016-12-31 23:59:60.500"),
    1_483_228_800_500_000_000n,
  );
  await withTempDir(async (dir) => {
    const g = (n: number) =>
      `${String(n).repeat(8)}-${String(n).repeat(4)}-${String(n).repeat(4)}-${
        String(n).repeat(4)
      }-${String(n).repeat(12)}`;
    const lines = [
      {
        EventID: 1,
        Hostname: "H1",
        UtcTime: "2024-01-01 10:00:00.000",
        ProcessGuid: `{${g(2)}}`,
        ProcessId: "100",
        Image: "C:\\a.exe",
        ParentProcessGuid: `{${g(1)}}`,
        ParentProcessId: "4",
      },
      {
        EventID: 1,
        Hostname: "H1",
        UtcTime: "2024-01-01 10:00:01.000",
        ProcessGuid: `{${g(3)}}`,
        ProcessId: "200",
        Image: "C:\\b.exe",
        ParentProcessGuid: g(2).toUpperCase(),
        ParentProcessId: "100",
      },
      {
        EventID: 5,
        Hostname: "H1",
        UtcTime: "2016-12-31 23:59:60.500",
        ProcessGuid: g(3),
        ProcessId: "200",
        Image: "C:\\b.exe",
      },
    ];
    // (the leap second is the last event's, at the end of 2016: before the
    // others, so the import sorts it first; it only has to read)
    await Deno.writeTextFile(
      `${dir}/b.jsonl`,
      lines.slice(0, 2).map((l) => JSON.stringify(l)).join("\n") + "\n",
    );
    const r = await procrec(["import", "sysmon", "b.jsonl", "-o", "b.cbor"], {
      cwd: dir,
    });
    assertEquals(r.code, 0, r.stderr);
    const { events } = await readRecording(`${dir}/b.cbor`);
    const b = events.find((e) => e.kind === "process_create" && e.pid === 200);
    assert(b !== undefined && b.kind === "process_create", "b is created");
    // b's parent is a, created here: not a phantom process 100 of its own
    assertEquals(
      events.filter((e) =>
        (e.kind === "process_create" || e.kind === "process_snapshot") &&
        e.pid === 100
      ).length,
      1,
      JSON.stringify(events.filter((e) => e.pid === 100)),
    );
    await Deno.writeTextFile(`${dir}/leap.jsonl`, JSON.stringify(lines[2]));
    const leap = await procrec(
      ["import", "sysmon", "leap.jsonl", "-o", "leap.cbor"],
      { cwd: dir },
    );
    assertEquals(leap.code, 0, leap.stderr);
  });
});

Deno.test("import sysmon: UTF-16 without its byte order mark is named as such (it was 'no Sysmon Event ID 1 or 5 records')", async () => {
  await withTempDir(async (dir) => {
    const xml = `<Events>${event(BASE)}</Events>`;
    const le = new Uint8Array(xml.length * 2);
    for (let i = 0; i < xml.length; i++) {
      le[2 * i] = xml.charCodeAt(i) & 0xff;
      le[2 * i + 1] = xml.charCodeAt(i) >> 8;
    }
    await Deno.writeFile(`${dir}/u16.xml`, le);
    const r = await procrec(["import", "sysmon", "u16.xml", "-o", "u.cbor"], {
      cwd: dir,
    });
    assertEquals(r.code, 2, r.stderr);
    assert(
      r.stderr.includes("looks like UTF-16 without a byte order mark"),
      r.stderr,
    );
  });
});

Deno.test("import sysmon: what would refuse a Sysmon event does not stop the import over another provider's event of the same export", async () => {
  await withTempDir(async (dir) => {
    const other =
      `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Service Control Manager'/><EventID>7036</EventID><Computer>H1</Computer></System><EventData><Data Name='param1'>a</Data><Data Name='param1'>b&#0;</Data></EventData></Event>`;
    await Deno.writeTextFile(
      `${dir}/mixed.xml`,
      `<Events>${other}\n${event(BASE)}</Events>`,
    );
    const r = await procrec([
      "import",
      "sysmon",
      "mixed.xml",
      "-o",
      "m.cbor",
    ], { cwd: dir });
    assertEquals(r.code, 0, r.stderr);
    const { events } = await readRecording(`${dir}/m.cbor`);
    assert(
      events.some((e) => e.kind === "process_create" && e.pid === 100),
      JSON.stringify(events),
    );
  });
});
