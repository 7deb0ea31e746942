/**
 * The analysis: one pure entry point that turns events into a process forest,
 * live (`procrec record` feeds a {@link ForestBuilder} event by event) and on
 * replay ({@link analyze} over a recording's events). Never calls `Deno.*`.
 *
 * - Identity: (boot id, pid, start), rendered like Sysmon's ProcessGuid
 *   ({@link processId}); pid reuse never merges two processes.
 * - The creating parent is kept; re-parenting is a flag; a parent that is not
 *   the creator keeps both edges and is flagged.
 * - Each process keeps its exec chain, its threads (each exit classified
 *   `teardown`, `standalone` or `last-thread`; remote creations marked) and
 *   its exit status decoded per OS ({@link decodeExitStatus}).
 * - Snapshots, processes first seen without a creation, and lost spans are
 *   flagged; broken invariants become {@link Forest.problems}.
 *
 * Limitations: thread exits without an OS hint (Linux) are classified by
 * time: an exit within {@link TEARDOWN_WINDOW_NS} of the process's exit,
 * with no other activity of the process after it, counts as teardown.
 * Re-parenting is inferred from the parent's exit (the events do not carry
 * the new parent).
 *
 * @example
 * ```ts
 * import { ForestBuilder, renderSummary, renderTree, summarize } from "./mod.ts";
 * const b = new ForestBuilder({ os: "windows", bootId: "b" });
 * b.add({ kind: "process_create", t: 0, pid: 8, tid: 9, ppid: 4, ptid: 0,
 *   creatorPid: 4, creatorTid: 5, start: 0,
 *   info: { image: "C:\\Windows\\System32\\cmd.exe", cmdline: "cmd /c exit 1",
 *   from: {} } });
 * b.add({ kind: "process_exit", t: 5, pid: 8, tid: 9, status: 0xC000013A });
 * const f = b.finish();
 * if (!renderTree(f).includes("STATUS_CONTROL_C_EXIT")) throw new Error();
 * if (!renderSummary(summarize(f)).includes("failures: 1")) throw new Error();
 * ```
 *
 * @module
 */
export * from "./forest.ts";
export * from "./forest_builder.ts";
export * from "./command_text.ts";
export * from "./analyze.ts";
export * from "./decode_exit_status.ts";
export * from "./process_id.ts";
export * from "./process_position.ts";
export * from "./summarize.ts";
export * from "./render_summary.ts";
export * from "./render_tree.ts";
export * from "./select_processes.ts";
export * from "./parse_time_point.ts";
export * from "./format_time.ts";
export * from "./timeline_of.ts";
export * from "./event_follower.ts";
export * from "./forest_to_json.ts";
export * from "./process_identity.ts";
export * from "./container_of.ts";
export * from "./bounded_summary.ts";
export * from "./live_processes.ts";
export * from "./forest_end.ts";
