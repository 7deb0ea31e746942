/**
 * Reads Sysmon events as Windows event XML: `<Events><Event xmlns=...>` as
 * Event Viewer saves them, or bare `<Event>` elements one after another as
 * `wevtutil qe /f:xml` prints them. Each `<Event>` gives its
 * `System/EventID`, `System/Computer`, `System/Provider@Name` and every
 * `EventData/Data[@Name]`. Streams: only one event's text is held at a time,
 * each byte is searched once (linear however long an event), and an event
 * longer than {@link MAX_EVENT_CHARS} is refused, naming its line.
 *
 * Limitation: a deliberately small reader, not a general XML parser. It reads
 * the five predefined entities, numeric character references of the
 * characters XML allows and CDATA; anything outside `<Event>` elements
 * (prolog, comments, other elements) is skipped, a comment whole (an
 * `<Event>` inside one is none).
 *
 * @module
 */
import { ImportInputError } from "./sysmon_input_error.ts";
import type { SysmonRecord } from "./sysmon_record.ts";

const EVENT_START = /<Event[\s>]/g;
const EVENT_END = "</Event>";
/** Longest `<Event>` element read, in UTF-16 units. */
export const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/**
 * Yields one {@link SysmonRecord} per `<Event>` element of `chunks`. Throws
 * {@link ImportInputError} naming the file and line of an event that is not
 * closed, has no `EventID`, or holds a bad character reference.
 *
 * @example
 * ```ts
 * import { parseSysmonXml } from "./parse_sysmon_xml.ts";
 * const xml = `<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>
 * <System><EventID>5</EventID><Computer>h</Computer></System>
 * <EventData><Data Name='Image'>C:\\a &amp; b.exe</Data></EventData></Event></Events>`;
 * const [r] = await Array.fromAsync(parseSysmonXml([new TextEncoder().encode(xml)], "x.xml"));
 * if (r.eventId !== 5 || r.host !== "h" || r.data.Image !== "C:\\a & b.exe") throw new Error();
 * ```
 */
export async function* parseSysmonXml(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file: string,
): AsyncGenerator<SysmonRecord> {
  const decoder = new TextDecoder();
  let buf = "";
  let bufLine = 1; // line number of buf[0]
  let eof = false;
  const it = (async function* () {
    for await (const c of chunks) yield c;
  })();
  const next = async (): Promise<string> => {
    const r = await it.next();
    if (r.done) {
      eof = true;
      return decoder.decode();
    }
    return decoder.decode(r.value, { stream: true });
  };
  for (;;) {
    // (a comment is skipped whole: an <Event> commented out is no event;
    // found by review, it was imported)
    EVENT_START.lastIndex = 0;
    const m = EVENT_START.exec(buf);
    // (looked for before the next event only: the text between events is
    // short, so the input is still searched once; found by review, a search
    // of the whole buffer for each event was quadratic in the piece size)
    const comment = (m ? buf.slice(0, m.index) : buf).indexOf("<!--");
    if (comment >= 0) {
      bufLine += countLines(buf, 0, comment);
      buf = buf.slice(comment);
      let close = buf.indexOf("-->", 4);
      // (gathered piece by piece, each searched once with the two
      // characters an end may begin in before it, joined once)
      if (close < 0) {
        const parts = [buf];
        let total = buf.length;
        let tail = buf.slice(4).slice(-2); // (not the "--" of "<!--")
        while (close < 0) {
          if (eof) {
            throw new ImportInputError(
              file,
              bufLine,
              undefined,
              "a comment (<!--) is not closed before the end of the input",
            );
          }
          if (total > MAX_EVENT_CHARS) {
            throw new ImportInputError(
              file,
              bufLine,
              undefined,
              `a comment is longer than the limit of ${MAX_EVENT_CHARS} characters`,
            );
          }
          const text = await next();
          const at = (tail + text).indexOf("-->");
          if (at >= 0) close = total - tail.length + at;
          parts.push(text);
          total += text.length;
          tail = (tail + text).slice(-2);
        }
        buf = parts.join("");
      }
      bufLine += countLines(buf, 0, close + 3);
      buf = buf.slice(close + 3);
      continue;
    }
    const start = m ? m.index : -1;
    const end = start >= 0 ? buf.indexOf(EVENT_END, start) : -1;
    if (start >= 0 && end >= 0) {
      const line = bufLine + countLines(buf, 0, start);
      const stop = end + EVENT_END.length;
      yield eventRecord(buf.slice(start, stop), file, line);
      bufLine = line + countLines(buf, start, stop);
      buf = buf.slice(stop);
      continue;
    }
    if (start >= 0 && !eof) {
      // an event begun and not ended: gather text until its end tag, each
      // new piece searched once (with the few characters an end tag may
      // begin in before it), joined once
      bufLine += countLines(buf, 0, start);
      const parts = [buf.slice(start)];
      let total = parts[0].length;
      let tail = parts[0].slice(-EVENT_END.length);
      while (!eof) {
        const text = await next();
        parts.push(text);
        total += text.length;
        const seen = tail + text;
        if (seen.includes(EVENT_END)) break;
        if (total > MAX_EVENT_CHARS) {
          throw new ImportInputError(
            file,
            bufLine,
            undefined,
            `an <Event> element is longer than the limit of ${MAX_EVENT_CHARS} characters`,
          );
        }
        tail = seen.slice(-EVENT_END.length);
      }
      buf = parts.join("");
      continue;
    }
    if (eof) {
      if (start >= 0) {
        throw new ImportInputError(
          file,
          bufLine + countLines(buf, 0, start),
          undefined,
          "an <Event> element is not closed before the end of the input",
        );
      }
      return;
    }
    // keep only what may still begin an event
    const keep = Math.max(0, buf.length - 8);
    bufLine += countLines(buf, 0, keep);
    buf = buf.slice(keep) + await next();
  }
}

function countLines(s: string, from: number, to: number): number {
  let n = 0;
  for (
    let i = s.indexOf("\n", from);
    i >= 0 && i < to;
    i = s.indexOf("\n", i + 1)
  ) n++;
  return n;
}

const DATA_CLOSE = /<\/Data\s*>/g;
const NAME_ATTR = /\bName\s*=\s*(?:"([^"]*)"|'([^']*)')/;

/**
 * The `<System>` fields are looked for in the event's first 64 KiB only (a
 * real one is under 2 KiB): their patterns backtrack, and a hostile event of
 * megabytes must not make them quadratic.
 */
const SYSTEM_CHARS = 64 * 1024;

function eventRecord(xml: string, file: string, line: number): SysmonRecord {
  const eventData = xml.indexOf("<EventData");
  const system = xml.slice(
    0,
    Math.min(eventData >= 0 ? eventData : xml.length, SYSTEM_CHARS),
  );
  const idMatch = /<EventID\b[^>]*>([^<]*)<\/EventID\s*>/.exec(system);
  const idText = idMatch
    ? decodeText(idMatch[1], file, line, "EventID").trim()
    : undefined;
  if (idText === undefined || !/^\d+$/.test(idText)) {
    throw new ImportInputError(
      file,
      line,
      "EventID",
      idText === undefined
        ? "is missing"
        : `is "${idText}", expected an integer`,
    );
  }
  const computer = /<Computer\b[^>]*>([^<]*)<\/Computer\s*>/.exec(system);
  const provider = /<Provider\b([^>]*?)\/?>/.exec(system);
  const providerName = provider ? NAME_ATTR.exec(provider[1]) : null;
  const data: Record<string, string> = {};
  // (what makes the event unfit to import is kept with it: an error if it
  // is one the import takes, nothing for another provider's event)
  let refused: SysmonRecord["refused"];
  if (eventData >= 0) {
    for (const [attrs, text] of dataElements(xml, eventData)) {
      const name = NAME_ATTR.exec(attrs);
      if (!name) continue;
      try {
        const key = decodeText(name[1] ?? name[2], file, line);
        // (Sysmon names each field once: of two, the last was taken
        // silently; found by review)
        if (Object.hasOwn(data, key)) {
          throw new ImportInputError(
            file,
            line,
            key,
            "is given twice in one event (two <Data Name=...> elements of that name), expected once",
          );
        }
        data[key] = decodeText(text, file, line, key);
      } catch (e) {
        if (!(e instanceof ImportInputError)) throw e;
        refused ??= { field: e.field, detail: e.detail };
      }
    }
  }
  const host = computer
    ? decodeText(computer[1], file, line, "Computer").trim()
    : "";
  return {
    eventId: Number(idText),
    host: host === "" ? undefined : host,
    provider: providerName
      ? decodeText(providerName[1] ?? providerName[2], file, line)
      : undefined,
    data,
    file,
    line,
    ...(refused ? { refused } : {}),
  };
}

/**
 * The `<Data ...>text</Data>` and `<Data .../>` elements of `xml` from
 * `from`, as [attributes, text]: each position is looked at once, so a
 * hostile event of unclosed elements costs linear time.
 */
function* dataElements(xml: string, from: number): Generator<[string, string]> {
  let i = from;
  for (;;) {
    const open = xml.indexOf("<Data", i);
    if (open < 0) return;
    const after = xml.charCodeAt(open + 5);
    // "<Data" followed by a name character is another element (<DataX>)
    if (!(after === 0x3e || after === 0x2f || after <= 0x20)) {
      i = open + 5;
      continue;
    }
    const gt = xml.indexOf(">", open + 5);
    if (gt < 0) return;
    if (xml.charCodeAt(gt - 1) === 0x2f) {
      yield [xml.slice(open + 5, gt - 1), ""];
      i = gt + 1;
      continue;
    }
    DATA_CLOSE.lastIndex = gt + 1;
    const close = DATA_CLOSE.exec(xml);
    if (!close) return; // no element after this one can be closed either
    yield [xml.slice(open + 5, gt), xml.slice(gt + 1, close.index)];
    i = close.index + close[0].length;
  }
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/** Decodes entities and CDATA sections of element text or an attribute value. */
function decodeText(
  s: string,
  file: string,
  line: number,
  field?: string,
): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const cdata = s.indexOf("<![CDATA[", i);
    const amp = s.indexOf("&", i);
    if (cdata >= 0 && (amp < 0 || cdata < amp)) {
      const close = s.indexOf("]]>", cdata);
      if (close < 0) {
        throw new ImportInputError(
          file,
          line,
          field,
          "has a CDATA section that is not closed",
        );
      }
      out += s.slice(i, cdata) + s.slice(cdata + 9, close);
      i = close + 3;
      continue;
    }
    if (amp < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, amp);
    const semi = s.indexOf(";", amp);
    const name = semi > amp ? s.slice(amp + 1, semi) : "";
    let ch: string | undefined = ENTITIES[name];
    if (ch === undefined && /^#x[0-9a-fA-F]+$/.test(name)) {
      ch = codePoint(parseInt(name.slice(2), 16));
    } else if (ch === undefined && /^#[0-9]+$/.test(name)) {
      ch = codePoint(parseInt(name.slice(1), 10));
    }
    if (ch === undefined) {
      throw new ImportInputError(
        file,
        line,
        field,
        /^#(x[0-9a-fA-F]+|[0-9]+)$/.test(name)
          ? `holds "&${name};", a reference to no character XML allows (half a surrogate pair, a control character or past U+10FFFF)`
          : `holds "${
            s.slice(amp, Math.min(s.length, amp + 12))
          }", expected an XML entity or character reference`,
      );
    }
    out += ch;
    i = semi + 1;
  }
  return out;
}

/**
 * The character a reference names, when XML allows it (its `Char`: tab,
 * newline, carriage return, U+0020 to U+D7FF, U+E000 to U+FFFD, U+10000 and
 * above): `&#xD800;` made a lone surrogate, written to the recording as
 * bytes that are no UTF-8, and `&#0;` a NUL (found by review).
 */
function codePoint(n: number): string | undefined {
  const ok = n === 0x9 || n === 0xa || n === 0xd ||
    (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) ||
    (n >= 0x10000 && n <= 0x10ffff);
  return ok ? String.fromCodePoint(n) : undefined;
}
