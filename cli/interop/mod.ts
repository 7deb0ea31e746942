/**
 * Interoperability: Sysmon process events in (JSON lines or Windows event
 * XML, Event ID 1 and 5), procrec events out as procrec's own JSON lines,
 * Elastic Common Schema documents or OCSF Process Activity events. Pure:
 * parsers take byte chunks, mappers take events; the commands do the I/O.
 *
 * Limitations: a Sysmon import holds one host's process records in memory to
 * sort them (a few hundred bytes each); exports stream, keeping only the
 * processes that are alive. Sysmon reports no exit status and no thread ids.
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
