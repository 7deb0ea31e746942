/**
 * One Sysmon event as the parsers hand it on: the Event ID, the host and the
 * `EventData` fields as strings, with where it was read.
 *
 * @module
 */

/** A Sysmon event, whatever shape it was read from. */
export interface SysmonRecord {
  /** Windows Event ID (1 process create, 5 process terminate, ...). */
  eventId: number;
  /** `Computer` (XML) or `Hostname`/`Computer`/`winlog.computer_name` (JSON). */
  host?: string;
  /** Event provider or channel, when the input names one. */
  provider?: string;
  /** `EventData` fields by name, as text. */
  data: Record<string, string>;
  /** Input file name, for messages. */
  file: string;
  /** 1-based line where the record starts. */
  line: number;
  /**
   * Why the record cannot be imported as it is (a field given twice, a
   * reference to no character, half a surrogate pair): an error when it is
   * one the import takes (Sysmon's Event ID 1 or 5), none for another
   * event of the input (an Event Viewer export mixes providers).
   */
  refused?: { field?: string; detail: string };
}
