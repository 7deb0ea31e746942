/**
 * `procrec completions bash|zsh|fish` and `procrec manpage`: shell
 * integration generated from the command line itself. Needs no permissions
 * (`manpage -o` needs `--allow-write`; it writes 0600 through the output
 * opener, replacing an earlier page).
 *
 * @module
 */
import { Argument, type Command } from "commander";
import {
  bashCompletion,
  commandSpec,
  fishCompletion,
  manPage,
  zshCompletion,
} from "../shell/mod.ts";
import { CliError } from "../errors.ts";
import { TOOL_VERSION } from "../version.ts";
import { action, print } from "./_run.ts";
import { writeTextOutput } from "./_output.ts";

const SHELLS = {
  bash: bashCompletion,
  zsh: zshCompletion,
  fish: fishCompletion,
} as const;

const COMPLETION_HELP = `
Load them in the current shell:
  bash:  source <(procrec completions bash)
  zsh:   source <(procrec completions zsh)     (after compinit)
  fish:  procrec completions fish | source

Or install them for every shell session:
  procrec completions bash > /etc/bash_completion.d/procrec
  procrec completions zsh  > /usr/local/share/zsh/site-functions/_procrec
  procrec completions fish > ~/.config/fish/completions/procrec.fish
`;

const MAN_HELP = `
Examples:
  procrec manpage | man -l -            read it now
  procrec manpage -o procrec.1          write it (make setup puts one in share/man)
`;

/** Adds `completions` and `manpage` to the program. */
export function register(program: Command): void {
  program
    .command("completions")
    .description("print the shell completion script for bash, zsh or fish")
    .addArgument(
      new Argument("<shell>", "bash, zsh or fish").choices(Object.keys(SHELLS)),
    )
    .addHelpText("after", COMPLETION_HELP)
    .action(action(async (shell: string) => {
      const render = SHELLS[shell as keyof typeof SHELLS];
      if (!render) {
        throw new CliError(
          `Cannot make completions for "${shell}": expected bash, zsh or fish`,
        );
      }
      await print(render(commandSpec(program)));
      return 0;
    }));
  program
    .command("manpage")
    .description("print procrec's man page (roff), generated from --help")
    .option("-o, --output <file>", "write it to FILE instead of stdout")
    .addHelpText("after", MAN_HELP)
    .action(action(async (flags: { output?: string }) => {
      const roff = manPage(commandSpec(program), {
        version: TOOL_VERSION,
        date: new Date().toISOString().slice(0, 10),
      });
      // through the one output opener: no planted link is followed; a
      // generated page is replaced (set-up writes it again each run)
      if (flags.output) {
        await writeTextOutput(flags.output, roff, {
          force: true,
          what: "man page",
        });
      } else await print(roff);
      return 0;
    }));
}
