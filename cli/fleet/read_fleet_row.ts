/**
 * Reads one recording file for the fleet view: header, every chunk (checked),
 * event span, losses, file time and recording id. Needs `--allow-read`.
 *
 * @module
 */
import { recordingId, RecordingReader } from "../log/mod.ts";
import { sha256 } from "../log/_hash.ts";
import { scanItem } from "../log/_cbor_scan.ts";
import { type FleetRow, fleetRow } from "./fleet_row.ts";
import { COLLECT_MARK } from "../nats/piece_subject.ts";
import { basename, dirname, resolve } from "node:path";

/**
 * The recording id of a file: the first 16 bytes of its header's SHA-256, hex.
 *
 * @example
 * ```ts ignore
 * const id = await recordingIdOf("fleet/web-1/3f2a....cbor");
 * ```
 */
export async function recordingIdOf(path: string): Promise<string> {
  const f = await Deno.open(path, { read: true });
  try {
    let buf = new Uint8Array(0);
    const block = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await f.read(block);
      if (n === null) break;
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(block.subarray(0, n), buf.length);
      buf = next;
      try {
        return recordingId(sha256(buf.subarray(0, scanItem(buf, 0))));
      } catch {
        if (buf.length > 16 * 1024 * 1024) break;
      }
    }
    throw new Error(`Cannot read the header of "${path}"`);
  } finally {
    f.close();
  }
}

/**
 * Reads `path` to the end and returns its fleet row.
 *
 * @example
 * ```ts ignore
 * const row = await readFleetRow("fleet/web-1/3f2a....cbor");
 * ```
 */
export async function readFleetRow(path: string): Promise<FleetRow> {
  const reader = await RecordingReader.open(path);
  let firstT: number | undefined;
  let lastT: number | undefined;
  let lost = 0;
  for await (const e of reader.events()) {
    if (e.kind === "lost") lost += e.count;
    if (firstT === undefined || e.t < firstT) firstT = e.t;
    if (lastT === undefined || e.t > lastT) lastT = e.t;
  }
  const st = await Deno.stat(path);
  const collectedUnder = await collectHostDir(path);
  return fleetRow({
    ...(collectedUnder !== undefined ? { collectedUnder } : {}),
    path,
    id: await recordingIdOf(path),
    header: reader.header,
    report: reader.report,
    firstT,
    lastT,
    lost,
    mtime: st.mtime,
  });
}

/**
 * The host directory of a recording in `collect`'s output
 * (`DIR/<host>/<id>.cbor[.incomplete]`, `DIR` holding collect's mark), or
 * `undefined` for a recording anywhere else.
 */
export async function collectHostDir(
  path: string,
): Promise<string | undefined> {
  const abs = resolve(path);
  if (!/^[0-9a-f]{32}\.cbor(\.incomplete)?$/.test(basename(abs))) {
    return undefined;
  }
  const hostDir = dirname(abs);
  const host = basename(hostDir);
  if (!/^[A-Za-z0-9_-]+$/.test(host)) return undefined;
  const marked = await Deno.lstat(`${dirname(hostDir)}/${COLLECT_MARK}`)
    .then((s) => s.isFile, () => false);
  return marked ? host : undefined;
}
