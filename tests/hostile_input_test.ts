/**
 * Hostile and damaged inputs (issue 11): each test reproduces a reported
 * failure and bounds the command's time and memory (generous, finite limits
 * under /usr/bin/time). Recordings a writer makes stay readable whatever their
 * events hold (item 2); keys, manifests, signatures and zip members are read
 * within limits (item 3); strings from evidence reach the terminal escaped
 * (item 4); host names that sanitise alike get their own outputs (item 7); an
 * edited manifest is caught without a key (item 8); FIFOs, pipes and devices
 * neither hang nor lose bytes (item 9); long lines are linear and limited
 * (item 10); zip-slip names and bytes before a zip are tampering (item 11).
 */
import "../cli/bundle/_zip.ts"; // zip.js without web workers
import {
  Uint8ArrayReader,
  Uint8ArrayWriter,
  ZipReader,
  ZipWriter,
} from "@zip.js/zip.js";
import { generateKeyPair } from "../cli/bundle/mod.ts";
import { procrecBounded } from "./_bounded.ts";
import { assert, assertEquals, ROOT, withTempDir } from "./_record_helpers.ts";

const FIXTURE = `${ROOT}fixtures/make.cbor`;
const LIMITS = { timeoutMs: 60_000, maxRssMiB: 400 };
const MiB = 1024 * 1024;

/** One Sysmon Event ID 1 (process create) as a JSON line. */
function sysmonCreate(
  i: number,
  host: string,
  commandLine: string,
): string {
  const guid = (n: number) =>
    `{8ee6d027-e76d-5f51-${n.toString(16).padStart(4, "0")}-000000000400}`;
  return JSON.stringify({
    EventID: 1,
    Hostname: host,
    UtcTime: `2020-09-04 07:06:${String(i % 60).padStart(2, "0")}.${
      String(i % 1000).padStart(3, "0")
    }`,
    ProcessGuid: guid(i + 1),
    ProcessId: String(1000 + i),
    Image: "C:\\Windows\\System32\\cmd.exe",
    CommandLine: commandLine,
    ParentProcessGuid: guid(0),
    ParentProcessId: "4",
    ParentImage: "C:\\Windows\\explorer.exe",
  });
}

/** A stream of `n` zero bytes, made as it is read. */
function zeros(n: number): ReadableStream<Uint8Array> {
  const block = new Uint8Array(MiB);
  let left = n;
  return new ReadableStream({
    pull(c) {
      if (left <= 0) return c.close();
      const k = Math.min(left, block.length);
      c.enqueue(block.subarray(0, k));
      left -= k;
    },
  });
}

async function readZip(path: string): Promise<[string, Uint8Array][]> {
  const r = new ZipReader(new Uint8ArrayReader(await Deno.readFile(path)));
  const out: [string, Uint8Array][] = [];
  for (const e of await r.getEntries()) {
    if (!e.directory) {
      out.push([e.filename, await e.getData(new Uint8ArrayWriter())]);
    }
  }
  await r.close();
  return out;
}

/** Rewrites a zip; a member given as a number is that many zero bytes. */
async function writeZip(
  path: string,
  members: [string, Uint8Array | number][],
): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  // (one time for every member, as a bundle has)
  const w = new ZipWriter(file.writable, {
    level: 1,
    lastModDate: new Date(2026, 11, 2, 10, 0, 0),
  });
  for (const [name, data] of members) {
    await w.add(
      name,
      typeof data === "number" ? zeros(data) : new Uint8ArrayReader(data),
    );
  }
  await w.close();
}

/** A signed bundle of the make fixture in `dir`: case.zip, team.key(.pub). */
async function signedBundle(dir: string): Promise<void> {
  const k = await generateKeyPair();
  await Deno.writeTextFile(`${dir}/team.key`, k.privateKeyPem, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/team.key.pub`, k.publicKeyPem);
  const r = await procrecBounded(
    ["bundle", "create", "-o", "case.zip", FIXTURE, "--sign", "team.key"],
    { ...LIMITS, cwd: dir },
  );
  assertEquals(r.code, 0, r.stderr);
}

Deno.test("item 2: a Sysmon import of 2,200 events with 32,000-character command lines replays every event and verifies", async () => {
  await withTempDir(async (dir) => {
    const lines: string[] = [];
    for (let i = 0; i < 2200; i++) {
      lines.push(sysmonCreate(i, "WEB01", `cmd.exe /c ${"x".repeat(32_000)}`));
    }
    await Deno.writeTextFile(`${dir}/big.jsonl`, lines.join("\n") + "\n");
    const imp = await procrecBounded(
      ["import", "sysmon", `${dir}/big.jsonl`, "-o", `${dir}/big.cbor`],
      { timeoutMs: 120_000, maxRssMiB: 1200 },
    );
    assertEquals(imp.code, 0, imp.stderr);
    const v = await procrecBounded(["verify", `${dir}/big.cbor`], {
      timeoutMs: 120_000,
      maxRssMiB: 600,
    });
    assertEquals(v.code, 0, v.stdout + v.stderr);
    const s = await procrecBounded(
      ["replay", "--summary", "--json", `${dir}/big.cbor`],
      { timeoutMs: 120_000, maxRssMiB: 800 },
    );
    assertEquals(s.code, 0, s.stderr);
    assert(!s.stderr.includes("problem"), s.stderr);
    // every process the log created is in the replay (plus the parent)
    const summary = JSON.parse(s.stdout);
    assert(
      JSON.stringify(summary).includes('"process_create":2200') ||
        JSON.stringify(summary).includes("2200"),
      s.stdout.slice(0, 2000),
    );
  }, "procrec-bigcmd-");
});

Deno.test("item 3: --key and --sign of /dev/zero stop at the key limit", async () => {
  await withTempDir(async (dir) => {
    await signedBundle(dir);
    const v = await procrecBounded(
      ["verify", "case.zip", "--key", "/dev/zero"],
      { ...LIMITS, cwd: dir, maxRssMiB: 300 },
    );
    assertEquals(v.code, 2, v.stderr);
    assert(
      v.stderr.includes('public key "/dev/zero"') &&
        v.stderr.includes("65536 bytes"),
      v.stderr,
    );
    const b = await procrecBounded(
      ["bundle", "create", "-o", "b.zip", FIXTURE, "--sign", "/dev/zero"],
      { ...LIMITS, cwd: dir, maxRssMiB: 300 },
    );
    assertEquals(b.code, 2, b.stderr);
    assert(
      b.stderr.includes('private key "/dev/zero"') &&
        b.stderr.includes("65536 bytes"),
      b.stderr,
    );
  }, "procrec-zerokey-");
});

Deno.test("item 3: a manifest.json or manifest.sig that inflates to 256 MiB is refused at its limit", async () => {
  await withTempDir(async (dir) => {
    await signedBundle(dir);
    const members = await readZip(`${dir}/case.zip`);
    for (const name of ["manifest.json", "manifest.sig"]) {
      const bomb = `${dir}/${name}.zip`;
      await writeZip(
        bomb,
        members.map(([n, d]) => [n, n === name ? 256 * MiB : d]),
      );
      assert((await Deno.stat(bomb)).size < 2 * MiB, "not a small zip");
      for (const args of [["verify", bomb], ["replay", bomb]]) {
        const r = await procrecBounded(args, { ...LIMITS, maxRssMiB: 300 });
        const out = r.stdout + r.stderr;
        if (name === "manifest.sig" && args[0] === "replay") {
          // replay does not read the signature at all
          assertEquals(r.code, 0, out);
          continue;
        }
        // verify: tampered (1); replay: the manifest cannot be read (2)
        assertEquals(r.code, args[0] === "verify" ? 1 : 2, out);
        assert(out.includes(`"${name}" inflates past`), `${args}: ${out}`);
      }
    }
  }, "procrec-manifestbomb-");
});

Deno.test("item 3: a listed member is never inflated past its manifest size", async () => {
  await withTempDir(async (dir) => {
    await signedBundle(dir);
    const members = await readZip(`${dir}/case.zip`);
    const rec = members.find(([n]) => n.startsWith("recordings/"))![0];
    await writeZip(
      `${dir}/bomb.zip`,
      members.map(([n, d]) => [n, n === rec ? 512 * MiB : d]),
    );
    const r = await procrecBounded(["verify", `${dir}/bomb.zip`], {
      timeoutMs: 30_000,
      maxRssMiB: 300,
    });
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assert(r.stdout.includes(`TAMPERED [${rec}]`), r.stdout);
    assert(r.stdout.includes("inflates past"), r.stdout);
    // replay reads the member no further than the manifest's size either
    const p = await procrecBounded(["replay", `${dir}/bomb.zip`], {
      timeoutMs: 30_000,
      maxRssMiB: 300,
    });
    assertEquals(p.code, 2, p.stdout + p.stderr);
  }, "procrec-memberbomb-");
});

/** A zip of `n` empty stored entries, written by hand (a few MB). */
function manyEntryZip(n: number): Uint8Array {
  const enc = new TextEncoder();
  const local: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const name = enc.encode(`f${i}`);
    const l = new Uint8Array(30 + name.length);
    const lv = new DataView(l.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(26, name.length, true);
    l.set(name, 30);
    const c = new Uint8Array(46 + name.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    local.push(l);
    central.push(c);
    offset += l.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, n, true);
  ev.setUint16(10, n, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let at = 0;
  for (const p of [...local, ...central, end]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("item 3: a zip of 60,000 entries is refused at the entry limit, in bounded memory", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/many.zip`, manyEntryZip(60_000));
    for (const cmd of ["verify", "replay"]) {
      const r = await procrecBounded([cmd, `${dir}/many.zip`], {
        timeoutMs: 30_000,
        maxRssMiB: 250,
      });
      assertEquals(r.code, 2, r.stdout + r.stderr);
      assert(
        r.stderr.includes("60000 entries") && r.stderr.includes("10000"),
        r.stderr,
      );
    }
  }, "procrec-manyentries-");
});

Deno.test("item 4 and 11: a zip-slip name carrying escape sequences is tampering and reaches the terminal escaped", async () => {
  await withTempDir(async (dir) => {
    await signedBundle(dir);
    const members = await readZip(`${dir}/case.zip`);
    const evil = "../../evil\x1b[2J\x1b[32mINTACT\n\u009b1m.txt";
    await writeZip(`${dir}/slip.zip`, [
      ...members,
      [evil, new TextEncoder().encode("x")],
    ]);
    for (
      const args of [["verify", "slip.zip"], ["verify", "--json", "slip.zip"]]
    ) {
      const r = await procrecBounded(args, { ...LIMITS, cwd: dir });
      assertEquals(r.code, 1, r.stdout + r.stderr);
      const out = r.stdout + r.stderr;
      // deno-lint-ignore no-control-regex
      assert(!/[\x1b\u009b]/.test(out), `raw escape in: ${out}`);
      if (args[1] === "--json") {
        const j = JSON.parse(r.stdout);
        assert(
          j.findings.some((f: { message: string }) =>
            f.message.includes("zip-slip")
          ),
          r.stdout,
        );
      } else {
        assert(out.includes("zip-slip"), out);
        assert(out.includes("\\u001b[2J"), out);
        // the name cannot start a line of its own
        assert(!out.split("\n").some((l) => l.startsWith("\\u009b1m")), out);
      }
    }
  }, "procrec-slip-");
});

Deno.test("item 4: Sysmon host names with escape sequences are printed escaped", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/h.jsonl`,
      sysmonCreate(1, "EVIL\x1b]0;pwned\x07\x1b[2J", "cmd.exe") + "\n",
    );
    const r = await procrecBounded(
      ["import", "sysmon", `${dir}/h.jsonl`, "-o", `${dir}/h.cbor`],
      LIMITS,
    );
    assertEquals(r.code, 0, r.stderr);
    // deno-lint-ignore no-control-regex
    assert(!/[\x07\x1b]/.test(r.stdout + r.stderr), r.stdout + r.stderr);
    assert(r.stdout.includes("EVIL\\u001b]0;pwned\\u0007"), r.stdout);
  }, "procrec-evilhost-");
});

Deno.test("item 7: hosts whose names sanitise alike (WEB 01, WEB_01) get one recording each", async () => {
  await withTempDir(async (dir) => {
    const lines = [
      sysmonCreate(1, "WEB 01", "a.exe"),
      sysmonCreate(2, "WEB_01", "b.exe"),
      sysmonCreate(3, "web_01", "c.exe"),
    ];
    await Deno.writeTextFile(`${dir}/h.jsonl`, lines.join("\n") + "\n");
    for (const force of [[], ["--force"]]) {
      const r = await procrecBounded(
        [
          "import",
          "sysmon",
          `${dir}/h.jsonl`,
          "-o",
          `${dir}/out.cbor`,
          ...force,
        ],
        LIMITS,
      );
      assertEquals(r.code, 0, r.stderr);
      const outs = [...Deno.readDirSync(dir)].map((e) => e.name)
        .filter((n) => n.startsWith("out.")).sort();
      assertEquals(outs.length, 3, outs.join(" "));
      // each holds its own host
      const hosts = new Set<string>();
      for (const o of outs) {
        const s = await procrecBounded(
          ["replay", "--summary", "--json", `${dir}/${o}`],
          LIMITS,
        );
        assertEquals(s.code, 0, s.stderr);
        hosts.add(
          JSON.stringify(JSON.parse(s.stdout)).match(/"host":"([^"]*)"/)?.[1] ??
            o,
        );
      }
      assertEquals(hosts.size, 3, [...hosts].join(" | "));
    }
    // without --force, an existing set is refused before anything is written
    const again = await procrecBounded(
      ["import", "sysmon", `${dir}/h.jsonl`, "-o", `${dir}/out.cbor`],
      LIMITS,
    );
    assertEquals(again.code, 2, again.stderr);
  }, "procrec-hosts-");
});

Deno.test("item 8: an edited manifest is TAMPERED without --key (manifest.sig records its hash)", async () => {
  await withTempDir(async (dir) => {
    await signedBundle(dir);
    const members = await readZip(`${dir}/case.zip`);
    const edited = members.map(([n, d]): [string, Uint8Array] => {
      if (n !== "manifest.json") return [n, d];
      const m = JSON.parse(new TextDecoder().decode(d));
      m.case = { id: "FORGED" };
      return [n, new TextEncoder().encode(JSON.stringify(m, null, 2) + "\n")];
    });
    await writeZip(`${dir}/edited.zip`, edited);
    const r = await procrecBounded(["verify", "edited.zip"], {
      ...LIMITS,
      cwd: dir,
    });
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assert(r.stdout.includes("TAMPERED [manifest.json]"), r.stdout);
    assert(r.stdout.includes("altered after signing"), r.stdout);
    // the original, without a key, is still intact
    const ok = await procrecBounded(["verify", "case.zip"], {
      ...LIMITS,
      cwd: dir,
    });
    assertEquals(ok.code, 0, ok.stdout + ok.stderr);
  }, "procrec-manifestedit-");
});

Deno.test("item 9: a FIFO nobody writes to, as any input or key, ends with a clear message", async () => {
  await withTempDir(async (dir) => {
    const fifo = `${dir}/fifo`;
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert(mk.success, "mkfifo failed");
    const jsonl = `${dir}/make.jsonl`;
    await procrecBounded(["export", FIXTURE, "-o", jsonl], LIMITS);
    const runs = [
      ["replay", fifo],
      ["replay", "--summary", fifo],
      ["verify", fifo],
      ["export", fifo],
      ["report", fifo, "-o", `${dir}/r.html`],
      ["replay", "--diff", fifo, FIXTURE],
      ["verify", FIXTURE, "--key", fifo],
      ["bundle", "create", "-o", `${dir}/b.zip`, FIXTURE, "--sign", fifo],
      ["bundle", "create", "-o", `${dir}/c.zip`, fifo],
      ["import", "sysmon", fifo, "-o", `${dir}/s.cbor`],
      ["import", "jsonl", fifo, "-o", `${dir}/j.cbor`],
      ["hunt", "--rules", fifo, FIXTURE],
      ["search", fifo, "--image", "make"],
      ["fleet", fifo],
    ];
    for (const args of runs) {
      const r = await procrecBounded(args, { ...LIMITS, timeoutMs: 20_000 });
      // an empty input, a refusal or an error: never a hang, and named
      assertEquals(r.code, 2, `${args}: ${r.stderr}`);
      assert(
        r.stderr.includes(fifo) || r.stderr.includes('"fifo"'),
        `${args}: ${r.stderr}`,
      );
    }
  }, "procrec-fifo-");
});

Deno.test("item 9: a rule file that never ends (/dev/zero) stops at the rule file's limit; a rule file that does not load is named", async () => {
  await withTempDir(async (dir) => {
    const r = await procrecBounded(
      ["hunt", "--rules", "/dev/zero", FIXTURE],
      { ...LIMITS, timeoutMs: 20_000 },
    );
    assertEquals(r.code, 2, r.stderr);
    assert(
      r.stderr.includes(
        'Cannot read rule file "/dev/zero": it is larger than 1048576 bytes',
      ),
      r.stderr,
    );
    await Deno.writeTextFile(`${dir}/empty.yml`, "");
    const e = await procrecBounded(
      ["hunt", "--rules", `${dir}/empty.yml`, FIXTURE],
      LIMITS,
    );
    assertEquals(e.code, 2, e.stderr);
    assert(
      e.stderr.includes(`"${dir}/empty.yml": YAML is empty`),
      e.stderr,
    );
  }, "procrec-zero-rules-");
});

Deno.test("item 9: a recording on a pipe or /dev/stdin loses no bytes; a bundle there is refused clearly", async () => {
  await withTempDir(async (dir) => {
    const want = await procrecBounded(["replay", FIXTURE], LIMITS);
    assertEquals(want.code, 0, want.stderr);
    for (const path of ["/dev/stdin", "-"]) {
      const r = await procrecBounded(["replay", path], {
        ...LIMITS,
        shellPrefix: `exec < '${FIXTURE}';`,
      });
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout, want.stdout);
    }
    // a process substitution: a pipe named /dev/fd/N
    const sub = await new Deno.Command("bash", {
      args: [
        "-c",
        `'${ROOT}procrec' replay <(cat '${FIXTURE}')`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(
      new TextDecoder().decode(sub.stdout),
      want.stdout,
      new TextDecoder().decode(sub.stderr),
    );
    await procrecBounded(
      ["bundle", "create", "-o", `${dir}/b.zip`, FIXTURE],
      LIMITS,
    );
    const z = await procrecBounded(["replay", "/dev/stdin"], {
      ...LIMITS,
      shellPrefix: `exec < '${dir}/b.zip';`,
    });
    assertEquals(z.code, 2, z.stderr);
    assert(z.stderr.includes("needs random access"), z.stderr);
    assert(!z.stderr.includes("--allow-all"), z.stderr);
  }, "procrec-pipe-");
});

Deno.test("item 9: import jsonl and import sysmon of /dev/zero end at once", async () => {
  await withTempDir(async (dir) => {
    for (const kind of ["jsonl", "sysmon"]) {
      const r = await procrecBounded(
        ["import", kind, "/dev/zero", "-o", `${dir}/z.cbor`],
        { timeoutMs: 20_000, maxRssMiB: 300 },
      );
      assertEquals(r.code, 2, r.stderr);
      assert(
        r.stderr.includes("/dev/zero") || r.stderr.includes('"zero"'),
        r.stderr,
      );
    }
  }, "procrec-devzero-");
});

Deno.test("item 10: a 12 MB Sysmon line (JSON lines and XML) imports in linear time; a 20 MB one is refused at the line limit", async () => {
  await withTempDir(async (dir) => {
    const long = "x".repeat(12 * MiB);
    await Deno.writeTextFile(
      `${dir}/long.jsonl`,
      sysmonCreate(1, "H", `cmd /c ${long}`) + "\n",
    );
    const xml =
      `<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>` +
      `<System><EventID>1</EventID><Computer>H</Computer></System><EventData>` +
      `<Data Name='UtcTime'>2020-01-01 00:00:00.000</Data>` +
      `<Data Name='ProcessGuid'>{8ee6d027-e76d-5f51-0001-000000000400}</Data>` +
      `<Data Name='ProcessId'>42</Data><Data Name='Image'>C:\\a.exe</Data>` +
      `<Data Name='CommandLine'>a ${long}</Data></EventData></Event></Events>\n`;
    await Deno.writeTextFile(`${dir}/long.xml`, xml);
    for (const f of ["long.jsonl", "long.xml"]) {
      const r = await procrecBounded(
        ["import", "sysmon", `${dir}/${f}`, "-o", `${dir}/${f}.cbor`],
        { timeoutMs: 30_000, maxRssMiB: 700 },
      );
      assertEquals(r.code, 0, r.stderr);
      assert(r.seconds < 20, `${f}: ${r.seconds} s`);
    }
    await Deno.writeTextFile(
      `${dir}/huge.jsonl`,
      sysmonCreate(1, "H", "x".repeat(20 * MiB)) + "\n",
    );
    const huge = await procrecBounded(
      ["import", "sysmon", `${dir}/huge.jsonl`, "-o", `${dir}/huge.cbor`],
      { timeoutMs: 30_000, maxRssMiB: 700 },
    );
    assertEquals(huge.code, 2, huge.stderr);
    assert(
      huge.stderr.includes("line 1") && huge.stderr.includes("limit"),
      huge.stderr,
    );
  }, "procrec-longline-");
});

Deno.test("item 11: a bundle with bytes before it is tampering for verify, and replay does not call it a recording", async () => {
  await withTempDir(async (dir) => {
    await signedBundle(dir);
    const zip = await Deno.readFile(`${dir}/case.zip`);
    const pre = new TextEncoder().encode("#!/bin/sh\necho hi\nexit 0\n");
    const out = new Uint8Array(pre.length + zip.length);
    out.set(pre);
    out.set(zip, pre.length);
    await Deno.writeFile(`${dir}/pre.zip`, out);
    const v = await procrecBounded(["verify", "pre.zip"], {
      ...LIMITS,
      cwd: dir,
    });
    assertEquals(v.code, 1, v.stdout + v.stderr);
    assert(v.stdout.includes(`${pre.length} bytes come before`), v.stdout);
    const r = await procrecBounded(["replay", "pre.zip"], {
      ...LIMITS,
      cwd: dir,
    });
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes("bytes come before"), r.stderr);
    assert(!r.stderr.includes("not a procrec recording"), r.stderr);
  }, "procrec-prefix-");
});

Deno.test("item 11: a broken pipe (| true) ends every command quietly, with the status it would have had", async () => {
  const cases: [string[], number][] = [
    [["replay", FIXTURE], 0],
    [["replay", "--summary", FIXTURE], 0],
    [["replay", "--json", FIXTURE], 0],
    [["export", FIXTURE], 0],
    [["verify", FIXTURE], 0],
    [["diff", FIXTURE, `${ROOT}fixtures/make_broken.cbor`], 1],
  ];
  for (const [args, status] of cases) {
    const quoted = args.map((a) => `'${a}'`).join(" ");
    const r = await new Deno.Command("bash", {
      args: [
        "-c",
        `'${ROOT}procrec' ${quoted} | true; echo "status \${PIPESTATUS[0]}" >&2`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    const lines = err.split("\n").filter((l) => l && !l.startsWith("status"));
    // export says on stderr what it wrote; nothing else may be said
    assert(
      lines.every((l) => !/broken pipe|error/i.test(l)),
      `${args}: ${err}`,
    );
    assert(err.includes(`status ${status}`), `${args}: ${err}`);
  }
});

Deno.test("item 4: export to stdout writes C1 and bidi controls of evidence as JSON escapes (same values)", async () => {
  await withTempDir(async (dir) => {
    const cmd = "cmd.exe /c echo \u009b2J\u202eevil\x7f";
    await Deno.writeTextFile(
      `${dir}/c.jsonl`,
      sysmonCreate(1, "H", cmd) + "\n",
    );
    const imp = await procrecBounded(
      ["import", "sysmon", `${dir}/c.jsonl`, "-o", `${dir}/c.cbor`],
      LIMITS,
    );
    assertEquals(imp.code, 0, imp.stderr);
    for (const format of ["jsonl", "ecs", "ocsf"]) {
      const r = await procrecBounded(
        ["export", "--format", format, `${dir}/c.cbor`],
        LIMITS,
      );
      assertEquals(r.code, 0, r.stderr);
      assert(!/[\u007f-\u009f\u202e]/.test(r.stdout), `${format}: raw control`);
      const values = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert(
        JSON.stringify(values).includes(JSON.stringify(cmd).slice(1, -1)) ||
          values.some((v) => JSON.stringify(v).includes("\\u009b2J")),
        `${format}: the command line is not kept`,
      );
    }
  }, "procrec-c1-");
});

Deno.test("a bundle member whose entry in the zip's directory lies is named with what that means, not zip.js's bare words", async () => {
  await withTempDir(async (dir) => {
    const b = `${dir}/b.zip`;
    const made = await procrecBounded(
      ["bundle", "create", "-o", b, FIXTURE],
      LIMITS,
    );
    assertEquals(made.code, 0, made.stderr);
    const bytes = await Deno.readFile(b);
    const name = new TextEncoder().encode("recordings/make.cbor");
    // the central directory's entry of the recording: its CRC-32 changed
    let at = -1;
    for (let i = 0; i + 46 + name.length <= bytes.length; i++) {
      if (
        bytes[i] === 0x50 && bytes[i + 1] === 0x4b && bytes[i + 2] === 1 &&
        bytes[i + 3] === 2 &&
        name.every((c, k) => bytes[i + 46 + k] === c)
      ) at = i;
    }
    assert(at >= 0, "no directory entry for the recording");
    bytes[at + 16] ^= 0xff;
    await Deno.writeFile(b, bytes);
    const r = await procrecBounded(["replay", b], LIMITS);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assert(
      r.stderr.includes(`member "recordings/make.cbor" cannot be read: `) &&
        r.stderr.includes("(zip: ") &&
        r.stderr.includes("the bundle was altered or damaged"),
      r.stderr,
    );
    const v = await procrecBounded(["verify", b], LIMITS);
    assertEquals(v.code, 1, v.stdout + v.stderr);
    assert(v.stdout.includes("TAMPERED [recordings/make.cbor]"), v.stdout);
    // the finding names the member once, then what is wrong with it
    assert(
      v.stdout.includes(
        "cannot be extracted (its stored bytes were altered): ",
      ) &&
        v.stdout.includes("(zip: ") &&
        !v.stdout.includes('member "recordings/make.cbor" cannot be read'),
      v.stdout,
    );
  }, "procrec-zip-lie-");
});
