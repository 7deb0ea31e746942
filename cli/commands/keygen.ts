/**
 * `procrec keygen`: makes an Ed25519 key pair for signing bundles. Needs
 * `--allow-write` for the key files.
 *
 * @module
 */
import type { Command } from "commander";
import { generateKeyPair } from "../bundle/mod.ts";
import { CliError } from "../errors.ts";
import { action, print } from "./_run.ts";
import { pathExists } from "../path_exists.ts";
import { openOutput } from "../io/mod.ts";
import { newRedactionKeyText } from "../redact/mod.ts";

const EXAMPLES = `
Examples:
  procrec keygen -o ir-team.key       writes ir-team.key (private) and ir-team.key.pub
  procrec keygen --redact -o redact.key   a redaction key (record --redact-key)

The private key file is created with mode 0600 and never replaced: keygen
refuses to overwrite either file. Give the .pub file to whoever verifies
(procrec verify --key ir-team.key.pub); keep the private key to sign
(procrec bundle create --sign ir-team.key).

With --redact, one file of 32 random bytes (hex), mode 0600: the HMAC key of
redaction (procrec record --redact RULES --redact-key FILE, procrec redact).
Keep it apart from the recordings: with it, a guess at a redacted secret can
be tested (procrec redact --check-guess); without it, the markers only say
which redacted values were equal.
`;

/** Adds `keygen` to the program. */
export function register(program: Command): void {
  program
    .command("keygen")
    .description(
      "make an Ed25519 key pair for signing evidence bundles (or, with --redact, a redaction key)",
    )
    .requiredOption(
      "-o, --output <file>",
      "private key file to write; the public key goes to FILE.pub",
    )
    .option("--redact", "make a redaction (HMAC) key instead: one file, 0600")
    .addHelpText("after", EXAMPLES)
    .action(action(async (flags: { output: string; redact?: boolean }) => {
      if (flags.redact) {
        if (await pathExists(flags.output)) {
          throw new CliError(
            `Cannot write key "${flags.output}": the file exists; keygen never replaces a key`,
          );
        }
        await writeNew(flags.output, newRedactionKeyText(), 0o600);
        await print(
          `redaction key: ${flags.output} (mode 0600; keep it secret, apart from the recordings)\n`,
        );
        return 0;
      }
      const priv = flags.output;
      const pub = `${priv}.pub`;
      for (const p of [priv, pub]) {
        if (await pathExists(p)) {
          throw new CliError(
            `Cannot write key "${p}": the file exists; keygen never replaces a key`,
          );
        }
      }
      const k = await generateKeyPair();
      await writeNew(priv, k.privateKeyPem, 0o600);
      try {
        await writeNew(pub, k.publicKeyPem, 0o644);
      } catch (e) {
        await Deno.remove(priv).catch(() => {});
        throw e;
      }
      await print(
        `private key: ${priv} (mode 0600; keep it secret)\npublic key:  ${pub}\nfingerprint: ${k.fingerprint}\n`,
      );
      return 0;
    }));
}

/**
 * Writes a new key file through the output opener (never replacing a file,
 * never through a link): the private key 0600, the public key 0644.
 */
async function writeNew(
  path: string,
  text: string,
  mode: number,
): Promise<void> {
  try {
    const out = await openOutput(path, {
      secret: mode === 0o600,
      mode: { file: mode, dir: 0o755 },
      what: "key",
    });
    try {
      out.writeSync(new TextEncoder().encode(text));
    } catch (e) {
      out.discard();
      throw e;
    }
    await out.commit();
  } catch (e) {
    throw new CliError((e as Error).message, 2, { cause: e });
  }
}
