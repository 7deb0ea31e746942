/**
 * Files procrec writes and reads from outside: the one bounded input reader
 * (limits per kind, pipes and devices read once) and the one output opener (no
 * links followed, temporary file renamed into place, modes 0600/0700 or a
 * group's 0640/0750) and output directories.
 *
 * @module
 */
export * from "./output_mode.ts";
export * from "./open_output.ts";
export * from "./make_output_dir.ts";
export * from "./read_input.ts";
export * from "./concat_bytes.ts";
export * from "./disk_full.ts";
export * from "./secret_file_mode.ts";
