/**
 * `record --rules FILE` with `path` rules on the real kernel, against bind
 * mounts: a file a deny rule names by its path (`DIR/opt/*`) is denied
 * when it is exec'd through a bind mount of its directory or of the file
 * itself, made in a private mount namespace (`unshare -m`), in a user
 * namespace of one's own (`unshare -Urm`, when this kernel lets one make
 * it) or in the recorder's own namespace; an audit rule is recorded the same
 * way; an exec through a bind of a directory no rule names, and any other
 * exec in those namespaces, still runs; an exec through a bind that was
 * detached (`umount -l`, the caller still inside it), whose other paths
 * cannot be learned, is denied (fail closed). Each decision names the path
 * the exec went through. A caller chrooted in a private mount namespace is
 * read right (its table names mount points from its root): a bind inside
 * the chroot is seen through, another runs; where the chroot's own mount is
 * left out of its table, the exec fails closed.
 */
import { RecordingReader } from "../cli/log/mod.ts";
import {
  assert,
  assertEquals,
  captureTest,
  captureUnavailable,
  procrec,
  withTempDir,
} from "./_record_helpers.ts";

const why = await captureUnavailable();

/** Whether `unshare -Urm` can make a bind mount here (user namespaces allowed). */
async function userNamespaceBinds(dir: string): Promise<boolean> {
  const o = await new Deno.Command("unshare", {
    args: ["-Urm", "mount", "--bind", `${dir}/opt`, `${dir}/srv`],
    stdout: "null",
    stderr: "null",
  }).output();
  return o.success;
}

captureTest(
  "a path rule denies its file through a bind mount, in a private mount namespace, a user namespace and the recorder's",
  async () => {
    await withTempDir(async (tmp) => {
      const dir = await Deno.realPath(tmp); // the kernel names files by their real path
      for (const d of ["opt", "watch", "other", "srv", "srv2", "srv3"]) {
        await Deno.mkdir(`${dir}/${d}`);
      }
      for (const f of ["opt/evil", "watch/seen", "other/fine"]) {
        await Deno.copyFile("/bin/true", `${dir}/${f}`);
        await Deno.chmod(`${dir}/${f}`, 0o755);
      }
      await Deno.writeTextFile(`${dir}/file`, "");
      await Deno.writeTextFile(
        `${dir}/rules.yaml`,
        `rules:
  - id: no-opt
    action: deny
    path: ${dir}/opt/*
  - id: watch
    action: audit
    path: ${dir}/watch/*
`,
      );
      const userns = await userNamespaceBinds(dir);
      if (!userns) {
        console.error(
          "unshare -Urm cannot make a bind mount here: the user namespace case is left out",
        );
      }
      const priv = "unshare -m --propagation private sh -c";
      const script = [
        `${dir}/opt/evil; echo direct=$?`,
        `${priv} 'mount --bind ${dir}/opt ${dir}/srv && ${dir}/srv/evil; echo bind=$?
          mount --bind ${dir}/watch ${dir}/srv2 && ${dir}/srv2/seen; echo audited=$?
          mount --bind ${dir}/other ${dir}/srv3 && ${dir}/srv3/fine; echo unrelated=$?
          /bin/true; echo other=$?'`,
        `${priv} 'mount --bind ${dir}/opt/evil ${dir}/file && ${dir}/file; echo filebind=$?'`,
        ...(userns
          ? [
            `unshare -Urm sh -c 'mount --bind ${dir}/opt ${dir}/srv && ${dir}/srv/evil; echo userns=$?'`,
          ]
          : []),
        `${priv} 'mount --bind ${dir}/opt ${dir}/srv && cd ${dir}/srv && umount -l ${dir}/srv && ./evil; echo detached=$?
          /bin/true; echo after=$?'`,
        // in the recorder's own namespace (unmounted at once, and in finally)
        `mount --bind ${dir}/opt ${dir}/srv && ${dir}/srv/evil; echo here=$?; umount ${dir}/srv`,
      ].join("\n");
      const out = `${dir}/rec.cbor`;
      let r;
      try {
        r = await procrec([
          "record",
          "--rules",
          `${dir}/rules.yaml`,
          "-q",
          "-o",
          out,
          "--",
          "/bin/sh",
          "-c",
          script,
        ]);
      } finally {
        await new Deno.Command("umount", {
          args: [`${dir}/srv`],
          stderr: "null",
        }).output();
      }
      assertEquals(r.code, 0, r.stderr);
      const want = [
        "direct=126",
        "bind=126",
        "audited=0",
        "unrelated=0",
        "other=0",
        "filebind=126",
        ...(userns ? ["userns=126"] : []),
        "detached=126",
        "after=0",
        "here=126",
      ];
      for (const line of want) {
        assert(
          r.stdout.includes(line),
          `missing ${line} in:\n${r.stdout}\n${r.stderr}`,
        );
      }
      const reader = await RecordingReader.open(out);
      const decisions = (await Array.fromAsync(reader.events())).flatMap((e) =>
        e.kind === "exec_denied" || e.kind === "exec_audited"
          ? [[e.kind, e.rule, e.image]]
          : []
      );
      assertEquals(decisions, [
        ["exec_denied", "no-opt", `${dir}/opt/evil`],
        ["exec_denied", "no-opt", `${dir}/srv/evil`],
        ["exec_audited", "watch", `${dir}/srv2/seen`],
        ["exec_denied", "no-opt", `${dir}/file`],
        ...(userns ? [["exec_denied", "no-opt", `${dir}/srv/evil`]] : []),
        // detached: the kernel names the file from the bind's root
        ["exec_denied", "no-opt", "/evil"],
        ["exec_denied", "no-opt", `${dir}/srv/evil`],
      ]);
    });
  },
  why,
);

/** Makes `jail` a root directory that can run `/bin/true` (its libraries from `ldd`). */
async function makeJail(jail: string): Promise<void> {
  const ldd = await new Deno.Command("ldd", { args: ["/bin/true"] }).output();
  assert(ldd.success, "ldd /bin/true");
  const libs = new TextDecoder().decode(ldd.stdout).match(/\/[^ \t\n]+/g) ?? [];
  for (const f of ["/bin/true", ...libs]) {
    const to = `${jail}${f}`;
    await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(f, to);
    await Deno.chmod(to, 0o755);
  }
  await Deno.mkdir(`${jail}/x`);
  await Deno.mkdir(`${jail}/y`);
}

captureTest(
  "a path rule sees through a bind inside a chroot of a private mount namespace, and fails closed where the chroot's mount is hidden",
  async () => {
    await withTempDir(async (tmp) => {
      const dir = await Deno.realPath(tmp);
      const jail = `${dir}/jail`;
      for (const f of ["opt/evil", "other/fine"]) {
        await Deno.mkdir(`${dir}/${f.split("/")[0]}`);
        await Deno.copyFile("/bin/true", `${dir}/${f}`);
        await Deno.chmod(`${dir}/${f}`, 0o755);
      }
      await makeJail(jail);
      await Deno.writeTextFile(
        `${dir}/rules.yaml`,
        `rules:\n  - id: no-opt\n    action: deny\n    path: ${dir}/opt/*\n`,
      );
      // The chrooted caller's mountinfo names mount points from its root
      // (/x), the kernel names the file from the namespace's root
      // (JAIL/x/evil): read one against the other, /y/fine would not be
      // found and would fail closed. With the jail a mount point, both are
      // found; without, the mount the jail lies on is left out of the
      // caller's table.
      const priv = "unshare -m --propagation private sh -c";
      const script = [
        `${priv} 'mount --bind ${jail} ${jail} && mount --bind ${dir}/opt ${jail}/x
          mount --bind ${dir}/other ${jail}/y
          chroot ${jail} /x/evil; echo bind=$?
          chroot ${jail} /y/fine; echo other=$?
          chroot ${jail} /bin/true; echo jail=$?'`,
        `${priv} 'chroot ${jail} /bin/true; echo hidden=$?'`,
      ].join("\n");
      const out = `${dir}/rec.cbor`;
      const r = await procrec([
        "record",
        "--rules",
        `${dir}/rules.yaml`,
        "-q",
        "-o",
        out,
        "--",
        "/bin/sh",
        "-c",
        script,
      ]);
      assertEquals(r.code, 0, r.stderr);
      for (const line of ["bind=126", "other=0", "jail=0", "hidden=126"]) {
        assert(
          r.stdout.includes(line),
          `missing ${line} in:\n${r.stdout}\n${r.stderr}`,
        );
      }
      const reader = await RecordingReader.open(out);
      const denied = (await Array.fromAsync(reader.events())).flatMap((e) =>
        e.kind === "exec_denied" ? [e.image] : []
      );
      assertEquals(denied, [`${jail}/x/evil`, `${jail}/bin/true`]);
    });
  },
  why,
);
