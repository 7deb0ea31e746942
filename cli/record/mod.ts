/**
 * Live recording: the session that turns the native event source into a
 * recording, its header, the command-subtree filter and the status line.
 *
 * Limitations: one source per session; `--only-command` decides membership
 * from `process_create` parent links as they arrive, so a subtree process
 * whose creation was lost is not kept.
 *
 * @module
 */
export * from "./record_session.ts";
export * from "./recording_header.ts";
export * from "./subtree_filter.ts";
export * from "./status_line.ts";
export * from "./parse_duration.ts";
export * from "./default_output_path.ts";
export * from "./live_summary.ts";
export * from "./check_host.ts";
export * from "./check_recording_dirs.ts";
export * from "./hash_cache_path.ts";
