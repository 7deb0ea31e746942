/**
 * A signed bundle whose members are untouched but whose zip structure was
 * altered (found by review): what no hash covers is tampering, never
 * INTACT. Each case is built from a real signed bundle by rewriting the
 * zip's own records, the way an attacker would with any hex editor; verify
 * must exit 1 naming it, and the readers (replay) must refuse what another
 * zip reader would read differently.
 */
import { generateKeyPair } from "../cli/bundle/mod.ts";
import { bundleCreate, inTempDir, writeIncident } from "./_bundle_helpers.ts";
import { assert, assertEquals, procrec } from "./_record_helpers.ts";

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;

/** A signed bundle (`case.zip`, key `k.key.pub`); its bytes. */
async function signedBundle(dir: string): Promise<Uint8Array> {
  await writeIncident(`${dir}/incident.cbor`);
  const k = await generateKeyPair();
  await Deno.writeTextFile(`${dir}/k.key`, k.privateKeyPem, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/k.key.pub`, k.publicKeyPem);
  const r = await bundleCreate(
    "case.zip",
    ["incident.cbor", "--sign", "k.key"],
    dir,
  );
  assertEquals(r.code, 0, r.stderr);
  return await Deno.readFile(`${dir}/case.zip`);
}

/** Where the end record is, and each central directory entry. */
function records(b: Uint8Array) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= 0; i--) {
    if (v.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  assert(eocd >= 0, "no end record");
  const cdStart = v.getUint32(eocd + 16, true);
  const entries: { at: number; name: string }[] = [];
  for (let p = cdStart; p < eocd && v.getUint32(p, true) === CENTRAL;) {
    const n = v.getUint16(p + 28, true);
    const x = v.getUint16(p + 30, true);
    const c = v.getUint16(p + 32, true);
    entries.push({
      at: p,
      name: new TextDecoder().decode(b.subarray(p + 46, p + 46 + n)),
    });
    p += 46 + n + x + c;
  }
  return { v, eocd, cdStart, entries };
}

/** verify --key of `name` in `dir`: its exit code and text. */
async function verify(dir: string, name: string) {
  const r = await procrec(["verify", name, "--key", "k.key.pub"], {
    cwd: dir,
  });
  return { code: r.code, text: r.stdout + r.stderr };
}

Deno.test("a file hidden before the first member, the offsets shifted to match, is tampering (a streaming extractor reads it first)", async () => {
  await inTempDir(async (dir) => {
    const b = await signedBundle(dir);
    // a whole local entry named ../../x.sh, stored, before everything
    const name = new TextEncoder().encode("../../x.sh");
    const data = new TextEncoder().encode("#!/bin/sh\necho owned\n");
    const head = new Uint8Array(30 + name.length + data.length);
    const h = new DataView(head.buffer);
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, 20, true);
    h.setUint32(18, data.length, true);
    h.setUint32(22, data.length, true);
    h.setUint16(26, name.length, true);
    head.set(name, 30);
    head.set(data, 30 + name.length);
    const out = new Uint8Array(head.length + b.length);
    out.set(head);
    out.set(b, head.length);
    const { v, eocd, entries } = records(out.subarray(head.length));
    const shift = head.length;
    const ov = new DataView(out.buffer);
    for (const e of entries) {
      ov.setUint32(
        shift + e.at + 42,
        v.getUint32(e.at + 42, true) + shift,
        true,
      );
    }
    ov.setUint32(shift + eocd + 16, v.getUint32(eocd + 16, true) + shift, true);
    await Deno.writeFile(`${dir}/hidden.zip`, out);
    const r = await verify(dir, "hidden.zip");
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes("TAMPERED") &&
        r.text.includes(
          `${shift} bytes come between the zip's start and the next member`,
        ),
      r.text,
    );
    const replay = await procrec(["replay", "hidden.zip"], { cwd: dir });
    assertEquals(replay.code, 2, replay.stderr);
    assert(replay.stderr.includes("it was altered"), replay.stderr);
  });
});

Deno.test("bytes after the end record are tampering, and keep every other check on (one byte after the zip used to switch off the prefix check and the entry limit)", async () => {
  await inTempDir(async (dir) => {
    const b = await signedBundle(dir);
    const tail = new Uint8Array([...b, 10]);
    await Deno.writeFile(`${dir}/tail.zip`, tail);
    let r = await verify(dir, "tail.zip");
    assertEquals(r.code, 1, r.text);
    assert(r.text.includes("1 bytes come after the zip's end record"), r.text);
    // with bytes before too: both named, and replay refuses it
    const junk = new TextEncoder().encode("PK\x03\x04 not a member at all");
    await Deno.writeFile(
      `${dir}/both.zip`,
      new Uint8Array([...junk, ...b, 10]),
    );
    r = await verify(dir, "both.zip");
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes(
        `${junk.length} bytes come before the zip's first member`,
      ),
      r.text,
    );
    const replay = await procrec(["replay", "both.zip#incident.cbor"], {
      cwd: dir,
    });
    assertEquals(replay.code, 2, replay.stderr);
    assert(replay.stderr.includes("bytes come before"), replay.stderr);
    // bytes before that do not look like a zip's: still a bundle, altered
    // (it was taken for a recording: "only bundles are signed")
    const plain = new TextEncoder().encode("JUNK".repeat(20));
    await Deno.writeFile(
      `${dir}/plain.zip`,
      new Uint8Array([...plain, ...b, ...plain]),
    );
    r = await verify(dir, "plain.zip");
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes(`${plain.length} bytes come before`) &&
        r.text.includes(`${plain.length} bytes come after`),
      r.text,
    );
    // the entry limit holds too: a directory said to list 20,000 entries
    const { eocd } = records(b);
    const many = new Uint8Array([...b, 10]);
    new DataView(many.buffer).setUint16(eocd + 8, 20000, true);
    new DataView(many.buffer).setUint16(eocd + 10, 20000, true);
    await Deno.writeFile(`${dir}/many.zip`, many);
    r = await verify(dir, "many.zip");
    assertEquals(r.code, 2, r.text);
    assert(r.text.includes("it lists 20000 entries, more than 10000"), r.text);
  });
});

Deno.test("a member whose local header names another file, a zip comment and a symbolic link are tampering", async () => {
  await inTempDir(async (dir) => {
    const b = await signedBundle(dir);
    const { v, eocd, entries } = records(b);
    const rec = entries.find((e) => e.name.startsWith("recordings/"))!;
    // the local header's name, same length: ../../../../../xxxxx...
    const renamed = b.slice();
    const local = v.getUint32(rec.at + 42, true);
    const evil = "../".repeat(Math.floor(rec.name.length / 3)).padEnd(
      rec.name.length,
      "x",
    );
    renamed.set(new TextEncoder().encode(evil), local + 30);
    await Deno.writeFile(`${dir}/renamed.zip`, renamed);
    let r = await verify(dir, "renamed.zip");
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes(`TAMPERED [${rec.name}]`) &&
        r.text.includes(`local header names it "${evil}"`),
      r.text,
    );
    // a comment of the zip
    const comment = new TextEncoder().encode("no hash covers this");
    const commented = new Uint8Array([...b, ...comment]);
    new DataView(commented.buffer).setUint16(eocd + 20, comment.length, true);
    await Deno.writeFile(`${dir}/commented.zip`, commented);
    r = await verify(dir, "commented.zip");
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes(`the zip has a comment of ${comment.length} bytes`),
      r.text,
    );
    // summary.txt made a symbolic link (Unix, mode 0120777)
    const sum = entries.find((e) => e.name === "summary.txt")!;
    const linked = b.slice();
    const lv = new DataView(linked.buffer);
    lv.setUint16(sum.at + 4, (3 << 8) | 63, true);
    lv.setUint32(sum.at + 38, (0o120777 << 16) >>> 0, true);
    await Deno.writeFile(`${dir}/linked.zip`, linked);
    r = await verify(dir, "linked.zip");
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes("TAMPERED [summary.txt]: the member is a symbolic link"),
      r.text,
    );
    // the untouched bundle stays intact
    r = await verify(dir, "case.zip");
    assertEquals(r.code, 0, r.text);
  });
});

Deno.test("bytes in an extra field, a local header or a data descriptor that disagree with the directory are tampering (found by review of the first audit)", async () => {
  await inTempDir(async (dir) => {
    const b = await signedBundle(dir);
    const { v, entries } = records(b);
    const rec = entries.find((e) => e.name.startsWith("recordings/"))!;
    const local = v.getUint32(rec.at + 42, true);
    const write = async (name: string, bytes: Uint8Array) => {
      await Deno.writeFile(`${dir}/${name}`, bytes);
      return await verify(dir, name);
    };
    // the local header's time changed (2 bytes no hash covers)
    const timed = b.slice();
    timed[local + 10] ^= 0x01;
    let r = await write("timed.zip", timed);
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes(
        `TAMPERED [${rec.name}]: the member's local header gives another time than the central directory`,
      ),
      r.text,
    );
    // the data descriptor's CRC changed (it follows the data: signature,
    // CRC, sizes)
    const n = v.getUint16(local + 26, true), x = v.getUint16(local + 28, true);
    const dataEnd = local + 30 + n + x + v.getUint32(rec.at + 20, true);
    assertEquals(v.getUint32(dataEnd, true), 0x08074b50, "no descriptor");
    const described = b.slice();
    described[dataEnd + 4] ^= 0xff;
    r = await write("described.zip", described);
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes(
        "the member's data descriptor gives another CRC or size than the central directory",
      ),
      r.text,
    );
    // an extra field of an unknown kind in the central directory entry:
    // its timestamp field (0x5455) renamed 0xcafe, the same length
    const cdExtra = b.slice();
    const cn = v.getUint16(rec.at + 28, true);
    assertEquals(v.getUint16(rec.at + 46 + cn, true), 0x5455, "no timestamp");
    new DataView(cdExtra.buffer).setUint16(rec.at + 46 + cn, 0xcafe, true);
    r = await write("cdextra.zip", cdExtra);
    assertEquals(r.code, 1, r.text);
    assert(
      r.text.includes(
        "the member's central header has an extra field of 5 bytes (kind 0xcafe)",
      ),
      r.text,
    );
  });
});

Deno.test("header fields no writer gives are tampering: a setuid mode, internal attributes, a timestamp field of another shape (found by a second review)", async () => {
  await inTempDir(async (dir) => {
    const b = await signedBundle(dir);
    const { entries } = records(b);
    const sum = entries.find((e) => e.name === "summary.txt")!;
    const cases: [string, (v: DataView) => void, string][] = [
      [
        "setuid.zip",
        (v) => v.setUint32(sum.at + 38, (0o104644 << 16) >>> 0, true),
        "the member's mode is 0104644: not a plain file",
      ],
      [
        "internal.zip",
        (v) => v.setUint16(sum.at + 36, 0x4545, true),
        "internal attributes 0x4545",
      ],
      [
        "stamp.zip",
        (v) => {
          const n = v.getUint16(sum.at + 28, true);
          assertEquals(v.getUint16(sum.at + 46 + n, true), 0x5455);
          v.setUint8(sum.at + 46 + n + 4, 7);
        },
        "an extra field of 5 bytes (kind 0x5455)",
      ],
      [
        "retimed.zip",
        (v) => {
          // its DOS time, in both headers alike
          const local = v.getUint32(sum.at + 42, true);
          v.setUint16(sum.at + 12, v.getUint16(sum.at + 12, true) ^ 1, true);
          v.setUint16(local + 10, v.getUint16(local + 10, true) ^ 1, true);
        },
        "its members give different times",
      ],
    ];
    for (const [name, alter, said] of cases) {
      const bytes = b.slice();
      alter(new DataView(bytes.buffer));
      await Deno.writeFile(`${dir}/${name}`, bytes);
      const r = await verify(dir, name);
      assertEquals(r.code, 1, `${name}: ${r.text}`);
      assert(
        r.text.includes("TAMPERED [") && r.text.includes(said),
        `${name}: ${r.text}`,
      );
    }
  });
});

Deno.test("a zip whose end record says 0 entries and whose directory holds more than 10,000 is refused before it is parsed", async () => {
  await inTempDir(async (dir) => {
    // 10,001 empty stored members, the end record saying none
    const parts: Uint8Array[] = [];
    const cd: Uint8Array[] = [];
    let offset = 0;
    for (let i = 0; i < 10_001; i++) {
      const name = new TextEncoder().encode(`m${i}`);
      const l = new Uint8Array(30 + name.length);
      const lv = new DataView(l.buffer);
      lv.setUint32(0, 0x04034b50, true);
      lv.setUint16(4, 20, true);
      lv.setUint16(26, name.length, true);
      l.set(name, 30);
      const c = new Uint8Array(46 + name.length);
      const cv = new DataView(c.buffer);
      cv.setUint32(0, CENTRAL, true);
      cv.setUint16(6, 20, true);
      cv.setUint16(28, name.length, true);
      cv.setUint32(42, offset, true);
      c.set(name, 46);
      parts.push(l);
      cd.push(c);
      offset += l.length;
    }
    const cdBytes = cd.reduce((n, c) => n + c.length, 0);
    const end = new Uint8Array(22);
    const ev = new DataView(end.buffer);
    ev.setUint32(0, EOCD, true);
    ev.setUint32(12, cdBytes, true);
    ev.setUint32(16, offset, true);
    const all = new Uint8Array(offset + cdBytes + 22);
    let at = 0;
    for (const p of [...parts, ...cd, end]) {
      all.set(p, at);
      at += p.length;
    }
    await Deno.writeFile(`${dir}/wrap.zip`, all);
    const r = await procrec(["verify", "wrap.zip"], { cwd: dir });
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assert(
      r.stderr.includes("its central directory holds more than 10000 entries"),
      r.stderr,
    );
  });
});
