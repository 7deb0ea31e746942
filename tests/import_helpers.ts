/**
 * Helpers of the import and export tests: the Sysmon fixtures, what they hold
 * counted independently of the importer (plain code over the raw JSON), and
 * running procrec.
 *
 * @module
 */
import { ROOT, withTempDir as withTempDirNamed } from "./_record_helpers.ts";

export { procrec, ROOT } from "./_record_helpers.ts";
export const SYSMON_DIR = `${ROOT}fixtures/sysmon/`;
export const LSASS =
  `${SYSMON_DIR}otrf_lsass_campaign_01_logonpasswords_sysmon_eid1_eid5.jsonl`;
export const EMPIRE =
  `${SYSMON_DIR}otrf_empire_runkeys_standard_user_sysmon_eid1_eid5.jsonl`;

/** The raw records of a JSON lines fixture. */
export function rawRecords(path: string): Record<string, unknown>[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/** What one host's raw records hold, counted without the importer. */
export interface Expected {
  host: string;
  /** Event ID 1 records. */
  creates: number;
  /** Event ID 5 records, and distinct GUIDs among them. */
  terminateRecords: number;
  terminatedGuids: number;
  /** Distinct GUIDs created or terminated, plus parents named only as parents. */
  processes: number;
  /** GUIDs with both a creation and a termination. */
  pairs: number;
  terminateWithoutCreate: number;
  createWithoutTerminate: number;
  /** ParentProcessGuids never created in the log. */
  parentsNotCreated: number;
  /** Records without ProcessId. */
  missingPid: number;
  /** Terminations (the earliest of each GUID) whose UtcTime is before their own creation's. */
  terminateBeforeCreate: number;
  /** The others whose UtcTime is before the creation of one of their children. */
  terminateBeforeChild: number;
}

/** Counts per host (the `Hostname` field), independently of the importer. */
export function expected(
  records: Record<string, unknown>[],
): Map<string, Expected> {
  const byHost = new Map<string, Record<string, unknown>[]>();
  for (const r of records) {
    const h = String(r.Hostname);
    byHost.set(h, [...(byHost.get(h) ?? []), r]);
  }
  const out = new Map<string, Expected>();
  for (const [host, rs] of byHost) {
    const low = (v: unknown) => String(v).toLowerCase();
    const c = rs.filter((r) => Number(r.EventID) === 1);
    const t = rs.filter((r) => Number(r.EventID) === 5);
    const created = new Set(c.map((r) => low(r.ProcessGuid)));
    const terminated = new Set(t.map((r) => low(r.ProcessGuid)));
    const parents = new Set(c.map((r) => low(r.ParentProcessGuid)));
    const all = new Set([...created, ...terminated, ...parents]);
    const createTime = new Map(
      c.map((r) => [low(r.ProcessGuid), String(r.UtcTime)]),
    );
    const firstExit = new Map<string, string>();
    for (const r of t) {
      const g = low(r.ProcessGuid);
      const time = String(r.UtcTime); // YYYY-MM-DD HH:MM:SS.fff sorts as text
      if (!firstExit.has(g) || time < firstExit.get(g)!) firstExit.set(g, time);
    }
    const lastChild = new Map<string, string>();
    for (const r of c) {
      const g = low(r.ParentProcessGuid);
      const time = String(r.UtcTime);
      if (!lastChild.has(g) || time > lastChild.get(g)!) lastChild.set(g, time);
    }
    out.set(host, {
      host,
      creates: c.length,
      terminateRecords: t.length,
      terminatedGuids: terminated.size,
      processes: all.size,
      pairs: [...created].filter((g) => terminated.has(g)).length,
      terminateWithoutCreate: [...terminated].filter((g) =>
        !created.has(g)
      ).length,
      createWithoutTerminate: [...created].filter((g) =>
        !terminated.has(g)
      ).length,
      parentsNotCreated: [...parents].filter((g) => !created.has(g)).length,
      missingPid: rs.filter((r) => r.ProcessId === undefined).length,
      terminateBeforeCreate:
        [...firstExit].filter(([g, time]) =>
          createTime.has(g) && time < createTime.get(g)!
        ).length,
      terminateBeforeChild:
        [...firstExit].filter(([g, time]) =>
          !(createTime.has(g) && time < createTime.get(g)!) &&
          lastChild.has(g) && time < lastChild.get(g)!
        ).length,
    });
  }
  return out;
}

/** A temporary directory removed after `fn`. */
export const withTempDir = <T>(fn: (dir: string) => Promise<T>): Promise<T> =>
  withTempDirNamed(fn, "procrec_interop_");

/** File-name-safe form of a host, as `import` names per-host recordings. */
export function perHostPath(output: string, host: string): string {
  return output.replace(
    /\.cbor$/,
    `.${host.replace(/[^A-Za-z0-9._-]/g, "_")}.cbor`,
  );
}
