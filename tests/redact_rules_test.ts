/**
 * The redaction core: rules files, where each kind of rule finds a secret
 * (argv, `sh -c` scripts, Windows command lines, header argv), markers that
 * compare equal for equal secrets, and no secret left anywhere.
 */
import {
  findMarkers,
  newRedactionKeyText,
  parseRedactionKey,
  parseRedactionRules,
  redactedHeader,
  redactionHmac,
  type RedactionRule,
  Redactor,
} from "../cli/redact/mod.ts";
import type { RecordingHeader, RedactionInfo } from "../cli/log/schema.ts";
import type { HeaderInit } from "../cli/log/mod.ts";
import type { ProcEvent } from "../cli/events/types.ts";
import { assert, assertEquals } from "./_record_helpers.ts";
import { testHeader } from "./_recording_helpers.ts";
import { createHmac } from "node:crypto";

const KEY = new Uint8Array(32).fill(7);
const RULES: RedactionRule[] = parseRedactionRules(
  JSON.stringify({
    rules: [
      { name: "mysql-password", flag: "-p", separate: false },
      { name: "token", flag: ["--token", "--password"] },
      { name: "secret-env", env: ".*(PASSWORD|SECRET|TOKEN).*", flags: "i" },
      { name: "bearer", match: "Bearer (\\S+)" },
      { name: "aws-key", match: "AKIA[0-9A-Z]{16}" },
    ],
  }),
  "rules.json",
);
const SECRET = "S3cretXYZ";

function redactor(): Redactor {
  return new Redactor(RULES, KEY);
}

function marker(rule: string, value: string): string {
  return `[redacted:${rule}:${redactionHmac(KEY, value)}]`;
}

Deno.test("a flag rule redacts -pPASSWORD attached, in an argv and in a sh -c script", () => {
  const r = redactor();
  assertEquals(r.argv(["mysql", `-p${SECRET}`, "-pxyz", "db"]), [
    "mysql",
    `-p${marker("mysql-password", SECRET)}`,
    `-p${marker("mysql-password", "xyz")}`,
    "db",
  ]);
  assertEquals(r.argv(["sh", "-c", `true -p${SECRET} && echo ok`]), [
    "sh",
    "-c",
    `true -p${marker("mysql-password", SECRET)} && echo ok`,
  ]);
  // a shell operator ends the value as the shell reads it: the same marker
  assertEquals(r.argv(["sh", "-c", `true -p${SECRET};echo`]), [
    "sh",
    "-c",
    `true -p${marker("mysql-password", SECRET)};echo`,
  ]);
  // "separate": false: "-p db" keeps db
  assertEquals(r.argv(["mysql", "-p", "db"]), ["mysql", "-p", "db"]);
});

Deno.test("a flag rule redacts --token X, --token=X and quoted values of a command line", () => {
  const r = redactor();
  assertEquals(r.argv(["curl", "--token", "abc def", "--password=p w"]), [
    "curl",
    "--token",
    marker("token", "abc def"),
    `--password=${marker("token", "p w")}`,
  ]);
  assertEquals(
    r.text(`tool.exe --token "abc def" --password='xy' --other v`),
    `tool.exe --token ${marker("token", "abc def")} --password=${
      marker("token", "xy")
    } --other v`,
  );
});

Deno.test('a flag rule finds its option in a command line quoted in another (sh -c "bash -c \'...\'", cmd /c "...")', () => {
  const r = redactor();
  const m = marker("token", SECRET);
  assertEquals(
    r.argv(["sh", "-c", `bash -c '/usr/bin/curl --password=${SECRET} x'`]),
    ["sh", "-c", `bash -c '/usr/bin/curl --password=${m} x'`],
  );
  assertEquals(
    r.text(`cmd.exe /c "curl.exe --password ${SECRET} https://x"`),
    `cmd.exe /c "curl.exe --password ${m} https://x"`,
  );
  // a quoted value is still one value (its quotes taken off to hash it)
  assertEquals(
    r.text(`curl --token "a ${SECRET}" x`),
    `curl --token ${marker("token", `a ${SECRET}`)} x`,
  );
});

Deno.test("an env rule redacts NAME=VALUE by name, the whole element in an argv", () => {
  const r = redactor();
  assertEquals(r.argv(["env", "DB_PASSWORD=a b c", "HOME=/root", "cmd"]), [
    "env",
    `DB_PASSWORD=${marker("secret-env", "a b c")}`,
    "HOME=/root",
    "cmd",
  ]);
  assertEquals(
    r.text("api_token=xyz HOME=/root run"),
    `api_token=${marker("secret-env", "xyz")} HOME=/root run`,
  );
});

Deno.test("a match rule redacts its first group, or the whole match without one", () => {
  const r = redactor();
  assertEquals(
    r.text("curl -H 'Authorization: Bearer eyJabc' AKIAABCDEFGHIJKLMNOP"),
    // the group is \S+: the quote is part of the match, and hashed with it
    `curl -H 'Authorization: Bearer ${marker("bearer", "eyJabc'")} ${
      marker("aws-key", "AKIAABCDEFGHIJKLMNOP")
    }`,
  );
});

Deno.test("equal secrets give equal markers; another key gives another", () => {
  const a = redactor().argv(["mysql", `-p${SECRET}`]);
  const b = redactor().argv(["mysql", `-p${SECRET}`]);
  const c = new Redactor(RULES, new Uint8Array(32).fill(8)).argv([
    "mysql",
    `-p${SECRET}`,
  ]);
  assertEquals(a, b);
  assert(a[1] !== c[1], "another key, the same marker");
  assertEquals(findMarkers(a[1]), [{
    rule: "mysql-password",
    hmac: redactionHmac(KEY, SECRET),
  }]);
});

Deno.test("a marker is not redacted again by a later rule", () => {
  const r = redactor();
  const once = r.argv(["x", "--token", SECRET]);
  assertEquals(r.argv(once), once);
  assertEquals(r.text(once.join(" ")), once.join(" "));
});

Deno.test("Redactor.event() covers argv, cmdline, image, comm and cwd; thread events pass as they are", () => {
  const r = redactor();
  const exec: ProcEvent = {
    kind: "exec",
    t: 1,
    pid: 2,
    tid: 2,
    info: {
      image: "/usr/bin/mysql",
      argv: ["mysql", `-p${SECRET}`],
      cmdline: `mysql.exe -p${SECRET}`,
      comm: `-p${SECRET}`,
      cwd: `/home/a/DB_PASSWORD=${SECRET}`,
      from: { argv: "kernel" },
    },
  };
  const out = r.event(exec);
  const { cwd: _, ...rest } = out.kind === "exec" ? out.info : exec.info;
  assert(!JSON.stringify(rest).includes(SECRET), JSON.stringify(out));
  assertEquals(findMarkers(JSON.stringify(out)).length, 3);
  const thread: ProcEvent = {
    kind: "thread_exit",
    t: 1,
    pid: 2,
    tid: 3,
    status: 0,
  };
  assert(r.event(thread) === thread);
  // a text field on any kind (one a later version may add) is redacted too
  const exit = {
    kind: "process_exit",
    t: 1,
    pid: 2,
    tid: 2,
    status: 0,
    note: `-p${SECRET}`,
  } as unknown as ProcEvent;
  assert(!JSON.stringify(r.event(exit)).includes(SECRET));
  assertEquals(r.counts["mysql-password"], 4);
  // a flag rule reads option values: a -p inside a path is no option
  assertEquals(
    out.kind === "exec" && out.info.cwd,
    `/home/a/DB_PASSWORD=${SECRET}`,
  );
});

Deno.test("Redactor.header() redacts command.argv and keeps the structure", () => {
  const r = redactor();
  const h = testHeader({
    command: { argv: ["sh", "-c", `mysql -p${SECRET}`], pid: 9 },
  });
  const out = r.header(h);
  assert(
    !JSON.stringify(out, (_k, v) => typeof v === "bigint" ? 0 : v).includes(
      SECRET,
    ),
  );
  assertEquals(
    out.command?.argv[2],
    `mysql -p${marker("mysql-password", SECRET)}`,
  );
  assertEquals(out.timeBase, h.timeBase);
  assertEquals(out.command?.pid, 9);
});

Deno.test("parseRedactionRules() names the rule and the field at fault", () => {
  const bad: [unknown, string][] = [
    [
      { rules: [{ name: "a", match: "(" }] },
      `rule 1 ("a"): "match" is not a valid regular expression`,
    ],
    [
      { rules: [{ name: "a", flag: "-p" }, { name: "a", flag: "-q" }] },
      `rule 2 ("a"): the name is used twice`,
    ],
    [
      { rules: [{ name: "a", flag: "-p", env: "X" }] },
      `expected exactly one of`,
    ],
    [{ rules: [{ name: "a b", flag: "-p" }] }, `rule 1: "name" must be`],
    [{ rules: [{ name: "a", match: "x?" }] }, `matches the empty string`],
    [{ rules: [{ name: "a", flag: "-p", sep: false }] }, `unknown field "sep"`],
    [{ rules: [] }, `"rules" is empty`],
  ];
  for (const [doc, want] of bad) {
    let msg = "";
    try {
      parseRedactionRules(JSON.stringify(doc), "r.json");
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(msg.startsWith(`Cannot read redaction rules "r.json": `), msg);
    assert(msg.includes(want), `${msg} lacks ${want}`);
  }
});

Deno.test("parseRedactionKey() wants 64 hex digits", () => {
  const hex = Array.from(
    { length: 32 },
    (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, "0"),
  ).join("");
  assertEquals(
    parseRedactionKey(`# c\n${hex}\n`, "k"),
    Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff),
  );
  let msg = "";
  try {
    parseRedactionKey("abc", "k");
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes(`Cannot read redaction key "k"`), msg);
});

Deno.test("parseRedactionKey() refuses a key typed by hand: all zeros, one byte repeated, a short pattern (found by review)", () => {
  for (const hex of ["00".repeat(32), "aa".repeat(32), "deadbeef".repeat(8)]) {
    let msg = "";
    try {
      parseRedactionKey(hex, "weak.key");
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(
      msg.includes(`Cannot use redaction key "weak.key"`) &&
        msg.includes("not a random key"),
      `${hex}: ${msg}`,
    );
  }
  // keys keygen makes pass
  for (let i = 0; i < 200; i++) {
    parseRedactionKey(newRedactionKeyText(), "k");
  }
});

Deno.test("a match rule redacts from the first to the last group that took part: a secret in a later alternative's group is redacted (found by review)", () => {
  const r = new Redactor(
    parseRedactionRules(
      JSON.stringify({
        rules: [
          {
            name: "auth",
            match: "(?:Bearer|token)\\s+(\\S+)|Basic\\s+(\\S+)",
            flags: "i",
          },
          { name: "pw", match: "(--pw|--pass)=(\\S+)" },
        ],
      }),
      "rules.json",
    ),
    KEY,
  );
  assertEquals(
    r.text("Authorization: Basic dXNlcjpodW50ZXIy; Bearer SEKRETX"),
    `Authorization: Basic ${marker("auth", "dXNlcjpodW50ZXIy;")} Bearer ${
      marker("auth", "SEKRETX")
    }`,
  );
  assertEquals(
    r.text("tool --pass=hunter2"),
    `tool ${marker("pw", "--pass=hunter2")}`,
  );
});

Deno.test("redactionHmac() equals node:crypto's HMAC-SHA-256 for values of 0 to 300 bytes, ASCII and not", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const chars = "aZ09 -=\"'é€😀\u0000";
  for (let n = 0; n <= 300; n++) {
    let v = "";
    for (let i = 0; i < n; i++) v += chars[(i * 7 + n) % chars.length];
    const want = createHmac("sha256", key).update(v, "utf8").digest("hex");
    assertEquals(redactionHmac(key, v), want, `value of ${v.length} units`);
  }
  // one long value, past the buffer the HMAC starts with
  const long = "x".repeat(100_000) + "€";
  assertEquals(
    redactionHmac(key, long),
    createHmac("sha256", key).update(long, "utf8").digest("hex"),
  );
});

Deno.test("a rule with a command applies to that command's argv and after its name in a script, not to other commands", () => {
  const r = new Redactor(
    parseRedactionRules(
      JSON.stringify({
        rules: [{
          name: "mysql-password",
          flag: "-p",
          separate: false,
          command: "^mysql(dump)?(\\.exe)?$",
        }],
      }),
      "r.json",
    ),
    KEY,
  );
  const m = marker("mysql-password", SECRET);
  assertEquals(r.argv(["/usr/bin/mysql", `-p${SECRET}`]), [
    "/usr/bin/mysql",
    `-p${m}`,
  ]);
  assertEquals(r.argv(["gcc", "-pthread", "-pipe"]), [
    "gcc",
    "-pthread",
    "-pipe",
  ]);
  assertEquals(
    r.argv(["sh", "-c", `gcc -pthread && mysqldump -p${SECRET} db`]),
    ["sh", "-c", `gcc -pthread && mysqldump -p${m} db`],
  );
  assertEquals(
    r.text(`"C:\\Program Files\\MySQL\\bin\\MySQL.exe" -p${SECRET}`),
    `"C:\\Program Files\\MySQL\\bin\\MySQL.exe" -p${m}`,
  );
  assertEquals(r.text("-pthread"), "-pthread");
  // (found by review) the command run by another: env, timeout, ssh, docker
  // exec, the recorder itself; an argv whose image is the command
  for (
    const lead of [
      ["env", "MYSQL_HOME=/x"],
      ["timeout", "5"],
      ["ssh", "dbhost"],
      ["docker", "exec", "db"],
      ["procrec", "record", "-o", "a.cbor", "--"],
    ]
  ) {
    assertEquals(r.argv([...lead, "/usr/bin/mysql", `-p${SECRET}`, "db"]), [
      ...lead,
      "/usr/bin/mysql",
      `-p${m}`,
      "db",
    ]);
  }
  assertEquals(r.argv(["gcc", "-pthread", "mysql.c", "-pipe"]), [
    "gcc",
    "-pthread",
    "mysql.c",
    "-pipe",
  ]);
  const exec: ProcEvent = {
    kind: "exec",
    t: 1,
    pid: 5,
    tid: 5,
    info: { image: "/usr/bin/mysql", argv: ["db-client", `-p${SECRET}`] },
  } as ProcEvent;
  const redacted = JSON.stringify(r.event(exec));
  assert(!redacted.includes(SECRET) && redacted.includes(m), redacted);
  // an env rule scoped to mysql: the assignment env or sudo give it before
  // the command is its environment; another command's is not
  const envRule = new Redactor(
    parseRedactionRules(
      JSON.stringify({
        rules: [{ name: "pw", env: "MYSQL_PWD", command: "^mysql$" }],
      }),
      "r.json",
    ),
    KEY,
  );
  const pm = marker("pw", SECRET);
  assertEquals(envRule.argv(["env", `MYSQL_PWD=${SECRET}`, "mysql", "db"]), [
    "env",
    `MYSQL_PWD=${pm}`,
    "mysql",
    "db",
  ]);
  assertEquals(envRule.argv(["env", `MYSQL_PWD=${SECRET}`, "psql"]), [
    "env",
    `MYSQL_PWD=${SECRET}`,
    "psql",
  ]);
  // the same in a command line's text: before the command, or exported by
  // the script that runs it; not where the command is absent
  assertEquals(
    envRule.text(`MYSQL_PWD=${SECRET} mysql db`),
    `MYSQL_PWD=${pm} mysql db`,
  );
  assertEquals(
    envRule.argv(["sh", "-c", `export MYSQL_PWD='${SECRET}'; mysql db`]),
    ["sh", "-c", `export MYSQL_PWD=${pm}; mysql db`],
  );
  assertEquals(
    envRule.text(`MYSQL_PWD=${SECRET} psql db`),
    `MYSQL_PWD=${SECRET} psql db`,
  );
  let msg = "";
  try {
    parseRedactionRules(
      '{"rules":[{"name":"a","flag":"-p","command":"("}]}',
      "r.json",
    );
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes(`"command" must be a regular expression`), msg);
});

Deno.test("a copy of a copy keeps its source's redaction without the plain hashes an earlier version wrote", () => {
  const r = redactor();
  const old: RedactionInfo = {
    ...r.describe(),
    source: {
      path: "orig.cbor",
      sha256: "aa".repeat(32),
      bytes: 123,
      finalHash: "bb".repeat(32),
      complete: true,
      host: "h",
      bootId: "b",
      startUtcNs: 5n,
    },
  };
  const out = copyHeader(r, { redaction: old });
  const nested = out.redaction?.source?.redaction?.source;
  assertEquals(nested?.path, "orig.cbor");
  assertEquals(nested?.sha256, "");
  assertEquals(nested?.bytes, 0);
  assertEquals(nested?.finalHash, undefined);
  assert(
    !JSON.stringify(out, (_, v) => typeof v === "bigint" ? `${v}` : v).includes(
      "aa".repeat(32),
    ),
  );
});

Deno.test("a redacted header keys the files of its import and of the import its options name (importedFrom; found by review)", () => {
  const r = redactor();
  const plainA = "ab".repeat(32), plainB = "cd".repeat(32);
  const out = copyHeader(r, {
    options: {
      importedFrom: {
        format: "sysmon",
        files: [{ name: "a.xml", sha256: plainA }],
      },
    },
    import: { format: "jsonl", files: [{ name: "x.jsonl", sha256: plainB }] },
  });
  const text = JSON.stringify(
    out,
    (_, v) => typeof v === "bigint" ? `${v}` : v,
  );
  assert(!text.includes(plainA) && !text.includes(plainB), text);
  assertEquals(out.import?.files[0].sha256Hmac, r.sourceHash(plainB));
  assertEquals(
    (out.options as { importedFrom: { files: { sha256Hmac: string }[] } })
      .importedFrom.files[0].sha256Hmac,
    r.sourceHash(plainA),
  );
});

/** The header `procrec redact` writes of a source with `overrides`. */
function copyHeader(r: Redactor, overrides: Partial<HeaderInit>) {
  const source = {
    ...testHeader(overrides),
    format: "procrec",
    version: 7,
  } as RecordingHeader;
  return redactedHeader(source, r, {
    path: "copy.cbor",
    sha256Hmac: r.sourceHash("cc".repeat(32)),
    complete: true,
    host: "h",
    bootId: "b",
    startUtcNs: 5n,
  });
}
