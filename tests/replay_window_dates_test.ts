/**
 * A date or time that does not exist is refused, never rolled over into
 * another day (found by review: `--from 2026-02-31T00:00Z` became March 3,
 * and `T24:00` the next day): `parseTimePoint` and `replay`'s
 * `parseUtcTime` share one parser of ISO-8601 instants and agree, and
 * `replay` exits 2 naming the flag and the value.
 */
import { parseTimePoint } from "../cli/analysis/mod.ts";
import { parseUtcTime } from "../cli/commands/replay.ts";
import { assert, assertEquals, procrec, ROOT } from "./_record_helpers.ts";

const IMPOSSIBLE: [string, string][] = [
  ["2026-02-31T00:00Z", "February 2026 has 28 days"],
  ["2026-02-29T10:00:00Z", "February 2026 has 28 days"],
  ["2026-04-31T10:00:00+02:00", "April 2026 has 30 days"],
  ["2026-13-01T00:00Z", "there is no month 13"],
  ["2026-00-10T00:00Z", "there is no month 00"],
  ["2026-12-00T00:00Z", "December 2026 has 31 days"],
  ["2026-12-02T24:00Z", "hours go from 00 to 23"],
  ["2026-12-02T10:60Z", "minutes go from 00 to 59"],
  ["2026-12-31T23:59:60Z", "seconds go from 00 to 59"],
  ["2026-12-02T10:00:00+24:00", "zone +24:00 is not an offset"],
  ["2026-12-02T10:00:00-01:60", "zone -01:60 is not an offset"],
];

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "(taken)";
}

Deno.test("parseTimePoint and parseUtcTime refuse a date or time that does not exist, naming the flag, the value and why", () => {
  for (const [text, why] of IMPOSSIBLE) {
    for (
      const message of [
        refusal(() => parseTimePoint(text, "--from", 0n)),
        refusal(() => parseUtcTime(text, "--from")),
      ]
    ) {
      assert(message.startsWith(`--from "${text}" is not a date`), message);
      assert(message.includes(why), `${text}: ${message}`);
    }
  }
});

Deno.test("parseTimePoint and parseUtcTime agree on the instants that exist (leap days, zones, years before 100)", () => {
  const base = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z
  const cases: [string, bigint][] = [
    ["2026-01-01T00:00:00Z", base],
    ["2028-02-29T00:00Z", 1_835_395_200_000_000_000n],
    ["2000-02-29T12:00:00Z", 951_825_600_000_000_000n],
    ["2026-01-01T01:00:00.5+01:00", base + 500_000_000n],
    ["2025-12-31 23:59:59.000000001-00:00", base - 999_999_999n],
    ["2026-01-01t00:00z", base],
    ["0050-01-01T00:00:00Z", -60_589_296_000_000_000_000n],
  ];
  for (const [text, want] of cases) {
    assertEquals(parseUtcTime(text, "--from"), want, text);
    assertEquals(
      BigInt(parseTimePoint(text, "--from", want)),
      0n,
      `parseTimePoint ${text}`,
    );
  }
  assertEquals(parseUtcTime("1.5s"), undefined);
  assertEquals(parseUtcTime("10:14"), undefined);
});

Deno.test("replay refuses an impossible date with exit 2, naming the flag and the value", async () => {
  const rec = "fixtures/failing.cbor";
  for (
    const [args, shown] of [
      [["--from", "2026-02-31T00:00Z"], '--from "2026-02-31T00:00Z"'],
      [["--to", "2026-01-01T24:00Z"], '--to "2026-01-01T24:00Z"'],
      [["--at", "2026-01-01T23:59:60Z"], '--at "2026-01-01T23:59:60Z"'],
      [
        ["--started-in", "2026-01-01T00:00Z..2026-02-30T00:00Z"],
        '--started-in "2026-02-30T00:00Z"',
      ],
      [
        ["--alive-in", "2026-02-31T00:00Z..2026-03-04T00:00Z"],
        '--alive-in "2026-02-31T00:00Z"',
      ],
    ] as const
  ) {
    const r = await procrec(["replay", rec, ...args], { cwd: ROOT });
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert(
      r.stderr.includes(`${shown} is not a date and time that exists`),
      r.stderr,
    );
    assertEquals(r.stdout, "");
  }
});
