/**
 * Redaction of secrets in command lines: a rules file
 * ({@link parseRedactionRules}), a key ({@link parseRedactionKey}), and a
 * {@link Redactor} that replaces each secret by a marker naming the rule and
 * carrying the secret's HMAC-SHA-256 under the key. Pure: the commands read
 * the files.
 *
 * Limitations: a rule sees one text at a time (an argv, or one command
 * line); a secret split over two texts, or hidden by quoting that a shell
 * would undo (`-p"S3"cret`), is redacted only where a rule matches it.
 *
 * @module
 */
export * from "./redaction_rules.ts";
export * from "./redaction_key.ts";
export * from "./redaction_marker.ts";
export * from "./redactor.ts";
export * from "./redacted_header.ts";
export * from "./marker_index.ts";
export * from "./describe_redaction.ts";
export * from "./redaction_mismatch.ts";
export * from "./quiet_message.ts";
