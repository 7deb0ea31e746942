/**
 * Property-based fuzz (fast-check) of the readers of hostile evidence: the
 * recording reader, the zip (bundle) reader and both Sysmon parsers (JSON
 * lines and event XML). For any mutation of a valid input, each ends in its
 * own clear error (RecordingFormatError, "Cannot read bundle", ImportInputError)
 * or a result: never another exception, a hang or a slow case. Each property
 * runs for a bounded time (about 6 s; PROCREC_FUZZ_MS changes it), seeded so
 * a failure reproduces (PROCREC_FUZZ_SEED), and a failing input is written
 * to test-artifacts/fuzz/ to be kept in the corpus: fixtures/fuzz/<target>/,
 * whose every file is replayed first, on every run.
 */
import fc from "fast-check";
import { RecordingFormatError, RecordingReader } from "../cli/log/mod.ts";
import { openBundle, verifyBundle } from "../cli/bundle/mod.ts";
import { ImportInputError, readSysmonRecords } from "../cli/interop/mod.ts";
import { ROOT } from "./_record_helpers.ts";

const BUDGET_MS = Number(Deno.env.get("PROCREC_FUZZ_MS") ?? 6000);
const SEED = Number(Deno.env.get("PROCREC_FUZZ_SEED") ?? 20261202);
/** Slowest a single case may be (the inputs are a few KB). */
const CASE_MS = 3000;
const CORPUS = `${ROOT}fixtures/fuzz/`;
const ARTIFACTS = `${ROOT}test-artifacts/fuzz/`;

type Target = "recording" | "zip" | "sysmon-jsonl" | "sysmon-xml";

/** Runs one input through a target; throws when the outcome is not allowed. */
const CHECK: Record<Target, (bytes: Uint8Array) => Promise<void>> = {
  async recording(bytes) {
    let reader: RecordingReader;
    try {
      reader = await RecordingReader.fromStream(twoPieces(bytes), "fuzz.cbor");
    } catch (e) {
      if (e instanceof RecordingFormatError) return;
      throw e;
    }
    let n = 0;
    for await (const _ of reader.events()) n++;
    if (n !== reader.report.events) {
      throw new Error(
        `read ${n} events, the report says ${reader.report.events}`,
      );
    }
  },
  async zip(bytes) {
    const path = await Deno.makeTempFile({ suffix: ".zip" });
    try {
      await Deno.writeFile(path, bytes);
      try {
        await verifyBundle(path);
      } catch (e) {
        if (!/^Cannot read bundle /.test((e as Error).message)) throw e;
      }
      let b;
      try {
        b = await openBundle(path);
      } catch (e) {
        if (/^Cannot (read|choose)/.test((e as Error).message)) return;
        throw e;
      }
      try {
        for (const m of b.recordings) {
          let r: RecordingReader;
          try {
            r = await b.openRecording(m);
          } catch (e) {
            if (/^Cannot read/.test((e as Error).message)) continue;
            throw e;
          }
          try {
            for await (const _ of r.events()) { /* read all */ }
          } catch (e) {
            // a member that fails its CRC or its size mid-stream
            if (
              !/CRC|inflates past|Cannot read|invalid|incorrect|unexpected end/i
                .test((e as Error).message)
            ) {
              throw e;
            }
          }
        }
      } finally {
        await b.close();
      }
    } finally {
      await Deno.remove(path);
    }
  },
  async "sysmon-jsonl"(bytes) {
    await sysmon(bytes, "fuzz.jsonl");
  },
  async "sysmon-xml"(bytes) {
    await sysmon(bytes, "fuzz.xml");
  },
};

async function sysmon(bytes: Uint8Array, name: string): Promise<void> {
  try {
    await readSysmonRecords(twoPieces(bytes), name);
  } catch (e) {
    if (e instanceof ImportInputError) return;
    throw e;
  }
}

async function* twoPieces(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  const cut = bytes.length >> 1;
  yield bytes.subarray(0, cut);
  yield bytes.subarray(cut);
}

/** `check`, timed; a failure saves its input for the corpus. */
async function checked(
  target: Target,
  bytes: Uint8Array,
  label: string,
): Promise<void> {
  const started = performance.now();
  let timer: number | undefined;
  try {
    // a hang fails the case (and is saved) instead of stalling the run
    await Promise.race([
      CHECK[target](bytes),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`did not end within ${3 * CASE_MS} ms`)),
          3 * CASE_MS,
        );
      }),
    ]);
  } catch (e) {
    await save(target, bytes);
    throw new Error(`${target} ${label}: ${(e as Error).stack}`);
  } finally {
    clearTimeout(timer);
  }
  const ms = performance.now() - started;
  if (ms > CASE_MS) {
    await save(target, bytes);
    throw new Error(`${target} ${label}: took ${ms.toFixed(0)} ms`);
  }
}

async function save(target: Target, bytes: Uint8Array): Promise<void> {
  const dir = `${ARTIFACTS}${target}`;
  await Deno.mkdir(dir, { recursive: true });
  const name = Array.from(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
    ).subarray(0, 8),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  await Deno.writeFile(`${dir}/${name}`, bytes);
}

/** A mutation of `base`: flips, overwrites, inserts, deletions, cuts, duplicates. */
function mutated(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = Math.max(1, base.length);
  const at = fc.nat({ max: n - 1 });
  const edit = fc.oneof(
    fc.tuple(fc.constant("flip"), at, fc.nat({ max: 7 }), fc.constant(0)),
    fc.tuple(fc.constant("set"), at, fc.nat({ max: 255 }), fc.constant(0)),
    fc.tuple(
      fc.constant("insert"),
      at,
      fc.nat({ max: 255 }),
      fc.nat({ max: 64 }),
    ),
    fc.tuple(fc.constant("delete"), at, fc.constant(0), fc.nat({ max: 256 })),
    fc.tuple(fc.constant("cut"), at, fc.constant(0), fc.constant(0)),
    fc.tuple(fc.constant("dup"), at, fc.constant(0), fc.nat({ max: 512 })),
  );
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let b: Uint8Array<ArrayBuffer> = Uint8Array.from(base);
    for (const [kind, o, v, len] of edits) {
      const p = Math.min(o, b.length);
      if (kind === "flip" && p < b.length) b[p] ^= 1 << v;
      else if (kind === "set" && p < b.length) b[p] = v;
      else if (kind === "insert") {
        b = cat(b.subarray(0, p), new Uint8Array(len).fill(v), b.subarray(p));
      } else if (kind === "delete") {
        b = cat(b.subarray(0, p), b.subarray(p + len));
      } else if (kind === "cut") b = b.slice(0, p);
      else if (kind === "dup") {
        b = cat(b.subarray(0, p), b.subarray(p, p + len), b.subarray(p));
      }
    }
    return b;
  });
}

function cat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Valid inputs each target's mutations start from. */
async function seeds(target: Target): Promise<Uint8Array[]> {
  const enc = new TextEncoder();
  switch (target) {
    case "recording":
      return [
        await Deno.readFile(`${ROOT}fixtures/make.cbor`),
        await Deno.readFile(`${ROOT}fixtures/windows.cbor`),
      ];
    case "zip":
      return [await smallBundle()];
    case "sysmon-jsonl": {
      const text = await Deno.readTextFile(
        `${ROOT}fixtures/sysmon/otrf_empire_runkeys_standard_user_sysmon_eid1_eid5.jsonl`,
      );
      return [enc.encode(text.split("\n").slice(0, 4).join("\n") + "\n")];
    }
    case "sysmon-xml":
      return [enc.encode(SYSMON_XML)];
  }
}

const SYSMON_XML = `<?xml version="1.0" encoding="utf-8"?>\n<Events>\n` +
  `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>` +
  `<Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID>` +
  `<Computer>WS01</Computer></System><EventData>` +
  `<Data Name='UtcTime'>2020-01-01 00:00:00.000</Data>` +
  `<Data Name='ProcessGuid'>{8ee6d027-e76d-5f51-0001-000000000400}</Data>` +
  `<Data Name='ProcessId'>42</Data><Data Name='Image'>C:\\a &amp; b.exe</Data>` +
  `<Data Name='CommandLine'><![CDATA[a "b" <c>]]> &#x41;</Data>` +
  `<Data Name='ParentProcessGuid'>{8ee6d027-e76d-5f51-0000-000000000400}</Data>` +
  `</EventData></Event>\n` +
  `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>` +
  `<EventID>5</EventID><Computer>WS01</Computer></System><EventData>` +
  `<Data Name='UtcTime'>2020-01-01 00:00:01.000</Data>` +
  `<Data Name='ProcessGuid'>{8ee6d027-e76d-5f51-0001-000000000400}</Data>` +
  `<Data Name='ProcessId'>42</Data></EventData></Event>\n</Events>\n`;

/** A bundle of the make fixture, made once with the real command. */
async function smallBundle(): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    const r = await new Deno.Command(`${ROOT}procrec`, {
      args: [
        "bundle",
        "create",
        "-o",
        `${dir}/b.zip`,
        `${ROOT}fixtures/make.cbor`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    return await Deno.readFile(`${dir}/b.zip`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function corpus(target: Target): Promise<[string, Uint8Array][]> {
  const out: [string, Uint8Array][] = [];
  try {
    for (const e of Deno.readDirSync(`${CORPUS}${target}`)) {
      if (e.isFile) {
        out.push([e.name, await Deno.readFile(`${CORPUS}${target}/${e.name}`)]);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort(([a], [b]) => a < b ? -1 : 1);
}

for (
  const target of ["recording", "zip", "sysmon-jsonl", "sysmon-xml"] as const
) {
  Deno.test(`fuzz ${target}: every kept crasher, then mutations for ${BUDGET_MS} ms, end in a clear error or a result`, async () => {
    for (const [name, bytes] of await corpus(target)) {
      await checked(target, bytes, `corpus ${name}`);
    }
    const bases = await seeds(target);
    for (const [i, b] of bases.entries()) await checked(target, b, `seed ${i}`);
    let runs = 0;
    // the budget is kept here, not by fast-check's interruptAfterTimeLimit,
    // which abandons a running case (and its open files) midway
    const deadline = performance.now() + BUDGET_MS;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: bases.length - 1 }).chain((i) => mutated(bases[i])),
        async (bytes) => {
          if (performance.now() > deadline) return;
          runs++;
          await checked(target, bytes, `mutation ${runs}`);
        },
      ),
      { seed: SEED, numRuns: 20_000, endOnFailure: true },
    );
    console.log(`fuzz ${target}: ${runs} cases`);
    if (runs < 20) throw new Error(`only ${runs} cases ran`);
  });
}
