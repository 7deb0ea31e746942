/**
 * The Sigma engine against the specification's examples: value wildcards and
 * escapes, every modifier, every condition form, null values, and the
 * reports of rules that cannot run (invalid, unsupported, not applicable).
 */
import {
  compileRule,
  EventFields,
  loadRuleSet,
  parseRule,
  renderHunt,
  RuleError,
  RuleHunter,
  RuleIndex,
  UnsupportedRuleError,
} from "../cli/hunt/mod.ts";
import { FieldValues } from "../cli/hunt/event_fields.ts";
import type { ProcessInfo, ProcEvent } from "../cli/events/types.ts";
import type { RecordingHeader } from "../cli/log/schema.ts";
import {
  exec as execOf,
  imageHash,
  processCreate,
} from "./_recording_helpers.ts";
import { assertEquals } from "./_record_helpers.ts";

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** A rule with this detection (YAML lines under `detection:`), for `os`. */
function rule(detection: string, product = "windows") {
  return compileRule(parseRule(
    `title: t\nid: r1\nlevel: high\nlogsource:\n  category: process_creation\n  product: ${product}\ndetection:\n${
      detection.split("\n").map((l) => "  " + l).join("\n")
    }\n`,
    "t.yml",
  ));
}

/** The header of a recording of host "h" on `os`, boot "b", at time 0. */
function testHeader(os: "linux" | "windows"): RecordingHeader {
  return {
    host: "h",
    os,
    bootId: "b",
    timeBase: { monoNs: 0n, utcNs: 0n },
  } as RecordingHeader;
}

/** Whether the rule matches a process with `info` whose parent has `parent`. */
function matches(
  detection: string,
  info: Partial<ProcessInfo>,
  parent?: Partial<ProcessInfo>,
  os: "windows" | "linux" = "windows",
): boolean {
  const r = rule(detection, os);
  return r.test(
    new EventFields({
      os,
      host: "h",
      process: { pid: 10, ppid: 5, start: 0, info: { from: {}, ...info } },
      parent: parent
        ? { pid: 5, ppid: 1, start: 0, info: { from: {}, ...parent } }
        : undefined,
    }),
  );
}

const cmd = (cmdline: string) => ({ cmdline });

Deno.test("hunt: a plain value equals the whole field, case-insensitively", () => {
  const d =
    "sel:\n  Image: 'C:\\Windows\\System32\\whoami.exe'\ncondition: sel";
  assert(matches(d, { image: "c:\\windows\\system32\\WHOAMI.EXE" }));
  assert(!matches(d, { image: "C:\\Windows\\System32\\whoami.exe.bak" }));
  assert(!matches(d, {}), "an absent field matches nothing");
});

Deno.test("hunt: * and ? are wildcards; \\* \\? \\\\ are the characters", () => {
  assert(matches("s:\n  CommandLine: 'a*c'\ncondition: s", cmd("aXYZc")));
  assert(matches("s:\n  CommandLine: 'a?c'\ncondition: s", cmd("abc")));
  assert(!matches("s:\n  CommandLine: 'a?c'\ncondition: s", cmd("abbc")));
  assert(matches("s:\n  CommandLine: 'a\\*c'\ncondition: s", cmd("a*c")));
  assert(!matches("s:\n  CommandLine: 'a\\*c'\ncondition: s", cmd("abc")));
  assert(matches("s:\n  CommandLine: 'a\\?'\ncondition: s", cmd("a?")));
  assert(!matches("s:\n  CommandLine: 'a\\?'\ncondition: s", cmd("ab")));
  // \\ before a wildcard: a literal backslash, then the wildcard
  assert(matches("s:\n  CommandLine: 'a\\\\*'\ncondition: s", cmd("a\\xyz")));
  // a backslash before anything else is itself
  assert(
    matches(
      "s:\n  CommandLine: 'C:\\Temp\\x'\ncondition: s",
      cmd("c:\\temp\\X"),
    ),
  );
});

Deno.test("hunt: contains, startswith, endswith; all makes a list AND", () => {
  assert(
    matches(
      "s:\n  CommandLine|contains: 'DownloadString'\ncondition: s",
      cmd("iex (x.downloadstring('u'))"),
    ),
  );
  assert(
    matches(
      "s:\n  CommandLine|startswith: 'powershell'\ncondition: s",
      cmd("PowerShell -nop"),
    ),
  );
  assert(
    !matches(
      "s:\n  CommandLine|startswith: 'nop'\ncondition: s",
      cmd("PowerShell -nop"),
    ),
  );
  assert(
    matches("s:\n  Image|endswith: '\\cmd.exe'\ncondition: s", {
      image: "C:\\x\\CMD.EXE",
    }),
  );
  const any =
    "s:\n  CommandLine|contains:\n    - 'aaa'\n    - 'bbb'\ncondition: s";
  assert(matches(any, cmd("x bbb")));
  const all =
    "s:\n  CommandLine|contains|all:\n    - 'aaa'\n    - 'bbb'\ncondition: s";
  assert(!matches(all, cmd("x bbb")));
  assert(matches(all, cmd("bbb aaa")));
  // wildcards inside a contains value still work
  assert(
    matches(
      "s:\n  CommandLine|contains: 'a*z'\ncondition: s",
      cmd("xx a-to-z yy"),
    ),
  );
});

Deno.test("hunt: cased matches case-sensitively", () => {
  const d = "s:\n  CommandLine|cased|contains: 'FromBase64'\ncondition: s";
  assert(matches(d, cmd("[Convert]::FromBase64String")));
  assert(!matches(d, cmd("[convert]::frombase64string")));
});

Deno.test("hunt: re is a case-sensitive search; i, m, s are its flags", () => {
  assert(
    matches(
      "s:\n  CommandLine|re: 'x[0-9]{3}y'\ncondition: s",
      cmd("aa x123y bb"),
    ),
  );
  assert(
    !matches(
      "s:\n  CommandLine|re: 'X[0-9]{3}Y'\ncondition: s",
      cmd("aa x123y bb"),
    ),
  );
  assert(
    matches(
      "s:\n  CommandLine|re|i: 'X[0-9]{3}Y'\ncondition: s",
      cmd("aa x123y bb"),
    ),
  );
  assert(
    matches("s:\n  CommandLine|re|m: '^b$'\ncondition: s", cmd("a\nb\nc")),
  );
  assert(!matches("s:\n  CommandLine|re: '^b$'\ncondition: s", cmd("a\nb\nc")));
  assert(matches("s:\n  CommandLine|re|s: 'a.b'\ncondition: s", cmd("a\nb")));
  assert(!matches("s:\n  CommandLine|re: 'a.b'\ncondition: s", cmd("a\nb")));
  // PCRE's leading (?i) becomes the flag
  assert(matches("s:\n  CommandLine|re: '(?i)ABC'\ncondition: s", cmd("abc")));
});

Deno.test("hunt: base64 and base64offset find encoded text at every offset", () => {
  // the specification's example: base64 of "sigma" is c2lnbWE=
  assert(
    matches("s:\n  CommandLine|base64: 'sigma'\ncondition: s", cmd("c2lnbWE=")),
  );
  assert(
    matches(
      "s:\n  CommandLine|base64|contains: 'sigma'\ncondition: s",
      cmd("x c2lnbWE= y"),
    ),
  );
  const d = "s:\n  CommandLine|base64offset|contains: 'http://'\ncondition: s";
  for (const prefix of ["", "a", "ab", "abc", "abcd"]) {
    const enc = btoa(prefix + "http://evil.example/x");
    assert(
      matches(d, cmd(`sh -c "echo ${enc} | base64 -d"`)),
      `offset ${prefix.length}`,
    );
  }
  assert(!matches(d, cmd(`echo ${btoa("https://evil")}`)));
});

Deno.test("hunt: utf16le / wide / utf16be / utf16 encode before base64", () => {
  const le = (s: string) =>
    String.fromCharCode(...[...s].flatMap((c) => [c.charCodeAt(0), 0]));
  const be = (s: string) =>
    String.fromCharCode(...[...s].flatMap((c) => [0, c.charCodeAt(0)]));
  const enc = (bytes: string) => `powershell -enc ${btoa(bytes)}`;
  for (const prefix of ["", "x", "xy"]) {
    assert(
      matches(
        "s:\n  CommandLine|wide|base64offset|contains: 'IEX'\ncondition: s",
        cmd(enc(le(prefix + "IEX (New-Object)"))),
      ),
    );
    assert(
      matches(
        "s:\n  CommandLine|utf16le|base64offset|contains: 'IEX'\ncondition: s",
        cmd(enc(le(prefix + "IEX (x)"))),
      ),
    );
    assert(
      matches(
        "s:\n  CommandLine|utf16be|base64offset|contains: 'IEX'\ncondition: s",
        cmd(enc(be(prefix + "IEX (x)"))),
      ),
    );
  }
  assert(
    matches(
      "s:\n  CommandLine|utf16|base64|contains: 'ab'\ncondition: s",
      cmd(enc("\xff\xfe" + le("ab"))),
    ),
  );
  assert(
    !matches(
      "s:\n  CommandLine|wide|base64offset|contains: 'IEX'\ncondition: s",
      cmd(enc("IEX (x)")),
    ),
  );
});

Deno.test("hunt: windash lets an option's dash be - / en dash, em dash, horizontal bar", () => {
  const d = "s:\n  CommandLine|windash|contains: ' -exec bypass'\ncondition: s";
  for (const dash of ["-", "/", "\u2013", "\u2014", "\u2015"]) {
    assert(matches(d, cmd(`powershell ${dash}exec bypass`)), dash);
  }
  assert(!matches(d, cmd("powershell +exec bypass")));
  // the order of windash and contains does not matter
  assert(
    matches(
      "s:\n  CommandLine|contains|windash: ' -s '\ncondition: s",
      cmd("x /s y"),
    ),
  );
  // a dash inside a word is left alone
  assert(
    !matches(
      "s:\n  CommandLine|windash|contains: 'a-b'\ncondition: s",
      cmd("a/b"),
    ),
  );
});

Deno.test("hunt: exists, null values and empty values", () => {
  assert(
    matches("s:\n  OriginalFileName|exists: true\ncondition: s", {
      originalFileName: "x",
    }),
  );
  assert(!matches("s:\n  OriginalFileName|exists: true\ncondition: s", {}));
  assert(matches("s:\n  OriginalFileName|exists: false\ncondition: s", {}));
  assert(matches("s:\n  OriginalFileName: null\ncondition: s", {}));
  assert(
    matches("s:\n  OriginalFileName: null\ncondition: s", {
      originalFileName: "",
    }),
  );
  assert(
    !matches("s:\n  OriginalFileName: null\ncondition: s", {
      originalFileName: "a",
    }),
  );
  assert(matches("s:\n  Image: ''\ncondition: s", { image: "" }));
  assert(!matches("s:\n  Image: ''\ncondition: s", { image: "x" }));
});

Deno.test("hunt: fieldref compares one field with another", () => {
  const d = "s:\n  Image|fieldref: ParentImage\ncondition: s";
  assert(matches(d, { image: "C:\\a.exe" }, { image: "c:\\A.EXE" }));
  assert(!matches(d, { image: "C:\\a.exe" }, { image: "C:\\b.exe" }));
  assert(!matches(d, { image: "C:\\a.exe" }), "no parent: no match");
  assert(
    matches(
      "s:\n  CommandLine|fieldref|contains: ParentImage\ncondition: s",
      cmd("run c:\\p.exe now"),
      { image: "C:\\P.exe" },
    ),
  );
  // the field it compares with is named as any field is: a misspelt one
  // (or one procrec lacks) makes the rule not applicable, not silent
  const typo = rule("s:\n  Image|fieldref: ParentImgae\ncondition: s");
  assert(
    /needs field ParentImgae, which procrec does not have on windows/.test(
      typo.notApplicable.windows ?? "",
    ),
    JSON.stringify(typo.notApplicable),
  );
  // one of several may do: the others lacking leave it partly answered
  const either = rule(
    "s:\n  Image|fieldref:\n    - ParentImage\n    - ParentImgae\ncondition: s",
  );
  assertEquals(either.notApplicable.windows, undefined);
  assertEquals(either.unanswered.windows, ["ParentImgae"]);
});

Deno.test("hunt: numbers keep their text; lt/gt compare numbers", () => {
  assert(matches("s:\n  LogonId: 0x3e7\ncondition: s", { logonId: "0x3E7" }));
  assert(
    matches("s:\n  TerminalSessionId|lt: 1\ncondition: s", { sessionId: 0 }),
  );
  assert(
    !matches("s:\n  TerminalSessionId|gt: 1\ncondition: s", { sessionId: 0 }),
  );
});

Deno.test("hunt: and binds tighter than or; not tighter than and; parentheses group", () => {
  const sel = "a:\n  Image: a\nb:\n  CommandLine: b\nc:\n  User: c\n";
  const m = (cond: string, info: Partial<ProcessInfo>) =>
    matches(sel + "condition: " + cond, info);
  assert(matches(sel + "condition: a or b and c", { image: "a" }));
  assert(!matches(sel + "condition: (a or b) and c", { image: "a" }));
  assert(m("(a or b) and c", { image: "a", user: "c" }));
  assert(m("a and not b", { image: "a", cmdline: "x" }));
  assert(!m("a and not b", { image: "a", cmdline: "b" }));
  assert(m("not a and not b", {}));
  assert(!m("not (a or b)", { cmdline: "b" }));
});

Deno.test("hunt: 1 of / all of / any of with patterns and them", () => {
  const sel =
    "sel_a:\n  Image: a\nsel_b:\n  CommandLine: b\n_x:\n  User: u\nfilter_1:\n  User: f\n";
  const m = (cond: string, info: Partial<ProcessInfo>) =>
    matches(sel + "condition: " + cond, info);
  assert(m("1 of sel_*", { cmdline: "b" }));
  assert(!m("all of sel_*", { cmdline: "b" }));
  assert(m("all of sel_*", { image: "a", cmdline: "b" }));
  assert(m("any of sel*", { image: "a" }));
  assert(
    m("all of sel_* and not 1 of filter*", {
      image: "a",
      cmdline: "b",
      user: "x",
    }),
  );
  assert(
    !m("all of sel_* and not 1 of filter*", {
      image: "a",
      cmdline: "b",
      user: "f",
    }),
  );
  // them leaves out identifiers starting with an underscore
  assert(!m("1 of them", { user: "u" }));
  assert(m("1 of them", { user: "f" }));
  assert(!m("all of them", { image: "a", cmdline: "b" }));
  // and so does a pattern (the specification: "the same as 1/all of them,
  // restricted to matching identifiers"), unless it names them
  assert(!m("1 of *", { user: "u" }));
  assert(m("all of *", { image: "a", cmdline: "b", user: "f" }));
  assert(m("1 of _*", { user: "u" }));
  // a count other than 1 is no Sigma quantifier
  let message = "";
  try {
    rule(sel + "condition: 2 of sel_*");
  } catch (e) {
    message = (e as Error).message;
  }
  assert(
    message.includes(
      `"2 of": Sigma's conditions take "1 of", "any of" or "all of"`,
    ),
    message,
  );
});

Deno.test("hunt: a condition nested too deep is refused as such, its text cut short (a hostile rule ran out of stack: 'YAML cannot be read')", () => {
  const sel = "sel:\n  Image: a\n";
  const deep = (n: number) =>
    sel + "condition: " + "not ".repeat(n) + "(".repeat(n) + "sel" +
    ")".repeat(n);
  // 128 + 128 levels: taken, and evaluated (an even number of nots)
  assert(matches(deep(128), { image: "a" }));
  let message = "";
  try {
    rule(sel + "condition: " + "(".repeat(5000) + "sel" + ")".repeat(5000));
  } catch (e) {
    message = (e as Error).message;
  }
  assert(
    message.includes(
      `nested deeper than 256 levels of parentheses and "not"`,
    ) &&
      message.length < 600,
    message.slice(0, 300),
  );
});

Deno.test("hunt: a list of maps is OR; a list of keywords searches every field", () => {
  const d =
    "s:\n  - Image|endswith: '\\a.exe'\n  - CommandLine|contains: zz\ncondition: s";
  assert(matches(d, { image: "c:\\a.exe" }));
  assert(matches(d, cmd("xzzx")));
  assert(!matches(d, cmd("x")));
  const k = "keywords:\n  - 'mimikatz'\n  - 'sekurlsa'\ncondition: keywords";
  assert(matches(k, cmd("x sekurlsa::logonpasswords")));
  assert(matches(k, { image: "C:\\t\\MIMIKATZ.exe" }));
  assert(!matches(k, cmd("benign")));
});

Deno.test("hunt: a keyword is found in any field of a hunted process, the parent's image and the process id too", () => {
  const r = rule(
    "keywords:\n  - 'mimikatz'\n  - 'sekurlsa'\n  - '4242'\ncondition: keywords",
  );
  const header = testHeader("windows");
  const created = (pid: number, ppid: number, info: Partial<ProcessInfo>) =>
    ({
      kind: "process_create",
      t: pid,
      pid,
      tid: pid,
      ppid,
      ptid: 0,
      creatorPid: ppid,
      creatorTid: 0,
      start: pid,
      info: { from: {}, ...info },
    }) as const;
  const events = [
    created(5, 1, { image: "C:\\tools\\MIMIKATZ.exe", cmdline: "m" }),
    created(6, 5, { image: "C:\\w\\cmd.exe", cmdline: "cmd" }), // its parent's image
    created(7, 1, {
      image: "C:\\w\\a.exe",
      cmdline: "a",
      cwd: "D:\\SekurLSA\\",
    }),
    created(8, 1, { image: "C:\\w\\b.exe", cmdline: "b" }),
    created(4242, 1, { image: "C:\\w\\c.exe", cmdline: "c" }), // its process id
  ];
  for (const useIndex of [true, false]) {
    const h = new RuleHunter("k.cbor", header, [r], { useIndex });
    for (const e of events) h.add(e);
    const pids = h.finish().hits.map((x) => x.pid).join();
    assert(pids === "5,6,7,4242", `index ${useIndex}: ${pids}`);
  }
});

Deno.test("hunt: a |re with escapes of several characters (\\x20, \\u0020, \\cJ, \\012) is a candidate of the events it matches (found by review: its index anchor took their digits as text)", () => {
  for (
    const [re, cmdline] of [
      ["exe\\x20/c echo", "cmd.exe /c echo hi"],
      ["exe\\u0020/c echo", "cmd.exe /c echo hi"],
      ["a\\x2fc echo", "a/c echo"],
      ["b\\cJ/c echo", "b\n/c echo"],
      ["b\\012/c echo", "b\n/c echo"],
    ]
  ) {
    const r = rule(`s:\n  CommandLine|re: '${re}'\ncondition: s`);
    const f = new EventFields({
      os: "windows",
      host: "h",
      process: { pid: 1, ppid: 0, start: 0, info: { from: {}, cmdline } },
    });
    assert(r.test(f), `${re} does not match ${JSON.stringify(cmdline)}`);
    const index = new RuleIndex([r]);
    assert(index.candidates(f).length === 1, `${re}: not a candidate`);
  }
});

Deno.test("hunt: the index gives the same candidates when its fields start their classes afresh", () => {
  const titled = (title: string, detection: string) => {
    const r = rule(detection);
    r.rule.title = title;
    return r;
  };
  const rules = [
    titled("r1", "s:\n  CommandLine|contains: [alpha, beta]\ncondition: s"),
    titled(
      "r2",
      "s:\n  CommandLine|contains|all: [gamma, delta]\n  Image|endswith: '\\x.exe'\ncondition: s",
    ),
    titled(
      "r3",
      "s:\n  Image|endswith: ['\\x.exe', '\\y.exe']\n  CommandLine|contains: beta\ncondition: s",
    ),
    titled("r4", "s:\n  CommandLine|contains: delta\ncondition: s"),
  ];
  // a field keeps at most 2 classes in one, the usual number in the other
  const small = new RuleIndex(rules, { maxClasses: 2 });
  const usual = new RuleIndex(rules);
  const words = ["alpha", "beta", "gamma", "delta"];
  const table = new FieldValues();
  let differ = 0, reached = 0;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 64; i++) {
      const cmdline = words.filter((_, k) => (i >> k) & 1).join(" ") +
        ` ${i % 7}`;
      const image = `C:\\w\\${"xyz"[i % 3]}.exe`;
      const f = () =>
        new EventFields({
          os: "windows",
          host: "h",
          process: {
            pid: i,
            ppid: 0,
            start: 0,
            info: { from: {}, image, cmdline },
          },
        }, table);
      const a = small.candidates(f()).map((r) => r.rule.title).join();
      const b = usual.candidates(f()).map((r) => r.rule.title).join();
      if (a !== b) differ++;
      reached += b ? b.split(",").length : 0;
    }
  }
  assert(differ === 0, `${differ} events got other candidates`);
  assert(reached > 64, `only ${reached} candidates in all`);
});

Deno.test("hunt: the parent and grandparent fields are the parent's at the creation", () => {
  const d =
    "s:\n  ParentImage|endswith: '\\winword.exe'\n  ParentCommandLine|contains: doc\n  ParentUser: 'A\\b'\ncondition: s";
  assert(
    matches(d, { image: "x" }, {
      image: "C:\\o\\WINWORD.EXE",
      cmdline: "winword a.doc",
      user: "a\\B",
    }),
  );
  assert(!matches(d, { image: "x" }));
});

Deno.test("hunt: Linux fields: argv joined, user name from accounts, login uid as LogonId", () => {
  const header = testHeader("linux");
  const r = rule(
    "sel:\n  Image|endswith: '/bash'\n  CommandLine|contains: '-c id'\n  User: root\n  LogonId: 0\n  CurrentDirectory: /tmp\ncondition: sel",
    "linux",
  );
  const h = new RuleHunter("r", header, [r]);
  h.add({
    kind: "accounts",
    t: 0,
    pid: 0,
    tid: 0,
    users: [[0, "root"]],
    groups: [],
  });
  h.add({
    kind: "exec",
    t: 1,
    pid: 7,
    tid: 7,
    info: {
      image: "/usr/bin/bash",
      argv: ["bash", "-c", "id"],
      uid: 0,
      loginUid: 0,
      cwd: "/tmp",
      from: {},
    },
  });
  h.add({
    kind: "exec",
    t: 2,
    pid: 8,
    tid: 8,
    info: {
      image: "/usr/bin/bash",
      argv: ["bash", "-c", "id"],
      uid: 1000,
      loginUid: 0,
      cwd: "/tmp",
      from: {},
    },
  });
  const out = h.finish();
  assert(
    out.hits.length === 1 && out.hits[0].pid === 7,
    JSON.stringify(out.hits),
  );
  assert(out.hits[0].user === "root");
});

Deno.test("hunt: a Linux exec's parent is the process that forked it, with its image then", () => {
  const header = testHeader("linux");
  const r = rule(
    "sel:\n  Image|endswith: '/sh'\n  ParentImage|endswith: '/base64'\n  GrandParentImage|endswith: '/bash'\ncondition: sel",
    "linux",
  );
  const h = new RuleHunter("r", header, [r]);
  h.add({
    kind: "process_snapshot",
    t: 0,
    pid: 2,
    tid: 2,
    ppid: 1,
    start: -5,
    info: { image: "/bin/bash", from: {} },
  });
  h.add({
    kind: "process_create",
    t: 1,
    pid: 3,
    tid: 3,
    ppid: 2,
    ptid: 2,
    creatorPid: 2,
    creatorTid: 2,
    start: 1,
  });
  h.add({
    kind: "exec",
    t: 2,
    pid: 3,
    tid: 3,
    info: { image: "/usr/bin/base64", argv: ["base64"], from: {} },
  });
  // the child forked by base64 runs base64's image until its exec
  h.add({
    kind: "process_create",
    t: 3,
    pid: 4,
    tid: 4,
    ppid: 3,
    ptid: 3,
    creatorPid: 3,
    creatorTid: 3,
    start: 3,
  });
  h.add({
    kind: "exec",
    t: 4,
    pid: 4,
    tid: 4,
    info: { image: "/bin/sh", argv: ["sh"], from: {} },
  });
  const out = h.finish();
  assert(out.hits.length === 1, JSON.stringify(out));
  assert(
    out.hits[0].parents.join(" ") === "/usr/bin/base64[3] /bin/bash[2] [1]",
    out.hits[0].parents.join(" "),
  );
});

Deno.test("hunt: a hit names at most the 64 nearest parents, then '...'; a chain of exactly 64 keeps its [pid]", () => {
  const header = testHeader("linux");
  const h = new RuleHunter("r", header, [
    rule("sel:\n  Image|endswith: '/sh'\ncondition: sel", "linux"),
  ]);
  // a chain of 200 shells, each the child of the one before, the first's
  // parent (pid 1) not in the recording
  for (let i = 0; i < 200; i++) {
    const pid = 5000 + i;
    h.add(processCreate(2 * i, pid, i === 0 ? 1 : pid - 1));
    h.add({
      kind: "exec",
      t: 2 * i + 1,
      pid,
      tid: pid,
      info: { image: "/bin/sh", argv: ["sh"], from: {} },
    });
  }
  const out = h.finish();
  assert(out.hits.length === 200, `${out.hits.length} hits`);
  const byPid = new Map(out.hits.map((x) => [x.pid, x.parents]));
  const eq = (a: unknown, b: unknown) =>
    assert(
      JSON.stringify(a) === JSON.stringify(b),
      `${JSON.stringify(a)} != ${JSON.stringify(b)}`,
    );
  eq(byPid.get(5000), ["[1]"]);
  // 64 shells and the parent outside: the whole chain
  const whole = byPid.get(5064)!;
  eq(whole.length, 65);
  eq(whole[0], "/bin/sh[5063]");
  eq(whole[63], "/bin/sh[5000]");
  eq(whole[64], "[1]");
  // 65 shells: the nearest 64, then the mark
  const cut = byPid.get(5065)!;
  eq(cut.length, 65);
  eq(cut[63], "/bin/sh[5001]");
  eq(cut[64], "...");
  const last = byPid.get(5199)!;
  eq(last.length, 65);
  eq(last[0], "/bin/sh[5198]");
  eq(last[63], "/bin/sh[5135]");
  eq(last[64], "...");
});

Deno.test("hunt: invalid rules name the file and field; unsupported ones the feature", () => {
  const load = (text: string) =>
    loadRuleSet([{ path: "x.yml", text }]).problems[0];
  const base = "title: t\nlogsource: {product: windows}\n";
  let p = load("title: [\n");
  assert(
    p.kind === "invalid" && p.field === "YAML" && /line/.test(p.reason),
    JSON.stringify(p),
  );
  p = load(base);
  assert(
    p.kind === "invalid" && p.field === "detection" &&
      p.reason === "is missing",
    JSON.stringify(p),
  );
  p = load(base + "detection:\n  s: {Image: x}\n");
  assert(
    p.kind === "invalid" && p.field === "detection.condition",
    JSON.stringify(p),
  );
  p = load(base + "detection:\n  s: {Image: x}\n  condition: s and t\n");
  assert(
    p.kind === "invalid" && /"t" is not a search identifier/.test(p.reason),
    JSON.stringify(p),
  );
  p = load(base + "detection:\n  s: {Image: x}\n  condition: s and\n");
  assert(p.kind === "invalid", JSON.stringify(p));
  p = load(
    base +
      "detection:\n  s: {Image: x}\n  condition: s | count() by User > 4\n",
  );
  assert(
    p.kind === "unsupported" && /aggregation/.test(p.reason),
    JSON.stringify(p),
  );
  p = load(
    base +
      "detection:\n  s: {Image: x}\n  t: {Image: y}\n  condition: s near t\n",
  );
  assert(p.kind === "unsupported" && /near/.test(p.reason), JSON.stringify(p));
  p = load(
    base + "detection:\n  s: {Image: x}\n  timeframe: 5m\n  condition: s\n",
  );
  assert(
    p.kind === "unsupported" && p.reason === "timeframe",
    JSON.stringify(p),
  );
  p = load(
    base + "detection:\n  s: {Image|cidr: 10.0.0.0/8}\n  condition: s\n",
  );
  assert(
    p.kind === "unsupported" && p.reason === 'modifier "cidr"' &&
      p.field === "detection.s.Image|cidr",
    JSON.stringify(p),
  );
  p = load(
    base + "detection:\n  s: {CommandLine|re: '(unclosed'}\n  condition: s\n",
  );
  assert(
    p.kind === "unsupported" && /regular expression/.test(p.reason),
    JSON.stringify(p),
  );
  let threw = false;
  try {
    parseRule(
      base + "detection:\n  s: {Image: x}\n  condition: 1 of nothing*\n",
      "y.yml",
    );
  } catch (e) {
    threw = e instanceof RuleError &&
      e.message.startsWith(
        'Cannot load Sigma rule "y.yml": detection.condition',
      );
  }
  assert(threw);
  threw = false;
  try {
    compileRule(
      parseRule(
        base + "detection:\n  s: {Image|expand: '%x%'}\n  condition: s\n",
        "z.yml",
      ),
    );
  } catch (e) {
    threw = e instanceof UnsupportedRuleError &&
      e.feature === 'modifier "expand"';
  }
  assert(threw);
});

Deno.test("hunt: a rule needing a field procrec lacks is not applicable, naming it", () => {
  const win = rule("s:\n  FileVersion: '1.0'\n  Image: x\ncondition: s");
  assert(
    /needs field FileVersion/.test(win.notApplicable.windows ?? ""),
    JSON.stringify(win.notApplicable),
  );
  const lin = rule(
    "s:\n  Image|endswith: /sh\n  OriginalFileName: x\ncondition: s",
  );
  assert(win.notApplicable.linux === "logsource product windows");
  const any = compileRule(
    parseRule(
      "title: t\nlogsource: {category: process_creation}\ndetection:\n  s: {Image|endswith: /sh, OriginalFileName: x}\n  condition: s\n",
      "a.yml",
    ),
  );
  assert(
    /OriginalFileName, which procrec does not have on linux/.test(
      any.notApplicable.linux ?? "",
    ),
    JSON.stringify(any.notApplicable),
  );
  assert(any.notApplicable.windows === undefined);
  assert(lin.notApplicable.windows === undefined);
  const mac = rule("s:\n  Image: x\ncondition: s", "macos");
  assert(
    mac.notApplicable.windows === "logsource product macos" &&
      mac.notApplicable.linux === "logsource product macos",
  );
  // a missing field only in a filter is no reason: the rule runs, and says so
  const filt = rule(
    "s:\n  Image: x\nf:\n  Provider_Name: y\ncondition: s and not f",
  );
  assert(
    !filt.notApplicable.windows &&
      filt.unanswered.windows?.[0] === "Provider_Name",
  );
});

Deno.test("hunt: a field no process of a recording has makes its rules not applicable there", () => {
  const header = testHeader("windows");
  const r = rule("s:\n  OriginalFileName: 'whoami.exe'\ncondition: s");
  const h = new RuleHunter("driver.cbor", header, [r]);
  h.add({
    kind: "process_create",
    t: 1,
    pid: 7,
    tid: 7,
    ppid: 4,
    ptid: 4,
    creatorPid: 4,
    creatorTid: 4,
    start: 1,
    info: { image: "C:\\w\\whoami.exe", from: {} },
  });
  const out = h.finish();
  assert(
    out.hits.length === 0 && out.notApplicable.length === 1,
    JSON.stringify(out.notApplicable.map((n) => n.reason)),
  );
  assert(
    /OriginalFileName, which no process of this recording has \(1 processes\)/
      .test(out.notApplicable[0].reason),
  );
});

Deno.test("hunt: a rule on Hashes waits for the image's hash written after the exec (found by review), within a bounded wait; without hashes coming it is matched at once", () => {
  const sha = "ab".repeat(32);
  const byHash = rule(
    `s:\n  Hashes|contains: 'SHA256=${sha.toUpperCase()}'\ncondition: s`,
    "linux",
  );
  byHash.rule.title = "by-hash";
  const notByHash = rule(
    `s:\n  Image|endswith: '/tool'\nf:\n  Hashes|contains: 'SHA256=${sha}'\ncondition: s and not f`,
    "linux",
  );
  notByHash.rule.title = "not-by-hash";
  const exec = (t: number, pid: number) => ({
    kind: "exec" as const,
    t,
    pid,
    tid: pid,
    info: { from: {}, image: "/usr/bin/tool", argv: ["tool"] },
  });
  const hunt = (header: RecordingHeader, events: ProcEvent[]) => {
    const h = new RuleHunter("r", header, [byHash, notByHash]);
    for (const e of events) h.add(e);
    return h.finish().hits.map((x) => `${x.rule.title} ${x.pid}`).sort()
      .join();
  };
  const v5 = { ...testHeader("linux"), version: 5, options: {} };
  // pid 10's hash comes 2 s later; pid 11's never: matched without it at
  // the end; pid 12's comes 11 s later, past the wait: matched without it
  const got = hunt(v5, [
    exec(1e9, 10),
    exec(1.5e9, 11),
    exec(2e9, 12),
    {
      kind: "image_hash",
      t: 3e9,
      pid: 10,
      tid: 10,
      execT: 1e9,
      status: "ok",
      sha256: sha,
    },
    { kind: "comm", t: 13e9, pid: 1, tid: 1, comm: "x" },
    {
      kind: "image_hash",
      t: 13e9,
      pid: 12,
      tid: 12,
      execT: 2e9,
      status: "ok",
      sha256: sha,
    },
  ]);
  assert(got === "by-hash 10,not-by-hash 11,not-by-hash 12", got);
  // a recording made without image hashes: no wait
  const none = hunt({ ...v5, options: { noHash: true } }, [exec(1e9, 10)]);
  assert(none === "not-by-hash 10", none);
});

Deno.test("hunt: a Windows image the driver records as \\??\\C:\\... is C:\\... to a rule (found by review)", () => {
  const nt = "\\??\\C:\\Windows\\System32\\cmd.exe";
  assert(
    matches(
      "s:\n  Image: 'C:\\Windows\\System32\\cmd.exe'\ncondition: s",
      { image: nt },
    ),
  );
  assert(
    matches(
      "s:\n  ParentImage|startswith: 'C:\\Windows\\'\ncondition: s",
      { image: "\\??\\C:\\x.exe" },
      { image: nt },
    ),
  );
  // (a Linux path is as recorded)
  assert(
    !matches(
      "s:\n  Image: 'x'\ncondition: s",
      { image: "\\??\\x" },
      undefined,
      "linux",
    ),
  );
});

Deno.test("hunt: a |re that JavaScript would read otherwise than PCRE (\\A, \\Z, \\h, [[:alpha:]]), or with a back-reference, is unsupported, named (found by review)", () => {
  for (
    const [re, feature] of [
      ["\\Acmd", 'the escape "\\A"'],
      ["x\\Z", 'the escape "\\Z"'],
      ["\\h+", 'the escape "\\h"'],
      ["(a+)+\\q", 'the escape "\\q"'],
      ["/c [[:alpha:]]+$", 'the POSIX class "[:alpha:]"'],
      ["(a+)+\\1$", 'the back-reference "\\1"'],
      ["(?<n>a)\\k<n>", 'the back-reference "\\k"'],
    ]
  ) {
    let msg = "";
    try {
      rule(`s:\n  CommandLine|re: '${re}'\ncondition: s`);
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(msg.includes(`unsupported: ${feature}`), `${re}: ${msg}`);
  }
  // what both read alike stays
  rule(
    "s:\n  CommandLine|re: '\\bcmd\\s+/c\\x20\\d\\w\\S\\n\\t'\ncondition: s",
  );
});

Deno.test("hunt: a rule on a service's log (logsource service auth, no category) is not applicable, named (found by review)", () => {
  const r = compileRule(parseRule(
    "title: t\nid: r1\nlogsource:\n  product: linux\n  service: auth\ndetection:\n  k: [base64]\n  condition: k\n",
    "t.yml",
  ));
  assert(
    r.notApplicable.linux?.includes("logsource service auth") === true,
    JSON.stringify(r.notApplicable),
  );
});

Deno.test("hunt: a rule run with a part on a field procrec does not record (a filter on FileVersion) is named as partly answered (found by review)", () => {
  const r = rule(
    "s:\n  Image|endswith: '\\cmd.exe'\nf:\n  FileVersion|startswith: '10.'\ncondition: s and not f",
  );
  const h = new RuleHunter("r.cbor", testHeader("windows"), [r]);
  h.add(windowsCreate({ image: "C:\\Windows\\System32\\cmd.exe" }));
  const rec = h.finish();
  assert(rec.hits.length === 1, JSON.stringify(rec.hits));
  assert(
    rec.partial?.length === 1 && rec.partial[0].fields.join() === "FileVersion",
    JSON.stringify(rec.partial?.map((p) => p.fields)),
  );
  const text = renderHunt({
    files: 1,
    loaded: 1,
    problems: [],
    recordings: [rec],
  });
  assert(
    text.includes(
      "partly answered: t.yml: FileVersion not recorded by procrec on windows",
    ),
    text,
  );
});

Deno.test("hunt: a modifier named as an Object property (re|constructor) is an unknown modifier, not a flag (found by review)", () => {
  let msg = "";
  try {
    rule("s:\n  CommandLine|re|constructor: 'a'\ncondition: s");
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes('modifier "constructor"'), msg);
});

Deno.test("hunt: a Greek capital sigma at the end of a value matches within a word, through the index too (found by review: toLowerCase makes it a final sigma there only)", () => {
  for (
    const detection of [
      "s:\n  CommandLine|contains: 'ΑΡΧΕΙΟΣ'\ncondition: s",
      "s:\n  CommandLine|contains|cased: 'ΑΡΧΕΙΟΣ'\ncondition: s",
      "s:\n  CommandLine|re: 'ΑΡΧΕΙΟΣ'\ncondition: s",
      "s:\n  CommandLine|contains: 'αρχειος'\ncondition: s",
    ]
  ) {
    const r = rule(detection);
    const h = new RuleHunter("r.cbor", testHeader("windows"), [r]);
    h.add(
      windowsCreate({ image: "C:\\n.exe", cmdline: "n.exe C:\\ΑΡΧΕΙΟΣΗ.txt" }),
    );
    const hits = h.finish().hits.length;
    // (the lower-case rule is no cased one: it matches too)
    assert(hits === 1, `${detection}: ${hits} hits`);
  }
});

Deno.test("hunt: hits on Hashes that waited for their hash come in the order of their events (found by review)", () => {
  const sha = "ab".repeat(32);
  const r = rule(
    `s:\n  Hashes|contains: 'SHA256=${sha.toUpperCase()}'\ncondition: s`,
    "linux",
  );
  const h = new RuleHunter("r", {
    ...testHeader("linux"),
    version: 5,
    options: {},
  }, [r]);
  const exec = (t: number, pid: number) =>
    execOf(t, pid, "/usr/bin/tool", ["tool"]);
  const hash = (t: number, pid: number, execT: number) =>
    imageHash(t, pid, execT, sha);
  for (
    const e of [
      exec(1e9, 10),
      exec(2e9, 11),
      hash(3e9, 11, 2e9),
      hash(4e9, 10, 1e9),
    ]
  ) h.add(e);
  const order = h.finish().hits.map((x) => x.pid).join();
  assert(order === "10,11", order);
});

/** A Windows process creation of pid 10 by pid 4, at 1 ns, with `info`. */
function windowsCreate(info: Partial<ProcessInfo>): ProcEvent {
  return {
    kind: "process_create",
    t: 1,
    pid: 10,
    tid: 10,
    ppid: 4,
    ptid: 4,
    creatorPid: 4,
    creatorTid: 4,
    start: 1,
    info: { from: {}, ...info },
  };
}
