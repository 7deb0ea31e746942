/**
 * Shell completions and the man page, generated from the command line and
 * loaded by the real shells (bash, zsh, fish) and groff.
 */
import { deepStrictEqual, match, ok } from "node:assert/strict";
import { procrec, ROOT } from "./_record_helpers.ts";

async function sh(
  cmd: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const d = new TextDecoder();
  return {
    code: out.code,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
  };
}

async function generated(shell: string): Promise<string> {
  const r = await procrec(["completions", shell]);
  deepStrictEqual(r.code, 0, r.stderr);
  return r.stdout;
}

Deno.test("bash loads the completion script and completes commands, subcommands, options and choices", async () => {
  const script = await generated("bash");
  const probe = `
source /dev/stdin
complete -p procrec
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _procrec; echo "$*|\${COMPREPLY[*]}"; }
t procrec rep
t procrec bundle ""
t procrec bundle create --si
t procrec record --source ""
t procrec replay --dif
t procrec completions ""
`;
  const r = await sh("bash", [
    "-c",
    probe.replace("source /dev/stdin", script),
  ]);
  deepStrictEqual(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  deepStrictEqual(lines[0], "complete -F _procrec procrec");
  deepStrictEqual(lines.slice(1), [
    "procrec rep|report replay",
    "procrec bundle |create",
    "procrec bundle create --si|--sign",
    "procrec record --source |auto ebpf netlink",
    "procrec replay --dif|--diff",
    "procrec completions |bash zsh fish",
  ]);
});

Deno.test("zsh loads the completion function and registers it for procrec", async () => {
  const script = await generated("zsh");
  const r = await sh("zsh", [
    "-fc",
    `autoload -U compinit && compinit -u -D && source /dev/stdin && print -r -- "$_comps[procrec]"`,
  ], script);
  deepStrictEqual(r.code, 0, r.stderr);
  deepStrictEqual(r.stdout.trim(), "_procrec");
});

Deno.test("fish loads the completion script and completes commands and choices", async () => {
  const script = await generated("fish");
  const r = await sh("fish", [
    "--no-config",
    "-c",
    `source; complete -C "procrec rep"; echo ---; complete -C "procrec record --source "`,
  ], script);
  deepStrictEqual(r.code, 0, r.stderr);
  const [commands, sources] = r.stdout.split("---\n");
  const words = (s: string) =>
    s.trim().split("\n").map((l) => l.split("\t")[0]).sort();
  deepStrictEqual(words(commands), ["replay", "report"]);
  deepStrictEqual(words(sources), ["auto", "ebpf", "netlink"]);
});

Deno.test("the man page renders without groff warnings and documents every command and option", async () => {
  const r = await procrec(["manpage"]);
  deepStrictEqual(r.code, 0, r.stderr);
  const roff = r.stdout;
  const g = await sh("groff", ["-man", "-Tutf8", "-ww", "-z"], roff);
  deepStrictEqual(g.code, 0, g.stderr);
  deepStrictEqual(g.stderr, "", "groff warns");
  const text = await sh(
    "groff",
    ["-man", "-Tascii", "-P-c", "-P-b", "-P-u"],
    roff,
  );
  const page = text.stdout.replace(/\s+/g, " ");
  for (
    const c of [
      "procrec record",
      "procrec replay",
      "procrec bundle create",
      "procrec import sysmon",
      "procrec service install",
      "procrec completions",
    ]
  ) ok(page.includes(c), `the man page lacks "${c}"`);
  // an option and the example text after it, from record --help
  const help = await procrec(["record", "--help"]);
  match(help.stdout, /--only-command/);
  ok(page.includes("--only-command"), "the man page lacks record's options");
});

Deno.test("completions of an unknown shell is a usage error (exit 2)", async () => {
  const r = await procrec(["completions", "tcsh"]);
  deepStrictEqual(r.code, 2);
  match(r.stderr, /tcsh.*bash, zsh, fish/s);
});

Deno.test("--version names package.json's version and the commit", async () => {
  const r = await procrec(["--version"]);
  deepStrictEqual(r.code, 0, r.stderr);
  const version = JSON.parse(await Deno.readTextFile(`${ROOT}package.json`))
    .version;
  const git = await sh("git", ["rev-parse", "--short=12", "HEAD"]);
  const commit = git.code === 0 ? git.stdout.trim() : "unknown";
  match(
    r.stdout.trim(),
    new RegExp(
      `^procrec ${
        version.replaceAll(".", "\\.")
      } \\(commit ${commit}(-dirty)?\\)$`,
    ),
  );
});
