/**
 * `procrec doctor` warns when a recordings directory (the default
 * `recordings/` of the working directory, or one given with `--dir`), or a
 * file in it, can be read by other users, and says how to fix it; a private
 * one passes.
 */
import type { HostReport } from "../cli/record/check_host.ts";
import {
  assert,
  assertEquals,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

async function dirCheck(cwd: string, dir: string, args: string[] = []) {
  const r = await procrec(["doctor", "--json", ...args], { cwd });
  const report = JSON.parse(r.stdout) as HostReport;
  return report.checks.find((c) => c.name === `recordings directory ${dir}`);
}

Deno.test("doctor warns about a recordings directory and files others can read, and passes a private one", async () => {
  await withTempDir(async (tmp) => {
    const dir = `${tmp}/cases`;
    await Deno.mkdir(`${dir}/seg`, { recursive: true });
    await Deno.chmod(dir, 0o700);
    await Deno.chmod(`${dir}/seg`, 0o700);
    await Deno.writeTextFile(`${dir}/seg/a.cbor`, "x");
    await Deno.chmod(`${dir}/seg/a.cbor`, 0o644);
    await Deno.writeTextFile(`${dir}/b.cbor`, "x");
    await Deno.chmod(`${dir}/b.cbor`, 0o600);
    await Deno.writeTextFile(`${dir}/.gitkeep`, ""); // empty: no evidence
    await Deno.chmod(`${dir}/.gitkeep`, 0o644);
    let c = await dirCheck(tmp, dir, ["--dir", dir]);
    assert(c?.warn === true && c.ok, JSON.stringify(c));
    assert(c.detail.includes(`${dir}/seg/a.cbor (0644)`), c.detail);
    assert(!c.detail.includes("b.cbor"), c.detail);
    assert(!c.detail.includes(".gitkeep"), c.detail);
    assert(c.fix?.includes(`chmod -R o-rwx ${dir}`), c.fix);
    // the text report says WARN and what to do
    const text = await procrec(["doctor", "--dir", dir], { cwd: tmp });
    assert(
      text.stdout.includes(`WARN  recordings directory ${dir}`),
      text.stdout,
    );
    assert(text.stdout.includes("what to do: chmod -R o-rwx"), text.stdout);

    await Deno.chmod(`${dir}/seg/a.cbor`, 0o640);
    c = await dirCheck(tmp, dir, ["--dir", dir]);
    assert(c && c.ok && !c.warn, JSON.stringify(c));

    await Deno.chmod(dir, 0o755);
    c = await dirCheck(tmp, dir, ["--dir", dir]);
    assert(c?.warn, JSON.stringify(c));
    assert(c.detail.includes(`list or enter ${dir} (0755)`), c.detail);
  });
});

Deno.test("doctor looks at recordings/ of the working directory without being asked, and not at a missing one", async () => {
  await withTempDir(async (tmp) => {
    assertEquals(await dirCheck(tmp, "recordings"), undefined);
    await Deno.mkdir(`${tmp}/recordings`);
    await Deno.chmod(`${tmp}/recordings`, 0o755);
    const c = await dirCheck(tmp, "recordings");
    assert(c?.warn, JSON.stringify(c));
  });
});

Deno.test("doctor warns about, and service install refuses, a recordings directory another user owns, private as it may be (found by review)", async () => {
  if (Deno.uid() !== 0) {
    console.log("skipped: needs root, to give the directory to another user");
    return;
  }
  await withTempDir(async (tmp) => {
    const dir = `${tmp}/cases`;
    await Deno.mkdir(dir, { mode: 0o700 });
    await Deno.chmod(dir, 0o700);
    await Deno.writeTextFile(`${dir}/a.cbor`, "x", { mode: 0o600 });
    await Deno.chown(`${dir}/a.cbor`, 1000, 1000);
    let c = await dirCheck(tmp, dir, ["--dir", dir]);
    assert(c?.warn === true, JSON.stringify(c));
    assert(
      c.detail.includes(`owned by another user`) &&
        c.detail.includes(`${dir}/a.cbor (uid 1000)`),
      c.detail,
    );
    assert(c.fix?.includes(`chown -R 0 ${dir}`), c.fix);
    await Deno.chown(`${dir}/a.cbor`, 0, 0);
    c = await dirCheck(tmp, dir, ["--dir", dir]);
    assert(c && c.ok && !c.warn, JSON.stringify(c));
    // service install refuses the directory itself: its owner could make
    // and hold writer.lock as any user who can write it could
    await Deno.chown(dir, 1000, 1000);
    await Deno.mkdir(`${tmp}/units`);
    const r = await procrec([
      "service",
      "install",
      "--dir",
      dir,
      "--unit-dir",
      `${tmp}/units`,
      "--no-enable",
    ]);
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes(`${dir}: owned by uid 1000`), r.stderr);
    assert(r.stderr.includes(`chown root:root ${dir}`), r.stderr);
  });
});

Deno.test("doctor says a recordings directory every user can write is writable, not only readable (found by review)", async () => {
  await withTempDir(async (tmp) => {
    const dir = `${tmp}/open`;
    await Deno.mkdir(dir);
    await Deno.chmod(dir, 0o777);
    const c = await dirCheck(tmp, dir, ["--dir", dir]);
    assert(c?.warn === true, JSON.stringify(c));
    assert(c.detail.startsWith("evidence writable by others:"), c.detail);
    assert(c.detail.includes(`other users can WRITE ${dir} (0777)`), c.detail);
    assert(c.detail.includes("writer.lock"), c.detail);
    assert(c.fix?.includes(`chmod -R o-rwx ${dir}`), c.fix);
  });
});

Deno.test("doctor checks the service's directory where PROCREC_DIR of its environment file puts it (found by review)", async () => {
  await withTempDir(async (tmp) => {
    const dir = `${tmp}/service`;
    await Deno.mkdir(dir);
    await Deno.chmod(dir, 0o777);
    await Deno.writeTextFile(
      `${tmp}/procrec.env`,
      `# settings\nPROCREC_DIR="${dir}"\nPROCREC_KEEP=7d\n`,
    );
    const c = await dirCheck(tmp, dir, ["--config", `${tmp}/procrec.env`]);
    assert(c?.warn === true, JSON.stringify(c));
    assert(c.detail.includes(`WRITE ${dir} (0777)`), c.detail);
    // one it cannot read is said, and the other checks go on
    await Deno.writeTextFile(`${tmp}/big.env`, "#".repeat(100_000));
    const r = await procrec(
      ["doctor", "--json", "--config", `${tmp}/big.env`],
      {
        cwd: tmp,
      },
    );
    const report = JSON.parse(r.stdout) as HostReport;
    const settings = report.checks.find((c) => c.name === "service settings");
    assert(settings?.warn && settings.detail.includes("big.env"), r.stdout);
  });
});
