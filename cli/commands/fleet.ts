/**
 * `procrec fleet`: one row per host and recording of a directory of
 * recordings (what `procrec collect` writes).
 *
 * @module
 */
import type { Command } from "commander";
import { findRecordings } from "../fleet/find_recordings.ts";
import { type FleetRow, renderFleet } from "../fleet/fleet_row.ts";
import { readFleetRow } from "../fleet/read_fleet_row.ts";
import { action, print, printErr } from "./_run.ts";

const HELP = `
Each recording (*.cbor, *.cbor.incomplete) below the directories is read to
its end and checked: FIRST/LAST EVENT are UTC, LOST counts the events the
sources reported lost, LAST PIECE is when the file last grew, CHAIN is
complete (trailer and every chunk verified), open (verified so far, no trailer
yet: still recording or being collected) or broken (with the first problem).
Exit status 1 when a chain is broken or a recording lies in another host's
directory of collect's (its header names another host), 2 when a file cannot be read.

Example:
  procrec collect nats://10.0.0.5:4222 -o fleet/ && procrec fleet fleet/
`;

/** Adds `fleet` to the program. */
export function register(program: Command): void {
  program
    .command("fleet")
    .description(
      "summarize a directory of recordings: one row per host and recording",
    )
    .argument("<dir...>", "directories (or recordings)")
    .option("--json", "print the rows as JSON")
    .addHelpText("after", HELP)
    .action(action(async (dirs: string[], flags: { json?: boolean }) => {
      const files = (await findRecordings(dirs)).filter((f) =>
        !f.endsWith(".zip")
      );
      const rows: FleetRow[] = [];
      let unreadable = 0;
      for (const f of files) {
        try {
          rows.push(await readFleetRow(f));
        } catch (e) {
          unreadable++;
          printErr(`procrec: fleet: ${(e as Error).message}\n`);
        }
      }
      await print(
        flags.json ? JSON.stringify(rows, null, 2) + "\n" : renderFleet(rows),
      );
      if (unreadable) return 2;
      // (a broken chain, or a recording under another host's name)
      return rows.some((r) => r.chain === "broken" || r.collectedAs) ? 1 : 0;
    }));
}
