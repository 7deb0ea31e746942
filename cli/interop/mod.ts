/**
 * Interoperability: Sysmon process events in, procrec events out in the
 * formats analysts already use. Pure: parsers take byte chunks, mappers take
 * events; `cli/commands/import.ts` and `export.ts` do the I/O.
 *
 * In: {@link parseSysmon} reads Sysmon JSON lines (flat NXLog/HELK objects or
 * Winlogbeat's nested `winlog.event_data`) or Windows event XML (UTF-8 or
 * UTF-16), {@link sysmonProcessRecord} keeps Event ID 1 and 5,
 * {@link planSysmonRecordings} groups them by host and {@link sysmonToEvents}
 * orders them and turns them into events: identity from `ProcessGuid`
 * (without regard to case), `t` from `UtcTime`, processes never created in
 * the log as snapshots placed just before they are first named, terminations
 * stamped before their own or a child's creation moved to it; every such
 * decision is counted in {@link SysmonImportStats}. {@link readProcrecJsonLines}
 * reads procrec's own JSON lines back.
 *
 * Out: {@link procrecEventLine} (procrec's JSON lines, lossless),
 * {@link ecsMapper} (Elastic Common Schema), {@link ocsfMapper} (OCSF Process
 * Activity, class 1007), the last two through a {@link ProcessTable} that
 * remembers only the processes alive and those ended lately (an exec rule's
 * decision, held back by `DecisionSettler` until the kernel source's events
 * have caught up with it, names the process that held its pid then).
 *
 * Limitations: a Sysmon import holds one host's process records in memory to
 * sort them (a few hundred bytes each). Sysmon reports no exit status (exits
 * carry `statusUnknown`) and no thread ids (0). The process start of a
 * snapshot comes from the time Sysmon encodes in its GUID (whole seconds), an
 * undocumented layout both sample datasets agree with.
 *
 * @module
 */
export * from "./sysmon_input_error.ts";
export * from "./sysmon_record.ts";
export * from "./read_lines.ts";
export * from "./parse_sysmon_json_lines.ts";
export * from "./parse_sysmon_xml.ts";
export * from "./parse_sysmon.ts";
export * from "./utc_time.ts";
export * from "./sysmon_guid.ts";
export * from "./sysmon_process_record.ts";
export * from "./sysmon_to_events.ts";
export * from "./read_sysmon_records.ts";
export * from "./plan_sysmon_recordings.ts";
export * from "./format_import_stats.ts";
export * from "./procrec_json.ts";
export * from "./read_procrec_json_lines.ts";
export * from "./split_windows_command_line.ts";
export * from "./process_table.ts";
export * from "./ecs_mapper.ts";
export * from "./ocsf_mapper.ts";
export * from "./imported_integrity.ts";
