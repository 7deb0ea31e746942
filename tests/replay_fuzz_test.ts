/**
 * Fuzz: at least 10,000 mutated recordings (bit flips, truncations, splices,
 * random bytes, insertions, deletions, duplicated ranges) go through the
 * reader and the analysis. Every one must end in a clean error (not a
 * recording) or a read of what is readable with a report; never a crash, a
 * hang or an accepted alteration of chunk bytes. Deterministic (seeded), so
 * a failure names its case and reproduces.
 */
import {
  analyze,
  renderSummary,
  renderTree,
  summarize,
} from "../cli/analysis/mod.ts";
import { diffForests, renderDiff } from "../cli/diff/mod.ts";
import { RecordingFormatError, RecordingReader } from "../cli/log/mod.ts";
import { newDecoder, newEncoder } from "../cli/log/_cbor.ts";
import { xorshift as rng } from "./_xorshift.ts";

const FIX = new URL("../fixtures/", import.meta.url).pathname;
const CASES = 10_000;

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  // in two pieces, so that the reader's buffering is exercised too
  const cut = bytes.length >> 1;
  yield bytes.subarray(0, cut);
  yield bytes.subarray(cut);
}

type Mutation = { what: string; bytes: Uint8Array; chunkBytesAltered: boolean };

function mutate(
  base: Uint8Array,
  other: Uint8Array,
  chunksFrom: number,
  chunksTo: number,
  r: () => number,
): Mutation {
  const n = base.length;
  const at = (m = n) => Math.floor(r() * m);
  const rand = (len: number) => Uint8Array.from({ length: len }, () => at(256));
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const inChunks = (o: number) => o >= chunksFrom && o < chunksTo;
  switch (at(10)) {
    case 0: {
      const b = base.slice();
      let hit = false;
      for (let k = 1 + at(8); k > 0; k--) {
        const o = at();
        b[o] ^= 1 << at(8);
        hit ||= inChunks(o);
      }
      return { what: "bit flips", bytes: b, chunkBytesAltered: hit };
    }
    case 1: {
      const o = at();
      return {
        what: `truncated at ${o}`,
        bytes: base.slice(0, o),
        chunkBytesAltered: false,
      };
    }
    case 2: {
      const o = at(), p = Math.floor(r() * other.length);
      return {
        what: `splice ${o}/${p}`,
        bytes: cat(base.subarray(0, o), other.subarray(p)),
        chunkBytesAltered: false,
      };
    }
    case 3: {
      const b = base.slice();
      const o = at(), len = 1 + at(64);
      b.set(rand(Math.min(len, n - o)), o);
      return {
        what: `overwrite ${o}+${len}`,
        bytes: b,
        chunkBytesAltered: false,
      };
    }
    case 4: {
      const o = at();
      return {
        what: `insert at ${o}`,
        bytes: cat(base.subarray(0, o), rand(1 + at(32)), base.subarray(o)),
        chunkBytesAltered: false,
      };
    }
    case 5: {
      const o = at(), len = 1 + at(200);
      return {
        what: `delete ${o}+${len}`,
        bytes: cat(base.subarray(0, o), base.subarray(o + len)),
        chunkBytesAltered: false,
      };
    }
    case 6: {
      const o = at(), len = 1 + at(400), p = at();
      return {
        what: `duplicate ${o}+${len} at ${p}`,
        bytes: cat(
          base.subarray(0, p),
          base.subarray(o, o + len),
          base.subarray(p),
        ),
        chunkBytesAltered: false,
      };
    }
    case 7: {
      const len = at(2048);
      const b = rand(len);
      if (r() < 0.5 && len >= 3) b.set([0xd9, 0xd9, 0xf7]);
      return { what: `random ${len}`, bytes: b, chunkBytesAltered: false };
    }
    case 8: {
      // a well-formed trailer with one field replaced by a hostile value
      const trailer = newDecoder().decode(base.subarray(chunksTo)) as unknown[];
      const field = 1 + at(trailer.length - 1);
      const hostile = [null, 1.5, -1, "x", [], {}, new Uint8Array(3), 2 ** 60, {
        process_create: "7",
      }];
      const before = newEncoder().encode(trailer[field]);
      trailer[field] = hostile[at(hostile.length)];
      const after = newEncoder().encode(trailer[field]);
      return {
        what: `trailer field ${field} = ${JSON.stringify(trailer[field])}`,
        bytes: cat(base.subarray(0, chunksTo), newEncoder().encode(trailer)),
        // the trailer no longer says what was written (end time aside: it
        // is outside the chain and cannot be checked)
        chunkBytesAltered: field !== 5 &&
          before.join() !== after.join(),
      };
    }
    default: {
      // the header of one recording with the chunks of another
      const p = Math.floor(r() * other.length);
      return {
        what: `header + foreign tail ${p}`,
        bytes: cat(base.subarray(0, chunksFrom), other.subarray(p)),
        chunkBytesAltered: false,
      };
    }
  }
}

Deno.test(`the reader and the analysis survive ${CASES} mutated recordings`, async () => {
  const names = ["pipeline", "windows", "orphans", "make", "failing"];
  const bases: { name: string; bytes: Uint8Array; from: number; to: number }[] =
    [];
  for (const name of names) {
    const bytes = await Deno.readFile(`${FIX}${name}.cbor`);
    const r = await RecordingReader.fromStream(once(bytes), name);
    const chunks = await Array.fromAsync(r.chunks());
    const last = chunks[chunks.length - 1];
    bases.push({
      name,
      bytes,
      from: chunks[0].offset,
      to: last.offset + last.length,
    });
  }
  const baseForest = await analyze(
    (await RecordingReader.open(`${FIX}make.cbor`)).events(),
    { os: "linux", bootId: "x" },
  );
  const r = rng(20260422);
  const tally = { formatErrors: 0, clean: 0, partial: 0 };
  const started = performance.now();
  for (let i = 0; i < CASES; i++) {
    const base = bases[i % bases.length];
    const other = bases[(i * 7 + 3) % bases.length].bytes;
    const m = mutate(base.bytes, other, base.from, base.to, r);
    const label = `case ${i} (${base.name}, ${m.what})`;
    let reader: RecordingReader;
    try {
      reader = await RecordingReader.fromStream(once(m.bytes), `case-${i}`);
    } catch (e) {
      if (!(e instanceof RecordingFormatError)) {
        throw new Error(`${label}: open threw ${(e as Error).stack}`);
      }
      if (!e.message.startsWith(`Cannot read recording "case-${i}": `)) {
        throw new Error(`${label}: unclear error ${e.message}`);
      }
      tally.formatErrors++;
      continue;
    }
    let delivered = 0;
    let forest;
    try {
      forest = await analyze(
        (async function* () {
          for await (const e of reader.events()) {
            delivered++;
            yield e;
          }
        })(),
        { os: reader.header.os, bootId: reader.header.bootId },
      );
      renderTree(forest);
      renderSummary(summarize(forest));
      renderDiff(diffForests(baseForest, forest), "a", "b");
    } catch (e) {
      throw new Error(`${label}: read or analysis threw ${(e as Error).stack}`);
    }
    const rep = reader.report;
    if (delivered !== rep.events) {
      throw new Error(
        `${label}: delivered ${delivered} events, report says ${rep.events}`,
      );
    }
    for (const p of rep.problems) {
      if (!(p.offset >= 0) || typeof p.reason !== "string" || p.reason === "") {
        throw new Error(`${label}: unclear problem ${JSON.stringify(p)}`);
      }
    }
    if (m.chunkBytesAltered && rep.complete) {
      throw new Error(`${label}: altered chunk bytes read as complete`);
    }
    if (rep.complete && rep.problems.length > 0) {
      throw new Error(`${label}: complete with problems`);
    }
    if (rep.complete) tally.clean++;
    else tally.partial++;
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`fuzz: ${CASES} cases in ${secs}s: ${JSON.stringify(tally)}`);
  // each kind of outcome was met, so the mutations reach every path
  if (tally.formatErrors === 0 || tally.partial === 0 || tally.clean === 0) {
    throw new Error(`fuzz outcomes too narrow: ${JSON.stringify(tally)}`);
  }
});
