/**
 * The command files load lazily (cli/commands/mod.ts): a verb loads its own
 * file, and the command line behaves as with every command registered (the
 * same verbs in the same `--help` order, the same help of each verb); what
 * `record` loads at start-up leaves out the other commands, the NATS clients
 * and the YAML parser; what `replay` and `diff` load leaves out the zip
 * library and the Sigma rules' code.
 */
import { Command } from "commander";
import {
  COMMAND_FILES,
  commandFilesFor,
  registerCommands,
} from "../cli/commands/mod.ts";
import { assert, assertEquals, ROOT } from "./_record_helpers.ts";

/** The verbs in the order `procrec --help` lists them. */
const HELP_ORDER = [
  "record",
  "doctor",
  "bundle",
  "keygen",
  "verify",
  "report",
  "replay",
  "diff",
  "import",
  "export",
  "redact",
  "service",
  "completions",
  "manpage",
  "publish",
  "collect",
  "fleet",
  "search",
  "hunt",
];

/** A program as main.ts makes it, with the commands a command line needs. */
async function programFor(verb: string | undefined): Promise<Command> {
  const program = new Command("procrec").exitOverride();
  await registerCommands(program, verb);
  return program;
}

/** Every subcommand's help, depth first, by its path ("bundle create"). */
function helps(cmd: Command, path: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of cmd.commands) {
    const p = [...path, c.name()];
    out.set(p.join(" "), c.helpInformation());
    for (const [k, v] of helps(c, p)) out.set(k, v);
  }
  return out;
}

Deno.test("every command file of cli/commands is listed once, with the verbs it registers", async () => {
  const files = [...Deno.readDirSync(`${ROOT}cli/commands`)]
    .map((e) => e.name)
    .filter((n) => n.endsWith(".ts") && !n.startsWith("_") && n !== "mod.ts")
    .sort();
  const listed = COMMAND_FILES.map((f) =>
    f.load.toString().match(/\.\/(\w+\.ts)/)?.[1]
  );
  assertEquals([...listed].sort(), files);
  for (const f of COMMAND_FILES) {
    const program = new Command("procrec");
    (await f.load()).register(program);
    assertEquals(program.commands.map((c) => c.name()), [...f.verbs]);
  }
  assertEquals(COMMAND_FILES.flatMap((f) => f.verbs), HELP_ORDER);
});

Deno.test("a verb loads its own file; --help, help, unknown verbs and completions load them all", async () => {
  for (const f of COMMAND_FILES) {
    for (const verb of f.verbs) {
      const names = (await programFor(verb)).commands.map((c) => c.name());
      assertEquals(names, f.needsAll ? HELP_ORDER : [...f.verbs], verb);
    }
  }
  for (const first of [undefined, "--help", "-h", "help", "-V", "recrod"]) {
    const names = (await programFor(first)).commands.map((c) => c.name());
    assertEquals(names, HELP_ORDER, String(first));
  }
  assertEquals(commandFilesFor("manpage").length, COMMAND_FILES.length);
});

Deno.test("each verb's help (and its subcommands') is the same loaded alone as with every command", async () => {
  const all = helps(await programFor(undefined));
  for (const verb of HELP_ORDER) {
    const alone = helps(await programFor(verb));
    for (const [path, text] of alone) {
      if (path === verb || path.startsWith(`${verb} `)) {
        assertEquals(text, all.get(path), path);
      }
    }
    assert(alone.has(verb), `${verb} is not registered when named`);
  }
});

/**
 * The modules `procrec record` evaluates at start-up: main.ts and record.ts
 * and their static imports (`deno info`: dynamic imports are marked so).
 */
async function staticClosure(roots: string[]): Promise<Set<string>> {
  const deps = new Map<string, string[]>();
  for (const root of roots) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", root],
      cwd: ROOT,
      stderr: "inherit",
    }).output();
    assert(out.success, `deno info ${root} failed`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
      }[];
    };
    for (const m of info.modules) {
      deps.set(
        m.specifier,
        (m.dependencies ?? []).flatMap((d) =>
          d.code && !d.isDynamic ? [d.code.specifier] : []
        ),
      );
    }
  }
  const seen = new Set<string>();
  const todo = roots.map((r) => new URL(r, `file://${ROOT}`).href);
  while (todo.length) {
    const s = todo.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    todo.push(...(deps.get(s) ?? []));
  }
  return seen;
}

Deno.test("record's start-up loads no other command, no NATS client and no YAML parser", async () => {
  const loaded = [
    ...await staticClosure(["cli/main.ts", "cli/commands/record.ts"]),
  ].map((s) => s.replace(`file://${ROOT}`, ""));
  assert(loaded.includes("cli/record/record_session.ts"), loaded.join("\n"));
  const unwanted = loaded.filter((p) =>
    (/^cli\/commands\/[a-z]/.test(p) && p !== "cli/commands/record.ts" &&
      p !== "cli/commands/mod.ts") ||
    p.startsWith("node_modules/@nats-io/") ||
    p.startsWith("node_modules/yaml/") ||
    p.startsWith("cli/hunt/") || p.startsWith("cli/report/") ||
    p.startsWith("cli/bundle/") || p === "cli/nats/connect_nats.ts" ||
    p === "cli/nats/piece_publisher.ts" ||
    p === "cli/rules/parse_exec_rules.ts"
  );
  assertEquals(unwanted, []);
});

Deno.test("replay's and diff's start-up loads no zip library and no Sigma rule code", async () => {
  for (const verb of ["replay", "diff"]) {
    const loaded = [
      ...await staticClosure(["cli/main.ts", `cli/commands/${verb}.ts`]),
    ].map((s) => s.replace(`file://${ROOT}`, ""));
    assert(loaded.includes("cli/log/recording_reader.ts"), loaded.join("\n"));
    assert(loaded.includes("cli/bundle/zip_layout.ts"), loaded.join("\n"));
    // (a bundle's reader is loaded when the input is a bundle, the rules'
    // parser and compiler with --rules)
    const unwanted = loaded.filter((p) =>
      p.startsWith("node_modules/@zip.js/") ||
      p.startsWith("node_modules/yaml/") ||
      p === "cli/bundle/_zip.ts" || p === "cli/bundle/open_bundle.ts" ||
      p === "cli/hunt/parse_rule.ts" || p === "cli/hunt/compile_rule.ts" ||
      p === "cli/commands/_hunt_rules.ts"
    );
    assertEquals(unwanted, [], verb);
  }
});
