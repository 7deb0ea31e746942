/**
 * Errors that carry an exit status. Anything else that reaches `main.ts` is
 * reported as an error with exit status 2.
 *
 * @module
 */

/** An error the command line reports as is, with an exit status. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CliError";
  }
}

/** The command line was used wrongly. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}
