/**
 * Reports for people: the HTML report (one self-contained page, no network)
 * and the text summary of a bundle. Both take analysed recordings
 * ({@link ReportInput}); the process tree is the analysis's, never rebuilt
 * here. Pure: they return strings.
 *
 * Limitations: the page embeds every process as JSON, so a recording of
 * 100,000 processes makes a page of a few tens of MB; only the rows in view
 * are in the DOM. A browser reads the data as one string: past
 * {@link MAX_PAGE_DATA_CHARS} characters (about 2.6 million processes) the
 * page is refused ({@link ReportTooBigError}). At most 400 lost spans are drawn on the timeline (all are
 * listed).
 *
 * @module
 */
export * from "./report_input.ts";
export * from "./render_report.ts";
export * from "./render_text_summary.ts";
export * from "./default_report_path.ts";
