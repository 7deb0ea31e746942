/**
 * The recording of many small chunks that the reader tests share
 * (tests/batched_read_test.ts, tests/native_hash_read_test.ts), and the text
 * they compare chunks and reports by.
 */
import { workload, writeRecording } from "./_recording_helpers.ts";

/** Events per chunk: an idle recorder writes chunks this small. */
export const SMALL_CHUNK_EVENTS = 2;

/**
 * Writes to `path` a recording of `processes` short processes (create, exec,
 * exit: {@link workload}) in chunks of {@link SMALL_CHUNK_EVENTS} events,
 * 1.5 chunks a process; returns the file's bytes.
 *
 * @example
 * ```ts
 * import { writeSmallChunks } from "./_small_chunks.ts";
 * import { RecordingReader } from "../cli/log/mod.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeSmallChunks(`${dir}/a.cbor`, 4);
 *   const r = await RecordingReader.open(`${dir}/a.cbor`);
 *   const chunks = await Array.fromAsync(r.chunks());
 *   if (chunks.length !== 6 || !r.report.complete) throw new Error();
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function writeSmallChunks(
  path: string,
  processes: number,
): Promise<Uint8Array> {
  return writeRecording(path, workload(processes), SMALL_CHUNK_EVENTS);
}

/**
 * JSON text of chunks and reports as read, to compare them whole: bigints as
 * `"<digits>n"`, byte arrays as their bytes joined by commas.
 *
 * @example
 * ```ts
 * import { chunkJson } from "./_small_chunks.ts";
 * const text = chunkJson({ t: 5n, hash: new Uint8Array([1, 2]) });
 * if (text !== '{"t":"5n","hash":"1,2"}') throw new Error(text);
 * ```
 */
export function chunkJson(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) =>
      typeof x === "bigint"
        ? `${x}n`
        : x instanceof Uint8Array
        ? [...x].join()
        : x,
  );
}
