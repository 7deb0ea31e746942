/**
 * Sysmon import keeps the fields a SIEM rule or a pivot needs (Hashes,
 * OriginalFileName, Description, Product, Company, IntegrityLevel, LogonId,
 * LogonGuid, TerminalSessionId, User, ProcessGuid) as plain named fields of
 * the create event; an imported recording ends at its last event; an
 * export to procrec JSON lines and its import keep every field.
 */
import type { ProcessCreate } from "../cli/events/types.ts";
import { readRecording } from "./_recording_helpers.ts";
import { LSASS, procrec, rawRecords, withTempDir } from "./import_helpers.ts";
import { assert, assertEquals } from "./_record_helpers.ts";

Deno.test("import sysmon keeps Hashes, PE, logon and integrity fields on each create; the recording ends at its last event; export jsonl and import round-trip them", () =>
  withTempDir(async (dir) => {
    const out = `${dir}/l.cbor`;
    const run = await procrec(["import", "sysmon", LSASS, "-o", out]);
    assertEquals(run.code, 0, run.stderr);
    const { header, events, report } = await readRecording(out);
    const raw = rawRecords(LSASS).find((r) => r.EventID === 1)! as Record<
      string,
      string
    >;
    const create = events.find((e): e is ProcessCreate =>
      e.kind === "process_create" && e.guid === raw.ProcessGuid
    );
    assert(create?.info, "the first create is in the recording");
    const i = create.info!;
    assertEquals(i.hashes, raw.Hashes, "Hashes as given");
    const sha = /SHA256=([0-9A-F]{64})/.exec(raw.Hashes)![1].toLowerCase();
    assertEquals(i.sha256, sha, "its SHA256");
    assertEquals(
      [i.originalFileName, i.description, i.product, i.company],
      [raw.OriginalFileName, raw.Description, raw.Product, raw.Company],
      "PE fields",
    );
    assertEquals(
      [i.integrityLevel, i.logonId, i.logonGuid, i.sessionId, i.user],
      [
        raw.IntegrityLevel,
        raw.LogonId,
        raw.LogonGuid,
        Number(raw.TerminalSessionId),
        raw.User,
      ],
      "logon fields",
    );
    // ends at its last event
    const last = Math.max(...events.map((e) => e.t));
    assertEquals(
      report.trailer?.endUtcNs,
      header.timeBase.utcNs + BigInt(last),
      "end time",
    );
    // the tree --wide shows the hash; JSON lines export and import keep it all
    const tree = await procrec(["replay", "--wide", out]);
    assert(tree.stdout.includes(`sha256 ${sha}`), "tree --wide shows the hash");
    const jsonl = `${dir}/l.jsonl`;
    const ex = await procrec(["export", out, "--format", "jsonl", "-o", jsonl]);
    assertEquals(ex.code, 0, ex.stderr);
    const back = `${dir}/back.cbor`;
    const im = await procrec(["import", "jsonl", jsonl, "-o", back]);
    assertEquals(im.code, 0, im.stderr);
    const again = await readRecording(back);
    assertEquals(again.events, events, "events after export and import");
    assertEquals(
      again.report.trailer?.endUtcNs,
      report.trailer?.endUtcNs,
      "end time after export and import",
    );
  }));
