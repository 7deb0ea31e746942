/**
 * What a rule is matched against: one process creation (a Windows creation,
 * a Linux exec, or a process found running), with its parent and
 * grandparent as they were at that moment.
 *
 * @module
 */
import type { ProcessInfo } from "../events/types.ts";

/** A process as the hunt knows it at one moment. */
export interface ProcessView {
  pid: number;
  ppid: number;
  /** Process start, ns since the time base (identity). */
  start: number;
  info?: ProcessInfo;
  /** The OS's own id (Sysmon ProcessGuid). */
  guid?: string;
  /** Its parent's `guid`, as its creation named it (Sysmon ParentProcessGuid). */
  parentGuid?: string;
  /**
   * Its parent, as found at its creation (the hunt's own link: a pid taken
   * again by a later process no longer names that parent).
   */
  parent?: ProcessView;
}

/** One process creation to match rules against. */
export interface HuntSubject {
  os: "linux" | "windows";
  host: string;
  /** The process itself, with the description of this creation or exec. */
  process: ProcessView & { info: ProcessInfo };
  parent?: ProcessView;
  grandparent?: ProcessView;
  /** User names by uid, as the recorded host had them (Linux `accounts` events). */
  users?: Map<number, string>;
}
