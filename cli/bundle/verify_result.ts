/**
 * What verification found, and its text rendering. Pure.
 *
 * @module
 */
import { escapeText } from "../text/mod.ts";

/** One thing that is wrong (or worth saying). */
export interface Finding {
  /**
   * `tampered`: something does not match what it should (exit 1);
   * `incomplete`: a recording was not closed cleanly (exit 1);
   * `unsigned`: the bundle cannot be authenticated (exit 1 when a key was given);
   * `note`: said, not counted.
   */
  level: "tampered" | "incomplete" | "unsigned" | "note";
  /** The member concerned (bundles), e.g. `recordings/a.cbor`, `manifest.sig`. */
  member?: string;
  /** The chunk concerned (recordings). */
  chunk?: number;
  /** Byte offset in the recording. */
  offset?: number;
  message: string;
}

/** One member as checked against the manifest. */
export interface MemberCheck {
  name: string;
  /** In the manifest. */
  expected?: { size: number; sha256: string };
  /** As found in the zip. */
  found?: { size: number; sha256: string };
  ok: boolean;
}

/** One recording's chain and trailer as read. */
export interface RecordingCheck {
  name: string;
  chunks: number;
  events: number;
  complete: boolean;
  chainIntact: boolean;
  finalHash: string | null;
}

/** The outcome of `procrec verify`. */
export interface VerifyResult {
  path: string;
  kind: "bundle" | "recording";
  /** `intact` (exit 0) or not (exit 1). */
  verdict: "intact" | "tampered" | "incomplete";
  exitCode: 0 | 1;
  signature: {
    /** `valid`: verified with the given key; `not-checked`: signed but no key given. */
    state: "valid" | "invalid" | "unsigned" | "not-checked" | "not-applicable";
    /** Fingerprint named in manifest.sig (informational, untrusted). */
    claimedKey?: string;
    /** Fingerprint of the key given with --key. */
    givenKey?: string;
  };
  members: MemberCheck[];
  recordings: RecordingCheck[];
  findings: Finding[];
}

/** Sets verdict and exit code from the findings. */
export function settle(
  result: Omit<VerifyResult, "verdict" | "exitCode">,
): VerifyResult {
  const levels = new Set(result.findings.map((f) => f.level));
  const verdict = levels.has("tampered") || levels.has("unsigned")
    ? "tampered"
    : levels.has("incomplete")
    ? "incomplete"
    : "intact";
  return { ...result, verdict, exitCode: verdict === "intact" ? 0 : 1 };
}

/**
 * Renders a result for people: the verdict first, then every finding, then
 * what was checked.
 *
 * @example
 * ```ts
 * import { renderVerifyResult, settle } from "./verify_result.ts";
 * const r = settle({
 *   path: "a.cbor", kind: "recording", signature: { state: "not-applicable" }, members: [],
 *   recordings: [{ name: "a.cbor", chunks: 1, events: 2, complete: true, chainIntact: true, finalHash: "ab" }],
 *   findings: [],
 * });
 * if (!renderVerifyResult(r).startsWith('Recording "a.cbor": INTACT')) throw new Error();
 * ```
 */
export function renderVerifyResult(r: VerifyResult): string {
  const lines: string[] = [];
  const what = r.kind === "bundle" ? "Bundle" : "Recording";
  lines.push(
    `${what} "${escapeText(r.path)}": ${r.verdict.toUpperCase()}`,
  );
  for (const f of r.findings) {
    const where = [
      f.member,
      f.chunk !== undefined ? `chunk ${f.chunk}` : undefined,
      f.offset !== undefined ? `offset ${f.offset}` : undefined,
    ].filter((x) => x !== undefined).join(", ");
    const tag = f.level === "note" ? "note" : f.level.toUpperCase();
    // names and messages quote the evidence: one finding, one line
    lines.push(
      `  ${tag}${where ? ` [${escapeText(where)}]` : ""}: ${
        escapeText(f.message)
      }`,
    );
  }
  if (r.kind === "bundle") {
    const s = r.signature;
    const sig = {
      "valid": `valid, made by the given key ${s.givenKey}`,
      "invalid": `INVALID (given key ${s.givenKey})`,
      "unsigned":
        "none: the bundle is unsigned; nothing proves who made it or that the manifest is original",
      "not-checked":
        `present, NOT CHECKED: no --key given (manifest.sig names ${s.claimedKey}; that claim is not trusted)`,
      "not-applicable": "",
    }[s.state];
    lines.push(`  signature: ${sig}`);
    for (const m of r.members) {
      const detail = m.found
        ? `${m.found.size} bytes, SHA-256 ${m.found.sha256}`
        : "missing";
      lines.push(
        `  member ${escapeText(m.name)}: ${m.ok ? "ok" : "FAILED"} (${detail})`,
      );
    }
  }
  for (const c of r.recordings) {
    const state = c.complete && c.chainIntact
      ? "chain intact, trailer matches"
      : [
        c.chainIntact ? "chain intact" : "chain BROKEN",
        c.complete ? "complete" : "INCOMPLETE",
      ].join(", ");
    lines.push(
      `  recording ${
        escapeText(c.name)
      }: ${c.chunks} chunks, ${c.events} events, ${state}` +
        (c.finalHash ? `, final hash ${c.finalHash}` : ""),
    );
  }
  return lines.join("\n") + "\n";
}
