/**
 * The shape of a recording header's fields, checked once for every reader of
 * a header: the recording reader (`checkHeader` in `recording_reader.ts`) and
 * `import jsonl` (`cli/interop/read_procrec_json_lines.ts`). Pure.
 *
 * @module
 */

/**
 * Throws for a field at fault: `field` is its dotted path in the header
 * (`"segment.startUtcNs"`), `detail` what it is and what was expected
 * (`is the string "x", expected an unsigned integer`).
 */
export type HeaderFieldFail = (field: string, detail: string) => never;

/**
 * Checks every field of a header after `format` and `version` (which each
 * reader checks itself, with its own message) against the types of
 * `RecordingHeader` and `SCHEMA.md`, so that nothing downstream meets a
 * field of another shape: `host`, `os` (`"linux"` or `"windows"`), `kernel`,
 * `bootId`, `timeBase`, `clock`, `tool`, `source`, `options`, and, when
 * present, `command`, `import`, `redaction` (with its `source`, nested) and
 * `segment` (with `previous`, `deleted` and `alive`; the events of `alive`
 * are decoded, and each refused alone, where they are read). Calls `fail`
 * for the first field at fault. Makes the big integers of `timeBase`,
 * `clock`, `segment` and `redaction.source` bigints, as the type says (they
 * may decode as numbers). Fields it does not know are left alone.
 *
 * @example
 * ```ts
 * import { checkHeaderFields } from "./check_header_fields.ts";
 * const header: Record<string, unknown> = {
 *   host: "h", os: "linux", kernel: "6", bootId: "b",
 *   timeBase: { monoNs: 0, utcNs: 5n }, clock: { source: "s", monoToUtcNs: 5n },
 *   tool: { name: "procrec", version: "0" }, source: { name: "t", reason: "doc" },
 *   options: {}, segment: { id: "a", run: "r", index: 0, startUtcNs: "x", alive: [] },
 * };
 * let said = "";
 * try {
 *   checkHeaderFields(header, (field, detail) => {
 *     throw new SyntaxError(`${field} ${detail}`);
 *   });
 * } catch (e) {
 *   said = (e as Error).message;
 * }
 * if (said !== 'segment.startUtcNs is the string "x", expected an unsigned integer') {
 *   throw new Error(said);
 * }
 * ```
 */
export function checkHeaderFields(
  h: Record<string, unknown>,
  fail: HeaderFieldFail,
): void {
  const c = new Checker(fail);
  for (const k of ["host", "kernel", "bootId"]) c.text(h, k, k);
  if (h.os !== "linux" && h.os !== "windows") {
    fail("os", `is ${describe(h.os)}, expected "linux" or "windows"`);
  }
  const tb = c.map(h, "timeBase", "timeBase");
  c.integer(tb, "monoNs", "timeBase.monoNs");
  c.integer(tb, "utcNs", "timeBase.utcNs");
  // (a time every reader can show, with the events' offsets, a JavaScript
  // number of ns (104 days at most), on either side: found by review, a
  // base of 10^30 ns verified INTACT and then failed every export with
  // "Invalid time value")
  const utc = tb?.utcNs;
  if (
    typeof utc === "bigint" &&
    (utc < MIN_TIME_BASE_NS || utc > MAX_TIME_BASE_NS)
  ) {
    fail(
      "timeBase.utcNs",
      `is ${utc}, expected a time from 0001-01-01 to 9999-01-01 (ns since 1970-01-01 UTC)`,
    );
  }
  const clock = c.map(h, "clock", "clock");
  c.text(clock, "source", "clock.source", true);
  c.integer(clock, "monoToUtcNs", "clock.monoToUtcNs");
  const tool = c.map(h, "tool", "tool");
  c.text(tool, "name", "tool.name");
  c.text(tool, "version", "tool.version");
  const source = c.map(h, "source", "source");
  c.text(source, "name", "source.name");
  c.text(source, "reason", "source.reason");
  c.map(h, "options", "options");

  const command = c.map(h, "command", "command", true);
  if (command) {
    c.texts(command, "argv", "command.argv");
    c.uint(command, "pid", "command.pid", true);
    c.bool(command, "onlyCommand", "command.onlyCommand", true);
  }

  const imp = c.map(h, "import", "import", true);
  if (imp) {
    c.text(imp, "format", "import.format");
    c.maps(imp, "files", "import.files", (f, at) => {
      c.text(f, "name", `${at}.name`);
      c.text(f, "sha256", `${at}.sha256`, f.sha256Hmac !== undefined);
      c.text(f, "sha256Hmac", `${at}.sha256Hmac`, true);
    });
    const integrity = c.map(imp, "integrity", "import.integrity", true);
    if (integrity) {
      c.bool(integrity, "complete", "import.integrity.complete");
      c.bool(integrity, "chainIntact", "import.integrity.chainIntact");
      c.texts(integrity, "problems", "import.integrity.problems");
    }
  }

  if (h.redaction !== undefined) c.redaction(h, "redaction", 0);

  const seg = c.map(h, "segment", "segment", true);
  if (seg) {
    c.text(seg, "id", "segment.id");
    c.text(seg, "run", "segment.run");
    c.uint(seg, "index", "segment.index");
    c.integer(seg, "startUtcNs", "segment.startUtcNs", true);
    const prev = c.map(seg, "previous", "segment.previous", true);
    if (prev) {
      c.link(prev, "segment.previous");
      c.bool(prev, "closed", "segment.previous.closed");
      c.text(prev, "reason", "segment.previous.reason", true);
    }
    if (seg.deleted !== undefined) {
      c.maps(seg, "deleted", "segment.deleted", (d, at) => {
        c.link(d, at);
        c.integer(d, "startUtcNs", `${at}.startUtcNs`, true);
        c.integer(d, "endUtcNs", `${at}.endUtcNs`, true);
        c.uint(d, "events", `${at}.events`);
      });
    }
    c.uint(seg, "deletedEvents", "segment.deletedEvents", true);
    if (seg.alive !== undefined && !Array.isArray(seg.alive)) {
      fail(
        "segment.alive",
        `is ${
          describe(seg.alive)
        }, expected an array of encoded events (process_snapshot, accounts, image_hash)`,
      );
    }
  }
}

/**
 * Redactions nested in `redaction.source.redaction` at most (a chain of 17
 * redactions, the first at depth 0): a reader refuses deeper ones, and the
 * writers refuse to make them.
 */
export const MAX_REDACTION_DEPTH = 16;

class Checker {
  constructor(readonly fail: HeaderFieldFail) {}

  /** A map (not an array, not a byte string); absent only when `optional`. */
  map(
    o: Record<string, unknown>,
    k: string,
    at: string,
    optional?: false,
  ): Record<string, unknown>;
  map(
    o: Record<string, unknown>,
    k: string,
    at: string,
    optional: true,
  ): Record<string, unknown> | undefined;
  map(
    o: Record<string, unknown>,
    k: string,
    at: string,
    optional = false,
  ): Record<string, unknown> | undefined {
    const v = o[k];
    if (v === undefined && optional) return undefined;
    if (!isMap(v)) this.fail(at, `is ${describe(v)}, expected a map`);
    return v as Record<string, unknown>;
  }

  text(o: Record<string, unknown>, k: string, at: string, optional = false) {
    const v = o[k];
    if (v === undefined && optional) return;
    if (typeof v !== "string") {
      this.fail(at, `is ${describe(v)}, expected a text string`);
    }
  }

  texts(o: Record<string, unknown>, k: string, at: string) {
    const v = o[k];
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
      this.fail(at, `is ${describe(v)}, expected an array of text strings`);
    }
  }

  bool(o: Record<string, unknown>, k: string, at: string, optional = false) {
    const v = o[k];
    if (v === undefined && optional) return;
    if (typeof v !== "boolean") {
      this.fail(at, `is ${describe(v)}, expected a boolean`);
    }
  }

  uint(o: Record<string, unknown>, k: string, at: string, optional = false) {
    const v = o[k];
    if (v === undefined && optional) return;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      this.fail(at, `is ${describe(v)}, expected an unsigned integer`);
    }
  }

  /** An integer (ns), made a bigint; `unsigned`: not negative. */
  integer(
    o: Record<string, unknown>,
    k: string,
    at: string,
    unsigned = false,
  ) {
    const v = o[k];
    const n = typeof v === "bigint"
      ? v
      : typeof v === "number" && Number.isInteger(v)
      ? BigInt(v)
      : undefined;
    if (n === undefined || (unsigned && n < 0n)) {
      this.fail(
        at,
        `is ${describe(v)}, expected ${
          unsigned ? "an unsigned integer" : "an integer"
        }`,
      );
    }
    o[k] = n;
  }

  /** An array of maps, each checked by `each` (its path `at[i]`). */
  maps(
    o: Record<string, unknown>,
    k: string,
    at: string,
    each: (m: Record<string, unknown>, at: string) => void,
  ) {
    const v = o[k];
    if (!Array.isArray(v)) {
      this.fail(at, `is ${describe(v)}, expected an array of maps`);
    }
    (v as unknown[]).forEach((m, i) => {
      if (!isMap(m)) {
        this.fail(`${at}[${i}]`, `is ${describe(m)}, expected a map`);
      }
      each(m as Record<string, unknown>, `${at}[${i}]`);
    });
  }

  /** A segment named by another: name, id, final hash. */
  link(o: Record<string, unknown>, at: string) {
    this.text(o, "name", `${at}.name`);
    this.text(o, "id", `${at}.id`);
    if (!(o.finalHash instanceof Uint8Array)) {
      this.fail(
        `${at}.finalHash`,
        `is ${describe(o.finalHash)}, expected a byte string`,
      );
    }
  }

  /** `o[k]`: a `RedactionInfo`, its source's own nested below it. */
  redaction(o: Record<string, unknown>, k: string, depth: number) {
    const at = `redaction${".source.redaction".repeat(depth)}`;
    if (depth > MAX_REDACTION_DEPTH) {
      this.fail(
        at,
        `nests more than ${MAX_REDACTION_DEPTH} redactions, expected fewer`,
      );
    }
    const r = this.map(o, k, at);
    this.text(r, "hmac", `${at}.hmac`);
    this.text(r, "keyId", `${at}.keyId`);
    this.text(r, "marker", `${at}.marker`);
    this.maps(r, "rules", `${at}.rules`, (rule, ra) => {
      this.text(rule, "name", `${ra}.name`);
    });
    const s = this.map(r, "source", `${at}.source`, true);
    if (!s) return;
    const sa = `${at}.source`;
    this.text(s, "path", `${sa}.path`);
    // (a copy names its source by a keyed hash; one written before, by a
    // plain hash and size)
    const keyed = s.sha256Hmac !== undefined;
    this.text(s, "sha256Hmac", `${sa}.sha256Hmac`, true);
    this.text(s, "finalHashHmac", `${sa}.finalHashHmac`, true);
    this.text(s, "sha256", `${sa}.sha256`, keyed);
    this.uint(s, "bytes", `${sa}.bytes`, keyed);
    this.text(s, "finalHash", `${sa}.finalHash`, true);
    this.bool(s, "complete", `${sa}.complete`);
    this.text(s, "host", `${sa}.host`);
    this.text(s, "bootId", `${sa}.bootId`);
    this.integer(s, "startUtcNs", `${sa}.startUtcNs`);
    if (s.redaction !== undefined) this.redaction(s, "redaction", depth + 1);
  }
}

function isMap(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    !(v instanceof Uint8Array);
}

/** What a value is, in a few words (texts cut at 40 characters). */
function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Uint8Array) return `a byte string of ${v.length}`;
  if (typeof v === "string") {
    return `the string ${JSON.stringify(v.slice(0, 40))}`;
  }
  if (typeof v === "object") return "a map";
  return `${typeof v} ${String(v).slice(0, 40)}`;
}

/** The earliest base time a header may give: 0001-01-01T00:00:00Z. */
const MIN_TIME_BASE_NS = -62_135_596_800_000_000_000n;
/** The latest: 9999-01-01T00:00:00Z. */
const MAX_TIME_BASE_NS = 253_370_764_800_000_000_000n;
