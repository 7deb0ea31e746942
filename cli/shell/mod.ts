/**
 * Shell integration generated from the command line itself: bash, zsh and
 * fish completions and the man page. Completion of option values knows only
 * fixed choices; other values complete as file names.
 *
 * @module
 */
export {
  type CommandSpec,
  commandSpec,
  type OptionSpec,
} from "./command_spec.ts";
export { bashCompletion } from "./bash_completion.ts";
export { zshCompletion } from "./zsh_completion.ts";
export { fishCompletion } from "./fish_completion.ts";
export { manPage, type ManPageInfo } from "./man_page.ts";
