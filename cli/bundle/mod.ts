/**
 * Evidence bundles: a zip of recordings (unchanged), `manifest.json` pinning
 * every member by SHA-256 and describing every recording (host, OS, kernel,
 * boot id, UTC time range, counts, lost counts, final chain hash), an
 * optional Ed25519 `manifest.sig` over the manifest's exact bytes, and the
 * documents made for people (`summary.txt`, `report.html`). The segments
 * of one segment directory are members of one folder, `recordings/NAME/`:
 * one recording, read as the directory is (links checked, gaps as lost
 * spans), whose links verification checks too.
 *
 * Verification trusts only what the signature covers, checked with a key
 * the verifier supplies. Limitations: without `--key`, a bundle's integrity
 * is only self-consistency (anyone can rebuild a consistent bundle); the
 * fingerprint in `manifest.sig` is a hint for choosing the key, not trusted.
 *
 * @module
 */
export * from "./manifest.ts";
export * from "./keys.ts";
export * from "./signature.ts";
export * from "./describe_recording.ts";
export * from "./create_bundle.ts";
export * from "./open_bundle.ts";
export * from "./verify_result.ts";
export * from "./verify_recording.ts";
export * from "./verify_bundle.ts";
export { looksLikeZip } from "./zip_layout.ts";
