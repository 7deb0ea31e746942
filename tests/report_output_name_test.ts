/**
 * `procrec report` without -o writes the input's name with .html in the
 * current directory, refuses to replace it, and -f/--force replaces it.
 */
import {
  assert,
  assertEquals,
  procrec,
  ROOT,
  withTempDir,
} from "./_record_helpers.ts";

Deno.test("report without -o writes REC.html here; a second run is refused; -f replaces it", async () => {
  await withTempDir(async (dir) => {
    const input = `${ROOT}fixtures/make.cbor`;
    const first = await procrec(["report", input], { cwd: dir });
    assertEquals(first.code, 0, first.stderr);
    assert(first.stdout.startsWith("wrote make.html:"), first.stdout);
    const html = await Deno.readTextFile(`${dir}/make.html`);
    assert(html.startsWith("<!DOCTYPE html>") || html.includes("<html"));
    await Deno.writeTextFile(`${dir}/make.html`, "earlier");
    const again = await procrec(["report", input], { cwd: dir });
    assertEquals(again.code, 2);
    assert(again.stderr.includes("exists"), again.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/make.html`), "earlier");
    const forced = await procrec(["report", input, "-f"], { cwd: dir });
    assertEquals(forced.code, 0, forced.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/make.html`), html);
  }, "procrec-report-name-");
});
