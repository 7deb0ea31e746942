/**
 * Every `procrec` command, one file each. A command file exports a
 * `register(program)` that adds its verb to the commander program.
 *
 * @module
 */
import type { Command } from "commander";
import { register as record } from "./record.ts";
import { register as doctor } from "./doctor.ts";
import { register as keygen } from "./keygen.ts";
import { register as verify } from "./verify.ts";
import { register as bundle } from "./bundle.ts";
import { register as report } from "./report.ts";
import { register as replay } from "./replay.ts";
import { register as diff } from "./diff.ts";
import { register as importCmd } from "./import.ts";
import { register as exportCmd } from "./export.ts";
import { register as redact } from "./redact.ts";
import { register as completions } from "./completions.ts";
import { register as service } from "./service.ts";
import { register as collect } from "./collect.ts";
import { register as publish } from "./publish.ts";
import { register as fleet } from "./fleet.ts";
import { register as search } from "./search.ts";
import { register as hunt } from "./hunt.ts";

/** Adds a command to the program. */
export type Register = (program: Command) => void;

/** The commands, in the order `--help` lists them. */
export const COMMANDS: Register[] = [
  record,
  doctor,
  bundle,
  keygen,
  verify,
  report,
  replay,
  diff,
  importCmd,
  exportCmd,
  redact,
  service,
  completions,
  publish,
  collect,
  fleet,
  search,
  hunt,
];
