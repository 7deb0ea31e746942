/**
 * Opens what a command was given as evidence: a recording file (and, once
 * bundles land, a bundle holding one). Needs `--allow-read`.
 *
 * @module
 */
import { RecordingReader } from "../log/mod.ts";

/** Opens a recording (or bundle) for reading. */
export async function openRecordingInput(
  path: string,
): Promise<RecordingReader> {
  return await RecordingReader.open(path);
}
