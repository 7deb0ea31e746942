/**
 * The NATS options shared by `record --publish`, `publish`, `collect` and
 * `doctor --publish`: credentials, TLS and the subject prefix.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
// the NATS clients (imported by connect_nats.ts) load only when a NATS
// option is used: `record` without --publish starts without them
import type { NatsAuth } from "../nats/connect_nats.ts";
import { checkPrefix, DEFAULT_PREFIX } from "../nats/piece_subject.ts";

/** The parsed `--nats-*` and `--subject-prefix` flags. */
export interface NatsFlags {
  natsCreds?: string;
  natsUser?: string;
  natsPasswordFile?: string;
  natsTlsCa?: string;
  subjectPrefix: string;
}

/** Adds the NATS options to a command. */
export function addNatsOptions(cmd: Command): Command {
  return cmd
    .option(
      "--nats-creds <file>",
      "NATS credentials file (user JWT and NKey seed; must not be readable by others)",
    )
    .option("--nats-user <user>", "NATS user name (with --nats-password-file)")
    .option(
      "--nats-password-file <file>",
      "file whose first line is the NATS password (must not be readable by others; sent only over TLS or loopback)",
    )
    .option(
      "--nats-tls-ca <file>",
      "PEM CA certificate of the NATS servers (turns TLS on)",
    )
    .option(
      "--subject-prefix <prefix>",
      "subject prefix: pieces go to PREFIX.<host>.<recording id>",
      DEFAULT_PREFIX,
    );
}

/**
 * Checks the URL, credentials and prefix before anything starts (secret
 * files are read once here so that a bad mode fails at once).
 */
export async function natsAuth(url: string, f: NatsFlags): Promise<NatsAuth> {
  const auth: NatsAuth = {
    credsFile: f.natsCreds,
    user: f.natsUser,
    passwordFile: f.natsPasswordFile,
    tlsCaFile: f.natsTlsCa,
  };
  const { checkNatsAuth, readSecretFile } = await import(
    "../nats/connect_nats.ts"
  );
  try {
    checkNatsAuth(url, auth);
    checkPrefix(f.subjectPrefix);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (auth.credsFile) {
    await readSecretFile(auth.credsFile, "NATS credentials file");
  }
  if (auth.passwordFile) {
    await readSecretFile(auth.passwordFile, "NATS password file");
  }
  return auth;
}
