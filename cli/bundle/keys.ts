/**
 * Ed25519 keys for signing bundles, with WebCrypto: PEM files (PKCS#8 for the
 * private key, SPKI for the public key) and a fingerprint that names a public
 * key (`SHA256:` and the hex SHA-256 of its SPKI bytes). Pure: no file access.
 *
 * @module
 */
import { sha256, toHex } from "../log/_hash.ts";

const ALG = { name: "Ed25519" } as const;

/** A key pair as PEM text, with the public key's fingerprint. */
export interface PemKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  fingerprint: string;
}

/**
 * Makes a new Ed25519 key pair.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "./keys.ts";
 * const k = await generateKeyPair();
 * if (!k.privateKeyPem.startsWith("-----BEGIN PRIVATE KEY-----")) throw new Error();
 * if (!k.fingerprint.startsWith("SHA256:")) throw new Error(k.fingerprint);
 * ```
 */
export async function generateKeyPair(): Promise<PemKeyPair> {
  const pair = await crypto.subtle.generateKey(ALG, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(
    await crypto.subtle.exportKey("pkcs8", pair.privateKey),
  );
  const spki = new Uint8Array(
    await crypto.subtle.exportKey("spki", pair.publicKey),
  );
  return {
    privateKeyPem: toPem("PRIVATE KEY", pkcs8),
    publicKeyPem: toPem("PUBLIC KEY", spki),
    fingerprint: fingerprintOf(spki),
  };
}

/** The fingerprint of a public key given as SPKI bytes. */
export function fingerprintOf(spki: Uint8Array): string {
  return `SHA256:${toHex(sha256(spki))}`;
}

/** A private key read from PEM, with the fingerprint of its public half. */
export interface SigningKey {
  key: CryptoKey;
  fingerprint: string;
}

/** Reads a PKCS#8 PEM Ed25519 private key; `name` is used in messages. */
export async function importPrivateKey(
  pem: string,
  name: string,
): Promise<SigningKey> {
  const der = fromPem(pem, "PRIVATE KEY", name);
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]);
  } catch (e) {
    throw new Error(
      `Cannot read private key "${name}": not an Ed25519 PKCS#8 key (${
        (e as Error).message
      })`,
      { cause: e },
    );
  }
  // The public half, for the fingerprint: the JWK of a private OKP key has x.
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const pub = await crypto.subtle.importKey(
    "jwk",
    {
      kty: "OKP",
      crv: "Ed25519",
      x: jwk.x,
    },
    ALG,
    true,
    ["verify"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pub));
  return { key, fingerprint: fingerprintOf(spki) };
}

/** A public key read from PEM. */
export interface VerifyingKey {
  key: CryptoKey;
  fingerprint: string;
}

/** Reads an SPKI PEM Ed25519 public key; `name` is used in messages. */
export async function importPublicKey(
  pem: string,
  name: string,
): Promise<VerifyingKey> {
  if (pem.includes("PRIVATE KEY")) {
    throw new Error(
      `Cannot read public key "${name}": it is a private key; give the .pub file`,
    );
  }
  const der = fromPem(pem, "PUBLIC KEY", name);
  try {
    const key = await crypto.subtle.importKey("spki", der, ALG, true, [
      "verify",
    ]);
    return { key, fingerprint: fingerprintOf(der) };
  } catch (e) {
    throw new Error(
      `Cannot read public key "${name}": not an Ed25519 SPKI key (${
        (e as Error).message
      })`,
      { cause: e },
    );
  }
}

/** Signs `data`; returns the 64-byte signature. */
export async function signBytes(
  key: CryptoKey,
  data: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign(ALG, key, data as Uint8Array<ArrayBuffer>),
  );
}

/** Whether `signature` is `key`'s signature of `data`. */
export async function verifyBytes(
  key: CryptoKey,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  try {
    return await crypto.subtle.verify(
      ALG,
      key,
      signature as Uint8Array<ArrayBuffer>,
      data as Uint8Array<ArrayBuffer>,
    );
  } catch {
    return false;
  }
}

function toPem(label: string, der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der));
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${
    lines.join("\n")
  }\n-----END ${label}-----\n`;
}

function fromPem(
  pem: string,
  label: string,
  name: string,
): Uint8Array<ArrayBuffer> {
  const m = pem.match(
    new RegExp(
      `-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`,
    ),
  );
  const kind = label.toLowerCase();
  if (!m) {
    throw new Error(
      `Cannot read ${kind} "${name}": no "-----BEGIN ${label}-----" PEM block`,
    );
  }
  try {
    const bin = atob(m[1].replace(/\s+/g, ""));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch (e) {
    throw new Error(
      `Cannot read ${kind} "${name}": bad base64 in the PEM block`,
      {
        cause: e,
      },
    );
  }
}
