import { assert, assertEquals } from "./import_assert.ts";
import { parseSysmonXml, readSysmonRecords } from "../cli/interop/mod.ts";
import {
  EMPIRE,
  LSASS,
  perHostPath,
  procrec,
  rawRecords,
  withTempDir,
} from "./import_helpers.ts";
import { readRecording as readAll } from "./_recording_helpers.ts";

/** The EventData fields Sysmon writes for Event ID 1 and 5, in its order. */
const EVENT_DATA = [
  "RuleName",
  "UtcTime",
  "ProcessGuid",
  "ProcessId",
  "Image",
  "FileVersion",
  "Description",
  "Product",
  "Company",
  "OriginalFileName",
  "CommandLine",
  "CurrentDirectory",
  "User",
  "LogonGuid",
  "LogonId",
  "TerminalSessionId",
  "IntegrityLevel",
  "Hashes",
  "ParentProcessGuid",
  "ParentProcessId",
  "ParentImage",
  "ParentCommandLine",
  "ParentUser",
];

/** XML text: the five entities, and characters outside ASCII as references. */
function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      ({
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&apos;",
      })[c]!,
  ).replace(
    /[^\t\n\r -~]/gu,
    (c) => `&#x${c.codePointAt(0)!.toString(16)};`,
  );
}

/** A Windows event XML rendering of one flat Sysmon JSON record. */
function renderEvent(r: Record<string, unknown>, nl: string): string {
  const data = EVENT_DATA.filter((k) => r[k] !== undefined)
    .map((k) => `    <Data Name='${k}'>${esc(String(r[k]))}</Data>`);
  return [
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>",
    "  <System>",
    "    <Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/>",
    `    <EventID>${r.EventID}</EventID>`,
    "    <Version>5</Version>",
    `    <TimeCreated SystemTime='${esc(String(r["@timestamp"] ?? ""))}'/>`,
    "    <Channel>Microsoft-Windows-Sysmon/Operational</Channel>",
    `    <Computer>${esc(String(r.Hostname))}</Computer>`,
    "  </System>",
    "  <EventData>",
    ...data,
    "  </EventData>",
    "</Event>",
  ].join(nl);
}

/** Event Viewer's shape (<Events> root, LF) or wevtutil's (bare events, CRLF). */
function renderXml(
  records: Record<string, unknown>[],
  shape: "events" | "bare",
): string {
  if (shape === "bare") {
    return records.map((r) => renderEvent(r, "\r\n")).join("\r\n") + "\r\n";
  }
  return "<?xml version='1.0' encoding='utf-8'?>\n<Events>\n" +
    records.map((r) => renderEvent(r, "\n")).join("\n") + "\n</Events>\n";
}

for (const [file, shape] of [[LSASS, "events"], [EMPIRE, "bare"]] as const) {
  const name = file.slice(file.lastIndexOf("/") + 1);
  Deno.test(`the same Sysmon data as JSON lines and as event XML (${shape}) imports to identical recordings: ${name}`, async () => {
    const raw = rawRecords(file);
    const hosts = [...new Set(raw.map((r) => String(r.Hostname)))];
    await withTempDir(async (dir) => {
      const xml = `${dir}/${name.replace(/\.jsonl$/, ".xml")}`;
      await Deno.writeTextFile(xml, renderXml(raw, shape));
      const a = await procrec([
        "import",
        "sysmon",
        file,
        "-o",
        `${dir}/json.cbor`,
      ]);
      const b = await procrec([
        "import",
        "sysmon",
        xml,
        "-o",
        `${dir}/xml.cbor`,
      ]);
      assertEquals(a.code, 0, a.stderr);
      assertEquals(b.code, 0, b.stderr);
      for (const host of hosts) {
        const pick = (p: string) =>
          hosts.length === 1 ? p : perHostPath(p, host);
        const j = await readAll(pick(`${dir}/json.cbor`));
        const x = await readAll(pick(`${dir}/xml.cbor`));
        assert(j.events.length > 0);
        assertEquals(x.events, j.events, `events of ${host}`);
        const { import: ji, ...jh } = j.header;
        const { import: xi, ...xh } = x.header;
        assertEquals(xh, jh, `header of ${host}`);
        assertEquals(xi?.format, ji?.format);
        assertEquals(xi?.files.map((f) => f.name), [xml.slice(dir.length + 1)]);
        assert(
          xi?.files[0].sha256 !== ji?.files[0].sha256,
          "hashes of different files",
        );
      }
    });
  });
}

Deno.test("parseSysmonXml() reads events split across chunks at any byte", async () => {
  const raw = rawRecords(EMPIRE).slice(0, 12);
  const bytes = new TextEncoder().encode(renderXml(raw, "bare"));
  const whole = await Array.fromAsync(parseSysmonXml([bytes], "x.xml"));
  for (const size of [1, 5, 64, 1000]) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) {
      chunks.push(bytes.subarray(i, i + size));
    }
    assertEquals(
      await Array.fromAsync(parseSysmonXml(chunks, "x.xml")),
      whole,
      `chunks of ${size}`,
    );
  }
  assertEquals(whole.length, 12);
  // each record starts on the line of its <Event>
  let line = 1;
  const lines = raw.map((r) => {
    const at = line;
    line += renderEvent(r, "\r\n").split("\n").length;
    return at;
  });
  assertEquals(whole.map((r) => r.line), lines);
  // and holds what the JSON record held
  const fromJson = await readSysmonRecords(
    [new TextEncoder().encode(raw.map((r) => JSON.stringify(r)).join("\n"))],
    "x.jsonl",
  );
  const fromXml = await readSysmonRecords([bytes], "x.xml");
  const strip = (r: { file: string; line: number }) => ({
    ...r,
    file: "",
    line: 0,
  });
  assertEquals(fromXml.records.map(strip), fromJson.records.map(strip));
});

Deno.test("event XML saved as UTF-16 (with a byte order mark) reads like UTF-8", async () => {
  const raw = rawRecords(LSASS).slice(0, 40);
  const text = renderXml(raw, "events");
  const le = new Uint8Array(2 + text.length * 2);
  le.set([0xff, 0xfe]);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    le[2 + 2 * i] = c & 0xff;
    le[3 + 2 * i] = c >> 8;
  }
  const chunks = [le.subarray(0, 1), le.subarray(1, 4001), le.subarray(4001)];
  const a = await readSysmonRecords(chunks, "x.xml");
  const b = await readSysmonRecords([new TextEncoder().encode(text)], "x.xml");
  assertEquals(a.format, "xml");
  assertEquals(a.records.length, 40);
  assertEquals(a.records, b.records);
});
