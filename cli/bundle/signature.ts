/**
 * `manifest.sig`: an Ed25519 signature over the exact bytes of
 * `manifest.json`, with the fingerprint of the key that made it. The
 * fingerprint only helps a person pick the right public key: verification
 * uses the key the verifier supplies, never anything from the bundle. The
 * file must be in its canonical form (the bytes {@link encodeSignature}
 * writes), so that any change to it is noticed. Pure.
 *
 * @module
 */
import { sha256, toHex } from "../log/_hash.ts";
import {
  signBytes,
  type SigningKey,
  verifyBytes,
  type VerifyingKey,
} from "./keys.ts";
import { MANIFEST_NAME } from "./manifest.ts";

/** Name in the signature's `format` field. */
export const SIGNATURE_FORMAT = "procrec-bundle-signature";

/** The content of `manifest.sig`. */
export interface SignatureFile {
  format: typeof SIGNATURE_FORMAT;
  version: 1;
  algorithm: "Ed25519";
  /** The member signed: always `manifest.json`. */
  signed: typeof MANIFEST_NAME;
  /** SHA-256 (hex) of the signed bytes. */
  signedSha256: string;
  /** Fingerprint of the signer's public key (informational). */
  keyFingerprint: string;
  /** Base64 of the 64-byte signature. */
  signature: string;
}

/** Signs the exact bytes of a manifest. */
export async function signManifest(
  manifestBytes: Uint8Array,
  key: SigningKey,
): Promise<SignatureFile> {
  const sig = await signBytes(key.key, manifestBytes);
  return {
    format: SIGNATURE_FORMAT,
    version: 1,
    algorithm: "Ed25519",
    signed: MANIFEST_NAME,
    signedSha256: toHex(sha256(manifestBytes)),
    keyFingerprint: key.fingerprint,
    signature: btoa(String.fromCharCode(...sig)),
  };
}

/** The canonical bytes of a signature file. */
export function encodeSignature(s: SignatureFile): Uint8Array {
  const canonical: SignatureFile = {
    format: s.format,
    version: s.version,
    algorithm: s.algorithm,
    signed: s.signed,
    signedSha256: s.signedSha256,
    keyFingerprint: s.keyFingerprint,
    signature: s.signature,
  };
  return new TextEncoder().encode(JSON.stringify(canonical, null, 2) + "\n");
}

/** Reads a signature file; throws `SyntaxError` saying what is wrong with it. */
export function parseSignature(bytes: Uint8Array): SignatureFile {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new SyntaxError(`it is not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null) {
    throw new SyntaxError("it is not a JSON object");
  }
  const want: [keyof SignatureFile, unknown][] = [
    ["format", SIGNATURE_FORMAT],
    ["version", 1],
    ["algorithm", "Ed25519"],
    ["signed", MANIFEST_NAME],
  ];
  for (const [k, x] of want) {
    if (v[k] !== x) {
      throw new SyntaxError(
        `its "${k}" is ${JSON.stringify(v[k])}, expected ${JSON.stringify(x)}`,
      );
    }
  }
  for (const k of ["signedSha256", "keyFingerprint", "signature"]) {
    if (typeof v[k] !== "string") {
      throw new SyntaxError(`its "${k}" is not text`);
    }
  }
  const s = v as unknown as SignatureFile;
  const again = encodeSignature(s);
  if (
    again.length !== bytes.length || !again.every((b, i) => b === bytes[i])
  ) {
    throw new SyntaxError(
      "it is not in canonical form (bytes were added, removed or changed)",
    );
  }
  return s;
}

/** Outcome of checking a signature with a supplied key. */
export interface SignatureCheck {
  valid: boolean;
  /** Why it is not valid, naming the member at fault. */
  reason?: string;
  /** The member at fault when not valid. */
  member?: string;
}

/**
 * Checks `sig` over `manifestBytes` with the verifier's key `key`.
 *
 * @example
 * ```ts
 * import { generateKeyPair, importPrivateKey, importPublicKey } from "./keys.ts";
 * import { checkSignature, signManifest } from "./signature.ts";
 * const k = await generateKeyPair();
 * const data = new TextEncoder().encode("{}\n");
 * const sig = await signManifest(data, await importPrivateKey(k.privateKeyPem, "k"));
 * const pub = await importPublicKey(k.publicKeyPem, "k.pub");
 * if (!(await checkSignature(data, sig, pub)).valid) throw new Error("valid");
 * if ((await checkSignature(new TextEncoder().encode("{ }\n"), sig, pub)).valid) throw new Error("invalid");
 * ```
 */
export async function checkSignature(
  manifestBytes: Uint8Array,
  sig: SignatureFile,
  key: VerifyingKey,
): Promise<SignatureCheck> {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(sig.signature), (c) => c.charCodeAt(0));
  } catch {
    return {
      valid: false,
      member: "manifest.sig",
      reason: "the signature is not valid base64",
    };
  }
  const ok = raw.length === 64 &&
    await verifyBytes(key.key, raw, manifestBytes);
  const digest = toHex(sha256(manifestBytes));
  if (!ok) {
    if (sig.keyFingerprint !== key.fingerprint) {
      return {
        valid: false,
        member: "manifest.sig",
        reason:
          `the signature does not verify with the given key ${key.fingerprint}; ` +
          `manifest.sig says it was made by ${sig.keyFingerprint}: wrong key, or the signature was altered`,
      };
    }
    if (digest !== sig.signedSha256) {
      return {
        valid: false,
        member: MANIFEST_NAME,
        reason:
          `the signature does not verify: manifest.json was altered after signing ` +
          `(its SHA-256 is ${digest}, it was ${sig.signedSha256} when signed)`,
      };
    }
    return {
      valid: false,
      member: "manifest.sig",
      reason:
        "the signature does not verify over manifest.json with the given key: the signature was altered",
    };
  }
  if (sig.keyFingerprint !== key.fingerprint) {
    return {
      valid: false,
      member: "manifest.sig",
      reason:
        `the signature verifies, but manifest.sig names key ${sig.keyFingerprint}, not ${key.fingerprint}: manifest.sig was altered`,
    };
  }
  if (digest !== sig.signedSha256) {
    return {
      valid: false,
      member: "manifest.sig",
      reason:
        `the signature verifies, but manifest.sig's signedSha256 is not manifest.json's SHA-256: manifest.sig was altered`,
    };
  }
  return { valid: true };
}
